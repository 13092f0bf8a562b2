using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources.Schema;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.CustomResources;

/// <summary>
/// The served kinds of a CustomResourceDefinition: one <see cref="ResourceDefinition"/> per served
/// version, each with <see cref="CustomResourceKind"/> as its strategy, all stored under one key
/// prefix (<c>/registry/GROUP/PLURAL/</c>, as upstream) in the storage version.
/// </summary>
public static class CustomResourceKinds
{
    private const string NameDescription = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
    private const string CreationTimestampDescription = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

    /// <summary>
    /// The served versions' definitions. With the <c>Webhook</c> conversion strategy and a <paramref name="converter"/>,
    /// an object changes version through the CRD's conversion webhook; otherwise (None) only its apiVersion changes.
    /// </summary>
    /// <param name="storageOnly">Only the storage version, served or not: what the CRD's cleanup lists and deletes
    /// through, so that no object needs converting (upstream's finalizer uses the storage version's storage).</param>
    public static IReadOnlyList<ResourceDefinition> Build(CrdSpec crd, bool terminating, CrdWebhookConverter? converter = null, bool storageOnly = false)
    {
        var webhook = crd.ConversionStrategy == "Webhook" ? converter : null;
        var storage = crd.StorageVersion;
        if (storage is null) return [];
        var result = new List<ResourceDefinition>();
        // Served in upstream's version priority (v1 before v1beta1): the first is the group's preferred version.
        foreach (var v in crd.Versions.Where(v => storageOnly ? v.Storage : v.Served).OrderBy(v => v.Name, KubeVersionOrder.Instance))
        {
            var schema = v.Schema is { } s ? CustomResourceSchema.Build(s) : null;
            var strategy = new CustomResourceKind(crd, v, schema);
            var subresources = new List<string>();
            if (v.Status) subresources.Add("status");
            if (v.Scale is not null) subresources.Add("scale");
            var apiVersion = crd.Group + "/" + v.Name;
            var storageApiVersion = crd.Group + "/" + storage.Name;
            Func<JsonObject, JsonObject>? fromStorage = null;
            if (v.Name != storage.Name || HasDefaults(schema?.Root))
            {
                fromStorage = o =>
                {
                    if (webhook is not null) o = webhook.Convert(crd, o, apiVersion);
                    o["apiVersion"] = apiVersion;
                    schema?.Default(o);
                    return o;
                };
            }
            result.Add(new ResourceDefinition
            {
                Group = crd.Group, Version = v.Name, Plural = crd.Plural, Singular = crd.Singular, Kind = crd.Kind,
                Namespaced = crd.Namespaced, ShortNames = crd.ShortNames, Categories = crd.Categories,
                Subresources = [.. subresources],
                SubresourceKinds = v.Scale is not null ? ResourceDefinition.ScaleSubresourceKind : new Dictionary<string, (string, string, string)>(),
                TracksGeneration = true, AllowUnconditionalUpdate = false,
                StoragePrefix = crd.Group + "/" + crd.Plural,
                StorageVersion = (crd.Group, storage.Name, crd.Kind),
                // Stored in the storage version, keys sorted as Go marshals an unstructured object.
                ToStorage = o =>
                {
                    var stored = SortedCopy(webhook is not null ? webhook.Convert(crd, o, storageApiVersion) : o);
                    stored["apiVersion"] = storageApiVersion;
                    return stored;
                },
                FromStorage = fromStorage,
                Schema = strategy.StructureSchema,
                CustomShape = strategy.Shape,
                DefinedBy = crd.Name,
                CustomScale = v.Scale,
                OpenApiSchema = v.Schema,
                DeprecationWarning = v.Deprecated ? v.DeprecationWarning ?? $"{apiVersion} {crd.Kind} is deprecated" : null,
                Terminating = terminating,
                Strategy = strategy,
            });
        }
        return result;
    }

    /// <summary>Whether a schema sets a default anywhere (then objects are defaulted on every read too, as upstream's decoding does).</summary>
    public static bool HasDefaults(JsonSchemaProps? s) =>
        s is not null && (s.Default is not null || s.Raw.ContainsKey("default")
            || (s.Properties ?? []).Any(p => HasDefaults(p.Value))
            || HasDefaults(s.Items) || HasDefaults(s.AdditionalPropertiesSchema) || HasDefaults(s.Not)
            || (s.AllOf ?? []).Any(HasDefaults) || (s.AnyOf ?? []).Any(HasDefaults) || (s.OneOf ?? []).Any(HasDefaults));

    /// <summary>A copy of the object with every object's keys in ordinal order, as Go's encoding/json writes a map; the input is left as it is.</summary>
    public static JsonObject SortedCopy(JsonObject o) => (JsonObject)Sorted(o)!;

    private static JsonNode? Sorted(JsonNode? n) => n switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Sorted)]),
        _ => n?.DeepClone(),
    };

    internal static TablePrinter Printer(IReadOnlyList<CrdColumn> declared)
    {
        var columns = declared.Count > 0 ? declared
            : [new CrdColumn("Age", "date", "", CreationTimestampDescription, 0, ".metadata.creationTimestamp")];
        var headers = new List<TableColumn> { new("Name", "string", "name", NameDescription) };
        var paths = new List<ColumnPath?>();
        foreach (var c in columns)
        {
            headers.Add(new TableColumn(c.Name, c.Type, c.Format,
                c.Description.Length > 0 ? c.Description : "Custom resource definition column (in JSONPath format): " + c.JsonPath, c.Priority));
            paths.Add(ColumnPath.TryParse(c.JsonPath));
        }
        return new TablePrinter(headers, (obj, now) =>
        {
            var cells = new List<JsonNode?> { JsonValue.Create(PrintJson.Name(obj)) };
            for (var i = 0; i < paths.Count; i++)
            {
                var found = paths[i]?.Find(obj);
                if (found is null || found.Count == 0 || found[0] is null) { cells.Add(null); continue; }
                cells.Add(Cell(columns[i].Type, found[0]!, now));
            }
            return cells;
        });
    }

    /// <summary>cellForJSONValue, and jsonpath's text for string columns.</summary>
    private static JsonNode? Cell(string type, JsonNode value, DateTimeOffset now)
    {
        var v = value as JsonValue;
        var kind = v?.GetValueKind();
        switch (type)
        {
            case "string":
                return JsonValue.Create(ColumnPath.Text(value));
            case "integer" when kind == JsonValueKind.Number:
                return v!.TryGetValue<long>(out var l) ? JsonValue.Create(l) : JsonValue.Create((long)v.GetValue<double>());
            case "number" when kind == JsonValueKind.Number:
                return JsonValue.Create(v!.GetValue<double>());
            case "boolean" when kind is JsonValueKind.True or JsonValueKind.False:
                return JsonValue.Create(kind == JsonValueKind.True);
            case "date" when kind == JsonValueKind.String:
                var s = v!.GetValue<string>();
                return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
                    ? JsonValue.Create(HumanDuration.Since(t, now))
                    : JsonValue.Create("<invalid>");
            default:
                return null;
        }
    }
}

/// <summary>
/// version.CompareKubeAwareVersionStrings as a sort order: Kubernetes-like versions (v1, v2beta1,
/// v1alpha2) first, GA before beta before alpha, higher major then higher minor first; then the
/// others in alphabetical order.
/// </summary>
public sealed class KubeVersionOrder : IComparer<string>
{
    public static readonly KubeVersionOrder Instance = new();

    private static (int Stage, int Major, int Minor)? Parse(string v)
    {
        var m = System.Text.RegularExpressions.Regex.Match(v, "^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$");
        if (!m.Success || !int.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, out var major)) return null;
        var stage = m.Groups[2].Value switch { "" => 2, "beta" => 1, _ => 0 };
        var minor = m.Groups[3].Success && int.TryParse(m.Groups[3].Value, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return (stage, major, minor);
    }

    public int Compare(string? x, string? y)
    {
        var a = Parse(x ?? "");
        var b = Parse(y ?? "");
        if (a is null && b is null) return string.CompareOrdinal(x, y);
        if (a is null) return 1;
        if (b is null) return -1;
        if (a.Value.Stage != b.Value.Stage) return b.Value.Stage.CompareTo(a.Value.Stage);
        if (a.Value.Major != b.Value.Major) return b.Value.Major.CompareTo(a.Value.Major);
        return b.Value.Minor.CompareTo(a.Value.Minor);
    }
}

/// <summary>
/// The strategy of a custom kind (upstream pkg/registry/customresource): objects are pruned and
/// defaulted by the version's schema, validated against it, status and scale are subresources when the
/// version says so, columns come from additionalPrinterColumns and field selectors from selectableFields.
/// </summary>
public sealed class CustomResourceKind : KindStrategy
{
    private readonly CrdSpec _crd;
    private readonly CrdVersion _version;
    private readonly CustomResourceSchema? _schema;
    private readonly CelRules? _rules;
    private readonly Dictionary<string, Func<JsonObject, string?>> _fieldLabels = new(StringComparer.Ordinal);

    /// <summary>apiVersion, kind and metadata: the typed part of every custom object (metadata is an ObjectMeta).</summary>
    private static readonly StructSchema Head = MakeHead();

    public CustomResourceKind(CrdSpec crd, CrdVersion version, CustomResourceSchema? schema)
    {
        _crd = crd;
        _version = version;
        _schema = schema;
        _rules = schema is null ? null : CelRules.Build(schema.Root);
        Printer = CustomResourceKinds.Printer(version.Columns);
        foreach (var jsonPath in version.SelectableFields)
        {
            if (ColumnPath.TryParse(jsonPath) is not { } path) continue;
            _fieldLabels[jsonPath.TrimStart('.')] = o => path.Find(o) is [JsonValue v, ..] ? FieldValue(v) : "";
        }
        StructureSchema = MakeStructure(crd, version);
    }

    /// <summary>The schema managedFields are computed over: the typed head and the rest as whole values.</summary>
    public StructSchema StructureSchema { get; }

    public override TablePrinter Printer { get; }

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels => _fieldLabels;

    /// <summary>A selectable field's value as a field selector compares it: strings, booleans and integers as text.</summary>
    private static string FieldValue(JsonValue v) => v.GetValueKind() switch
    {
        JsonValueKind.String => v.GetValue<string>(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => v.ToJsonString(),
    };

    /// <summary>
    /// The decoding of a custom object: apiVersion, kind and metadata typed (unknown metadata fields are
    /// reported as for any kind), everything else kept as sent and then pruned by the schema.
    /// </summary>
    public JsonObject Shape(JsonObject obj, DecodeProblems? problems)
    {
        var head = new JsonObject();
        foreach (var key in (string[])["apiVersion", "kind", "metadata"])
            if (obj.Remove(key, out var value)) head[key] = value;
        var shaped = ObjectShaper.Shape(head, Head, problems);
        var rest = obj.ToList();
        obj.Clear();
        foreach (var (k, v) in rest) shaped[k] = v;
        if (_schema is not null)
        {
            var unknown = _schema.Prune(shaped);
            problems?.UnknownFields.AddRange(unknown);
        }
        return shaped;
    }

    public override void Default(JsonObject obj) => _schema?.Default(obj);

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx)
    {
        if (_version.Status) obj.Remove("status");
    }

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx)
    {
        // The store kept the old status (or none): an absent one is no key, not a null.
        if (_version.Status && obj["status"] is null) obj.Remove("status");
        // Without a status subresource every change but metadata's is a new generation (copyNonMetadata).
        if (!_version.Status && ctx.Subresource.Length == 0 && !JsonNode.DeepEquals(obj["status"], old["status"]))
            Registry.Meta.Set(obj, "generation", (JsonRead.LongTruncated(old["metadata"]?["generation"]) ?? 0) + 1);
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old)
    {
        var errs = TypeMeta(obj);
        if (errs.Count > 0) return errs;
        if (_schema is not null) errs.AddRange(old is null ? _schema.Validate(obj) : _schema.ValidateUpdate(obj, old));
        ScaleChecks(errs, obj, spec: true);
        // The rules run only over an object the schema accepts (upstream's hasBlockingErr).
        if (_rules is not null && errs.Count == 0) errs.AddRange(_rules.Validate(obj, old));
        return errs;
    }

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource)
    {
        if (subresource != "status") return Validate(obj, old);
        var errs = TypeMeta(obj);
        if (errs.Count > 0) return errs;
        if (_schema is not null) errs.AddRange(_schema.ValidateStatus(obj, old));
        ScaleChecks(errs, obj, spec: false);
        if (_rules is not null && errs.Count == 0) errs.AddRange(_rules.Validate(obj, old));
        return errs;
    }

    private List<FieldError> TypeMeta(JsonObject obj)
    {
        var errs = new List<FieldError>();
        var kind = JsonRead.StrOrEmpty(obj, "kind");
        var apiVersion = JsonRead.StrOrEmpty(obj, "apiVersion");
        if (kind != _crd.Kind) errs.Add(FieldError.Invalid("kind", kind, "must be " + _crd.Kind));
        var expected = _crd.Group + "/" + _version.Name;
        if (apiVersion != expected) errs.Add(FieldError.Invalid("apiVersion", apiVersion, "must be " + expected));
        return errs;
    }

    /// <summary>ValidateScaleSpec / ValidateScaleStatus: the replicas paths hold non-negative int32s, the selector path a string.</summary>
    private void ScaleChecks(List<FieldError> errs, JsonObject obj, bool spec)
    {
        if (_version.Scale is not { } scale) return;
        if (spec) Replicas(errs, obj, scale.SpecReplicasPath);
        Replicas(errs, obj, scale.StatusReplicasPath);
        if (scale.LabelSelectorPath is { } selectorPath && Nested(obj, selectorPath) is { } sel && !(sel is JsonValue sv && sv.GetValueKind() == JsonValueKind.String))
            errs.Add(FieldError.Invalid(selectorPath, "", $".{selectorPath.TrimStart('.')} accessor error: {GoValue(sel)} is of the type {GoType(sel)}, expected string"));
    }

    private static void Replicas(List<FieldError> errs, JsonObject obj, string path)
    {
        var n = Nested(obj, path);
        if (n is null) return;
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<long>(out var r))
        {
            errs.Add(FieldError.Invalid(path, "0", $".{path.TrimStart('.')} accessor error: {GoValue(n)} is of the type {GoType(n)}, expected int64", quoted: false));
            return;
        }
        if (r < 0) errs.Add(FieldError.Invalid(path, r.ToString(CultureInfo.InvariantCulture), "should be a non-negative integer", quoted: false));
        else if (r > int.MaxValue) errs.Add(FieldError.Invalid(path, r.ToString(CultureInfo.InvariantCulture), $"should be less than or equal to {int.MaxValue}", quoted: false));
    }

    private static string GoType(JsonNode n) => n switch
    {
        JsonObject => "map[string]interface {}",
        JsonArray => "[]interface {}",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "string",
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out _) => "int64",
        _ => "float64",
    };

    private static string GoValue(JsonNode n) => JsonValues.GoV(n);

    /// <summary>The value at a scale path (".spec.replicas"), or null when a step is missing.</summary>
    public static JsonNode? Nested(JsonObject obj, string path)
    {
        JsonNode? n = obj;
        foreach (var part in path.TrimStart('.').Split('.'))
            n = n is JsonObject o ? o[part] : null;
        return n;
    }

    /// <summary>Sets the value at a scale path, making the objects on the way.</summary>
    public static void SetNested(JsonObject obj, string path, JsonNode? value)
    {
        var parts = path.TrimStart('.').Split('.');
        var o = obj;
        foreach (var part in parts[..^1])
        {
            if (o[part] is not JsonObject next) o[part] = next = new JsonObject();
            o = next;
        }
        o[parts[^1]] = value;
    }

    private static StructSchema MakeHead()
    {
        var s = new StructSchema { Package = "customresource", Name = "Head" };
        var meta = SchemaRegistry.Default.Get("meta/v1.ObjectMeta");
        s.Declared.Add(new FieldSchema { JsonName = "apiVersion", Type = new TypeRef { Kind = TypeKind.String }, OmitEmpty = true });
        s.Declared.Add(new FieldSchema { JsonName = "kind", Type = new TypeRef { Kind = TypeKind.String }, OmitEmpty = true });
        s.Declared.Add(new FieldSchema { JsonName = "metadata", Type = new TypeRef { Kind = TypeKind.Pointer, Elem = new TypeRef { Kind = TypeKind.Struct, StructName = meta.QualifiedName, Struct = meta } }, OmitEmpty = true });
        s.Fields = [.. s.Declared];
        foreach (var f in s.Fields) s.ByName[f.JsonName] = f;
        return s;
    }

    /// <summary>The head and each top-level property of the schema as a whole JSON value.</summary>
    private static StructSchema MakeStructure(CrdSpec crd, CrdVersion version)
    {
        var s = new StructSchema { Package = "customresource/" + crd.Group + "/" + version.Name, Name = crd.Kind };
        foreach (var f in Head.Fields) s.Declared.Add(f);
        var props = (version.Schema?["properties"] as JsonObject)?.Select(p => p.Key) ?? [];
        foreach (var name in props.Where(p => p is not ("apiVersion" or "kind" or "metadata")).Order(StringComparer.Ordinal))
            s.Declared.Add(new FieldSchema { JsonName = name, Type = new TypeRef { Kind = TypeKind.Json }, OmitEmpty = true });
        s.Fields = [.. s.Declared];
        foreach (var f in s.Fields) s.ByName[f.JsonName] = f;
        return s;
    }
}
