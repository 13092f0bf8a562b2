using System.Text.Json.Nodes;
using Portcullis.Server.Api.OpenApi;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// The OpenAPI v3 schema of a served kind with every <c>$ref</c> inlined, as upstream's schema resolver gives the type
/// checker (resolver.ResolveSchema): a custom kind's openAPIV3Schema, or a built-in kind's schema from the group
/// version's OpenAPI v3 document. A type that refers to itself is cut at the second occurrence (an object that keeps
/// unknown fields). Cached per kind and registry generation.
/// </summary>
public sealed class KindSchemas(ResourceRegistry resources)
{
    private readonly Dictionary<(ResourceDefinition, long), JsonObject?> _cache = [];
    private readonly Lock _lock = new();

    public JsonObject? For(ResourceDefinition def)
    {
        if (def.OpenApiSchema is { } custom) return custom;
        var key = (def, resources.Generation);
        lock (_lock)
        {
            if (_cache.TryGetValue(key, out var hit)) return hit;
            var path = def.Group.Length == 0 ? "api/" + def.Version : $"apis/{def.Group}/{def.Version}";
            var schemas = OpenApiV3Builder.BuildV3(path, resources, SchemaRegistry.Default)?["components"]?["schemas"] as JsonObject;
            JsonObject? result = null;
            if (schemas is not null)
                foreach (var (name, node) in schemas)
                    if (node is JsonObject s && Names(s, def))
                    {
                        result = Inline(s, schemas, [name]) as JsonObject;
                        break;
                    }
            return _cache[key] = result;
        }
    }

    private static bool Names(JsonObject schema, ResourceDefinition def) =>
        schema["x-kubernetes-group-version-kind"] is JsonArray gvks && gvks.OfType<JsonObject>().Any(g =>
            (string?)g["group"] == def.Group && (string?)g["version"] == def.Version && (string?)g["kind"] == def.Kind);

    private static JsonNode? Inline(JsonNode? node, JsonObject schemas, List<string> stack)
    {
        switch (node)
        {
            case JsonObject o:
            {
                var target = RefOf(o);
                if (target is not null)
                {
                    if (stack.Contains(target) || schemas[target] is not JsonObject referred)
                        return new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
                    stack.Add(target);
                    var resolved = (JsonObject)Inline(referred, schemas, stack)!;
                    stack.RemoveAt(stack.Count - 1);
                    foreach (var (k, v) in o)
                        if (k is not ("$ref" or "allOf") && !resolved.ContainsKey(k)) resolved[k] = v?.DeepClone();
                    return resolved;
                }
                var copy = new JsonObject();
                foreach (var (k, v) in o) copy[k] = k is "x-kubernetes-group-version-kind" or "default" or "example" ? v?.DeepClone() : Inline(v, schemas, stack);
                return copy;
            }
            case JsonArray a:
                return new JsonArray([.. a.Select(x => Inline(x, schemas, stack))]);
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>The schema name a node refers to: <c>$ref</c>, or an <c>allOf</c> holding a single <c>$ref</c>.</summary>
    private static string? RefOf(JsonObject o)
    {
        var r = o["$ref"] as JsonValue ?? (o["allOf"] is JsonArray { Count: 1 } all && all[0] is JsonObject one ? one["$ref"] as JsonValue : null);
        return r is not null && r.TryGetValue(out string? s) && s.StartsWith("#/components/schemas/", StringComparison.Ordinal)
            ? Uri.UnescapeDataString(s["#/components/schemas/".Length..]) : null;
    }
}
