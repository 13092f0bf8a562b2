using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using K = Portcullis.Server.Api.CustomResources.Schema.JsonValues.Kind;

namespace Portcullis.Server.Api.CustomResources.Schema;

/// <summary>
/// A CRD version's structural schema put to work on custom objects: value validation as the custom
/// resource strategy runs it (kube-openapi's validator, embedded resources, list-type sets and maps),
/// defaulting, and pruning (apiextensions-apiserver 1.33 pkg/apiserver/schema/{pruning,defaulting,
/// listtype,objectmeta}). CEL rules are not evaluated here.
/// </summary>
public sealed class CustomResourceSchema
{
    public JsonSchemaProps Root { get; }

    private CustomResourceSchema(JsonSchemaProps root) => Root = root;

    public static CustomResourceSchema Build(JsonObject openAPIV3Schema) => new(JsonSchemaProps.Parse(openAPIV3Schema));

    public static CustomResourceSchema FromProps(JsonSchemaProps root) => new(root);

    /// <summary>pruning.Prune alone (resource root semantics), without the null and metadata steps of <see cref="Prune(JsonObject)"/>.</summary>
    internal List<string> PruneOnly(JsonObject obj)
    {
        var pruned = new List<string>();
        PruneNode(obj, Root, pruned, "", rootIsEmbedded: false);
        return pruned;
    }

    // ---- validation ----------------------------------------------------------------------------

    /// <summary>
    /// The schema checks of the CR strategy's Validate for a whole object: ValidateCustomResource (kube-openapi),
    /// schemaobjectmeta.Validate (embedded resources) and ValidateListSetsAndMaps, in that order.
    /// </summary>
    public List<FieldError> Validate(JsonObject obj)
    {
        var errs = ValidateSchema(obj, null);
        errs.AddRange(ValidateEmbeddedResources(obj));
        errs.AddRange(ValidateListSetsAndMaps(obj));
        return errs;
    }

    /// <summary>
    /// The CR strategy's ValidateUpdate checks of the schema: kube-openapi validation with ratcheting (errors on values
    /// unchanged from <paramref name="old"/> are dropped), embedded resources, and list-type sets and maps only when the
    /// old object had no such errors.
    /// </summary>
    public List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old)
    {
        var errs = OpenApiValidator.ToFieldErrors(OpenApiValidator.ValidateRatcheting(Root, obj, "", new Correlation(old, Root)), null);
        errs.AddRange(ValidateEmbeddedResources(obj));
        if (ValidateListSetsAndMaps(old).Count == 0) errs.AddRange(ValidateListSetsAndMaps(obj));
        return errs;
    }

    /// <summary>
    /// ValidateStatusUpdate's schema check: the status alone against the schema of the "status" property, errors under
    /// "status" (their messages name the field from inside the status, as upstream's status validator does). Ratcheted
    /// against <paramref name="old"/>'s status when given.
    /// </summary>
    public List<FieldError> ValidateStatus(JsonObject obj, JsonObject? old = null)
    {
        if (!obj.TryGetPropertyValue("status", out var status) || Root.Property("status") is not { } statusSchema) return [];
        var corr = old is not null && old.TryGetPropertyValue("status", out var oldStatus) ? new Correlation(oldStatus, statusSchema) : null;
        return OpenApiValidator.ToFieldErrors(OpenApiValidator.ValidateRatcheting(statusSchema, status, "", corr), "status");
    }

    /// <summary>
    /// ValidateCustomResource alone: kube-openapi's errors as field errors rooted at <paramref name="root"/>
    /// (null for a whole object, whose errors without a name print at "&lt;nil&gt;" as upstream's do).
    /// </summary>
    public List<FieldError> ValidateSchema(JsonNode? value, string? root) => ValidateSchema(Root, value, root);

    public static List<FieldError> ValidateSchema(JsonSchemaProps schema, JsonNode? value, string? root) =>
        OpenApiValidator.ToFieldErrors(OpenApiValidator.Validate(schema, value, ""), root);

    /// <summary>schemaobjectmeta.Validate(nil, obj, s, isResourceRoot=false): apiVersion, kind and metadata of embedded resources.</summary>
    public List<FieldError> ValidateEmbeddedResources(JsonObject obj)
    {
        var errs = new List<FieldError>();
        EmbeddedValidate(errs, "", obj, Root);
        return errs;
    }

    /// <summary>schemaobjectmeta.Validate(path, value, s, isResourceRoot: s.XEmbeddedResource), for a value such as a default.</summary>
    internal static List<FieldError> ValidateEmbeddedResources(JsonNode? value, JsonSchemaProps s, string path)
    {
        var errs = new List<FieldError>();
        EmbeddedValidate(errs, path, value, s);
        return errs;
    }

    private static string Child(string path, string name) => path.Length == 0 ? name : path + "." + name;
    private static string Key(string path, string key) => path + "[" + key + "]";
    private static string Index(string path, int i) => path + "[" + i + "]";

    private static void EmbeddedValidate(List<FieldError> errs, string path, JsonNode? x, JsonSchemaProps? s)
    {
        if (s is null) return;
        switch (x)
        {
            case JsonObject o:
                if (s.XEmbeddedResource) EmbeddedResource(errs, path, o);
                foreach (var (k, v) in o)
                {
                    if (s.Property(k) is { } prop) EmbeddedValidate(errs, Child(path, k), v, prop);
                    else if (s.HasAdditionalProperties) EmbeddedValidate(errs, Key(path, k), v, s.AdditionalPropertiesSchema);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) EmbeddedValidate(errs, Index(path, i), a[i], s.Items);
                break;
        }
    }

    private static FieldError InvalidValue(string path, JsonNode? v, string detail)
    {
        var (text, isString) = JsonValues.BadValue(v);
        return new FieldError(FieldErrorType.Invalid, path, text, detail, isString);
    }

    private static void EmbeddedResource(List<FieldError> errs, string path, JsonObject x)
    {
        if (!x.ContainsKey("apiVersion")) errs.Add(FieldError.Required(Child(path, "apiVersion"), "must not be empty"));
        if (!x.ContainsKey("kind")) errs.Add(FieldError.Required(Child(path, "kind"), "must not be empty"));
        foreach (var (k, v) in x)
        {
            switch (k)
            {
                case "apiVersion":
                    if (JsonValues.KindOf(v) != K.String) errs.Add(InvalidValue(Child(path, "apiVersion"), v, "must be a string"));
                    else
                    {
                        var apiVersion = JsonValues.Str(v!);
                        if (apiVersion.Length == 0) errs.Add(FieldError.Invalid(Child(path, "apiVersion"), apiVersion, "must not be empty"));
                        else if (apiVersion != "/" && apiVersion.Count(c => c == '/') > 1)
                            errs.Add(FieldError.Invalid(Child(path, "apiVersion"), apiVersion, "unexpected GroupVersion string: " + apiVersion));
                    }
                    break;
                case "kind":
                    if (JsonValues.KindOf(v) != K.String) errs.Add(InvalidValue(Child(path, "kind"), v, "must be a string"));
                    else
                    {
                        var kind = JsonValues.Str(v!);
                        if (kind.Length == 0) errs.Add(FieldError.Invalid(Child(path, "kind"), kind, "must not be empty"));
                        else if (MetadataValidation.IsDns1035Label(kind.ToLowerInvariant()) is { Count: > 0 } msgs)
                            errs.Add(FieldError.Invalid(Child(path, "kind"), kind, "may have mixed case, but should otherwise match: " + string.Join(",", msgs)));
                    }
                    break;
                case "metadata":
                    EmbeddedMetadata(errs, Child(path, "metadata"), v);
                    break;
            }
        }
    }

    // metavalidation.ValidateObjectMeta(meta, len(namespace) > 0, path.ValidatePathSegmentName, path): an
    // empty name is replaced by "fakename" first, so only a given name is checked.
    private static void EmbeddedMetadata(List<FieldError> errs, string path, JsonNode? v)
    {
        if (v is null) return;
        if (v is not JsonObject m)
        {
            errs.Add(InvalidValue(path, v, $"json: cannot unmarshal {GoJsonType(v)} into Go value of type v1.ObjectMeta"));
            return;
        }
        var generateName = Str(m, "generateName");
        if (generateName.Length > 0)
            foreach (var e in PathSegment(generateName, prefix: true)) errs.Add(FieldError.Invalid(Child(path, "generateName"), generateName, e));
        var name = Str(m, "name");
        if (name.Length == 0) name = "fakename";
        foreach (var e in PathSegment(name, prefix: false)) errs.Add(FieldError.Invalid(Child(path, "name"), name, e));
        var ns = Str(m, "namespace");
        if (ns.Length > 0)
            foreach (var e in NameValidation.IsDns1123Label(ns)) errs.Add(FieldError.Invalid(Child(path, "namespace"), ns, e));
        if (m["generation"] is JsonValue g && JsonValues.KindOf(g) == K.Int && JsonValues.TryInt64(g, out var gen) && gen < 0)
            errs.Add(FieldError.Invalid(Child(path, "generation"), gen.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be greater than or equal to 0", quoted: false));
        if (m["labels"] is JsonObject labels)
            foreach (var (k, lv) in labels)
            {
                foreach (var e in NameValidation.QualifiedName(k)) errs.Add(FieldError.Invalid(Child(path, "labels"), k, e));
                var val = lv is JsonValue sv && sv.GetValueKind() == JsonValueKind.String ? sv.GetValue<string>() : "";
                foreach (var e in NameValidation.LabelValue(val)) errs.Add(FieldError.Invalid(Child(path, "labels"), val, e));
            }
        if (m["annotations"] is JsonObject annotations)
        {
            long total = 0;
            foreach (var (k, av) in annotations)
            {
                foreach (var e in NameValidation.QualifiedName(k.ToLowerInvariant())) errs.Add(FieldError.Invalid(Child(path, "annotations"), k, e));
                total += System.Text.Encoding.UTF8.GetByteCount(k) + (av is JsonValue s && s.GetValueKind() == JsonValueKind.String ? System.Text.Encoding.UTF8.GetByteCount(s.GetValue<string>()) : 0);
            }
            if (total > 256 * 1024) errs.Add(FieldError.TooLong(Child(path, "annotations"), $"may not be more than {256 * 1024} bytes"));
        }
        if (m["finalizers"] is JsonArray fins)
        {
            // ValidateFinalizers: each name a qualified name (reported without an index), orphan and foregroundDeletion exclusive
            var names = new List<string>();
            foreach (var f in fins)
            {
                var fin = f is JsonValue fv && fv.GetValueKind() == JsonValueKind.String ? fv.GetValue<string>() : "";
                names.Add(fin);
                foreach (var e in NameValidation.QualifiedName(fin)) errs.Add(FieldError.Invalid(Child(path, "finalizers"), fin, e));
            }
            if (names.Contains("orphan") && names.Contains("foregroundDeletion"))
                errs.Add(FieldError.Invalid(Child(path, "finalizers"), Portcullis.Server.Serialization.Go.Strings(names), "finalizer orphan and foregroundDeletion cannot be both set", quoted: false));
        }
    }

    private static string GoJsonType(JsonNode v) => JsonValues.KindOf(v) switch
    {
        K.String => "string",
        K.Bool => "bool",
        K.Int or K.Float => "number",
        K.Array => "array",
        _ => "object",
    };

    // path.IsValidPathSegmentName / IsValidPathSegmentPrefix.
    private static List<string> PathSegment(string name, bool prefix)
    {
        if (!prefix && name is "." or "..") return [$"may not be '{name}'"];
        var errs = new List<string>();
        foreach (var bad in new[] { "/", "%" })
            if (name.Contains(bad, StringComparison.Ordinal)) errs.Add($"may not contain '{bad}'");
        return errs;
    }

    private static string Str(JsonObject o, string key) => o[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "";

    /// <summary>listtype.ValidateListSetsAndMaps(nil, s, obj): duplicates in x-kubernetes-list-type set and map lists.</summary>
    public List<FieldError> ValidateListSetsAndMaps(JsonObject obj)
    {
        var errs = new List<FieldError>();
        ListSetsAndMapsObject(errs, "", Root, obj);
        return errs;
    }

    private static void ListSetsAndMapsObject(List<FieldError> errs, string path, JsonSchemaProps s, JsonObject obj)
    {
        if (s.AdditionalPropertiesSchema is { } ap)
            foreach (var (k, v) in obj) ListSetsAndMaps(errs, Key(path, k), ap, v);
        if (s.Properties is not null)
            foreach (var (k, v) in obj)
                if (s.Property(k) is { } sub) ListSetsAndMaps(errs, Child(path, k), sub, v);
    }

    private static void ListSetsAndMaps(List<FieldError> errs, string path, JsonSchemaProps s, JsonNode? x)
    {
        switch (x)
        {
            case JsonArray a:
                if (s.XListType == "set")
                    foreach (var i in NonUnique(a.Select(n => (JsonNode?)n).ToList()))
                    {
                        var (text, isString) = JsonValues.BadValue(a[i]);
                        errs.Add(new FieldError(FieldErrorType.Duplicate, Index(path, i), text, "", isString));
                    }
                else if (s.XListType == "map") ListMap(errs, path, s, a);
                if (s.Items is not null)
                    for (var i = 0; i < a.Count; i++) ListSetsAndMaps(errs, Index(path, i), s.Items, a[i]);
                break;
            case JsonObject o:
                ListSetsAndMapsObject(errs, path, s, o);
                break;
        }
    }

    // validateListSet: the indices of second occurrences (each value reported once); compounds compared as JSON.
    private static List<int> NonUnique(List<JsonNode?> items)
    {
        var result = new List<int>();
        if (items.Count <= 1) return result;
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var kind = JsonValues.KindOf(items[i]);
            // Scalars are map keys by Go value: int64(1) and float64(1) differ; compounds by their JSON.
            var key = kind switch
            {
                K.Object or K.Array => "c" + JsonValues.Marshal(items[i]),
                K.Int => "i" + JsonValues.Marshal(items[i]),
                K.Float => "f" + JsonValues.Marshal(items[i]),
                _ => "s" + JsonValues.Marshal(items[i]),
            };
            if (!seen.TryGetValue(key, out var times)) seen[key] = 1;
            else
            {
                seen[key] = times + 1;
                if (times == 1) result.Add(i);
            }
        }
        return result;
    }

    private static void ListMap(List<FieldError> errs, string path, JsonSchemaProps s, JsonArray a)
    {
        for (var i = 0; i < a.Count; i++)
            if (a[i] is not null && a[i] is not JsonObject)
            {
                errs.Add(InvalidValue(Index(path, i), a[i], "must be an object for an array of list-type map"));
                return;
            }
        if (a.Count <= 1) return;
        var keyFields = s.XListMapKeys ?? [];
        var keys = new List<JsonNode?>();
        foreach (var x in a)
        {
            var key = new JsonObject();
            if (x is JsonObject o)
                foreach (var f in keyFields)
                    if (o.TryGetPropertyValue(f, out var kv)) key[f] = kv?.DeepClone();
            keys.Add(key);
        }
        if (keyFields.Count == 1)
        {
            // One key: the key values themselves are compared (an absent key is its own value).
            var single = keys.Select(k => ((JsonObject)k!).TryGetPropertyValue(keyFields[0], out var v) ? new JsonArray(v?.DeepClone()) : null).ToList<JsonNode?>();
            foreach (var i in NonUniqueSingle(single))
                errs.Add(new FieldError(FieldErrorType.Duplicate, Index(path, i), JsonValues.GoSharpV(keys[i]), "", false));
            return;
        }
        foreach (var i in NonUnique(keys))
            errs.Add(new FieldError(FieldErrorType.Duplicate, Index(path, i), JsonValues.GoSharpV(keys[i]), "", false));
    }

    private static List<int> NonUniqueSingle(List<JsonNode?> wrapped)
    {
        // wrapped[i] is [value] or null for an unspecified key; scalars keep their Go type, compounds compare as JSON.
        var result = new List<int>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < wrapped.Count; i++)
        {
            string key;
            if (wrapped[i] is not JsonArray w) key = "u";
            else
            {
                var v = w[0];
                key = JsonValues.KindOf(v) switch
                {
                    K.Object or K.Array => "c" + JsonValues.Marshal(v),
                    K.Int => "i" + JsonValues.Marshal(v),
                    K.Float => "f" + JsonValues.Marshal(v),
                    _ => "s" + JsonValues.Marshal(v),
                };
            }
            if (!seen.TryGetValue(key, out var times)) seen[key] = 1;
            else
            {
                seen[key] = times + 1;
                if (times == 1) result.Add(i);
            }
        }
        return result;
    }

    /// <summary>
    /// The request decoder's coercion (schemaobjectmeta.Coerce with DropInvalidFields off, not at the root): the first
    /// embedded resource whose apiVersion or kind is not a string, or whose metadata is not an object, as the error
    /// upstream's decoder fails with. Null when the object can be coerced. (Prune drops such fields instead, as the
    /// storage decoder does.)
    /// </summary>
    public FieldError? CoerceError(JsonObject obj) => CoerceError("", obj, Root);

    // schemaobjectmeta.Coerce without dropping: the first embedded apiVersion/kind that is not a string, or metadata that is not an object.
    internal static FieldError? CoerceError(string path, JsonNode? x, JsonSchemaProps? s)
    {
        if (s is null) return null;
        switch (x)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                {
                    if (s.XEmbeddedResource)
                    {
                        if (k is "apiVersion" or "kind" && JsonValues.KindOf(v) != JsonValues.Kind.String)
                        {
                            var (t, q) = JsonValues.BadValue(v);
                            return new FieldError(FieldErrorType.Invalid, Child(path, k), t, "must be a string", q);
                        }
                        if (k == "metadata" && v is not null and not JsonObject)
                        {
                            var (t, q) = JsonValues.BadValue(v);
                            return new FieldError(FieldErrorType.Invalid, Child(path, "metadata"), t, "json: cannot unmarshal " + (JsonValues.KindOf(v) switch
                            {
                                JsonValues.Kind.String => "string",
                                JsonValues.Kind.Bool => "bool",
                                JsonValues.Kind.Array => "array",
                                _ => "number",
                            }) + " into Go value of type v1.ObjectMeta", q);
                        }
                    }
                    var child = s.Property(k) is { } prop ? CoerceError(Child(path, k), v, prop)
                        : s.HasAdditionalProperties ? CoerceError(Key(path, k), v, s.AdditionalPropertiesSchema) : null;
                    if (child is not null) return child;
                }
                return null;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                    if (CoerceError(Index(path, i), a[i], s.Items) is { } e) return e;
                return null;
            default:
                return null;
        }
    }


    // ---- defaulting ----------------------------------------------------------------------------

    /// <summary>
    /// structuraldefaulting.Default: a property's default is set where the property is absent, or null
    /// while the schema is not nullable; additionalProperties and items defaults replace non-nullable nulls.
    /// Defaults go only into objects and lists that exist.
    /// </summary>
    public void Default(JsonObject obj) => DefaultNode(obj, Root);

    private static bool IsNonNullableNull(JsonNode? x, JsonSchemaProps? s) => x is null && s is not null && !s.Nullable;

    private static void DefaultNode(JsonNode? x, JsonSchemaProps? s)
    {
        if (s is null) return;
        switch (x)
        {
            case JsonObject o:
                if (s.Properties is not null)
                    foreach (var (k, prop) in s.Properties)
                    {
                        if (prop.Default is null) continue;
                        if (!o.TryGetPropertyValue(k, out var cur) || IsNonNullableNull(cur, prop)) o[k] = prop.Default.DeepClone();
                    }
                foreach (var k in o.Select(p => p.Key).ToList())
                {
                    if (s.Property(k) is { } prop) DefaultNode(o[k], prop);
                    else if (s.HasAdditionalProperties)
                    {
                        var ap = s.AdditionalPropertiesSchema;
                        if (IsNonNullableNull(o[k], ap)) o[k] = ap!.Default?.DeepClone();
                        DefaultNode(o[k], ap);
                    }
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (IsNonNullableNull(a[i], s.Items)) a[i] = s.Items!.Default?.DeepClone();
                    DefaultNode(a[i], s.Items);
                }
                break;
        }
    }

    // ---- pruning -------------------------------------------------------------------------------

    /// <summary>
    /// The decoder's pruning of a custom object: pruning.PruneWithOptions(obj, s, isResourceRoot=true) (sorted
    /// paths of removed fields), PruneNonNullableNullsWithoutDefaults, then the metadata of embedded resources
    /// cut to ObjectMeta's fields (schemaobjectmeta.Coerce, isResourceRoot=false). Returns the removed fields'
    /// paths in that order, as fieldValidation=Strict/Warn report them.
    /// </summary>
    public List<string> Prune(JsonObject obj) => Prune(obj, rootMetadata: false);

    /// <summary><see cref="Prune(JsonObject)"/>, with <paramref name="rootMetadata"/> also cutting the root's metadata to ObjectMeta's fields first ("metadata.foo").</summary>
    public List<string> Prune(JsonObject obj, bool rootMetadata)
    {
        var paths = new List<string>();
        if (rootMetadata && obj["metadata"] is JsonObject rm) ObjectMetaFields.Prune(rm, "metadata", paths);
        var pruned = new List<string>();
        var root = Root;
        PruneNode(obj, root, pruned, "", rootIsEmbedded: true);
        pruned.Sort(StringComparer.Ordinal);
        paths.AddRange(pruned);
        PruneNulls(obj, root);
        var coerced = new List<string>();
        CoerceEmbedded(obj, root, "", coerced);
        coerced.Sort(StringComparer.Ordinal);
        paths.AddRange(coerced);
        return paths;
    }

    private static readonly HashSet<string> MetaFields = ["apiVersion", "kind", "metadata"];

    private static string AppendKey(string parent, string key) => parent.Length == 0 ? key : parent + "." + key;

    private static void PruneNode(JsonNode? x, JsonSchemaProps? s, List<string> unknown, string parent, bool rootIsEmbedded = false)
    {
        var embedded = rootIsEmbedded || s?.XEmbeddedResource == true;
        if (s is not null && s.PreserveUnknownFields)
        {
            SkipPrune(x, s, unknown, parent, embedded);
            return;
        }
        switch (x)
        {
            case JsonObject o:
                if (s is null)
                {
                    foreach (var k in o.Select(p => p.Key).ToList())
                    {
                        unknown.Add(AppendKey(parent, k));
                        o.Remove(k);
                    }
                    return;
                }
                foreach (var k in o.Select(p => p.Key).ToList())
                {
                    if (embedded && MetaFields.Contains(k)) continue;
                    if (s.Property(k) is { } prop) PruneNode(o[k], prop, unknown, AppendKey(parent, k));
                    else if (s.HasAdditionalProperties) PruneNode(o[k], s.AdditionalPropertiesSchema, unknown, AppendKey(parent, k));
                    else
                    {
                        if (!MetaFields.Contains(k) || parent.Length > 0) unknown.Add(AppendKey(parent, k));
                        o.Remove(k);
                    }
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) PruneNode(a[i], s?.Items, unknown, parent + "[" + i + "]");
                break;
        }
    }

    private static void SkipPrune(JsonNode? x, JsonSchemaProps? s, List<string> unknown, string parent, bool embedded)
    {
        if (s is null) return;
        switch (x)
        {
            case JsonObject o:
                foreach (var k in o.Select(p => p.Key).ToList())
                {
                    if (embedded && MetaFields.Contains(k)) continue;
                    if (s.Property(k) is { } prop) PruneNode(o[k], prop, unknown, AppendKey(parent, k));
                    else if (s.HasAdditionalProperties) PruneNode(o[k], s.AdditionalPropertiesSchema, unknown, AppendKey(parent, k));
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) SkipPrune(a[i], s.Items, unknown, parent + "[" + i + "]", s.Items?.XEmbeddedResource == true);
                break;
        }
    }

    // PruneNonNullableNullsWithoutDefaults.
    private static void PruneNulls(JsonNode? x, JsonSchemaProps? s)
    {
        switch (x)
        {
            case JsonObject o:
                foreach (var k in o.Select(p => p.Key).ToList())
                {
                    var schema = s is null ? null : s.Property(k) ?? (s.HasAdditionalProperties ? s.AdditionalPropertiesSchema : null);
                    if (o[k] is null && schema is not null && !schema.Nullable && schema.Default is null) o.Remove(k);
                    else PruneNulls(o[k], schema);
                }
                break;
            case JsonArray a:
                foreach (var item in a) PruneNulls(item, s?.Items);
                break;
        }
    }

    // schemaobjectmeta.Coerce with DropInvalidFields and ReturnUnknownFieldPaths, not at the resource root.
    private static void CoerceEmbedded(JsonNode? x, JsonSchemaProps? s, string path, List<string> unknown)
    {
        if (s is null) return;
        switch (x)
        {
            case JsonObject o:
                foreach (var k in o.Select(p => p.Key).ToList())
                {
                    if (s.XEmbeddedResource)
                    {
                        if (k is "apiVersion" or "kind" && JsonValues.KindOf(o[k]) != K.String) { o.Remove(k); continue; }
                        if (k == "metadata")
                        {
                            if (o[k] is JsonObject meta) ObjectMetaFields.Prune(meta, Child(path, "metadata"), unknown);
                            else if (o[k] is not null) { o.Remove(k); continue; }
                        }
                    }
                    if (!o.ContainsKey(k)) continue;
                    if (s.Property(k) is { } prop) CoerceEmbedded(o[k], prop, Child(path, k), unknown);
                    else if (s.HasAdditionalProperties) CoerceEmbedded(o[k], s.AdditionalPropertiesSchema, Key(path, k), unknown);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) CoerceEmbedded(a[i], s.Items, Index(path, i), unknown);
                break;
        }
    }
}
