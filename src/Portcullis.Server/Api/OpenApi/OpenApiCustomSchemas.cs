using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>
/// The definitions of custom kinds (apiextensions-apiserver's OpenAPI builder): the version's
/// openAPIV3Schema with apiVersion, kind and metadata (a reference to ObjectMeta) filled in and the
/// kind's group-version-kind, and the list kind around it. Swagger 2.0 gets the schema without what
/// it cannot say (nullable, oneOf/anyOf/not, the x-kubernetes-validations rules), as upstream's v2 form.
/// </summary>
internal static class OpenApiCustomSchemas
{
    private const string ApiVersionDescription = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
    private const string KindDescription = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
    private const string ListMetadataDescription = "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

    public static void Add(JsonObject definitions, IEnumerable<ResourceDefinition> defs, bool v3)
    {
        var prefix = v3 ? "#/components/schemas/" : "#/definitions/";
        foreach (var d in defs.Where(d => d.DefinedBy is not null))
        {
            var name = OpenApiNames.KindDefinition(d, d.Kind);
            var schema = d.OpenApiSchema?.DeepClone() as JsonObject ?? new JsonObject { ["type"] = "object" };
            if (!v3 && PreservesUnknownFields(schema))
                // Swagger 2.0 (buildKubeNative): a root that keeps unknown fields is a bare object, not even
                // apiVersion, kind and metadata, or kubectl's validation would refuse every other field.
                schema = new JsonObject { ["type"] = "object" };
            else
            {
                if (!v3) StripForV2(schema);
                if (schema["properties"] is not JsonObject props) schema["properties"] = props = new JsonObject();
                props["apiVersion"] = new JsonObject { ["description"] = ApiVersionDescription, ["type"] = "string" };
                props["kind"] = new JsonObject { ["description"] = KindDescription, ["type"] = "string" };
                props["metadata"] = v3
                    ? new JsonObject { ["allOf"] = new JsonArray(new JsonObject { ["$ref"] = prefix + OpenApiNames.MetaPrefix + "ObjectMeta" }), ["default"] = new JsonObject() }
                    : new JsonObject { ["$ref"] = prefix + OpenApiNames.MetaPrefix + "ObjectMeta" };
            }
            schema["x-kubernetes-group-version-kind"] = new JsonArray(OpenApiNames.Gvk(d.Group, d.Version, d.Kind));
            definitions[name] = schema;

            var list = new JsonObject
            {
                ["description"] = $"{d.ListKind} is a list of {d.Kind}",
                ["properties"] = new JsonObject
                {
                    ["apiVersion"] = new JsonObject { ["description"] = ApiVersionDescription, ["type"] = "string" },
                    ["items"] = new JsonObject
                    {
                        ["description"] = $"List of {d.Plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md",
                        ["items"] = new JsonObject { ["$ref"] = prefix + name },
                        ["type"] = "array",
                    },
                    ["kind"] = new JsonObject { ["description"] = KindDescription, ["type"] = "string" },
                    ["metadata"] = v3
                        ? new JsonObject { ["allOf"] = new JsonArray(new JsonObject { ["$ref"] = prefix + OpenApiNames.MetaPrefix + "ListMeta" }), ["default"] = new JsonObject(), ["description"] = ListMetadataDescription }
                        : new JsonObject { ["$ref"] = prefix + OpenApiNames.MetaPrefix + "ListMeta", ["description"] = ListMetadataDescription },
                },
                ["required"] = new JsonArray("items"),
                ["type"] = "object",
                ["x-kubernetes-group-version-kind"] = new JsonArray(OpenApiNames.Gvk(d.Group, d.Version, d.ListKind)),
            };
            definitions[OpenApiNames.KindDefinition(d, d.ListKind)] = list;
        }
    }

    private static bool PreservesUnknownFields(JsonObject s) => s["x-kubernetes-preserve-unknown-fields"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static bool IsNullable(JsonNode? s) => s is JsonObject o && o["nullable"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>
    /// What swagger 2.0 (and kubectl reading it) cannot carry, removed at every level, parent first, as
    /// apiextensions-apiserver's ToStructuralOpenAPIV2: the junctors; a nullable value loses its type, items
    /// and properties; one that keeps unknown fields loses items and properties, and its type when that is
    /// object; an array left without items loses its type; a nullable property is not required.
    /// </summary>
    private static void StripForV2(JsonObject s)
    {
        foreach (var key in (string[])["allOf", "oneOf", "anyOf", "not", "x-kubernetes-validations", "default"])
            s.Remove(key);
        if (IsNullable(s))
        {
            s.Remove("type");
            s.Remove("items");
            s.Remove("properties");
        }
        s.Remove("nullable");
        var preserve = PreservesUnknownFields(s);
        if (preserve)
        {
            s.Remove("items");
            s.Remove("properties");
        }
        var type = s["type"] is JsonValue t && t.TryGetValue<string>(out var ts) ? ts : "";
        if ((type == "array" && s["items"] is null) || (preserve && type == "object")) s.Remove("type");
        if (s["properties"] is JsonObject props && s["required"] is JsonArray required)
        {
            var kept = required.Where(r => r is JsonValue v && v.TryGetValue<string>(out var name) && !IsNullable(props[name])).Select(r => r!.DeepClone()).ToArray();
            if (kept.Length == 0) s.Remove("required");
            else if (kept.Length != required.Count) s["required"] = new JsonArray(kept);
        }
        if (IsNullable(s["additionalProperties"])) s.Remove("required");
        if (s["properties"] is JsonObject ps)
            foreach (var (_, v) in ps) if (v is JsonObject o) StripForV2(o);
        if (s["items"] is JsonObject items) StripForV2(items);
        if (s["additionalProperties"] is JsonObject ap) StripForV2(ap);
    }
}
