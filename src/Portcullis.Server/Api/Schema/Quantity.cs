using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Portcullis.Server.Api.Schema;

/// <summary>
/// resource.Quantity: parsing and upstream's canonical form (<c>0.5</c> → <c>500m</c>,
/// <c>1000</c> → <c>1k</c>, <c>0.5Gi</c> → <c>512Mi</c>). Values are exact: the amount is kept as
/// an integer count of nano-units (10^-9), rounding finer precision up as upstream does.
/// </summary>
public readonly partial record struct Quantity(BigInteger Nanos, QuantityFormat Format)
{
    [GeneratedRegex(@"^([+-]?[0-9]*\.?[0-9]*)([eEinumkKMGTP]*[-+]?[0-9]*)\z")]
    private static partial Regex Pattern();

    private static readonly BigInteger Billion = BigInteger.Pow(10, 9);

    public static bool TryParse(string s, out Quantity q)
    {
        q = default;
        var m = Pattern().Match(s);
        if (!m.Success || s.Length == 0) return false;
        var num = m.Groups[1].Value;
        var suffix = m.Groups[2].Value;
        if (num is "" or "." or "+" or "-" or "+." or "-.") return false;
        var neg = num.StartsWith('-');
        num = num.TrimStart('+', '-');
        var dot = num.IndexOf('.');
        var intPart = dot < 0 ? num : num[..dot];
        var frac = dot < 0 ? "" : num[(dot + 1)..];
        if (intPart.Length == 0) intPart = "0";
        // value = digits * 10^(-frac.Length)
        var digits = BigInteger.Parse(intPart + frac, CultureInfo.InvariantCulture);
        int decExp = -frac.Length;
        BigInteger binMul = 1;
        QuantityFormat format;
        switch (suffix)
        {
            case "": format = QuantityFormat.DecimalSI; break;
            case "n": format = QuantityFormat.DecimalSI; decExp -= 9; break;
            case "u": format = QuantityFormat.DecimalSI; decExp -= 6; break;
            case "m": format = QuantityFormat.DecimalSI; decExp -= 3; break;
            case "k": format = QuantityFormat.DecimalSI; decExp += 3; break;
            case "M": format = QuantityFormat.DecimalSI; decExp += 6; break;
            case "G": format = QuantityFormat.DecimalSI; decExp += 9; break;
            case "T": format = QuantityFormat.DecimalSI; decExp += 12; break;
            case "P": format = QuantityFormat.DecimalSI; decExp += 15; break;
            case "E": format = QuantityFormat.DecimalSI; decExp += 18; break;
            case "Ki": format = QuantityFormat.BinarySI; binMul = BigInteger.Pow(1024, 1); break;
            case "Mi": format = QuantityFormat.BinarySI; binMul = BigInteger.Pow(1024, 2); break;
            case "Gi": format = QuantityFormat.BinarySI; binMul = BigInteger.Pow(1024, 3); break;
            case "Ti": format = QuantityFormat.BinarySI; binMul = BigInteger.Pow(1024, 4); break;
            case "Pi": format = QuantityFormat.BinarySI; binMul = BigInteger.Pow(1024, 5); break;
            case "Ei": format = QuantityFormat.BinarySI; binMul = BigInteger.Pow(1024, 6); break;
            default:
                if (suffix[0] is not ('e' or 'E') || !int.TryParse(suffix[1..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var e)) return false;
                if (e is > 100 or < -100) return false;
                format = QuantityFormat.DecimalExponent;
                decExp += e;
                break;
        }
        // nanos = digits * binMul * 10^(decExp + 9), rounded up (away from zero) when fractional.
        var scaled = digits * binMul;
        var shift = decExp + 9;
        BigInteger nanos;
        if (shift >= 0) nanos = scaled * BigInteger.Pow(10, shift);
        else
        {
            var div = BigInteger.Pow(10, -shift);
            nanos = BigInteger.DivRem(scaled, div, out var rem);
            if (!rem.IsZero) nanos += 1;
        }
        q = new Quantity(neg ? -nanos : nanos, format);
        return true;
    }

    public string ToCanonicalString()
    {
        if (Nanos.IsZero) return "0";
        var neg = Nanos.Sign < 0;
        var abs = BigInteger.Abs(Nanos);
        var sign = neg ? "-" : "";
        if (Format == QuantityFormat.BinarySI && BigInteger.Remainder(abs, Billion).IsZero)
        {
            var whole = abs / Billion;
            string[] suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
            var k = 0;
            while (k < 6 && !whole.IsZero && BigInteger.Remainder(whole, 1024).IsZero && whole >= 1024) { whole /= 1024; k++; }
            // Upstream keeps small binary values without a suffix only when below 1024.
            return sign + whole.ToString(CultureInfo.InvariantCulture) + suffixes[k];
        }
        // Decimal: the largest power-of-1000 exponent (from 10^-9) that leaves an integer mantissa.
        var exp = -9;
        var mant = abs;
        while (exp < 18 && BigInteger.Remainder(mant, 1000).IsZero) { mant /= 1000; exp += 3; }
        if (Format == QuantityFormat.DecimalExponent)
            return sign + mant.ToString(CultureInfo.InvariantCulture) + (exp == 0 ? "" : "e" + exp.ToString(CultureInfo.InvariantCulture));
        var suffix = exp switch { -9 => "n", -6 => "u", -3 => "m", 0 => "", 3 => "k", 6 => "M", 9 => "G", 12 => "T", 15 => "P", _ => "E" };
        return sign + mant.ToString(CultureInfo.InvariantCulture) + suffix;
    }

    /// <summary>
    /// The text upstream writes back for <paramref name="s"/>: ParseQuantity keeps the input string itself
    /// when its int64 fast path finds it already looking canonical (so "+1", "0100", "1.500" and "1E3" come
    /// back as given), and otherwise the canonical form.
    /// </summary>
    public static bool TryNormalize(string s, out string text)
    {
        text = "";
        if (!TryParse(s, out var q)) return false;
        text = KeepsInput(s) ? s : q.ToCanonicalString();
        return true;
    }

    // parseQuantityString and the fast path of ParseQuantity, for a string TryParse accepted.
    private static bool KeepsInput(string s)
    {
        if (s == "0") return true;
        var pos = 0;
        if (s[0] is '+' or '-') pos++;
        while (pos < s.Length && s[pos] == '0') pos++;
        var numStart = pos;
        while (pos < s.Length && char.IsAsciiDigit(s[pos])) pos++;
        var num = pos == numStart ? "0" : s[numStart..pos];
        var denom = "";
        if (pos < s.Length && s[pos] == '.')
        {
            var start = ++pos;
            while (pos < s.Length && char.IsAsciiDigit(s[pos])) pos++;
            denom = s[start..pos];
        }
        var suffix = s[pos..];
        int exponent;
        var binary = false;
        switch (suffix)
        {
            case "": exponent = 0; break;
            case "n": exponent = -9; break;
            case "u": exponent = -6; break;
            case "m": exponent = -3; break;
            case "k": exponent = 3; break;
            case "M": exponent = 6; break;
            case "G": exponent = 9; break;
            case "T": exponent = 12; break;
            case "P": exponent = 15; break;
            case "E": exponent = 18; break;
            case "Ki": exponent = 10; binary = true; break;
            case "Mi": exponent = 20; binary = true; break;
            case "Gi": exponent = 30; binary = true; break;
            case "Ti": exponent = 40; binary = true; break;
            case "Pi": exponent = 50; binary = true; break;
            case "Ei": exponent = 60; binary = true; break;
            default: exponent = int.Parse(suffix[1..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture); break;
        }
        if (binary)
        {
            if (denom.Length > 0) return false;
            if (15 - num.Length - (int)((float)exponent * 3 / 10) - 1 < 0) return false;
            if (!long.TryParse(num, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return false;
            if (value != 0 && value > (long.MaxValue >> exponent)) return false;
            return exponent % 10 == 0 && (value & 0x07) != 0;
        }
        if (18 - (num.Length + denom.Length) < 0) return false;
        var scale = exponent - denom.Length;
        if (scale < -9) return false;
        var shifted = num + denom;
        return scale % 3 == 0 && !shifted.EndsWith("000", StringComparison.Ordinal) && shifted[0] != '0';
    }

    /// <summary>resource.MaxMilliValue: the largest value whose MilliValue fits an int64.</summary>
    public static readonly BigInteger MaxMilliValue = long.MaxValue / 1000;

    /// <summary>Quantity.Value(): the value in whole units, rounded up.</summary>
    public BigInteger Value => BigInteger.DivRem(Nanos, Billion, out var r) + (r.Sign > 0 ? 1 : 0);

    /// <summary>Quantity.MilliValue(): the value in milli-units, rounded up (what resource accounting uses).</summary>
    public BigInteger MilliValue => BigInteger.DivRem(Nanos, 1_000_000, out var r) + (r.Sign > 0 ? 1 : 0);
}

public enum QuantityFormat { DecimalSI, BinarySI, DecimalExponent }
