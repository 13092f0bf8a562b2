using System.Text;

namespace Portcullis.Server.Hosting;

/// <summary>
/// A Go <c>time.Duration</c> (nanoseconds), parsed and printed as Go's <c>time.ParseDuration</c> and
/// <c>Duration.String</c> do, so that duration flags read <c>48h</c>, <c>1h30m</c> or <c>300ms</c> as kube-apiserver does
/// and their defaults show as <c>5m0s</c>.
/// </summary>
public readonly record struct GoDuration(long Nanoseconds)
{
    private const ulong Overflow = 1UL << 63;
    private const long Microsecond = 1_000, Millisecond = 1_000_000, Second = 1_000_000_000;

    public static GoDuration From(TimeSpan t) => new(t.Ticks * 100);

    /// <summary>The duration as a TimeSpan (100 ns ticks, truncated toward zero).</summary>
    public TimeSpan ToTimeSpan() => TimeSpan.FromTicks(Nanoseconds / 100);

    public static GoDuration Parse(string s) =>
        TryParse(s, out var d, out var error) ? d : throw new FormatException(error);

    public static bool TryParse(string s, out GoDuration value, out string? error) =>
        TryParse(Encoding.UTF8.GetBytes(s), out value, out error);

    /// <summary>Go's time.ParseDuration over the UTF-8 bytes of the text, with its error texts.</summary>
    public static bool TryParse(ReadOnlySpan<byte> orig, out GoDuration value, out string? error)
    {
        value = default;
        var s = orig;
        ulong d = 0;
        var neg = false;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            neg = s[0] == '-';
            s = s[1..];
        }
        if (s.Length == 1 && s[0] == '0') { error = null; return true; }
        if (s.Length == 0) return Invalid(orig, out error);
        while (s.Length > 0)
        {
            ulong f = 0;
            var scale = 1.0;
            if (!(s[0] == '.' || IsDigit(s[0]))) return Invalid(orig, out error);
            var pl = s.Length;
            if (!LeadingInt(ref s, out var v)) return Invalid(orig, out error);
            var pre = pl != s.Length;
            var post = false;
            if (s.Length > 0 && s[0] == '.')
            {
                s = s[1..];
                pl = s.Length;
                (f, scale) = LeadingFraction(ref s);
                post = pl != s.Length;
            }
            if (!pre && !post) return Invalid(orig, out error);
            var i = 0;
            while (i < s.Length && s[i] != '.' && !IsDigit(s[i])) i++;
            if (i == 0)
            {
                error = "time: missing unit in duration " + Serialization.GoText.TimeQuote(orig);
                return false;
            }
            var u = s[..i];
            s = s[i..];
            if (Unit(u) is not { } unit)
            {
                error = "time: unknown unit " + Serialization.GoText.TimeQuote(u) + " in duration " + Serialization.GoText.TimeQuote(orig);
                return false;
            }
            if (v > Overflow / unit) return Invalid(orig, out error);
            v *= unit;
            if (f > 0)
            {
                v += (ulong)(f * (unit / scale));
                if (v > Overflow) return Invalid(orig, out error);
            }
            d += v;
            if (d > Overflow) return Invalid(orig, out error);
        }
        if (neg)
        {
            value = new GoDuration(unchecked((long)(0 - d)));
            error = null;
            return true;
        }
        if (d > Overflow - 1) return Invalid(orig, out error);
        value = new GoDuration((long)d);
        error = null;
        return true;
    }

    private static bool Invalid(ReadOnlySpan<byte> orig, out string error)
    {
        error = "time: invalid duration " + Serialization.GoText.TimeQuote(orig);
        return false;
    }

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static ulong? Unit(ReadOnlySpan<byte> u) =>
        u.SequenceEqual("ns"u8) ? 1UL :
        u.SequenceEqual("us"u8) || u.SequenceEqual("µs"u8) || u.SequenceEqual("μs"u8) ? 1_000UL :
        u.SequenceEqual("ms"u8) ? 1_000_000UL :
        u.SequenceEqual("s"u8) ? 1_000_000_000UL :
        u.SequenceEqual("m"u8) ? 60_000_000_000UL :
        u.SequenceEqual("h"u8) ? 3_600_000_000_000UL :
        null;

    /// <summary>Consumes leading digits; false on overflow past 1&lt;&lt;63.</summary>
    private static bool LeadingInt(ref ReadOnlySpan<byte> s, out ulong x)
    {
        x = 0;
        var i = 0;
        for (; i < s.Length && IsDigit(s[i]); i++)
        {
            if (x > Overflow / 10) return false;
            x = x * 10 + (ulong)(s[i] - '0');
            if (x > Overflow) return false;
        }
        s = s[i..];
        return true;
    }

    /// <summary>Consumes leading digits of a fraction; digits past what fits are dropped (Go's leadingFraction).</summary>
    private static (ulong X, double Scale) LeadingFraction(ref ReadOnlySpan<byte> s)
    {
        ulong x = 0;
        var scale = 1.0;
        var overflow = false;
        var i = 0;
        for (; i < s.Length && IsDigit(s[i]); i++)
        {
            if (overflow) continue;
            if (x > (Overflow - 1) / 10) { overflow = true; continue; }
            var y = x * 10 + (ulong)(s[i] - '0');
            if (y > Overflow) { overflow = true; continue; }
            x = y;
            scale *= 10;
        }
        s = s[i..];
        return (x, scale);
    }

    /// <summary>Go's Duration.String: "72h3m0.5s", "1.5s", "300ms", "0s".</summary>
    public override string ToString()
    {
        var neg = Nanoseconds < 0;
        var u = neg ? 0 - unchecked((ulong)Nanoseconds) : (ulong)Nanoseconds;
        string text;
        if (u < Second)
        {
            if (u == 0) return "0s";
            var (prec, unit) = u < Microsecond ? (0, "ns") : u < Millisecond ? (3, "µs") : (6, "ms");
            var (frac, rest) = Frac(u, prec);
            text = rest.ToString(System.Globalization.CultureInfo.InvariantCulture) + frac + unit;
        }
        else
        {
            var (frac, rest) = Frac(u, 9);
            text = (rest % 60).ToString(System.Globalization.CultureInfo.InvariantCulture) + frac + "s";
            rest /= 60;
            if (rest > 0)
            {
                text = (rest % 60).ToString(System.Globalization.CultureInfo.InvariantCulture) + "m" + text;
                rest /= 60;
                if (rest > 0) text = rest.ToString(System.Globalization.CultureInfo.InvariantCulture) + "h" + text;
            }
        }
        return neg ? "-" + text : text;
    }

    /// <summary>Go's fmtFrac: the fraction v/10^prec as ".123" without trailing zeros (nothing when 0), and v/10^prec.</summary>
    private static (string Frac, ulong Whole) Frac(ulong v, int prec)
    {
        var digits = new StringBuilder();
        var print = false;
        for (var i = 0; i < prec; i++)
        {
            var digit = v % 10;
            print = print || digit != 0;
            if (print) digits.Insert(0, (char)('0' + (int)digit));
            v /= 10;
        }
        return (print ? "." + digits : "", v);
    }
}
