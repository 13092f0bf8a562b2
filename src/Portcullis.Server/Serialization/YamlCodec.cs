using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Portcullis.Server.Serialization;

/// <summary>
/// YAML in and out. Requests: YAML is converted to JSON first, as upstream does. Responses:
/// upstream converts JSON to YAML through a map, so keys come out sorted.
/// </summary>
public static partial class YamlCodec
{
    /// <summary>Nesting deeper than this is refused, for YAML as for JSON (<see cref="JsonParser.MaxDepth"/>).</summary>
    public const int MaxDepth = JsonParser.MaxDepth;

    /// <summary>
    /// Characters that alias expansion may add to a document (the body limit): go-yaml's rule below
    /// counts nodes, so a long string behind an anchor could still be copied hundreds of times.
    /// </summary>
    public const int MaxAliasedChars = 3 * 1024 * 1024;

    /// <summary>
    /// A request body: go-yaml's reader checks the UTF-8 first (invalid bytes and control
    /// characters are an error, where decoding them as U+FFFD would store replacement characters).
    /// </summary>
    /// <exception cref="FormatException">malformed YAML: the message is go-yaml's (<c>yaml: ...</c>).</exception>
    public static JsonNode? ToJson(ReadOnlySpan<byte> yaml)
    {
        if (yaml.StartsWith("\uFEFF"u8)) yaml = yaml[3..];
        CheckUtf8(yaml);
        return ToJson(Encoding.UTF8.GetString(yaml));
    }

    /// <summary>
    /// YAML to JSON as sigs.k8s.io/yaml's YAMLToJSON (go-yaml v2 underneath): only the first document
    /// is read, aliases are expanded under go-yaml's "excessive aliasing" rule, nesting is bounded.
    /// The parser's events are read in a loop (no recursion on the input's depth), anchors point at
    /// shared nodes, and nothing is copied until the expansion, which counts as it goes.
    /// </summary>
    /// <exception cref="FormatException">malformed YAML: the message is go-yaml's (<c>yaml: ...</c>).</exception>
    public static JsonNode? ToJson(string yaml)
    {
        YNode? root;
        try { root = Compose(yaml); }
        catch (YamlException e) { throw new FormatException($"yaml: line {e.Start.Line}: {e.Message}", e); }
        // YamlDotNet's scanner throws this for some malformed flow collections ("a: [1, 2\nb: c").
        catch (InvalidOperationException e) { throw new FormatException($"yaml: {e.Message}", e); }
        if (root is null) return null;
        var expander = new Expander();
        var json = expander.Expand(root, 0);
        if (expander.Unsupported is { } u) throw new FormatException($"json: unsupported value: {u}");
        return json;
    }

    /// <summary>go-yaml's reader (readerc.go): each character must be valid UTF-8 and printable.</summary>
    private static void CheckUtf8(ReadOnlySpan<byte> s)
    {
        var i = 0;
        while (i < s.Length)
        {
            var b = s[i];
            int width, value;
            if (b < 0x80) { width = 1; value = b; }
            else if ((b & 0xE0) == 0xC0) { width = 2; value = b & 0x1F; }
            else if ((b & 0xF0) == 0xE0) { width = 3; value = b & 0x0F; }
            else if ((b & 0xF8) == 0xF0) { width = 4; value = b & 0x07; }
            else throw new FormatException("yaml: invalid leading UTF-8 octet");
            if (width > s.Length - i) throw new FormatException("yaml: incomplete UTF-8 octet sequence");
            for (var k = 1; k < width; k++)
            {
                var t = s[i + k];
                if ((t & 0xC0) != 0x80) throw new FormatException("yaml: invalid trailing UTF-8 octet");
                value = (value << 6) + (t & 0x3F);
            }
            var shortest = width switch { 1 => true, 2 => value >= 0x80, 3 => value >= 0x800, _ => value >= 0x10000 };
            if (!shortest) throw new FormatException("yaml: invalid length of a UTF-8 sequence");
            if (value is >= 0xD800 and <= 0xDFFF or > 0x10FFFF) throw new FormatException("yaml: invalid Unicode character");
            var printable = value is 0x09 or 0x0A or 0x0D or (>= 0x20 and <= 0x7E) or 0x85 or (>= 0xA0 and <= 0xD7FF)
                or (>= 0xE000 and <= 0xFFFD) or (>= 0x10000 and <= 0x10FFFF);
            if (!printable) throw new FormatException("yaml: control characters are not allowed");
            i += width;
        }
    }

    private enum YKind { Scalar, Mapping, Sequence, Alias }

    /// <summary>A node of the first document; an alias points at its anchor's node, which may be shared many times.</summary>
    private sealed class YNode(YKind kind, string? anchor)
    {
        public readonly YKind Kind = kind;
        public readonly string? Anchor = anchor;
        public Scalar? Scalar;
        public YNode? Target;
        public string? AliasName;
        /// <summary>Mappings: key, value, key, value...; sequences: the items.</summary>
        public readonly List<YNode> Children = [];
    }

    private static YNode? Compose(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        var anchors = new Dictionary<string, YNode>(StringComparer.Ordinal);
        var stack = new Stack<YNode>();
        YNode? root = null;
        var inDocument = false;
        while (parser.MoveNext())
        {
            var ev = parser.Current!;
            YNode? node = null;
            switch (ev)
            {
                case DocumentStart:
                    inDocument = true;
                    continue;
                case DocumentEnd:
                    return root; // go-yaml's Unmarshal reads the first document only
                case Scalar sc:
                    node = new YNode(YKind.Scalar, AnchorOf(sc.Anchor)) { Scalar = sc };
                    break;
                case AnchorAlias al:
                    node = new YNode(YKind.Alias, null)
                    {
                        AliasName = al.Value.Value,
                        Target = anchors.TryGetValue(al.Value.Value, out var target) ? target
                            : throw new FormatException($"yaml: unknown anchor '{al.Value.Value}' referenced"),
                    };
                    break;
                case MappingStart ms:
                    node = new YNode(YKind.Mapping, AnchorOf(ms.Anchor));
                    break;
                case SequenceStart ss:
                    node = new YNode(YKind.Sequence, AnchorOf(ss.Anchor));
                    break;
                case MappingEnd or SequenceEnd:
                    stack.Pop();
                    continue;
                default:
                    continue;
            }
            if (!inDocument) continue;
            // go-yaml registers the anchor when the node starts, so an alias inside it refers to it.
            if (node.Anchor is { } name) anchors[name] = node;
            if (stack.Count > 0) stack.Peek().Children.Add(node);
            else root ??= node;
            if (node.Kind is YKind.Mapping or YKind.Sequence)
            {
                if (stack.Count >= MaxDepth)
                    throw new FormatException($"yaml: line {ev.Start.Line}: exceeded max depth of {MaxDepth}");
                stack.Push(node);
            }
        }
        return root;
    }

    private static string? AnchorOf(AnchorName a) => a.IsEmpty ? null : a.Value;

    /// <summary>
    /// Builds the JSON tree, counting as go-yaml v2's decoder (decode.go): every node visited is a
    /// decode, those reached through an alias are alias decodes, and once there are more than 100 of
    /// those and more than 1000 decodes in all, their share may not pass allowedAliasRatio.
    /// </summary>
    private sealed class Expander
    {
        private long decodeCount = 1; // the document node
        private long aliasCount;
        private int aliasDepth;
        private long aliasedChars;
        private readonly HashSet<YNode> activeAliases = [];
        public string? Unsupported;

        private static double AllowedAliasRatio(long decodeCount)
        {
            const long low = 400_000, high = 4_000_000;
            if (decodeCount <= low) return 0.99; // 99% may come from aliases in small documents
            if (decodeCount >= high) return 0.10; // 10% in very large ones
            return 0.99 - 0.89 * ((double)(decodeCount - low) / (high - low));
        }

        private void Count()
        {
            decodeCount++;
            if (aliasDepth > 0) aliasCount++;
            if (aliasCount > 100 && decodeCount > 1000 && (double)aliasCount / decodeCount > AllowedAliasRatio(decodeCount))
                throw new FormatException("yaml: document contains excessive aliasing");
        }

        public JsonNode? Expand(YNode n, int depth)
        {
            Count();
            switch (n.Kind)
            {
                case YKind.Alias:
                {
                    var target = n.Target!;
                    if (!activeAliases.Add(n)) throw new FormatException($"yaml: anchor '{n.AliasName}' value contains itself");
                    aliasDepth++;
                    try { return Expand(target, depth); }
                    finally
                    {
                        aliasDepth--;
                        activeAliases.Remove(n);
                    }
                }
                case YKind.Scalar:
                {
                    var sc = n.Scalar!;
                    if (aliasDepth > 0 && (aliasedChars += sc.Value.Length) > MaxAliasedChars)
                        throw new FormatException("yaml: document contains excessive aliasing");
                    var v = ScalarValue(sc.Value, sc.Style, sc.Tag);
                    if (v is JsonValue jv && jv.TryGetValue<double>(out var d) && !double.IsFinite(d))
                    {
                        Unsupported ??= double.IsNaN(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf";
                        return null;
                    }
                    return v;
                }
                case YKind.Mapping:
                {
                    if (depth >= MaxDepth) throw new FormatException($"yaml: exceeded max depth of {MaxDepth}");
                    var o = new JsonObject();
                    var c = n.Children;
                    for (var i = 0; i + 1 < c.Count; i += 2)
                    {
                        var keyNode = c[i];
                        var key = KeyText(keyNode, depth);
                        o[key] = Expand(c[i + 1], depth + 1);
                    }
                    return o;
                }
                default:
                {
                    if (depth >= MaxDepth) throw new FormatException($"yaml: exceeded max depth of {MaxDepth}");
                    var a = new JsonArray();
                    foreach (var item in n.Children) a.Add(Expand(item, depth + 1));
                    return a;
                }
            }
        }

        /// <summary>
        /// A key, decoded and counted as go-yaml does; a scalar key (or an alias of one) keeps its text,
        /// a collection key is written as JSON.
        /// </summary>
        private string KeyText(YNode k, int depth)
        {
            if (k.Kind == YKind.Scalar)
            {
                Count();
                return k.Scalar!.Value;
            }
            if (k.Kind == YKind.Alias && k.Target!.Kind == YKind.Scalar)
            {
                Count();
                aliasDepth++;
                try
                {
                    Count();
                    var text = k.Target.Scalar!.Value;
                    if ((aliasedChars += text.Length) > MaxAliasedChars) throw new FormatException("yaml: document contains excessive aliasing");
                    return text;
                }
                finally { aliasDepth--; }
            }
            return Expand(k, depth + 1)?.ToJsonString() ?? "null";
        }
    }

    private static JsonNode? ScalarValue(string v, ScalarStyle style, TagName tag)
    {
        if (style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
            return JsonValue.Create(v);
        if (!tag.IsEmpty && !tag.IsNonSpecific && tag.Value == "tag:yaml.org,2002:str") return JsonValue.Create(v);
        // YAML 1.1 as go-yaml v2 resolves plain scalars (sigs.k8s.io/yaml): yes/no/on/off are bools too.
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE" or "y" or "Y" or "yes" or "Yes" or "YES" or "on" or "On" or "ON":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE" or "n" or "N" or "no" or "No" or "NO" or "off" or "Off" or "OFF":
                return JsonValue.Create(false);
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
                return JsonValue.Create(double.PositiveInfinity);
            case "-.inf" or "-.Inf" or "-.INF":
                return JsonValue.Create(double.NegativeInfinity);
            case ".nan" or ".NaN" or ".NAN":
                return JsonValue.Create(double.NaN);
        }
        if (v[0] is (>= '0' and <= '9') or '+' or '-' && GoParseInt(v.Replace("_", "")) is { } l) return JsonValue.Create(l);
        // strconv.ParseFloat fails on overflow (1e400), and go-yaml then keeps the scalar a string.
        if (YamlFloat().IsMatch(v)
            && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) return JsonValue.Create(d);
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
