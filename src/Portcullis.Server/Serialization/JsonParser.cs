using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Serialization;

/// <summary>
/// Parses a request body into a <see cref="JsonNode"/> tree. Unlike JsonNode.Parse, a duplicate
/// key does not fail: the last value wins (as in Go) and the key's path is reported, so strict
/// field validation can name it (<c>duplicate field "metadata.name"</c>).
/// </summary>
public static class JsonParser
{
    /// <exception cref="JsonException">malformed JSON; the message says where.</exception>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8, List<string>? duplicates = null)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 });
        if (!reader.Read()) throw new JsonException("unexpected end of JSON input");
        var path = new StringBuilder();
        try
        {
            var node = ReadValue(ref reader, path, duplicates);
            if (reader.Read()) throw new JsonException($"invalid character after top-level value at offset {reader.TokenStartIndex}");
            return node;
        }
        catch (InvalidOperationException e) when (e.InnerException is DecoderFallbackException)
        {
            // A string that is not UTF-8 is malformed input, not a server error.
            throw new JsonException($"invalid UTF-8 in a string at offset {reader.TokenStartIndex}", e);
        }
    }

    private static JsonNode? ReadValue(ref Utf8JsonReader r, StringBuilder path, List<string>? dups)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.StartObject:
            {
                var o = new JsonObject();
                while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                {
                    var key = r.GetString()!;
                    r.Read();
                    var mark = path.Length;
                    if (path.Length > 0) path.Append('.');
                    path.Append(key);
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
                var a = new JsonArray();
                var i = 0;
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    var mark = path.Length;
                    path.Append('[').Append(i++).Append(']');
                    a.Add(ReadValue(ref r, path, dups));
                    path.Length = mark;
                }
                return a;
            }
            case JsonTokenType.String: return JsonValue.Create(r.GetString()!);
            case JsonTokenType.Number:
                if (r.TryGetInt64(out var l)) return JsonValue.Create(l);
                return JsonValue.Create(r.GetDouble());
            case JsonTokenType.True: return JsonValue.Create(true);
            case JsonTokenType.False: return JsonValue.Create(false);
            case JsonTokenType.Null: return null;
            default: throw new JsonException($"unexpected token {r.TokenType}");
        }
    }
}
