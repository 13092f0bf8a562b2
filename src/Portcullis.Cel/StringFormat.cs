using System.Globalization;
using System.Text;

namespace Portcullis.Cel;

/// <summary>
/// The strings extension's <c>format</c>: clauses %s %d %f %e %b %x %X %o with an optional precision
/// (<c>%.3f</c>) and %% for a percent sign. Numbers are rendered as cel-go 0.23 renders them for the
/// default en_US locale (golang.org/x/text): grouped fixed-point, and scientific as "1.5 × 10⁰³".
/// </summary>
internal static class StringFormat
{
    const int DefaultPrecision = 6;

    public static CelValue Format(string format, IReadOnlyList<CelValue> args)
    {
        var sb = new StringBuilder();
        int argIndex = 0;
        for (int i = 0; i < format.Length;)
        {
            char c = format[i];
            if (c != '%') { sb.Append(c); i++; continue; }
            if (i + 1 < format.Length && format[i + 1] == '%') { sb.Append('%'); i += 2; continue; }
            if (argIndex >= args.Count) return new CelError($"index {argIndex} out of range");
            if (i + 1 >= format.Length) return new CelError("unexpected end of string");
            int j = i + 1;
            int? precision = null;
            if (format[j] == '.')
            {
                j++;
                int ps = j;
                while (j < format.Length && char.IsAsciiDigit(format[j])) j++;
                if (j >= format.Length) return new CelError("could not parse formatting clause: error while parsing precision: could not find end of precision specifier");
                if (!int.TryParse(format.AsSpan(ps, j - ps), CultureInfo.InvariantCulture, out int p))
                    return new CelError("could not parse formatting clause: error while parsing precision");
                precision = p;
            }
            char verb = format[j];
            var arg = args[argIndex];
            string? text;
            string? err;
            switch (verb)
            {
                case 's': (text, err) = FormatString(arg); break;
                case 'd': (text, err) = Decimal(arg); break;
                case 'f': (text, err) = Fixed(arg, precision ?? DefaultPrecision); break;
                case 'e': (text, err) = Scientific(arg, precision ?? DefaultPrecision); break;
                case 'b': (text, err) = Binary(arg); break;
                case 'x': case 'X': (text, err) = Hex(arg, verb == 'X'); break;
                case 'o': (text, err) = Octal(arg); break;
                default: return new CelError($"could not parse formatting clause: unrecognized formatting clause \"{verb}\"");
            }
            if (err is not null) return new CelError("error during formatting: " + err);
            sb.Append(text);
            i = j + 1;
            argIndex++;
        }
        return new CelString(sb.ToString());
    }

    static string TypeName(CelValue v) => v.Type.Name;

    static (string?, string?) FormatString(CelValue v)
    {
        switch (v)
        {
            case CelList l:
            {
                var parts = new List<string>();
                foreach (var item in l.Items)
                {
                    var (t, e) = Member(item);
                    if (e is not null) return (null, e);
                    parts.Add(t!);
                }
                return ("[" + string.Join(", ", parts) + "]", null);
            }
            case CelMap m:
            {
                var pairs = new List<(string K, string V)>();
                foreach (var kv in m.Entries)
                {
                    string key;
                    switch (kv.Key)
                    {
                        case CelString ks: key = GoQuote(ks.Value); break;
                        case CelBool kb: key = kb.Value ? "true" : "false"; break;
                        case CelInt ki: key = ki.Value.ToString(CultureInfo.InvariantCulture); break;
                        case CelUint ku: key = ku.Value.ToString(CultureInfo.InvariantCulture); break;
                        default: return (null, $"no formatting function for map key of type {TypeName(kv.Key)}");
                    }
                    var (val, e) = Member(kv.Value);
                    if (e is not null) return (null, e);
                    pairs.Add((key, val!));
                }
                var sorted = pairs.OrderBy(p => p.K, StringComparer.Ordinal).Select(p => p.K + ":" + p.V);
                return ("{" + string.Join(", ", sorted) + "}", null);
            }
            case CelNull: return ("null", null);
            case CelTypeValue t: return (t.Value.Name, null);
            case CelBytes b: return (Encoding.UTF8.GetString(b.Value), null);
            case CelInt or CelUint or CelDouble or CelBool or CelString or CelTimestamp or CelDuration:
                return (((CelString)Std.Call("string", false, [v])!).Value, null);
            default:
                return (null, $"string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given {TypeName(v)}");
        }
    }

    /// <summary>A list element or map value: rendered as a CEL literal.</summary>
    static (string?, string?) Member(CelValue v)
    {
        switch (v)
        {
            case CelTimestamp or CelDuration:
            {
                string s = ((CelString)Std.Call("string", false, [v])!).Value;
                return ((v is CelTimestamp ? "timestamp(" : "duration(") + GoQuote(s) + ")", null);
            }
            case CelDouble d:
            {
                string s = d.Value.ToString("F" + DefaultPrecision, CultureInfo.InvariantCulture);
                if (double.IsNaN(d.Value)) s = "NaN";
                else if (double.IsPositiveInfinity(d.Value)) s = "+Inf";
                else if (double.IsNegativeInfinity(d.Value)) s = "-Inf";
                return (double.IsFinite(d.Value) ? s : GoQuote(s), null);
            }
            case CelTypeValue t: return ("type(" + t.Value.Name + ")", null);
            case CelString s: return (GoQuote(s.Value), null);
            case CelBytes b: return ("b" + GoQuote(Encoding.UTF8.GetString(b.Value)), null);
            case CelInt or CelUint: return Decimal(v);
            default: return FormatString(v);
        }
    }

    static string GoQuote(string s) => Ext.Quote(s);

    static (string?, string?) Decimal(CelValue v) => v switch
    {
        CelInt i => (i.Value.ToString(CultureInfo.InvariantCulture), null),
        CelUint u => (u.Value.ToString(CultureInfo.InvariantCulture), null),
        _ => (null, $"decimal clause can only be used on integers, was given {TypeName(v)}"),
    };

    static double? FloatArg(CelValue v) => v switch
    {
        CelDouble d => d.Value,
        CelString { Value: "NaN" } => double.NaN,
        CelString { Value: "Infinity" } => double.PositiveInfinity,
        CelString { Value: "-Infinity" } => double.NegativeInfinity,
        _ => null,
    };

    static string? NonFinite(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "∞" : double.IsNegativeInfinity(d) ? "-∞" : null;

    static (string?, string?) Fixed(CelValue v, int precision)
    {
        if (FloatArg(v) is not { } d) return (null, $"fixed-point clause can only be used on doubles, was given {TypeName(v)}");
        return (NonFinite(d) ?? d.ToString("N" + precision, CultureInfo.InvariantCulture), null);
    }

    static (string?, string?) Scientific(CelValue v, int precision)
    {
        if (FloatArg(v) is not { } d) return (null, $"scientific clause can only be used on doubles, was given {TypeName(v)}");
        if (NonFinite(d) is { } nf) return (nf, null);
        string e = d.ToString("E" + precision, CultureInfo.InvariantCulture); // 1.052033E+003
        int at = e.IndexOf('E');
        string mant = e[..at];
        int exp = int.Parse(e[(at + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var sb = new StringBuilder(mant).Append("\u202f×\u202f10");
        if (exp < 0) sb.Append('⁻');
        foreach (char c in Math.Abs(exp).ToString("D2", CultureInfo.InvariantCulture)) sb.Append(Superscript[c - '0']);
        return (sb.ToString(), null);
    }

    static readonly char[] Superscript = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

    static (string?, string?) Binary(CelValue v) => v switch
    {
        CelInt i => (SignedToBase(i.Value, 2), null),
        CelUint u => (UintToBase(u.Value, 2), null),
        CelBool b => (b.Value ? "1" : "0", null),
        _ => (null, $"only integers and bools can be formatted as binary, was given {TypeName(v)}"),
    };

    static string UintToBase(ulong v, int radix)
    {
        if (v == 0) return "0";
        var sb = new StringBuilder();
        while (v > 0) { sb.Insert(0, "0123456789abcdef"[(int)(v % (ulong)radix)]); v /= (ulong)radix; }
        return sb.ToString();
    }

    static string SignedToBase(long v, int radix) =>
        v < 0 ? "-" + UintToBase(v == long.MinValue ? 9223372036854775808UL : (ulong)-v, radix) : UintToBase((ulong)v, radix);

    static (string?, string?) Hex(CelValue v, bool upper)
    {
        string? s = v switch
        {
            CelInt i => SignedToBase(i.Value, 16),
            CelUint u => UintToBase(u.Value, 16),
            CelString str => Convert.ToHexString(Encoding.UTF8.GetBytes(str.Value)).ToLowerInvariant(),
            CelBytes b => Convert.ToHexString(b.Value).ToLowerInvariant(),
            _ => null,
        };
        if (s is null) return (null, $"only integers, byte buffers, and strings can be formatted as hex, was given {TypeName(v)}");
        return (upper ? s.ToUpperInvariant() : s, null);
    }

    static (string?, string?) Octal(CelValue v) => v switch
    {
        CelInt i => (SignedToBase(i.Value, 8), null),
        CelUint u => (UintToBase(u.Value, 8), null),
        _ => (null, $"octal clause can only be used on integers, was given {TypeName(v)}"),
    };
}
