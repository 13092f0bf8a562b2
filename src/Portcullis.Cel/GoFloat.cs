using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Portcullis.Cel;

/// <summary>Go's fmt %g (shortest digits, exponent form below 1e-4 and from 1e6), which cel-go uses for string(double).</summary>
internal static class GoFloat
{
    public static string FormatG(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "+Inf";
        if (double.IsNegativeInfinity(d)) return "-Inf";
        if (d == 0) return 1 / d < 0 ? "-0" : "0";
        // shortest round-trip digits
        string shortest = d.ToString("R", CultureInfo.InvariantCulture);
        bool neg = shortest.StartsWith('-');
        if (neg) shortest = shortest[1..];
        int exp10;
        string mant = shortest;
        int ePos = mant.IndexOfAny(['E', 'e']);
        int extra = 0;
        if (ePos >= 0)
        {
            extra = int.Parse(mant[(ePos + 1)..], CultureInfo.InvariantCulture);
            mant = mant[..ePos];
        }
        int dot = mant.IndexOf('.');
        string intPart = dot < 0 ? mant : mant[..dot];
        string fracPart = dot < 0 ? "" : mant[(dot + 1)..];
        string digits = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - digits.Length;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int dp = intPart.Length - leadingZeros + extra; // decimal point position relative to digits
        exp10 = dp - 1;
        var sb = new StringBuilder();
        if (neg) sb.Append('-');
        if (exp10 < -4 || exp10 >= 6)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits.AsSpan(1));
            sb.Append('e').Append(exp10 < 0 ? '-' : '+');
            int ae = Math.Abs(exp10);
            sb.Append(ae < 10 ? "0" + ae : ae.ToString(CultureInfo.InvariantCulture));
            return sb.ToString();
        }
        if (dp <= 0) sb.Append("0.").Append('0', -dp).Append(digits);
        else if (dp >= digits.Length) sb.Append(digits).Append('0', dp - digits.Length);
        else sb.Append(digits.AsSpan(0, dp)).Append('.').Append(digits.AsSpan(dp));
        return sb.ToString();
    }
}
