using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Fuzzing;

/// <summary>
/// Turns valid request bodies into hostile ones, deterministically from a seed: structural
/// mutations of a JSON document (a value replaced by an edge case, a field dropped or
/// duplicated, a scalar wrapped in a list, nesting deepened), text-level insertions that JSON
/// cannot hold as values (lone surrogates, overflowing numbers, control bytes, invalid UTF-8,
/// YAML anchors and aliases), and byte-level damage (flips, truncation, splices).
/// Shared by the in-process fuzz tests and the HTTP fuzz test (linked into both projects).
/// </summary>
public static class BodyMutator
{
    /// <summary>Values written into a document as raw JSON text, so numbers keep their spelling.</summary>
    public static readonly string[] EdgeValues =
    [
        "null", "true", "false", "0", "-1", "-0", "1.5", "1e400", "-1e400", "1e-400", "2147483648", "-2147483649",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999", "18446744073709551616",
        "\"\"", "\"a\"", "\"-1\"", "\"1e400\"", "\"9223372036854775807\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\u0000\"",
        "\"%00\"", "\"../..\"", "\"a/b\"", "\"*\"", "\"$patch\"", "\"1Gi\"", "\"1e400Gi\"", "\"-1m\"", "\"999999999999999999999Ei\"",
        "\"2024-13-45T99:99:99Z\"", "\"9999-12-31T23:59:59Z\"", "\"0001-01-01T00:00:00Z\"", "\"" + new string('x', 300) + "\"",
        "{}", "[]", "[null]", "[{}]", "{\"$patch\":\"delete\"}", "{\"$patch\":\"merge\"}", "{\"$patch\":\"replace\"}",
        "{\"$retainKeys\":5}", "{\"$setElementOrder/x\":[1]}", "{\"$deleteFromPrimitiveList/finalizers\":5}",
        "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}",
    ];

    /// <summary>Snippets spliced into the text anywhere (valid or not at that place).</summary>
    private static readonly string[] TextSnippets =
    [
        "\\ud800", "\\u0000", "1e400", "\"", "{", "}", "[", "]", ",", ":", "&a ", "*a", "!!binary ", "<<: *a", "---\n", "\t", "\r\n",
        "99999999999999999999", "\\", "\\x", "null", "#", "? ", "- ", "|\n", ">-\n", "%YAML 1.1\n", "!!python/object ", "\u2028",
    ];

    public static byte[] Mutate(byte[] seed, Random r, int steps, bool json)
    {
        var doc = json ? TryParse(seed) : null;
        var raws = new List<string>();
        if (doc is not null)
        {
            for (var i = 0; i < steps; i++) MutateTree(doc, r, raws);
            var text = doc.ToJsonString();
            for (var i = 0; i < raws.Count; i++) text = text.Replace($"\"__RAW_{i}__\"", raws[i]);
            seed = Encoding.UTF8.GetBytes(text);
            if (r.Next(4) != 0) return seed;
        }
        var bytes = new List<byte>(seed);
        var n = doc is null ? steps : 1;
        for (var i = 0; i < n; i++) MutateBytes(bytes, r);
        return bytes.ToArray();
    }

    private static JsonNode? TryParse(byte[] b)
    {
        try { return JsonNode.Parse(b); } catch (System.Text.Json.JsonException) { return null; }
    }

    private static void MutateTree(JsonNode doc, Random r, List<string> raws)
    {
        var all = new List<JsonNode>();
        Collect(doc, all);
        var target = all[r.Next(all.Count)];
        var parent = target.Parent;
        switch (r.Next(7))
        {
            case 0 or 1 or 2 when parent is not null:
                Replace(target, Raw(EdgeValues[r.Next(EdgeValues.Length)], raws));
                break;
            case 3 when parent is JsonObject po:
                po.Remove(target.GetPropertyName());
                break;
            case 4 when parent is not null:
                Replace(target, new JsonArray(target.DeepClone(), target.DeepClone()));
                break;
            case 5 when target is JsonObject o:
                o[EdgeKey(r)] = Raw(EdgeValues[r.Next(EdgeValues.Length)], raws);
                break;
            case 6 when target is JsonArray a:
                a.Add(a.Count > 0 ? a[r.Next(a.Count)]?.DeepClone() : Raw(EdgeValues[r.Next(EdgeValues.Length)], raws));
                break;
            default:
                if (parent is not null) Replace(target, Raw(EdgeValues[r.Next(EdgeValues.Length)], raws));
                break;
        }
    }

    private static string EdgeKey(Random r) => r.Next(6) switch
    {
        0 => "$patch",
        1 => "$retainKeys",
        2 => "$setElementOrder/containers",
        3 => "$deleteFromPrimitiveList/finalizers",
        4 => "unknownField",
        _ => "",
    };

    private static JsonNode Raw(string raw, List<string> raws)
    {
        raws.Add(raw);
        return JsonValue.Create($"__RAW_{raws.Count - 1}__");
    }

    private static void Replace(JsonNode target, JsonNode? with)
    {
        switch (target.Parent)
        {
            case JsonObject o: o[target.GetPropertyName()] = with; break;
            case JsonArray a: a[target.GetElementIndex()] = with; break;
        }
    }

    private static void Collect(JsonNode? n, List<JsonNode> into)
    {
        if (n is null) return;
        into.Add(n);
        switch (n)
        {
            case JsonObject o: foreach (var (_, v) in o) Collect(v, into); break;
            case JsonArray a: foreach (var v in a) Collect(v, into); break;
        }
    }

    private static void MutateBytes(List<byte> b, Random r)
    {
        if (b.Count == 0) { b.AddRange(Encoding.UTF8.GetBytes(TextSnippets[r.Next(TextSnippets.Length)])); return; }
        var at = r.Next(b.Count);
        switch (r.Next(7))
        {
            case 0: b[at] ^= (byte)(1 << r.Next(8)); break;
            case 1: b[at] = (byte)r.Next(256); break;
            case 2: b.RemoveRange(at, b.Count - at); break;
            case 3: b.InsertRange(at, Encoding.UTF8.GetBytes(TextSnippets[r.Next(TextSnippets.Length)])); break;
            case 4: b.InsertRange(at, new byte[] { 0xff, 0xfe, 0xc3 }.Take(1 + r.Next(3))); break;
            case 5:
            {
                var len = Math.Min(b.Count - at, 1 + r.Next(64));
                b.InsertRange(r.Next(b.Count), b.GetRange(at, len));
                break;
            }
            default: b.RemoveAt(at); break;
        }
    }

    /// <summary>The YAML alias bomb of CVE-2019-11253: nine levels of nine aliases each.</summary>
    public static string AliasBomb(string kind = "ConfigMap", string apiVersion = "v1")
    {
        var sb = new StringBuilder($"apiVersion: {apiVersion}\nkind: {kind}\nmetadata:\n  name: bomb\ndata:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        var prev = 'a';
        for (var c = 'b'; c <= 'i'; c++)
        {
            sb.Append($"  {c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n");
            prev = c;
        }
        return sb.ToString();
    }

    /// <summary>JSON nested <paramref name="depth"/> levels deep inside an object's data.</summary>
    public static string DeepJson(int depth) =>
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"deep\"},\"data\":" + new string('[', depth) + new string(']', depth) + "}";

    public static string Printable(byte[] body)
    {
        var s = Encoding.UTF8.GetString(body);
        return s.Length > 2000 ? s[..2000] + "…" : s;
    }
}
