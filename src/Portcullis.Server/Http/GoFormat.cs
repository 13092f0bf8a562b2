using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Http;

/// <summary>
/// Go's fmt <c>%v</c> of a value decoded from JSON into interface{} (map[string]interface{},
/// []interface{}, string, float64, bool, nil), for error messages that upstream builds that way.
/// </summary>
internal static class GoFormat
{
    public static string Value(JsonNode? node, bool preserveInts = false)
    {
        var sb = new StringBuilder();
        Write(sb, node, preserveInts);
        return sb.ToString();
    }

    /// <summary>strconv.Quote (fmt's %q of a string): printable runes kept, the rest escaped.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var r in s.EnumerateRunes())
        {
            switch (r.Value)
            {
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\a': sb.Append("\\a"); continue;
                case '\b': sb.Append("\\b"); continue;
                case '\f': sb.Append("\\f"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
                case '\v': sb.Append("\\v"); continue;
            }
            if (r.Value == ' ' || IsPrint(r)) { sb.Append(r.ToString()); continue; }
            if (r.Value < ' ' || r.Value == 0x7f) sb.Append("\\x").Append(r.Value.ToString("x2", CultureInfo.InvariantCulture));
            else if (r.Value < 0x10000) sb.Append("\\u").Append(r.Value.ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append("\\U").Append(r.Value.ToString("x8", CultureInfo.InvariantCulture));
        }
        return sb.Append('"').ToString();

        static bool IsPrint(Rune r) => Rune.GetUnicodeCategory(r) switch
        {
            System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
                or System.Globalization.UnicodeCategory.Surrogate or System.Globalization.UnicodeCategory.PrivateUse
                or System.Globalization.UnicodeCategory.OtherNotAssigned or System.Globalization.UnicodeCategory.LineSeparator
                or System.Globalization.UnicodeCategory.ParagraphSeparator or System.Globalization.UnicodeCategory.SpaceSeparator => false,
            _ => true,
        };
    }

    /// <summary>reflect.TypeOf(v) printed with %s.</summary>
    public static string TypeName(JsonNode? node) => node switch
    {
        null => "%!s(<nil>)",
        JsonObject => "map[string]interface {}",
        JsonArray => "[]interface {}",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "float64",
            JsonValueKind.True or JsonValueKind.False => "bool",
            _ => "%!s(<nil>)",
        },
        _ => "%!s(<nil>)",
    };

    private static void Write(StringBuilder sb, JsonNode? node, bool ints)
    {
        switch (node)
        {
            case null:
                sb.Append("<nil>");
                break;
            case JsonObject o:
                sb.Append("map[");
                var first = true;
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(' ');
                    first = false;
                    sb.Append(k).Append(':');
                    Write(sb, v, ints);
                }
                sb.Append(']');
                break;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(' ');
                    Write(sb, a[i], ints);
                }
                sb.Append(']');
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: sb.Append(v.GetValue<string>()); break;
                    case JsonValueKind.True: sb.Append("true"); break;
                    case JsonValueKind.False: sb.Append("false"); break;
                    case JsonValueKind.Number when ints && Api.Schema.ObjectShaper.TryInt(v, out var l): sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                    case JsonValueKind.Number: sb.Append(Float(Number(v))); break;
                    default: sb.Append("<nil>"); break;
                }
                break;
        }
    }

    public static double Number(JsonValue v) =>
        v.TryGetValue<double>(out var d) ? d : double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);

    /// <summary>%v of a float64: %g with the shortest digits, in exponent form when the exponent is below -4 or at least 6 (1e+06, 1.23456789e+09).</summary>
    public static string Float(double f)
    {
        if (double.IsNaN(f)) return "NaN";
        if (double.IsInfinity(f)) return f > 0 ? "+Inf" : "-Inf";
        if (f == 0) return 1 / f < 0 ? "-0" : "0";
        // Shortest round-trip digits and decimal exponent.
        var shortest = Math.Abs(f).ToString("R", CultureInfo.InvariantCulture);
        var (digits, dp) = Digits(shortest);
        var exp = dp - 1;
        var neg = f < 0 ? "-" : "";
        // strconv's 'g' with the shortest precision decides with precision 6.
        if (exp < -4 || exp >= 6)
        {
            var mant = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
            return neg + mant + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        if (dp <= 0) return neg + "0." + new string('0', -dp) + digits;
        if (dp >= digits.Length) return neg + digits + new string('0', dp - digits.Length);
        return neg + digits[..dp] + "." + digits[dp..];
    }

    /// <summary>The significant digits of a "R"-formatted positive double and the position of its decimal point.</summary>
    private static (string Digits, int Dp) Digits(string s)
    {
        var e = 0;
        var ei = s.IndexOfAny(['E', 'e']);
        if (ei >= 0)
        {
            e = int.Parse(s[(ei + 1)..], CultureInfo.InvariantCulture);
            s = s[..ei];
        }
        var dot = s.IndexOf('.');
        var intPart = dot < 0 ? s : s[..dot];
        var frac = dot < 0 ? "" : s[(dot + 1)..];
        var all = intPart + frac;
        var dp = intPart.Length + e;
        var lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0') { lead++; dp--; }
        all = all[lead..].TrimEnd('0');
        if (all.Length == 0) all = "0";
        return (all, dp);
    }
}
