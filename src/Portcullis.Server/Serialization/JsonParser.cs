using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Serialization;

/// <summary>
/// Parses a request body into a <see cref="JsonNode"/> tree. Unlike JsonNode.Parse, a duplicate
/// key does not fail: the last value wins (as in Go) and the key's path is reported, so strict
/// field validation can name it (<c>duplicate field "metadata.name"</c>).
/// Strings decode as Go's encoding/json does: an escaped surrogate without its pair and bytes that
/// are not UTF-8 become U+FFFD. A number too large for a double keeps its literal (Go reports it
/// when it decodes it into a field: <c>cannot unmarshal number 1e400 into ... of type int32</c>).
/// </summary>
public static class JsonParser
{
    /// <summary>
    /// How deep objects and arrays may nest. Go's encoding/json allows 10000 levels; this server
    /// walks its trees recursively, so it stops sooner, with Go's message.
    /// </summary>
    public const int MaxDepth = 256;

    /// <exception cref="JsonException">malformed JSON; the message says where.</exception>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8, List<string>? duplicates = null)
    {
        // The reader's own limit sits above ours, so ours (with Go's message) is the one that fires.
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = MaxDepth + 2 });
        if (!reader.Read()) throw new JsonException("unexpected end of JSON input");
        var path = new StringBuilder();
        var node = ReadValue(ref reader, path, duplicates);
        if (reader.Read()) throw new JsonException($"invalid character after top-level value at offset {reader.TokenStartIndex}");
        return node;
    }

    /// <summary>The literal of the first number in the tree that does not fit a double (1e400), if any.</summary>
    public static string? FindNonFiniteNumber(JsonNode? node)
    {
        var pending = new Stack<JsonNode?>();
        pending.Push(node);
        while (pending.Count > 0)
        {
            switch (pending.Pop())
            {
                case JsonObject o:
                    foreach (var (_, v) in o.Reverse()) pending.Push(v);
                    break;
                case JsonArray a:
                    for (var i = a.Count - 1; i >= 0; i--) pending.Push(a[i]);
                    break;
                case JsonValue v when IsNonFinite(v):
                    return v.ToJsonString();
            }
        }
        return null;
    }

    /// <summary>A number kept as its literal because a double cannot hold it.</summary>
    public static bool IsNonFinite(JsonValue v) =>
        v.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Number && !e.TryGetInt64(out _)
        && !(double.TryParse(e.GetRawText(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && double.IsFinite(d));

    /// <summary>A string token (value or property name) as Go's encoding/json unquotes it.</summary>
    private static string GoString(ref Utf8JsonReader r)
    {
        var raw = r.ValueSpan;
        if (!r.ValueIsEscaped && System.Text.Unicode.Utf8.IsValid(raw)) return Encoding.UTF8.GetString(raw);
        var sb = new StringBuilder(raw.Length);
        var i = 0;
        while (i < raw.Length)
        {
            var b = raw[i];
            if (b == (byte)'\\' && i + 1 < raw.Length)
            {
                var c = raw[i + 1];
                i += 2;
                switch (c)
                {
                    case (byte)'b': sb.Append('\b'); break;
                    case (byte)'f': sb.Append('\f'); break;
                    case (byte)'n': sb.Append('\n'); break;
                    case (byte)'r': sb.Append('\r'); break;
                    case (byte)'t': sb.Append('\t'); break;
                    case (byte)'u':
                    {
                        var u = Hex4(raw, i);
                        i += 4;
                        if (u is >= 0xD800 and <= 0xDFFF)
                        {
                            // utf16.DecodeRune: a high surrogate followed by an escaped low one is a pair; anything else is U+FFFD.
                            if (u <= 0xDBFF && i + 6 <= raw.Length && raw[i] == (byte)'\\' && raw[i + 1] == (byte)'u'
                                && Hex4(raw, i + 2) is var low and >= 0xDC00 and <= 0xDFFF)
                            {
                                sb.Append((char)u).Append((char)low);
                                i += 6;
                            }
                            else sb.Append('\uFFFD');
                        }
                        else sb.Append((char)u);
                        break;
                    }
                    default: sb.Append((char)c); break; // " \\ /
                }
                continue;
            }
            if (b < 0x80)
            {
                sb.Append((char)b);
                i++;
                continue;
            }
            // Go's utf8.DecodeRune: an invalid sequence is one U+FFFD per byte.
            if (System.Text.Rune.DecodeFromUtf8(raw[i..], out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                sb.Append(rune.ToString());
                i += consumed;
            }
            else
            {
                sb.Append('\uFFFD');
                i++;
            }
        }
        return sb.ToString();
    }

    private static int Hex4(ReadOnlySpan<byte> s, int at)
    {
        var v = 0;
        for (var k = at; k < at + 4 && k < s.Length; k++)
        {
            var c = s[k];
            v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        return v;
    }

    private static JsonNode? ReadValue(ref Utf8JsonReader r, StringBuilder path, List<string>? dups)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.StartObject:
            {
                if (r.CurrentDepth >= MaxDepth) throw new JsonException("invalid character '{' exceeded max depth");
                var o = new JsonObject();
                while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                {
                    var key = GoString(ref r);
                    r.Read();
                    // The path is built only for a caller that collects duplicates (it names them).
                    var mark = path.Length;
                    if (dups is not null)
                    {
                        if (path.Length > 0) path.Append('.');
                        path.Append(key);
                    }
                    var v = ReadValue(ref r, path, dups);
                    if (o.ContainsKey(key))
                    {
                        dups?.Add(path.ToString());
                        o.Remove(key);
                    }
                    path.Length = mark;
                    o[key] = v;
                }
                return o;
            }
            case JsonTokenType.StartArray:
            {
                if (r.CurrentDepth >= MaxDepth) throw new JsonException("invalid character '[' exceeded max depth");
                var a = new JsonArray();
                var i = 0;
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    var mark = path.Length;
                    if (dups is not null) path.Append('[').Append(i++).Append(']');
                    a.Add(ReadValue(ref r, path, dups));
                    path.Length = mark;
                }
                return a;
            }
            case JsonTokenType.String: return JsonValue.Create(GoString(ref r));
            case JsonTokenType.Number:
                if (r.TryGetInt64(out var l)) return JsonValue.Create(l);
                if (r.TryGetDouble(out var d) && double.IsFinite(d)) return JsonValue.Create(d);
                using (var doc = JsonDocument.Parse(r.ValueSpan.ToArray())) return JsonValue.Create(doc.RootElement.Clone());
            case JsonTokenType.True: return JsonValue.Create(true);
            case JsonTokenType.False: return JsonValue.Create(false);
            case JsonTokenType.Null: return null;
            default: throw new JsonException($"unexpected token {r.TokenType}");
        }
    }
}
