using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Http;

/// <summary>The three patch types: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge patch (<see cref="Http.StrategicMergePatch"/>).</summary>
public static class Patching
{
    public static JsonObject Apply(string mediaType, JsonObject current, JsonNode? patch, ResourceDefinition def) =>
        Apply(mediaType, current, patch, def.Schema);

    /// <summary>Applies a patch to an object of the given schema (a resource, or a subresource's kind such as Scale).</summary>
    public static JsonObject Apply(string mediaType, JsonObject current, JsonNode? patch, StructSchema schema) => mediaType switch
    {
        "application/json-patch+json" => JsonPatch(current, patch),
        "application/merge-patch+json" => MergePatch(current, patch as JsonObject ?? throw ApiErrors.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}")),
        _ => Http.StrategicMergePatch.Apply(current, patch as JsonObject ?? throw ApiErrors.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}"), schema),
    };

    public static JsonObject MergePatch(JsonObject target, JsonObject patch) => (JsonObject)MergeValue(target, patch)!;

    private static JsonNode? MergeValue(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p) return patch?.DeepClone();
        var t = target as JsonObject ?? new JsonObject();
        t = (JsonObject)t.DeepClone();
        foreach (var (k, v) in p)
        {
            if (v is null) { t.Remove(k); continue; }
            t[k] = MergeValue(t[k], v);
        }
        return t;
    }

    public static JsonObject JsonPatch(JsonObject target, JsonNode? patch)
    {
        if (patch is not JsonArray ops) throw ApiErrors.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        JsonNode doc = target.DeepClone();
        foreach (var opNode in ops)
        {
            if (opNode is not JsonObject op) throw ApiErrors.BadRequest("invalid JSON patch operation");
            var kind = op["op"]?.GetValue<string>() ?? "";
            var path = op["path"]?.GetValue<string>() ?? throw ApiErrors.Invalid("", "", "", [FieldError.Required("path")]);
            switch (kind)
            {
                case "add": doc = Add(doc, path, op["value"]?.DeepClone()); break;
                case "remove": Remove(doc, path); break;
                case "replace": Remove(doc, path); doc = Add(doc, path, op["value"]?.DeepClone()); break;
                case "move":
                {
                    var from = op["from"]?.GetValue<string>() ?? "";
                    var v = Get(doc, from);
                    Remove(doc, from);
                    doc = Add(doc, path, v);
                    break;
                }
                case "copy": doc = Add(doc, path, Get(doc, op["from"]?.GetValue<string>() ?? "")?.DeepClone()); break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(doc, path), op["value"]))
                        throw new ApiException(422, "Invalid", $"the server rejected our request due to an error in our request");
                    break;
                default: throw ApiErrors.BadRequest($"Unexpected kind: {kind}");
            }
        }
        return doc as JsonObject ?? throw ApiErrors.BadRequest("patch result is not an object");
    }

    private static string[] Tokens(string pointer)
    {
        if (pointer.Length == 0) return [];
        if (pointer[0] != '/') throw ApiErrors.BadRequest($"add operation does not apply: doc is missing path: \"{pointer}\": missing value");
        return pointer[1..].Split('/').Select(t => t.Replace("~1", "/").Replace("~0", "~")).ToArray();
    }

    private static JsonNode? Get(JsonNode doc, string pointer)
    {
        JsonNode? n = doc;
        foreach (var t in Tokens(pointer))
        {
            n = n switch
            {
                JsonObject o when o.ContainsKey(t) => o[t],
                JsonArray a when int.TryParse(t, out var i) && i >= 0 && i < a.Count => a[i],
                _ => throw Missing(pointer),
            };
        }
        return n;
    }

    private static ApiException Missing(string pointer) =>
        new(422, "Invalid", $"the server rejected our request due to an error in our request") { Causes = [new StatusCause("FieldValueInvalid", $"doc is missing path: \"{pointer}\": missing value", "")] };

    private static JsonNode Add(JsonNode doc, string pointer, JsonNode? value)
    {
        var tokens = Tokens(pointer);
        if (tokens.Length == 0) return value ?? throw ApiErrors.BadRequest("cannot replace the document with null");
        var parent = Get(doc, "/" + string.Join('/', tokens[..^1].Select(t => t.Replace("~", "~0").Replace("/", "~1"))));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o: o[last] = value; break;
            case JsonArray a:
                if (last == "-") a.Add(value);
                else if (int.TryParse(last, out var i) && i >= 0 && i <= a.Count) a.Insert(i, value);
                else throw Missing(pointer);
                break;
            default: throw Missing(pointer);
        }
        return doc;
    }

    private static void Remove(JsonNode doc, string pointer)
    {
        var tokens = Tokens(pointer);
        var parent = Get(doc, "/" + string.Join('/', tokens[..^1].Select(t => t.Replace("~", "~0").Replace("/", "~1"))));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(last): o.Remove(last); break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count: a.RemoveAt(i); break;
            default: throw Missing(pointer);
        }
    }
}
