using System.Globalization;
using System.Text;

namespace Portcullis.Server.Serialization;

/// <summary>
/// Go's text formatting, in one place: strconv.Quote (fmt's <c>%q</c>), the time package's own
/// quote, encoding/json's quoteChar, and a float64 as fmt's <c>%v</c> and <c>%.Nf</c> and as
/// encoding/json write it. Upstream's messages are built with these, and scripts grep them, so
/// every caller shares these functions rather than a copy that is right for the inputs it has seen.
/// </summary>
internal static class GoText
{
    // ---- strings -------------------------------------------------------------------------

    /// <summary>
    /// strconv.Quote (fmt's %q of a string): runes that unicode.IsPrint accepts are kept; \a \b \f \n
    /// \r \t \v, quote and backslash are escaped; other control bytes become \xNN, other non-printable
    /// runes \uNNNN or \UNNNNNNNN. A lone surrogate (not UTF-8 in Go) is the replacement rune, as Go
    /// would have decoded it.
    /// </summary>
    public static string Quote(string s)
    {
        if (IsPlain(s)) return string.Concat("\"", s, "\"");
        var sb = new StringBuilder(s.Length + 8).Append('"');
        foreach (var r in s.EnumerateRunes()) AppendRune(sb, r.Value);
        return sb.Append('"').ToString();
    }

    /// <summary>strconv.Quote of the bytes of a Go string: bytes that are not UTF-8 are written as \xNN, one each.</summary>
    public static string Quote(ReadOnlySpan<byte> utf8)
    {
        var sb = new StringBuilder(utf8.Length + 8).Append('"');
        while (!utf8.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(utf8, out var r, out var width) == System.Buffers.OperationStatus.Done)
            {
                AppendRune(sb, r.Value);
                utf8 = utf8[width..];
            }
            else
            {
                // utf8.DecodeRune reports width 1 for any invalid byte: each is escaped on its own.
                sb.Append("\\x").Append(utf8[0].ToString("x2", CultureInfo.InvariantCulture));
                utf8 = utf8[1..];
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>
    /// apimachinery's net.makeQuotedString, the text of a Warning header (NewWarningHeader): only
    /// '"' and '\' are escaped, everything else is written as is.
    /// </summary>
    public static string WarningQuote(string s) => string.Concat("\"", s.Replace("\\", "\\\\").Replace("\"", "\\\""), "\"");

    /// <summary>fmt's %q of a []string: <c>["a" "b"]</c>, <c>[]</c> when empty.</summary>
    public static string QuoteList(IEnumerable<string> items) => "[" + string.Join(" ", items.Select(Quote)) + "]";

    /// <summary>
    /// encoding/json's quoteChar, the byte named in a syntax error: <c>'a'</c>, <c>'\''</c>, <c>'"'</c>,
    /// <c>'\x01'</c>. Go converts the byte to a rune first, so 0x80–0xFF are the Latin-1 runes.
    /// </summary>
    public static string JsonQuoteChar(byte c) => c switch
    {
        (byte)'\'' => "'\\''",
        (byte)'"' => "'\"'",
        _ => "'" + Quote(((char)c).ToString())[1..^1] + "'",
    };

    /// <summary>
    /// The time package's quote (ParseDuration's and time.Parse's errors): every byte of a non-ASCII
    /// rune or of a control character below 0x20 as \xNN, '"' and '\' escaped, the rest (0x7f too) as is.
    /// </summary>
    public static string TimeQuote(ReadOnlySpan<byte> s)
    {
        var b = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            if (c >= 0x80 || c < 0x20) b.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else
            {
                if (c is (byte)'"' or (byte)'\\') b.Append('\\');
                b.Append((char)c);
            }
        }
        return b.Append('"').ToString();
    }

    /// <summary>Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    public static bool IsPrint(int rune)
    {
        if (rune == ' ') return true;
        if (rune < 0x20 || rune == 0x7f || rune is >= 0xD800 and <= 0xDFFF || rune > 0x10FFFF) return false;
        return CharUnicodeInfo.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator => false,
            _ => true,
        };
    }

    /// <summary>Printable ASCII without quote or backslash: strconv.Quote only adds the quotes.</summary>
    private static bool IsPlain(string s)
    {
        foreach (var c in s)
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
        return true;
    }

    private static void AppendRune(StringBuilder sb, int r)
    {
        switch (r)
        {
            case '"': sb.Append("\\\""); return;
            case '\\': sb.Append("\\\\"); return;
            case '\a': sb.Append("\\a"); return;
            case '\b': sb.Append("\\b"); return;
            case '\f': sb.Append("\\f"); return;
            case '\n': sb.Append("\\n"); return;
            case '\r': sb.Append("\\r"); return;
            case '\t': sb.Append("\\t"); return;
            case '\v': sb.Append("\\v"); return;
        }
        if (IsPrint(r)) { sb.Append(char.ConvertFromUtf32(r)); return; }
        if (r < 0x20 || r == 0x7f) sb.Append("\\x").Append(r.ToString("x2", CultureInfo.InvariantCulture));
        else if (r < 0x10000) sb.Append("\\u").Append(r.ToString("x4", CultureInfo.InvariantCulture));
        else sb.Append("\\U").Append(r.ToString("x8", CultureInfo.InvariantCulture));
    }

    // ---- float64 -------------------------------------------------------------------------

    /// <summary>
    /// fmt's %v of a float64 (strconv.FormatFloat(f, 'g', -1, 64)): the shortest digits that read back
    /// as f, in exponent form when the exponent is below -4 or at least 6 (1e+06, 1.23456789e+09, 1e-05).
    /// </summary>
    public static string Float(double f)
    {
        if (double.IsNaN(f)) return "NaN";
        if (double.IsInfinity(f)) return f > 0 ? "+Inf" : "-Inf";
        var neg = f < 0 || (f == 0 && double.IsNegative(f)) ? "-" : "";
        if (f == 0) return neg + "0";
        var (digits, dp) = Shortest(f);
        var exp = dp - 1;
        return exp < -4 || exp >= 6 ? neg + Exponent(digits, exp) : neg + Fixed(digits, dp);
    }

    /// <summary>
    /// encoding/json's floatEncoder for a float64: the shortest digits in plain decimal for
    /// 1e-6 ≤ |f| &lt; 1e21 (and 0), in exponent form otherwise with e-07 shortened to e-7.
    /// NaN and ±Inf have no JSON form (Go fails the encoding); they come back spelled as %v does.
    /// </summary>
    public static string JsonFloat(double f)
    {
        if (double.IsNaN(f) || double.IsInfinity(f)) return Float(f);
        var neg = f < 0 || (f == 0 && double.IsNegative(f)) ? "-" : "";
        if (f == 0) return neg + "0";
        var (digits, dp) = Shortest(f);
        var abs = Math.Abs(f);
        if (abs >= 1e-6 && abs < 1e21) return neg + Fixed(digits, dp);
        var text = Exponent(digits, dp - 1);
        // encoding/json's clean-up: a two-digit negative exponent loses its leading zero.
        var n = text.Length;
        if (n >= 4 && text[n - 4] == 'e' && text[n - 3] == '-' && text[n - 2] == '0') text = text[..(n - 2)] + text[n - 1];
        return neg + text;
    }

    /// <summary>
    /// fmt's %.Nf of a float64 (strconv.FormatFloat(f, 'f', prec, 64)): the exact binary value rounded
    /// to <paramref name="prec"/> decimals, a tie to even (0.0078125 → "0.007812"), as .NET's "F" format
    /// also does since .NET Core 3.0; Go's spelling of +Inf, -Inf and NaN.
    /// </summary>
    public static string FixedFloat(double f, int prec)
    {
        if (double.IsNaN(f)) return "NaN";
        if (double.IsInfinity(f)) return f > 0 ? "+Inf" : "-Inf";
        return f.ToString("F" + prec.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>The shortest digits that read back as f (no leading or trailing zeros) and the decimal point's position.</summary>
    private static (string Digits, int Dp) Shortest(double f)
    {
        var s = Math.Abs(f).ToString("R", CultureInfo.InvariantCulture); // .NET's shortest round-trip, as Go's
        var e = 0;
        var ei = s.IndexOfAny(['E', 'e']);
        if (ei >= 0)
        {
            e = int.Parse(s[(ei + 1)..], CultureInfo.InvariantCulture);
            s = s[..ei];
        }
        var dot = s.IndexOf('.');
        var intPart = dot < 0 ? s : s[..dot];
        var all = intPart + (dot < 0 ? "" : s[(dot + 1)..]);
        var dp = intPart.Length + e;
        var lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0') { lead++; dp--; }
        all = all[lead..].TrimEnd('0');
        return (all.Length == 0 ? "0" : all, dp);
    }

    /// <summary>d.ddde±XX: at least two exponent digits, as strconv's %e.</summary>
    private static string Exponent(string digits, int exp)
    {
        var mant = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return mant + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>Plain decimal of digits with the decimal point at dp.</summary>
    private static string Fixed(string digits, int dp)
    {
        if (dp <= 0) return "0." + new string('0', -dp) + digits;
        if (dp >= digits.Length) return digits + new string('0', dp - digits.Length);
        return digits[..dp] + "." + digits[dp..];
    }
}
