using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Api.OpenApi;

internal enum OpenApiFlavor { V2, V3 }

/// <summary>
/// Turns schema structs into OpenAPI definitions the way upstream's openapi-gen does:
/// properties from the JSON-visible fields, <c>required</c> for fields that are neither
/// <c>omitempty</c> nor <c>+optional</c>, zero-value <c>default</c>s (v3 only), struct references
/// wrapped in <c>allOf</c> (v3) or plain <c>$ref</c> (v2), and the x-kubernetes extensions.
/// </summary>
internal sealed class OpenApiSchemas
{
    private readonly SchemaRegistry _schemas;
    private readonly OpenApiFlavor _flavor;
    private readonly IReadOnlyDictionary<string, JsonArray> _gvks;
    private readonly HashSet<FieldSchema> _typeMetaFields;

    /// <param name="gvks">x-kubernetes-group-version-kind lists, by definition name.</param>
    public OpenApiSchemas(SchemaRegistry schemas, OpenApiFlavor flavor, IReadOnlyDictionary<string, JsonArray> gvks)
    {
        _schemas = schemas;
        _flavor = flavor;
        _gvks = gvks;
        _typeMetaFields = [.. schemas.Find("meta/v1.TypeMeta")?.Fields ?? []];
    }

    private bool V3 => _flavor == OpenApiFlavor.V3;

    public string RefPrefix => V3 ? "#/components/schemas/" : "#/definitions/";

    public JsonObject Ref(string definition) => new() { ["$ref"] = RefPrefix + definition };

    /// <summary>The definitions of the roots and of everything they reference, by name.</summary>
    public SortedDictionary<string, JsonObject> Closure(IEnumerable<StructSchema> roots, IEnumerable<string>? extraDefinitions = null)
    {
        var structs = new HashSet<StructSchema>();
        var specials = new HashSet<TypeKind>();
        var queue = new Queue<StructSchema>(roots);
        while (queue.Count > 0)
        {
            var s = queue.Dequeue();
            if (!structs.Add(s)) continue;
            foreach (var f in s.Fields) Walk(f.Type, queue, specials);
        }
        var result = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var s in structs) result[OpenApiNames.Definition(s)] = Definition(s);
        foreach (var k in specials)
            if (OpenApiNames.Special(k) is { } name) result[name] = SpecialDefinition(k);
        foreach (var name in extraDefinitions ?? [])
            if (name == OpenApiNames.VersionInfo) result[name] = VersionInfoDefinition();
        return result;
    }

    private static void Walk(TypeRef t, Queue<StructSchema> queue, HashSet<TypeKind> specials)
    {
        switch (t.Kind)
        {
            case TypeKind.Pointer or TypeKind.Slice or TypeKind.Map:
                Walk(t.Elem!, queue, specials);
                break;
            case TypeKind.Struct:
                queue.Enqueue(t.Struct!);
                break;
            default:
                if (OpenApiNames.Special(t.Kind) is not null) specials.Add(t.Kind);
                break;
        }
    }

    /// <summary>The definition of one struct.</summary>
    public JsonObject Definition(StructSchema s)
    {
        var name = OpenApiNames.Definition(s);
        var def = new JsonObject();
        if (OpenApiDescriptions.ForStruct(s.QualifiedName) is { } description) def["description"] = description;
        var topLevel = _gvks.ContainsKey(name) && s.Package != "meta/v1";
        var props = new JsonObject();
        var required = new List<string>();
        foreach (var f in s.Fields)
        {
            props[f.JsonName] = Property(f, topLevel);
            if (!f.OmitEmpty && !f.Optional) required.Add(f.JsonName);
        }
        if (props.Count > 0) def["properties"] = props;
        if (required.Count > 0) def["required"] = OpenApiNames.Strings(required);
        def["type"] = "object";
        if (_gvks.TryGetValue(name, out var gvk)) def["x-kubernetes-group-version-kind"] = gvk.DeepClone();
        if (s.StructType is { } st) def["x-kubernetes-map-type"] = st;
        return def;
    }

    private JsonObject Property(FieldSchema f, bool topLevelKind)
    {
        var p = TypeNode(f.Type, f.OmitEmpty, element: false);
        // TypeMeta's fields everywhere; metadata/spec/status/items on top-level kinds only.
        var description = _typeMetaFields.Contains(f) || (topLevelKind && f.JsonName is not ("apiVersion" or "kind"))
            ? OpenApiDescriptions.ForCommonField(f.JsonName)
            : null;
        if (description is not null) p["description"] = description;
        if (f.ListMapKeys is { Length: > 0 } keys) p["x-kubernetes-list-map-keys"] = OpenApiNames.Strings(keys);
        if (f.ListType is { } lt) p["x-kubernetes-list-type"] = lt;
        if (f.MapType is { } mt) p["x-kubernetes-map-type"] = mt;
        if (f.MergeKey is { } mk) p["x-kubernetes-patch-merge-key"] = mk;
        if (f.PatchStrategy is { } ps) p["x-kubernetes-patch-strategy"] = ps;
        return p;
    }

    /// <summary>
    /// The schema of a type in property position (<paramref name="element"/> false) or as an
    /// array item / map value. Defaults follow openapi-gen's enforced zero values: structs get
    /// <c>{}</c>, scalars their zero value unless omitempty; pointers, slices, maps and the
    /// special types get none. v2 carries no defaults.
    /// </summary>
    private JsonObject TypeNode(TypeRef t, bool omitEmpty, bool element, bool viaPointer = false)
    {
        var withDefault = V3 && !viaPointer;
        switch (t.Kind)
        {
            case TypeKind.Pointer:
                return TypeNode(t.Elem!, omitEmpty, element, viaPointer: true);
            case TypeKind.String:
                return Scalar("string", null, withDefault && !omitEmpty ? "" : null);
            case TypeKind.Bool:
                return Scalar("boolean", null, withDefault && !omitEmpty ? false : null);
            case TypeKind.Int32:
                return Scalar("integer", "int32", withDefault && !omitEmpty ? 0 : null);
            case TypeKind.Int64:
                return Scalar("integer", "int64", withDefault && !omitEmpty ? 0 : null);
            case TypeKind.Float64:
                return Scalar("number", "double", withDefault && !omitEmpty ? 0 : null);
            case TypeKind.Bytes:
                return new JsonObject { ["format"] = "byte", ["type"] = "string" };
            case TypeKind.Slice:
                return new JsonObject { ["items"] = TypeNode(t.Elem!, false, element: true), ["type"] = "array" };
            case TypeKind.Map:
                return new JsonObject { ["additionalProperties"] = TypeNode(t.Elem!, false, element: true), ["type"] = "object" };
            case TypeKind.Struct:
                return RefNode(OpenApiNames.Definition(t.Struct!), withDefault, element);
            case TypeKind.Json:
                return V3 ? new JsonObject { ["x-kubernetes-preserve-unknown-fields"] = true } : new JsonObject();
            default:
                return RefNode(OpenApiNames.Special(t.Kind)!, false, element);
        }
    }

    private static JsonObject Scalar(string type, string? format, JsonNode? defaultValue)
    {
        var o = new JsonObject();
        if (defaultValue is not null) o["default"] = defaultValue;
        if (format is not null) o["format"] = format;
        o["type"] = type;
        return o;
    }

    private JsonObject RefNode(string definition, bool withDefault, bool element)
    {
        if (!V3) return Ref(definition);
        // v3 wraps a reference in allOf when it has siblings (upstream always has a description
        // on properties, so properties are always wrapped; items only when they carry a default).
        if (element && !withDefault) return Ref(definition);
        var o = new JsonObject { ["allOf"] = new JsonArray(Ref(definition)) };
        if (withDefault) o["default"] = new JsonObject();
        return o;
    }

    private JsonObject SpecialDefinition(TypeKind kind) => kind switch
    {
        TypeKind.Quantity => V3
            ? new JsonObject { ["description"] = OpenApiDescriptions.Quantity, ["oneOf"] = OneOf("string", "number") }
            : new JsonObject { ["description"] = OpenApiDescriptions.Quantity, ["type"] = "string" },
        TypeKind.IntOrString => V3
            ? new JsonObject { ["description"] = OpenApiDescriptions.IntOrString, ["format"] = "int-or-string", ["oneOf"] = OneOf("integer", "string") }
            : new JsonObject { ["description"] = OpenApiDescriptions.IntOrString, ["format"] = "int-or-string", ["type"] = "string" },
        TypeKind.Time => new JsonObject { ["description"] = OpenApiDescriptions.Time, ["format"] = "date-time", ["type"] = "string" },
        TypeKind.MicroTime => new JsonObject { ["description"] = OpenApiDescriptions.MicroTime, ["format"] = "date-time", ["type"] = "string" },
        TypeKind.RawExtension => new JsonObject { ["description"] = OpenApiDescriptions.RawExtension, ["type"] = "object" },
        TypeKind.FieldsV1 => new JsonObject { ["description"] = OpenApiDescriptions.FieldsV1, ["type"] = "object" },
        TypeKind.Duration => new JsonObject { ["description"] = OpenApiDescriptions.Duration, ["type"] = "string" },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static JsonArray OneOf(params string[] types) =>
        new([.. types.Select(t => (JsonNode?)new JsonObject { ["type"] = t })]);

    /// <summary>k8s.io/apimachinery/pkg/version.Info, the body of GET /version (not a schema-file struct).</summary>
    private JsonObject VersionInfoDefinition()
    {
        string[] required = ["major", "minor", "gitVersion", "gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"];
        string[] optional = ["emulationMajor", "emulationMinor", "minCompatibilityMajor", "minCompatibilityMinor"];
        var props = new JsonObject();
        foreach (var n in required) props[n] = Scalar("string", null, V3 ? "" : null);
        foreach (var n in optional) props[n] = Scalar("string", null, null);
        return new JsonObject
        {
            ["description"] = OpenApiDescriptions.VersionInfo,
            ["properties"] = props,
            ["required"] = OpenApiNames.Strings(required),
            ["type"] = "object",
        };
    }
}
