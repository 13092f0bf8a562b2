using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>
/// yaml.v3's <c>Marshal</c> of a node parsed from JSON with its styles cleared, as gnostic's
/// <c>compiler.Marshal</c> does for <c>Any.yaml</c>: block style, 4-space indentation (a sequence
/// item's content sits right after "- "), empty collections as <c>{}</c>/<c>[]</c>, no line wrapping,
/// strings plain unless they would read back as another type (then double-quoted) or plain is not
/// allowed (single-, else double-quoted), multi-line strings as literal blocks.
/// </summary>
internal static class GnosticYaml
{
    private const int BestIndent = 4;

    public static string Marshal(JsonNode? node)
    {
        var e = new Emitter();
        e.Root(node);
        return e.ToString();
    }

    private sealed class Emitter
    {
        private readonly StringBuilder _sb = new();
        private int _lineStart;

        private bool AtLineStart => _sb.Length == _lineStart;

        public override string ToString() => _sb.ToString();

        private void Break()
        {
            _sb.Append('\n');
            _lineStart = _sb.Length;
        }

        private void Indent(int indent)
        {
            if (!AtLineStart) Break();
            _sb.Append(' ', indent);
        }

        public void Root(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject { Count: > 0 } o: Map(o, 0, inline: false); break;
                case JsonArray { Count: > 0 } a: Seq(a, 0, inline: false); break;
                case JsonObject: _sb.Append("{}"); break;
                case JsonArray: _sb.Append("[]"); break;
                default: Scalar(n, BestIndent, key: false); break;
            }
            if (!AtLineStart) Break();
        }

        private static bool SimpleKey(string k) =>
            !k.Any(c => IsBreak(c)) && (Encoding.UTF8.GetByteCount(k) <= 1024 || k.EnumerateRunes().Count() <= 1024);

        private static int Next(int indent) => BestIndent * ((indent + BestIndent) / BestIndent);

        private void Map(JsonObject o, int indent, bool inline)
        {
            var first = true;
            foreach (var (k, v) in o)
            {
                if (!(first && inline)) Indent(indent);
                first = false;
                var simple = SimpleKey(k);
                if (simple)
                {
                    Str(k, 0, key: true);
                }
                else
                {
                    // yaml_emitter_check_simple_key failed (multi-line or over 1024 characters): "? key", then ":" on its own line.
                    _sb.Append("? ");
                    Str(k, Next(indent), key: false);
                    Indent(indent);
                }
                _sb.Append(':');
                switch (v)
                {
                    // After a complex key's ":" the emitter is still "in indentation", so a block value starts on that line.
                    case JsonObject { Count: > 0 } vo when !simple:
                        _sb.Append(' ', Next(indent) - indent - 1);
                        Map(vo, Next(indent), inline: true);
                        break;
                    case JsonArray { Count: > 0 } va when !simple:
                        _sb.Append(' ', Next(indent) - indent - 1);
                        Seq(va, Next(indent), inline: true);
                        break;
                    case JsonObject { Count: > 0 } vo: Map(vo, Next(indent), inline: false); break;
                    case JsonArray { Count: > 0 } va: Seq(va, Next(indent), inline: false); break;
                    case JsonObject: _sb.Append(" {}"); break;
                    case JsonArray: _sb.Append(" []"); break;
                    default:
                        _sb.Append(' ');
                        Scalar(v, Next(indent), key: false);
                        break;
                }
            }
        }

        private void Seq(JsonArray a, int indent, bool inline)
        {
            var first = true;
            foreach (var item in a)
            {
                if (!(first && inline)) Indent(indent);
                first = false;
                _sb.Append('-');
                switch (item)
                {
                    case JsonObject { Count: > 0 } io:
                        _sb.Append(' ');
                        Map(io, indent + 2, inline: true);
                        break;
                    case JsonArray { Count: > 0 } ia:
                        _sb.Append(' ');
                        Seq(ia, indent + 2, inline: true);
                        break;
                    case JsonObject: _sb.Append(" {}"); break;
                    case JsonArray: _sb.Append(" []"); break;
                    default:
                        _sb.Append(' ');
                        Scalar(item, indent + 2, key: false);
                        break;
                }
            }
        }

        private void Scalar(JsonNode? n, int blockIndent, bool key)
        {
            if (OpenApiV2Protobuf.KindOf(n) == OpenApiV2Protobuf.Kind.String) Str(n!.GetValue<string>(), blockIndent, key);
            else _sb.Append(OpenApiV2Protobuf.ScalarText(n)); // numbers, booleans, null: plain, as written
        }

        private void Str(string s, int blockIndent, bool key)
        {
            var a = Analyze(s);
            if (s.Contains('\n'))
            {
                if (a.BlockAllowed && !key) Literal(s, blockIndent);
                else DoubleQuoted(s);
            }
            else if (!ResolvesToString(s)) DoubleQuoted(s);
            else if (a.BlockPlainAllowed) _sb.Append(s);
            else if (a.SingleQuotedAllowed) SingleQuoted(s, blockIndent);
            else DoubleQuoted(s);
        }

        private void Literal(string s, int indent)
        {
            _sb.Append('|');
            if (s[0] is ' ' || IsBreak(s[0])) _sb.Append((char)('0' + BestIndent));
            var last = s.Length - 1;
            if (!IsBreak(s[last])) _sb.Append('-');
            else if (last == 0 || IsBreak(s[last - 1])) _sb.Append('+');
            // As yaml.v3 writes it: no break after the header, so a leading line break only ends the header line.
            var breaks = true;
            foreach (var c in s)
            {
                if (IsBreak(c))
                {
                    if (c == '\n') Break();
                    else
                    {
                        _sb.Append(c);
                        _lineStart = _sb.Length;
                    }
                    breaks = true;
                    continue;
                }
                if (breaks) Indent(indent);
                _sb.Append(c);
                breaks = false;
            }
        }

        /// <summary>Single-quoted; only U+2028/U+2029 can be line breaks here, and the text after one is indented.</summary>
        private void SingleQuoted(string s, int indent)
        {
            _sb.Append('\'');
            var breaks = false;
            foreach (var c in s)
            {
                if (IsBreak(c))
                {
                    _sb.Append(c);
                    _lineStart = _sb.Length;
                    breaks = true;
                    continue;
                }
                if (breaks) Indent(indent);
                if (c == '\'') _sb.Append('\'');
                _sb.Append(c);
                breaks = false;
            }
            _sb.Append('\'');
        }

        private void DoubleQuoted(string s)
        {
            _sb.Append('"');
            foreach (var r in s.EnumerateRunes())
            {
                var c = r.Value;
                if (Printable(c) && c != 0xFEFF && !IsBreak(c) && c != '"' && c != '\\')
                {
                    _sb.Append(r.ToString());
                    continue;
                }
                _sb.Append('\\');
                switch (c)
                {
                    case 0x00: _sb.Append('0'); break;
                    case 0x07: _sb.Append('a'); break;
                    case 0x08: _sb.Append('b'); break;
                    case 0x09: _sb.Append('t'); break;
                    case 0x0A: _sb.Append('n'); break;
                    case 0x0B: _sb.Append('v'); break;
                    case 0x0C: _sb.Append('f'); break;
                    case 0x0D: _sb.Append('r'); break;
                    case 0x1B: _sb.Append('e'); break;
                    case 0x22: _sb.Append('"'); break;
                    case 0x5C: _sb.Append('\\'); break;
                    case 0x85: _sb.Append('N'); break;
                    case 0xA0: _sb.Append('_'); break;
                    case 0x2028: _sb.Append('L'); break;
                    case 0x2029: _sb.Append('P'); break;
                    default:
                        if (c <= 0xFF) _sb.Append('x').Append(c.ToString("X2", CultureInfo.InvariantCulture));
                        else if (c <= 0xFFFF) _sb.Append('u').Append(c.ToString("X4", CultureInfo.InvariantCulture));
                        else _sb.Append('U').Append(c.ToString("X8", CultureInfo.InvariantCulture));
                        break;
                }
            }
            _sb.Append('"');
        }
    }

    private static bool IsBreak(int c) => c is '\r' or '\n' or 0x85 or 0x2028 or 0x2029;

    /// <summary>yaml.v3's is_printable, by code point.</summary>
    private static bool Printable(int c) =>
        c == 0x0A || c is >= 0x20 and <= 0x7E || c is >= 0xA0 and <= 0xD7FF || (c is >= 0xE000 and <= 0xFFFD && c != 0xFEFF);

    private readonly record struct Analysis(bool BlockPlainAllowed, bool SingleQuotedAllowed, bool BlockAllowed);

    /// <summary>yaml_emitter_analyze_scalar, reduced to what the block context needs.</summary>
    private static Analysis Analyze(string s)
    {
        if (s.Length == 0) return new(true, true, false);
        bool blockIndicators = false, lineBreaks = false, special = false, tabs = false;
        bool leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false, breakSpace = false, spaceBreak = false;
        bool previousSpace = false, previousBreak = false;
        if (s.StartsWith("---", StringComparison.Ordinal) || s.StartsWith("...", StringComparison.Ordinal)) blockIndicators = true;

        var runes = s.EnumerateRunes().Select(r => r.Value).ToArray();
        var precededByWhitespace = true;
        for (var i = 0; i < runes.Length; i++)
        {
            var c = runes[i];
            var followedByWhitespace = i + 1 >= runes.Length || runes[i + 1] is ' ' or '\t';
            if (i == 0)
            {
                switch (c)
                {
                    case '#' or ',' or '[' or ']' or '{' or '}' or '&' or '*' or '!' or '|' or '>' or '\'' or '"' or '%' or '@' or '`':
                        blockIndicators = true;
                        break;
                    case '?' or ':' or '-':
                        if (followedByWhitespace) blockIndicators = true;
                        break;
                }
            }
            else if (c == ':' && followedByWhitespace || c == '#' && precededByWhitespace)
            {
                blockIndicators = true;
            }

            if (c == '\t') tabs = true;
            else if (!Printable(c)) special = true;

            if (c == ' ')
            {
                if (i == 0) leadingSpace = true;
                if (i == runes.Length - 1) trailingSpace = true;
                if (previousBreak) breakSpace = true;
                previousSpace = true;
                previousBreak = false;
            }
            else if (IsBreak(c))
            {
                lineBreaks = true;
                if (i == 0) leadingBreak = true;
                if (i == runes.Length - 1) trailingBreak = true;
                if (previousSpace) spaceBreak = true;
                previousSpace = false;
                previousBreak = true;
            }
            else
            {
                previousSpace = false;
                previousBreak = false;
            }
            precededByWhitespace = c is ' ' or '\t' || IsBreak(c);
        }

        bool blockPlain = true, single = true, block = true;
        if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
        if (trailingSpace) block = false;
        if (breakSpace) blockPlain = single = false;
        if (spaceBreak || tabs || special) blockPlain = single = false;
        if (spaceBreak || special) block = false;
        if (lineBreaks) blockPlain = false;
        if (blockIndicators) blockPlain = false;
        return new(blockPlain, single, block);
    }

    private static readonly HashSet<string> NonStringWords = new(StringComparer.Ordinal)
    {
        "true", "True", "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
    };

    private static readonly Regex YamlFloat = new(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant);
    private static readonly Regex DotFloat = new(@"^\.[0-9]+([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant);
    private static readonly Regex GoInt = new(@"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$", RegexOptions.CultureInvariant);
    private static readonly Regex Timestamp = new(
        @"^(?<y>[0-9]{4})-(?<mo>[0-9]{1,2})-(?<d>[0-9]{1,2})(([Tt](?<h>[0-9]{1,2}):(?<mi>[0-9]{1,2}):(?<s>[0-9]{1,2})(\.[0-9]+)?(Z|[-+](?<oh>[0-9]{2}):(?<om>[0-9]{2})))|( (?<h>[0-9]{1,2}):(?<mi>[0-9]{1,2}):(?<s>[0-9]{1,2})(\.[0-9]+)?))?$",
        RegexOptions.CultureInvariant);

    /// <summary>yaml.v3's parseTimestamp: one of its layouts, and a valid date and time (time.Parse checks ranges).</summary>
    private static bool IsTimestamp(string s)
    {
        var m = Timestamp.Match(s);
        if (!m.Success) return false;
        int G(string name, int fallback = 0) => m.Groups[name].Success ? int.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : fallback;
        int year = G("y"), month = G("mo"), day = G("d");
        if (month is < 1 or > 12 || day < 1) return false;
        var leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        int[] days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        return day <= days[month - 1] && G("h") < 24 && G("mi") < 60 && G("s") < 60 && G("oh") <= 24 && G("om") <= 60; // Go allows offsets of 24h and 60m
    }

    /// <summary>Whether yaml.v3's resolve() reads the plain scalar back as a string (else it must be quoted).</summary>
    private static bool ResolvesToString(string s)
    {
        if (s.Length == 0 || NonStringWords.Contains(s)) return false;
        var c = s[0];
        if (c == '.') return !(DotFloat.IsMatch(s) && IsFiniteFloat(s));
        if (c is '+' or '-' or (>= '0' and <= '9'))
        {
            if (IsTimestamp(s)) return false;
            var plain = s.Replace("_", "", StringComparison.Ordinal);
            if (IsGoInt(plain)) return false;
            if (YamlFloat.IsMatch(plain) && IsFiniteFloat(plain)) return false;
        }
        return true;
    }

    /// <summary>strconv.ParseFloat succeeds (no overflow to infinity).</summary>
    private static bool IsFiniteFloat(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d);

    /// <summary>strconv.ParseInt(s, 0, 64) or strconv.ParseUint(s, 0, 64) succeeds.</summary>
    private static bool IsGoInt(string s)
    {
        if (!GoInt.IsMatch(s)) return false;
        var signed = s[0] is '+' or '-';
        var digits = s[(signed ? 1 : 0)..];
        var radix = 10;
        if (digits.Length > 1 && digits[0] == '0')
        {
            var prefixed = char.ToLowerInvariant(digits[1]) is 'x' or 'o' or 'b';
            radix = char.ToLowerInvariant(digits[1]) switch { 'x' => 16, 'b' => 2, _ => 8 };
            digits = digits[(prefixed ? 2 : 1)..];
        }
        System.Numerics.BigInteger v = 0;
        foreach (var d in digits) v = v * radix + Convert.ToInt32(d.ToString(), 16);
        if (s[0] == '-') v = -v;
        return v >= long.MinValue && v <= long.MaxValue || !signed && v <= ulong.MaxValue;
    }
}
