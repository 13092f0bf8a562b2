using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Http;

/// <summary>
/// The three patch types: JSON patch (RFC 6902, as gopkg.in/evanphx/json-patch.v4 applies it),
/// JSON merge patch (RFC 7386), strategic merge patch (<see cref="Http.StrategicMergePatch"/>).
/// The patch is decoded first as the API server's patch handler does (patch.go): under the Warn and
/// Strict field validations into its Go type, so a field of the wrong type is a 400.
/// </summary>
public static class Patching
{
    /// <summary>maxJSONPatchOperations in the API server's patch handler.</summary>
    public const int MaxJsonPatchOperations = 10000;

    public static JsonObject Apply(string mediaType, JsonObject current, JsonNode? patch, ResourceDefinition def, string fieldValidation = "Warn") =>
        Apply(mediaType, current, patch, def.Schema, fieldValidation);

    /// <summary>Applies a patch to an object of the given schema (a resource, or a subresource's kind such as Scale).</summary>
    public static JsonObject Apply(string mediaType, JsonObject current, JsonNode? patch, StructSchema schema, string fieldValidation = "Warn")
    {
        var strict = fieldValidation is "Warn" or "Strict";
        switch (mediaType)
        {
            case "application/json-patch+json":
                if (strict) DecodeJsonPatchOps(patch);
                return JsonPatch(current, patch);
            case "application/merge-patch+json":
                if (strict && JsonParser.FindNonFiniteNumber(patch) is { } n)
                    throw ApiErrors.BadRequest($"error decoding patch: json: cannot unmarshal number {n} into Go value of type float64");
                return MergePatch(current, patch as JsonObject ?? throw ApiErrors.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}"));
            default:
                // kjson.Unmarshal of the patch into map[string]interface{}, whatever the validation.
                if (JsonParser.FindNonFiniteNumber(patch) is { } f)
                    throw ApiErrors.BadRequest($"json: cannot unmarshal number {f} into Go value of type float64");
                return Http.StrategicMergePatch.Apply(current, patch as JsonObject ?? throw ApiErrors.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}"), schema);
        }
    }

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

    // ---- JSON patch ----

    private static string GoKind(JsonNode? n) => n switch
    {
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "number",
            _ => "bool",
        },
        _ => "null",
    };

    /// <summary>
    /// kjson.UnmarshalStrict of the patch into []jsonPatchOp (op, path and from are strings, value
    /// anything a Go interface{} holds): the first type error, in document order, is a 400.
    /// </summary>
    private static void DecodeJsonPatchOps(JsonNode? patch)
    {
        static ApiException Error(string what) => ApiErrors.BadRequest("error decoding patch: json: cannot unmarshal " + what);
        if (patch is null) return;
        if (patch is not JsonArray ops) throw Error($"{GoKind(patch)} into Go value of type []handlers.jsonPatchOp");
        foreach (var op in ops)
        {
            if (op is null) continue;
            if (op is not JsonObject o) throw Error($"{GoKind(op)} into Go value of type handlers.jsonPatchOp");
            foreach (var (field, v) in o)
            {
                switch (field)
                {
                    case "op" or "path" or "from":
                        if (v is not null && GoKind(v) != "string") throw Error($"{GoKind(v)} into Go struct field jsonPatchOp.{field} of type string");
                        break;
                    case "value":
                        if (JsonParser.FindNonFiniteNumber(v) is { } n) throw Error($"number {n} into Go struct field jsonPatchOp.value of type float64");
                        break;
                }
            }
        }
    }

    /// <summary>
    /// An operation that does not apply: the handler answers 422 with NewGenericServerResponse's
    /// message, json-patch's own error text dropped (no causes).
    /// </summary>
    private static ApiException Unprocessable() => new(422, "Invalid", "the server rejected our request due to an error in our request");

    public static JsonObject JsonPatch(JsonObject target, JsonNode? patch)
    {
        // jsonpatch.DecodePatch: a list of objects (a null item is an operation with no fields).
        var ops = patch switch
        {
            null => [], // a nil Patch: nothing to do
            JsonArray a => a,
            _ => throw ApiErrors.BadRequest($"json: cannot unmarshal {GoKind(patch)} into Go value of type jsonpatch.Patch"),
        };
        foreach (var op in ops)
            if (op is not null and not JsonObject) throw ApiErrors.BadRequest($"json: cannot unmarshal {GoKind(op)} into Go value of type jsonpatch.Operation");
        if (ops.Count > MaxJsonPatchOperations)
            throw ApiErrors.RequestEntityTooLarge($"Request entity too large: The allowed maximum operations in a JSON patch is {MaxJsonPatchOperations}, got {ops.Count}");

        JsonNode doc = target.DeepClone();
        foreach (var opNode in ops)
        {
            var op = opNode as JsonObject ?? new JsonObject();
            switch (Str(op, "op") ?? "unknown")
            {
                case "add":
                {
                    var (con, key) = FindObject(doc, Path(op));
                    Add(con, key, op["value"]?.DeepClone());
                    break;
                }
                case "remove":
                {
                    var (con, key) = FindObject(doc, Path(op));
                    Remove(con, key);
                    break;
                }
                case "replace":
                {
                    var path = Path(op);
                    if (path.Length == 0)
                    {
                        doc = op["value"] is JsonObject or JsonArray ? op["value"]!.DeepClone() : throw Unprocessable();
                        break;
                    }
                    var (con, key) = FindObject(doc, path);
                    Get(con, key); // json-patch v4: an index must exist; a missing object key is set
                    Set(con, key, op["value"]?.DeepClone());
                    break;
                }
                case "move":
                {
                    var (from, fromKey) = FindObject(doc, From(op));
                    var v = Get(from, fromKey);
                    Remove(from, fromKey);
                    var (con, key) = FindObject(doc, Path(op));
                    Add(con, key, v);
                    break;
                }
                case "copy":
                {
                    var (from, fromKey) = FindObject(doc, From(op));
                    var v = Get(from, fromKey)?.DeepClone();
                    var (con, key) = FindObject(doc, Path(op));
                    Add(con, key, v);
                    break;
                }
                case "test":
                {
                    var path = Path(op);
                    JsonNode? actual;
                    if (path.Length == 0) actual = doc;
                    else
                    {
                        var (con, key) = FindObject(doc, path);
                        actual = Get(con, key);
                    }
                    if (!JsonNode.DeepEquals(actual, op["value"])) throw Unprocessable();
                    break;
                }
                default:
                    throw Unprocessable(); // Unexpected kind: ...
            }
        }
        return doc as JsonObject ?? throw ApiErrors.BadRequest("patch result is not an object");
    }

    private static string? Str(JsonObject op, string field) =>
        op[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>Operation.Path / From: a missing, null or non-string field does not apply.</summary>
    private static string Path(JsonObject op) => Str(op, "path") ?? throw Unprocessable();
    private static string From(JsonObject op) => Str(op, "from") ?? throw Unprocessable();

    /// <summary>
    /// findObject: the container of the pointer's last token and that token. As json-patch v4 does,
    /// the pointer is split on '/' and its first part ignored, so "" and "a" have no container.
    /// </summary>
    private static (JsonNode Container, string Key) FindObject(JsonNode doc, string pointer)
    {
        var split = pointer.Split('/');
        if (split.Length < 2) throw Unprocessable();
        var cur = doc;
        for (var i = 1; i < split.Length - 1; i++)
        {
            var next = Get(cur, DecodeKey(split[i]));
            cur = next is JsonObject or JsonArray ? next : throw Unprocessable();
        }
        return (cur, DecodeKey(split[^1]));
    }

    private static string DecodeKey(string token) => token.Replace("~1", "/").Replace("~0", "~");

    /// <summary>strconv.Atoi, with json-patch's negative indices counted from the end.</summary>
    private static int Index(string key, int count)
    {
        if (!int.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i)) throw Unprocessable();
        if (i < 0)
        {
            if (i < -count) throw Unprocessable();
            i += count;
        }
        if (i >= count) throw Unprocessable();
        return i;
    }

    /// <summary>A missing object key reads as null; an array index must exist.</summary>
    private static JsonNode? Get(JsonNode con, string key) => con switch
    {
        JsonObject o => o[key],
        JsonArray a => a[Index(key, a.Count)],
        _ => throw Unprocessable(),
    };

    private static void Set(JsonNode con, string key, JsonNode? value)
    {
        switch (con)
        {
            case JsonObject o: o[key] = value; break;
            case JsonArray a: a[Index(key, a.Count)] = value; break;
        }
    }

    private static void Add(JsonNode con, string key, JsonNode? value)
    {
        switch (con)
        {
            case JsonObject o: o[key] = value; break;
            case JsonArray a when key == "-": a.Add(value); break;
            case JsonArray a: a.Insert(Index(key, a.Count + 1), value); break;
        }
    }

    private static void Remove(JsonNode con, string key)
    {
        switch (con)
        {
            case JsonObject o when o.ContainsKey(key): o.Remove(key); break;
            case JsonObject: throw Unprocessable();
            case JsonArray a: a.RemoveAt(Index(key, a.Count)); break;
        }
    }
}
