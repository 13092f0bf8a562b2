using System.Text;
using Portcullis.Cel;
using Portcullis.Server.Api.CustomResources.Schema;

namespace Portcullis.Server.Api.CustomResources;

/// <summary>
/// What a schema node is to CEL, as kube-apiserver 1.33 declares it (apiserver pkg/cel/common/schemas.go
/// SchemaDeclType, over apiextensions' structural schema): the node's CEL type and the two sizes the static cost
/// estimator reasons with. <see cref="MaxElements"/> is the most items, properties or bytes a value can hold (from
/// maxItems, maxProperties, maxLength or, failing those, how many of the smallest element fit into a 3 MiB
/// request); <see cref="MinSerializedSize"/> the fewest JSON bytes a value can take. <see cref="From"/> is null
/// where upstream exposes nothing: a node without a type (other than int-or-string), an array without items, or a
/// list or map whose elements are not exposed.
/// </summary>
public sealed class SchemaDecl
{
    /// <summary>celconfig.MaxRequestSizeBytes.</summary>
    public const long MaxRequestSizeBytes = 3 * 1024 * 1024;

    // apiserver pkg/cel/limits.go
    private const long MaxDurationSizeJson = 32, MaxDatetimeSizeJson = 32, MinDurationSizeJson = 3, JsonDateSize = 12;
    private const long MinDatetimeSizeJson = 21, MinStringSize = 2, MinBoolSize = 4, MinNumberSize = 1;

    public required CelType Type { get; init; }
    public long MaxElements { get; init; }
    public long MinSerializedSize { get; init; }

    /// <summary>An object's exposed properties, by the names CEL selects them with (escaped).</summary>
    public IReadOnlyDictionary<string, SchemaDecl>? Fields { get; init; }

    /// <summary>A list's items or a map's values.</summary>
    public SchemaDecl? Elem { get; init; }

    /// <summary>A map's keys (upstream's shared string type: no size of its own).</summary>
    public SchemaDecl? Key { get; init; }

    private static readonly SchemaDecl StringKey = new() { Type = CelType.String, MinSerializedSize = MinStringSize };
    private static readonly SchemaDecl Bool = new() { Type = CelType.Bool, MinSerializedSize = MinBoolSize };
    private static readonly SchemaDecl Int = new() { Type = CelType.Int, MinSerializedSize = MinNumberSize };
    private static readonly SchemaDecl Double = new() { Type = CelType.Double, MinSerializedSize = MinNumberSize };

    /// <summary>SchemaDeclType(s, isResourceRoot): true for the root of a custom resource and for an
    /// x-kubernetes-embedded-resource, where apiVersion, kind, metadata.name and metadata.generateName are
    /// always declared.</summary>
    public static SchemaDecl? From(JsonSchemaProps s, bool isResourceRoot)
    {
        if (s.XIntOrString)
            // the smallest int-or-string is 0; the largest string fills the request
            return new SchemaDecl { Type = CelType.Dyn, MinSerializedSize = 1, MaxElements = MaxRequestSizeBytes - 2 };

        var properties = s.Properties;
        if (isResourceRoot) properties = WithTypeAndObjectMeta(properties);

        switch (s.Type)
        {
            case "array":
            {
                if (s.Items is not { } items || From(items, items.XEmbeddedResource) is not { } elem) return null;
                var maxItems = s.MaxItems is { } mi ? Math.Max(mi, 0) : (MaxRequestSizeBytes - 2) / (elem.MinSerializedSize + 1);
                var type = s.XListType switch
                {
                    "set" => CelType.SetListOf(elem.Type),
                    "map" when s.XListMapKeys is { } keys => CelType.MapListOf(elem.Type, [.. keys.Select(k => CelJson.EscapeFieldName(k) ?? k)]),
                    _ => CelType.ListOf(elem.Type),
                };
                return new SchemaDecl { Type = type, Elem = elem, MaxElements = maxItems, MinSerializedSize = 2 };
            }
            case "object":
            {
                if (s.AdditionalPropertiesSchema is { } ap)
                {
                    if (From(ap, ap.XEmbeddedResource) is not { } values) return null;
                    // key "" : value ,
                    var maxProperties = s.MaxProperties is { } mp ? Math.Max(mp, 0) : (MaxRequestSizeBytes - 2) / (values.MinSerializedSize + 6);
                    return new SchemaDecl
                    {
                        Type = CelType.MapOf(CelType.String, values.Type), Key = StringKey, Elem = values,
                        MaxElements = maxProperties, MinSerializedSize = 2,
                    };
                }
                var required = s.Required is { } req ? new HashSet<string>(req, StringComparer.Ordinal) : null;
                var fields = new Dictionary<string, SchemaDecl>(StringComparer.Ordinal);
                var minSize = 2L; // {}
                foreach (var (name, prop) in properties ?? [])
                {
                    if (From(prop, prop.XEmbeddedResource) is not { } field) continue;
                    if (CelJson.EscapeFieldName(name) is { } escaped) fields[escaped] = field;
                    // a required property without a default must be sent: "name": value,
                    if (required?.Contains(name) == true && prop.Default is null)
                        minSize += Encoding.UTF8.GetByteCount(name) + field.MinSerializedSize + 4;
                }
                return new SchemaDecl
                {
                    Type = CelType.Object("object", fields.ToDictionary(f => f.Key, f => f.Value.Type, StringComparer.Ordinal)),
                    Fields = fields, MinSerializedSize = minSize,
                };
            }
            case "string":
                switch (s.Format)
                {
                    case "byte":
                        return new SchemaDecl
                        {
                            Type = CelType.Bytes, MinSerializedSize = MinStringSize,
                            MaxElements = s.MaxLength is { } bl ? Math.Max(bl, 0) : MaxRequestSizeBytes - 2,
                        };
                    case "duration":
                        return new SchemaDecl { Type = CelType.Duration, MinSerializedSize = MinDurationSizeJson, MaxElements = MaxDurationSizeJson };
                    case "date":
                        return new SchemaDecl { Type = CelType.Timestamp, MinSerializedSize = JsonDateSize, MaxElements = JsonDateSize };
                    case "date-time":
                        return new SchemaDecl { Type = CelType.Timestamp, MinSerializedSize = MinDatetimeSizeJson, MaxElements = MaxDatetimeSizeJson };
                }
                // maxLength counts code points; a code point takes up to 4 bytes
                long maxLength = s.MaxLength is { } ml ? Math.Max(ml, 0) * 4
                    : s.Enum is { Count: > 0 } enumValues ? enumValues.Select(v => v is System.Text.Json.Nodes.JsonValue jv && jv.TryGetValue<string>(out var str) ? Encoding.UTF8.GetByteCount(str) : 0).Max()
                    : MaxRequestSizeBytes - 2;
                return new SchemaDecl { Type = CelType.String, MinSerializedSize = MinStringSize, MaxElements = maxLength };
            case "boolean": return Bool;
            case "number": return Double;
            case "integer": return Int;
            default: return null;
        }
    }

    /// <summary>WithTypeAndObjectMeta: kind and apiVersion are strings and metadata holds name and generateName,
    /// unless the schema already declares them all so.</summary>
    private static List<KeyValuePair<string, JsonSchemaProps>> WithTypeAndObjectMeta(List<KeyValuePair<string, JsonSchemaProps>>? properties)
    {
        JsonSchemaProps? Get(List<KeyValuePair<string, JsonSchemaProps>>? props, string name) =>
            props?.FirstOrDefault(p => p.Key == name).Value;
        var metadata = Get(properties, "metadata");
        if (properties is not null && Get(properties, "kind")?.Type == "string" && Get(properties, "apiVersion")?.Type == "string"
            && metadata?.Type == "object" && metadata.Properties is not null
            && Get(metadata.Properties, "name")?.Type == "string" && Get(metadata.Properties, "generateName")?.Type == "string")
            return properties;
        var result = (properties ?? []).Where(p => p.Key is not ("kind" or "apiVersion" or "metadata")).ToList();
        result.Add(new("kind", new JsonSchemaProps { Type = "string" }));
        result.Add(new("apiVersion", new JsonSchemaProps { Type = "string" }));
        result.Add(new("metadata", new JsonSchemaProps
        {
            Type = "object",
            Properties = [new("name", new JsonSchemaProps { Type = "string" }), new("generateName", new JsonSchemaProps { Type = "string" })],
        }));
        return result;
    }

    /// <summary>
    /// The size of the value at a path the cost estimator walks (the variable, then field names, <c>@items</c>,
    /// <c>@values</c>, <c>@keys</c>), from this node as the variable's declaration: at most MaxElements; null
    /// where the path leaves what is declared (apiextensions' sizeEstimator).
    /// </summary>
    public CelSizeEstimate? SizeAt(IReadOnlyList<string> path)
    {
        if (path.Count == 0) return null;
        var node = this;
        for (var i = 1; i < path.Count; i++)
        {
            var next = path[i] switch
            {
                "@items" or "@values" => node.Elem,
                "@keys" => node.Key,
                var name => node.Fields?.GetValueOrDefault(name),
            };
            if (next is null) return null;
            node = next;
        }
        return new CelSizeEstimate(0, (ulong)node.MaxElements);
    }

    /// <summary>
    /// How many times a value of this node could appear in one request (apiextensions' maxCardinality): what a
    /// rule's estimated cost is multiplied by when an enclosing list or map has no maxItems or maxProperties.
    /// </summary>
    public ulong MaxCardinality => (ulong)(MaxRequestSizeBytes / (MinSerializedSize + 1));
}
