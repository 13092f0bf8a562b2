using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>
/// structured-merge-diff's value semantics over JSON nodes: equality (numbers compare
/// numerically), the total order used to sort set items and keys, and the JSON text of values
/// inside FieldsV1 keys as upstream's JSON library writes it (HTML-safe strings, sorted map keys,
/// Go's float format). A null node is JSON null.
/// </summary>
internal static class JsonValues
{
    private enum Cat { Float, Int, String, Bool, List, Map, Null }

    private static Cat Category(JsonNode? n, out long i, out double d)
    {
        i = 0;
        d = 0;
        switch (n)
        {
            case null: return Cat.Null;
            case JsonObject: return Cat.Map;
            case JsonArray: return Cat.List;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: return Cat.String;
                    case JsonValueKind.True or JsonValueKind.False: return Cat.Bool;
                    case JsonValueKind.Number:
                        if (ObjectShaper.TryInt(v, out i)) return Cat.Int;
                        d = AsDouble(v);
                        return Cat.Float;
                    default: return Cat.Null;
                }
            default: return Cat.Null;
        }
    }

    private static double AsDouble(JsonValue v) =>
        v.TryGetValue(out double d) ? d : v.TryGetValue(out float f) ? f : v.TryGetValue(out decimal m) ? (double)m
        : v.TryGetValue(out JsonElement e) && e.TryGetDouble(out var ed) ? ed : double.NaN;

    public static bool Equal(JsonNode? a, JsonNode? b)
    {
        var ca = Category(a, out var ia, out var da);
        var cb = Category(b, out var ib, out var db);
        if (ca == Cat.Float || cb == Cat.Float)
        {
            if (ca is not (Cat.Float or Cat.Int) || cb is not (Cat.Float or Cat.Int)) return false;
            return (ca == Cat.Float ? da : ia) == (cb == Cat.Float ? db : ib);
        }
        if (ca != cb) return false;
        switch (ca)
        {
            case Cat.Int: return ia == ib;
            case Cat.String: return a!.GetValue<string>() == b!.GetValue<string>();
            case Cat.Bool: return a!.GetValueKind() == b!.GetValueKind();
            case Cat.List:
            {
                var la = (JsonArray)a!;
                var lb = (JsonArray)b!;
                if (la.Count != lb.Count) return false;
                for (var k = 0; k < la.Count; k++)
                    if (!Equal(la[k], lb[k])) return false;
                return true;
            }
            case Cat.Map:
            {
                var ma = (JsonObject)a!;
                var mb = (JsonObject)b!;
                if (ma.Count != mb.Count) return false;
                foreach (var (k, v) in ma)
                    if (!mb.TryGetPropertyValue(k, out var w) || !Equal(v, w)) return false;
                return true;
            }
            default: return true;
        }
    }

    public static int Compare(JsonNode? a, JsonNode? b)
    {
        var ca = Category(a, out var ia, out var da);
        var cb = Category(b, out var ib, out var db);
        if (ca == Cat.Float || cb == Cat.Float)
        {
            if (ca is (Cat.Float or Cat.Int) && cb is (Cat.Float or Cat.Int))
                return (ca == Cat.Float ? da : ia).CompareTo(cb == Cat.Float ? db : ib) switch { < 0 => -1, > 0 => 1, _ => 0 };
            return ca == Cat.Float ? -1 : 1;
        }
        if (ca != cb) return ca < cb ? -1 : 1;
        switch (ca)
        {
            case Cat.Int: return ia.CompareTo(ib) switch { < 0 => -1, > 0 => 1, _ => 0 };
            case Cat.String: return Math.Sign(string.CompareOrdinal(a!.GetValue<string>(), b!.GetValue<string>()));
            case Cat.Bool:
            {
                var x = a!.GetValueKind() == JsonValueKind.True;
                var y = b!.GetValueKind() == JsonValueKind.True;
                return x == y ? 0 : x ? 1 : -1;
            }
            case Cat.List:
            {
                var la = (JsonArray)a!;
                var lb = (JsonArray)b!;
                for (var k = 0; ; k++)
                {
                    if (k >= la.Count && k >= lb.Count) return 0;
                    if (k >= la.Count) return -1;
                    if (k >= lb.Count) return 1;
                    var c = Compare(la[k], lb[k]);
                    if (c != 0) return c;
                }
            }
            case Cat.Map:
            {
                var ma = (JsonObject)a!;
                var mb = (JsonObject)b!;
                foreach (var k in ma.Select(kv => kv.Key).Union(mb.Select(kv => kv.Key)).Order(StringComparer.Ordinal))
                {
                    if (!ma.TryGetPropertyValue(k, out var x)) return 1;
                    if (!mb.TryGetPropertyValue(k, out var y)) return -1;
                    var c = Compare(x, y);
                    if (c != 0) return c;
                }
                return 0;
            }
            default: return 0;
        }
    }

    /// <summary>A value's JSON text as upstream writes it inside <c>v:</c> and <c>k:</c> keys.</summary>
    public static string Serialize(JsonNode? n)
    {
        var sb = new StringBuilder();
        Write(sb, n);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? n)
    {
        switch (Category(n, out var i, out var d))
        {
            case Cat.Null: sb.Append("null"); break;
            case Cat.Int: sb.Append(i.ToString(CultureInfo.InvariantCulture)); break;
            case Cat.Float: sb.Append(Serialization.GoText.JsonFloat(d)); break;
            case Cat.Bool: sb.Append(n!.GetValueKind() == JsonValueKind.True ? "true" : "false"); break;
            case Cat.String: WriteString(sb, n!.GetValue<string>(), html: true); break;
            case Cat.List:
                sb.Append('[');
                var a = (JsonArray)n!;
                for (var k = 0; k < a.Count; k++)
                {
                    if (k > 0) sb.Append(',');
                    Write(sb, a[k]);
                }
                sb.Append(']');
                break;
            case Cat.Map:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in ((JsonObject)n!).OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, k, html: true);
                    sb.Append(':');
                    Write(sb, v);
                }
                sb.Append('}');
                break;
        }
    }

    /// <summary>A JSON string literal with the escaping of upstream's JSON writer.</summary>
    public static void WriteString(StringBuilder sb, string s, bool html)
    {
        const string hex = "0123456789abcdef";
        sb.Append('"');
        for (var k = 0; k < s.Length; k++)
        {
            var c = s[k];
            switch (c)
            {
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
                case '\u2028': sb.Append("\\u2028"); continue;
                case '\u2029': sb.Append("\\u2029"); continue;
            }
            if (c < 0x20 || (html && c is '<' or '>' or '&'))
            {
                sb.Append("\\u00").Append(hex[c >> 4]).Append(hex[c & 0xF]);
            }
            else if (char.IsHighSurrogate(c) && k + 1 < s.Length && char.IsLowSurrogate(s[k + 1]))
            {
                sb.Append(c).Append(s[++k]);
            }
            else if (char.IsSurrogate(c))
            {
                sb.Append("\\ufffd");
            }
            else sb.Append(c);
        }
        sb.Append('"');
    }
}
