using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Portcullis.Server.Serialization;

/// <summary>
/// YAML in and out. Requests: YAML is converted to JSON first, as upstream does. Responses:
/// upstream converts JSON to YAML through a map, so keys come out sorted.
/// </summary>
public static partial class YamlCodec
{
    /// <exception cref="FormatException">malformed YAML, with the parser's position.</exception>
    public static JsonNode? ToJson(string yaml)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlException e) { throw new FormatException($"error converting YAML to JSON: yaml: line {e.Start.Line}: {e.Message}", e); }
        // YamlDotNet's scanner throws this for some malformed flow collections ("a: [1, 2\nb: c").
        catch (InvalidOperationException e) { throw new FormatException($"error converting YAML to JSON: yaml: {e.Message}", e); }
        if (stream.Documents.Count == 0) return null;
        return Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode m:
            {
                var o = new JsonObject();
                foreach (var (k, v) in m.Children)
                {
                    var key = k is YamlScalarNode ks ? ks.Value ?? "" : k.ToString();
                    o[key] = Convert(v);
                }
                return o;
            }
            case YamlSequenceNode s:
            {
                var a = new JsonArray();
                foreach (var c in s.Children) a.Add(Convert(c));
                return a;
            }
            case YamlScalarNode sc:
                return Scalar(sc);
            default:
                return null;
        }
    }

    private static JsonNode? Scalar(YamlScalarNode s)
    {
        var v = s.Value ?? "";
        if (s.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
            return JsonValue.Create(v);
        if (!s.Tag.IsEmpty && !s.Tag.IsNonSpecific && s.Tag.Value == "tag:yaml.org,2002:str") return JsonValue.Create(v);
        // YAML 1.1 as go-yaml v2 resolves plain scalars (sigs.k8s.io/yaml): yes/no/on/off are bools too.
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE" or "y" or "Y" or "yes" or "Yes" or "YES" or "on" or "On" or "ON":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE" or "n" or "N" or "no" or "No" or "NO" or "off" or "Off" or "OFF":
                return JsonValue.Create(false);
        }
        if (v[0] is (>= '0' and <= '9') or '+' or '-' && GoParseInt(v.Replace("_", "")) is { } l) return JsonValue.Create(l);
        if (System.Text.RegularExpressions.Regex.IsMatch(v, @"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
            && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(v);
    }

    /// <summary>
    /// go-yaml v2's map key order (sorter.go keyList.Less) for string keys: rune by rune, letters by
    /// code point, anything else before letters, and runs of digits compared as numbers ("a2" before "a10").
    /// </summary>
    internal sealed class KeyOrder : IComparer<string>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x is null) return -1;
            if (y is null) return 1;
            if (Less(x, y)) return -1;
            return Less(y, x) ? 1 : 0;
        }

        private static bool Less(string a, string b)
        {
            var ar = ToRunes(a);
            var br = ToRunes(b);
            for (var i = 0; i < ar.Length && i < br.Length; i++)
            {
                if (ar[i] == br[i]) continue;
                var al = Rune.IsLetter(ar[i]);
                var bl = Rune.IsLetter(br[i]);
                if (al && bl) return ar[i].Value < br[i].Value;
                if (al || bl) return bl;
                long an = 0, bn = 0;
                if (ar[i].Value == '0' || br[i].Value == '0')
                {
                    for (var j = i - 1; j >= 0 && Rune.IsDigit(ar[j]); j--)
                    {
                        if (ar[j].Value != '0') { an = 1; bn = 1; break; }
                    }
                }
                int ai, bi;
                for (ai = i; ai < ar.Length && Rune.IsDigit(ar[ai]); ai++) an = an * 10 + (ar[ai].Value - '0');
                for (bi = i; bi < br.Length && Rune.IsDigit(br[bi]); bi++) bn = bn * 10 + (br[bi].Value - '0');
                if (an != bn) return an < bn;
                if (ai != bi) return ai < bi;
                return ar[i].Value < br[i].Value;
            }
            return ar.Length < br.Length;
        }

        private static Rune[] ToRunes(string s)
        {
            var list = new List<Rune>(s.Length);
            foreach (var r in s.EnumerateRunes()) list.Add(r);
            return [.. list];
        }
    }

    /// <summary>strconv.ParseInt(s, 0, 64): optional sign, then 0x/0o/0b prefixes or a leading 0 for octal.</summary>
    private static long? GoParseInt(string s)
    {
        var neg = s.StartsWith('-');
        var body = s.Length > 0 && s[0] is '+' or '-' ? s[1..] : s;
        if (body.Length == 0) return null;
        int radix = 10;
        if (body.Length > 1 && body[0] == '0')
        {
            switch (body[1])
            {
                case 'x' or 'X': radix = 16; body = body[2..]; break;
                case 'o' or 'O': radix = 8; body = body[2..]; break;
                case 'b' or 'B': radix = 2; body = body[2..]; break;
                default: radix = 8; body = body[1..]; break;
            }
            if (body.Length == 0) return null;
        }
        System.Numerics.BigInteger acc = 0;
        foreach (var c in body)
        {
            var digit = c switch { >= '0' and <= '9' => c - '0', >= 'a' and <= 'f' => c - 'a' + 10, >= 'A' and <= 'F' => c - 'A' + 10, _ => 99 };
            if (digit >= radix) return null;
            acc = acc * radix + digit;
        }
        if (neg) acc = -acc;
        return acc >= long.MinValue && acc <= long.MaxValue ? (long)acc : null;
    }

    public static string ToYaml(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, 0, false);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node, int indent, bool inSeq)
    {
        switch (node)
        {
            case JsonObject o when o.Count > 0:
            {
                var first = true;
                foreach (var (k, v) in o.OrderBy(kv => kv.Key, KeyOrder.Instance))
                {
                    if (!(first && inSeq)) sb.Append(' ', indent);
                    first = false;
                    sb.Append(Quote(k)).Append(':');
                    WriteChild(sb, v, indent);
                }
                break;
            }
            case JsonArray a when a.Count > 0:
                foreach (var item in a)
                {
                    sb.Append(' ', indent).Append("- ");
                    if (item is JsonObject io && io.Count > 0) Write(sb, io, indent + 2, true);
                    else if (item is JsonArray ia && ia.Count > 0) { sb.Append('\n'); Write(sb, ia, indent + 2, false); }
                    else sb.Append(ScalarText(item)).Append('\n');
                }
                break;
            default:
                sb.Append(ScalarText(node)).Append('\n');
                break;
        }
    }

    private static void WriteChild(StringBuilder sb, JsonNode? v, int indent)
    {
        switch (v)
        {
            case JsonObject co when co.Count > 0:
                sb.Append('\n');
                Write(sb, co, indent + 2, false);
                break;
            case JsonArray ca when ca.Count > 0:
                sb.Append('\n');
                Write(sb, ca, indent, false); // sigs.k8s.io/yaml does not indent sequences under keys
                break;
            default:
                sb.Append(' ').Append(ScalarText(v)).Append('\n');
                break;
        }
    }

    private static string ScalarText(JsonNode? n) => n switch
    {
        null => "null",
        JsonObject => "{}",
        JsonArray => "[]",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => Quote(v.GetValue<string>()),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => v.ToJsonString(),
        },
        _ => "null",
    };

    /// <summary>
    /// A string as go-yaml v2 writes it: double-quoted when plain text would read back as another
    /// type (true, 1, null, "", timestamps, base-60 numbers), single-quoted when the emitter cannot
    /// write it plain (indicators, leading or trailing spaces), double-quoted when it has characters
    /// single quotes cannot hold, plain otherwise.
    /// </summary>
    private static string Quote(string s)
    {
        if (s.Contains('\n')) return JsonSerializer.Serialize(s, SerializationContext.Default.String); // TODO: go-yaml writes a literal block (|)
        if (!ResolvesToString(s) || Base60().IsMatch(s)) return DoubleQuoted(s);
        var (plainAllowed, singleAllowed) = Analyze(s);
        if (plainAllowed) return s;
        if (singleAllowed) return "'" + s.Replace("'", "''") + "'";
        return DoubleQuoted(s);
    }

    private static bool ResolvesToString(string s)
    {
        if (s.Length == 0) return false;
        switch (s)
        {
            case "~" or "null" or "Null" or "NULL" or "<<"
                or "true" or "True" or "TRUE" or "y" or "Y" or "yes" or "Yes" or "YES" or "on" or "On" or "ON"
                or "false" or "False" or "FALSE" or "n" or "N" or "no" or "No" or "NO" or "off" or "Off" or "OFF"
                or ".nan" or ".NaN" or ".NAN" or ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF"
                or "-.inf" or "-.Inf" or "-.INF":
                return false;
        }
        var c = s[0];
        if (c == '.') return !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        if (c is not ((>= '0' and <= '9') or '+' or '-')) return true;
        if (c is >= '0' and <= '9' && Timestamp().IsMatch(s)) return false;
        var plain = s.Replace("_", "");
        if (GoParseInt(plain) is not null) return false;
        if (YamlFloat().IsMatch(plain)) return false;
        return true;
    }

    /// <summary>yaml_emitter_analyze_scalar, block context: may the value be written plain, or single-quoted?</summary>
    private static (bool Plain, bool Single) Analyze(string v)
    {
        bool blockIndicators = false, special = false, leadingSpace = false, trailingSpace = false;
        if (v.StartsWith("---", StringComparison.Ordinal) || v.StartsWith("...", StringComparison.Ordinal)) blockIndicators = true;
        var precededByWhitespace = true;
        for (var i = 0; i < v.Length; i++)
        {
            var ch = v[i];
            var followedByWhitespace = i + 1 >= v.Length || v[i + 1] is ' ' or '\t' or '\r' or '\n' or '\u0085' or '\u2028' or '\u2029';
            if (i == 0)
            {
                switch (ch)
                {
                    case '#' or ',' or '[' or ']' or '{' or '}' or '&' or '*' or '!' or '|' or '>' or '\'' or '"' or '%' or '@' or '`':
                        blockIndicators = true; break;
                    case '?' or ':' or '-':
                        if (followedByWhitespace) blockIndicators = true;
                        break;
                }
            }
            else if ((ch == ':' && followedByWhitespace) || (ch == '#' && precededByWhitespace)) blockIndicators = true;
            if (!IsPrintable(ch)) special = true;
            if (ch == ' ')
            {
                if (i == 0) leadingSpace = true;
                if (i == v.Length - 1) trailingSpace = true;
            }
            precededByWhitespace = ch is ' ' or '\t' or '\r' or '\n';
        }
        var plain = !(leadingSpace || trailingSpace || special || blockIndicators);
        return (plain, !special);
    }

    private static bool IsPrintable(char c) =>
        c == '\n' || (c >= 0x20 && c <= 0x7E) || c == 0x85 || (c >= 0xA0 && c <= 0xD7FF) || char.IsSurrogate(c) || (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF);

    private static string DoubleQuoted(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\0': sb.Append("\\0"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\v': sb.Append("\\v"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                case '\u001b': sb.Append("\\e"); break;
                case '\u0085': sb.Append("\\N"); break;
                case '\u2028': sb.Append("\\L"); break;
                case '\u2029': sb.Append("\\P"); break;
                default:
                    if (IsPrintable(c) && c != '\uFEFF') sb.Append(c);
                    else if (c <= 0xFF) sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    else sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial System.Text.RegularExpressions.Regex YamlFloat();

    [System.Text.RegularExpressions.GeneratedRegex(@"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")]
    private static partial System.Text.RegularExpressions.Regex Base60();

    // The layouts go-yaml v2 tries: 2006-1-2T15:4:5.999999999Z07:00 (T or t), 2006-1-2 15:4:5.999999999, 2006-1-2.
    [System.Text.RegularExpressions.GeneratedRegex(@"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))|( [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?))?$")]
    private static partial System.Text.RegularExpressions.Regex Timestamp();
}
