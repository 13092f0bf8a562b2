using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Patching;

/// <summary>
/// JSON patch (RFC 6902) as gopkg.in/evanphx/json-patch.v4 (v4.12.0) applies it: decoding the
/// operations as the patch handler does, the operations themselves, the raw texts <c>test</c>
/// compares, and json.Marshal of the patched document for error texts.
/// </summary>
public static partial class Patcher
{
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

    /// <summary>
    /// jsonpatch.Apply of evanphx/json-patch v4.12.0. Scalars are compared (test) as json-patch does,
    /// by their JSON text: the patch's as sent, the object's as Go encodes it (1 and 1.0 differ,
    /// so do "&lt;" and "\u003c" sent by the client). <paramref name="rawPatch"/> is the body the
    /// patch was parsed from, for those texts.
    /// </summary>
    public static JsonObject JsonPatch(JsonObject target, JsonNode? patch, byte[]? rawPatch = null, Trace? trace = null)
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

        var state = new JsonPatchState(rawPatch is null ? [] : RawValueTexts(rawPatch, ops));
        JsonNode doc = target.DeepClone();
        state.Decoded.Add(doc);
        long copied = 0;
        foreach (var opNode in ops)
        {
            var op = opNode as JsonObject ?? new JsonObject();
            switch (JsonRead.Str(op, "op") ?? "unknown")
            {
                case "add":
                {
                    var (con, key) = state.FindObject(doc, Path(op));
                    Add(con, key, state.Clone(op["value"], false));
                    break;
                }
                case "remove":
                {
                    var (con, key) = state.FindObject(doc, Path(op));
                    Remove(con, key);
                    break;
                }
                case "replace":
                {
                    var path = Path(op);
                    if (path.Length == 0)
                    {
                        // The value becomes the document (an array too: decoding it into the kind then fails).
                        doc = op["value"] is JsonObject or JsonArray ? state.Clone(op["value"], false)! : throw Unprocessable();
                        state.Decoded.Add(doc);
                        break;
                    }
                    var (con, key) = state.FindObject(doc, path);
                    Get(con, key); // json-patch v4: an index must exist; a missing object key is set
                    Set(con, key, state.Clone(op["value"], false));
                    break;
                }
                case "move":
                {
                    var (from, fromKey) = state.FindObject(doc, From(op));
                    var v = Get(from, fromKey);
                    Remove(from, fromKey);
                    var (con, key) = state.FindObject(doc, Path(op));
                    Add(con, key, v);
                    break;
                }
                case "copy":
                {
                    var (from, fromKey) = state.FindObject(doc, From(op));
                    var v = Get(from, fromKey);
                    var (con, key) = state.FindObject(doc, Path(op));
                    // AccumulatedCopySizeLimit: the API server sets it to --json-patch-max-copy-bytes (3 MiB).
                    copied += Encoding.UTF8.GetByteCount(state.Marshal(v));
                    if (copied > MaxJsonPatchCopyBytes) throw Unprocessable();
                    Add(con, key, state.Clone(v, true));
                    break;
                }
                case "test":
                {
                    var path = Path(op);
                    JsonNode? actual;
                    if (path.Length == 0) actual = doc;
                    else
                    {
                        var (con, key) = state.FindObject(doc, path);
                        actual = Get(con, key);
                    }
                    // A missing value: json-patch dereferences nil (a panic upstream); here the test fails.
                    if (!op.ContainsKey("value")) throw Unprocessable();
                    var equal = actual is null ? op["value"] is null : op["value"] is not null && state.Equal(actual, op["value"]!);
                    if (!equal) throw Unprocessable();
                    break;
                }
                default:
                    throw Unprocessable(); // Unexpected kind: ...
            }
        }
        if (trace is not null)
        {
            var final = doc;
            trace.Describe = () => state.Marshal(final);
        }
        if (doc is JsonObject result) return result;
        // The patched document is an array: the codec cannot find its kind (SimpleMetaFactory.Interpret).
        throw DecodeFailure(trace ?? new Trace { Describe = () => state.Marshal(doc) },
            "couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type " + VersionKindStruct);
    }

    /// <summary>The anonymous struct SimpleMetaFactory.Interpret decodes apiVersion and kind into, as Go prints its type.</summary>
    private const string VersionKindStruct = """struct { APIVersion string "json:\"apiVersion,omitempty\""; Kind string "json:\"kind,omitempty\"" }""";

    /// <summary>--json-patch-max-copy-bytes' default (JSONPatchMaxCopyBytes, 3 MiB).</summary>
    public const long MaxJsonPatchCopyBytes = 3 * 1024 * 1024;

    /// <summary>
    /// The texts of the scalars inside each operation's <c>value</c> as the client wrote them
    /// (json-patch keeps them as raw JSON). The body is read again beside the parsed tree.
    /// </summary>
    private static Dictionary<JsonNode, string> RawValueTexts(byte[] raw, JsonArray ops)
    {
        var texts = new Dictionary<JsonNode, string>(ReferenceEqualityComparer.Instance);
        try
        {
            var r = new Utf8JsonReader(raw, new JsonReaderOptions { MaxDepth = JsonParser.MaxDepth + 2 });
            if (!r.Read() || r.TokenType != JsonTokenType.StartArray) return texts;
            var i = 0;
            while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            {
                var op = i < ops.Count ? ops[i] as JsonObject : null;
                i++;
                if (r.TokenType != JsonTokenType.StartObject) { r.Skip(); continue; }
                while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                {
                    var name = r.GetString();
                    r.Read();
                    if (name == "value" && op is not null && op.ContainsKey("value")) Walk(ref r, op["value"], texts);
                    else r.Skip();
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { }
        return texts;

        static void Walk(ref Utf8JsonReader r, JsonNode? node, Dictionary<JsonNode, string> texts)
        {
            switch (r.TokenType)
            {
                case JsonTokenType.StartObject:
                    while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                    {
                        var key = r.GetString()!;
                        r.Read();
                        Walk(ref r, node is JsonObject o && o.TryGetPropertyValue(key, out var child) ? child : null, texts);
                    }
                    break;
                case JsonTokenType.StartArray:
                    var i = 0;
                    while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                    {
                        Walk(ref r, node is JsonArray a && i < a.Count ? a[i] : null, texts);
                        i++;
                    }
                    break;
                case JsonTokenType.String:
                    if (node is JsonValue) texts[node] = "\"" + Encoding.UTF8.GetString(r.ValueSpan) + "\"";
                    break;
                default:
                    if (node is JsonValue) texts[node] = Encoding.UTF8.GetString(r.ValueSpan);
                    break;
            }
        }
    }

    /// <summary>
    /// What json-patch's lazy nodes remember: the raw text of scalars that came from the patch, and
    /// which objects it decoded into maps (Go marshals those with sorted keys; the others as read).
    /// </summary>
    private sealed class JsonPatchState(Dictionary<JsonNode, string> raw)
    {
        public readonly HashSet<JsonNode> Decoded = new(ReferenceEqualityComparer.Instance);

        /// <summary>findObject: every container on the way is decoded.</summary>
        public (JsonNode Container, string Key) FindObject(JsonNode doc, string pointer)
        {
            var (con, key) = Patcher.FindObject(doc, pointer);
            var cur = doc;
            var split = pointer.Split('/');
            for (var i = 1; i < split.Length - 1; i++)
            {
                cur = Get(cur, DecodeKey(split[i]))!;
                Decoded.Add(cur);
            }
            return (con, key);
        }

        /// <summary>The text json-patch compares and writes for a scalar (json.Marshal escapes HTML).</summary>
        private string Text(JsonNode? n, bool escapeHtml) =>
            n is not null && raw.TryGetValue(n, out var t) ? (escapeHtml ? EscapeHtml(t) : t) : GoJsonWriter.ToString(n);

        /// <summary>A value put into the document: the patch's own (add, replace) or a deepCopy (copy: re-marshalled).</summary>
        public JsonNode? Clone(JsonNode? n, bool marshalled)
        {
            switch (n)
            {
                case JsonObject o:
                {
                    var c = new JsonObject();
                    IEnumerable<KeyValuePair<string, JsonNode?>> items = marshalled && Decoded.Contains(o) ? o.OrderBy(p => p.Key, StringComparer.Ordinal) : o;
                    foreach (var (k, v) in items) c[k] = Clone(v, marshalled);
                    return c;
                }
                case JsonArray a:
                {
                    var c = new JsonArray();
                    foreach (var v in a) c.Add(Clone(v, marshalled));
                    return c;
                }
                case JsonValue v:
                {
                    var c = v.DeepClone();
                    if (raw.TryGetValue(v, out var t)) raw[c] = marshalled ? EscapeHtml(t) : t;
                    return c;
                }
                default: return null;
            }
        }

        /// <summary>lazyNode.equal: objects and arrays by structure, scalars by their JSON text.</summary>
        public bool Equal(JsonNode n, JsonNode o)
        {
            switch (n)
            {
                case JsonObject no:
                {
                    Decoded.Add(no);
                    if (o is not JsonObject oo) return false;
                    Decoded.Add(oo);
                    if (no.Count != oo.Count) return false;
                    foreach (var (k, v) in no)
                    {
                        if (!oo.TryGetPropertyValue(k, out var ov)) return false;
                        if ((v is null) != (ov is null)) return false;
                        if (v is not null && !Equal(v, ov!)) return false;
                    }
                    return true;
                }
                case JsonArray na:
                {
                    if (o is not JsonArray oa || na.Count != oa.Count) return false;
                    for (var i = 0; i < na.Count; i++)
                    {
                        if ((na[i] is null) != (oa[i] is null)) return false;
                        if (na[i] is not null && !Equal(na[i]!, oa[i]!)) return false;
                    }
                    return true;
                }
                default:
                    return o is JsonValue && Text(n, false) == Text(o, false);
            }
        }

        /// <summary>json.Marshal of the document: decoded objects with sorted keys, raw scalars HTML-escaped.</summary>
        public string Marshal(JsonNode? n) => MarshalSorted(n, Decoded, x => Text(x, true));

        private static string EscapeHtml(string s) =>
            s.Replace("<", "\\u003c").Replace(">", "\\u003e").Replace("&", "\\u0026").Replace("\u2028", "\\u2028").Replace("\u2029", "\\u2029");
    }


    /// <summary>Operation.Path / From: a missing, null or non-string field does not apply.</summary>
    private static string Path(JsonObject op) => JsonRead.Str(op, "path") ?? throw Unprocessable();
    private static string From(JsonObject op) => JsonRead.Str(op, "from") ?? throw Unprocessable();

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
