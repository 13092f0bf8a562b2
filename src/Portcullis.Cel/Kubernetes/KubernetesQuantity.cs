using System.Globalization;
using System.Numerics;

namespace Portcullis.Cel;

/// <summary>
/// A Kubernetes resource.Quantity (apimachinery pkg/api/resource at v0.33.0) as CEL's kubernetes.Quantity:
/// the exact value <c>Unscaled × 10^Exp</c>, and whether apimachinery holds it as an int64 amount (its fast
/// path) or as an inf.Dec, which decides <c>isInteger()</c>/<c>asInteger()</c> as upstream's AsInt64 does.
/// </summary>
public sealed class CelQuantity : CelOpaque
{
    public static readonly CelType QuantityType = new("kubernetes.Quantity");

    internal CelQuantity(BigInteger unscaled, int exp, bool isDec)
    {
        Unscaled = unscaled;
        Exp = exp;
        IsDec = isDec;
    }

    internal BigInteger Unscaled { get; }
    internal int Exp { get; }
    internal bool IsDec { get; }
    public override CelType Type => QuantityType;
    public override bool EqualTo(CelValue other) => other is CelQuantity q && Compare(this, q) == 0;
    public override string ToString() => $"quantity({Unscaled}e{Exp})";

    public int Sign => Unscaled.Sign;

    const string SplitRe = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";
    internal const string ErrFormatWrong = "quantities must match the regular expression '" + SplitRe + "'";
    internal const string ErrNumeric = "unable to parse numeric part of quantity";
    internal const string ErrSuffix = "unable to parse quantity's suffix";

    /// <summary>resource.ParseQuantity: the quantity, or null with upstream's error text.</summary>
    public static CelQuantity? Parse(string str, out string? error)
    {
        error = null;
        if (str.Length == 0) { error = ErrFormatWrong; return null; }
        if (!Split(str, out bool positive, out string num, out string denom, out string suffix))
        {
            error = ErrFormatWrong;
            return null;
        }
        if (!Interpret(suffix, out int @base, out int exponent, out bool binary)) { error = ErrSuffix; return null; }

        // the int64 fast path of ParseQuantity
        int precision;
        int scale = 0;
        long mantissa = 1;
        if (!binary)
        {
            scale = exponent;
            precision = 18 - (num.Length + denom.Length);
        }
        else if (exponent >= 0 && denom.Length == 0)
        {
            mantissa = 1L << exponent;
            precision = 15 - num.Length - (int)((float)exponent * 3 / 10) - 1;
        }
        else precision = -1;
        if (precision >= 0)
        {
            scale -= denom.Length;
            if (scale >= -9)
            {
                if (!long.TryParse(num + denom, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
                {
                    error = ErrNumeric;
                    return null;
                }
                var product = (BigInteger)v * mantissa;
                if (product <= long.MaxValue)
                    return new CelQuantity(positive ? product : -product, scale, isDec: false);
            }
        }

        // the inf.Dec path: exact, rounded up (away from zero) to nano units; binary amounts capped at 2^63-1
        string digits = num + denom;
        if (digits.Length == 0) { error = ErrNumeric; return null; }
        var unscaled = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        int exp = -denom.Length;
        if (@base == 10) exp += exponent;
        else unscaled *= BigInteger.One << exponent;
        if (!unscaled.IsZero && exp < -9 && Digits(unscaled) + (long)exp <= -9)
        {
            // below one nano unit: rounded up to it (checked first, so a huge negative exponent costs nothing)
            unscaled = 1;
            exp = -9;
        }
        else if (!unscaled.IsZero && exp < -9)
        {
            var div = BigInteger.Pow(10, -9 - exp);
            var q = BigInteger.DivRem(unscaled, div, out var rem);
            unscaled = rem.IsZero ? q : q + 1;
            exp = -9;
        }
        else if (!unscaled.IsZero && exp > -9 && exp <= 1000)
        {
            // inf.Dec.Round leaves the amount at scale 9 (nano units), which AsApproximateFloat64 starts from;
            // far larger exponents stay symbolic (same value) rather than growing a huge number
            unscaled *= BigInteger.Pow(10, exp + 9);
            exp = -9;
        }
        if (binary)
        {
            var max = new CelQuantity(long.MaxValue, 0, true);
            if (Compare(new CelQuantity(unscaled, exp, true), max) > 0) { unscaled = long.MaxValue; exp = 0; }
        }
        return new CelQuantity(positive ? unscaled : -unscaled, exp, isDec: true);
    }

    // parseQuantityString: sign, digits, optional '.' and digits, then the suffix characters
    static bool Split(string str, out bool positive, out string num, out string denom, out string suffix)
    {
        positive = true;
        num = denom = suffix = "";
        int pos = 0, end = str.Length;
        if (str[0] == '-') { positive = false; pos++; }
        else if (str[0] == '+') pos++;
        int start = pos;
        while (pos < end && char.IsAsciiDigit(str[pos])) pos++;
        num = str[start..pos];
        if (pos < end && str[pos] == '.')
        {
            pos++;
            int ds = pos;
            while (pos < end && char.IsAsciiDigit(str[pos])) pos++;
            denom = str[ds..pos];
        }
        if (pos >= end) return true;
        int suffixStart = pos;
        while (pos < end && "eEinumkKMGTP".Contains(str[pos])) pos++;
        if (pos >= end) { suffix = str[suffixStart..]; return true; }
        if (str[pos] is '-' or '+') pos++;
        while (pos < end && char.IsAsciiDigit(str[pos])) pos++;
        if (pos >= end) { suffix = str[suffixStart..]; return true; }
        return false;
    }

    // suffixer.interpret: decimal SI, binary SI, or a decimal exponent e<n>/E<n> (n an int32)
    static bool Interpret(string s, out int @base, out int exponent, out bool binary)
    {
        @base = 10;
        binary = false;
        exponent = s switch
        {
            "n" => -9, "u" => -6, "m" => -3, "" => 0, "k" => 3, "M" => 6, "G" => 9, "T" => 12, "P" => 15, "E" => 18,
            _ => int.MinValue,
        };
        if (exponent != int.MinValue) return true;
        exponent = s switch { "Ki" => 10, "Mi" => 20, "Gi" => 30, "Ti" => 40, "Pi" => 50, "Ei" => 60, _ => int.MinValue };
        if (exponent != int.MinValue) { @base = 2; binary = true; return true; }
        if (s.Length > 1 && s[0] is 'e' or 'E' && long.TryParse(s.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long e)
            && e is >= int.MinValue and <= int.MaxValue)
        {
            exponent = (int)e;
            return true;
        }
        exponent = 0;
        return false;
    }

    /// <summary>Cmp: the exact order of two quantities.</summary>
    public static int Compare(CelQuantity a, CelQuantity b)
    {
        int sa = a.Unscaled.Sign, sb = b.Unscaled.Sign;
        if (sa != sb) return sa.CompareTo(sb);
        if (sa == 0) return 0;
        // compare magnitudes by their decimal size first, so far-apart exponents need no scaling
        long ma = Digits(a.Unscaled) + (long)a.Exp, mb = Digits(b.Unscaled) + (long)b.Exp;
        if (ma != mb) return ma > mb ? sa : -sa;
        var (x, y) = Align(a, b);
        return x.CompareTo(y);
    }

    static long Digits(BigInteger v) => BigInteger.Abs(v).ToString(CultureInfo.InvariantCulture).Length;

    static (BigInteger, BigInteger) Align(CelQuantity a, CelQuantity b)
    {
        if (a.Exp == b.Exp) return (a.Unscaled, b.Unscaled);
        if (a.Exp > b.Exp) return (a.Unscaled * BigInteger.Pow(10, a.Exp - b.Exp), b.Unscaled);
        return (a.Unscaled, b.Unscaled * BigInteger.Pow(10, b.Exp - a.Exp));
    }

    /// <summary>Quantity.Add / Sub: int64 amounts while they fit (the smaller exponent kept), otherwise exact decimals.</summary>
    public static CelValue Add(CelQuantity a, CelQuantity b, bool subtract)
    {
        var bu = subtract ? -b.Unscaled : b.Unscaled;
        if ((long)Math.Abs((long)a.Exp - b.Exp) > 100_000) return new CelError("quantity exponents too far apart");
        if (!a.IsDec && !b.IsDec)
        {
            // int64Amount.Add
            if (bu.IsZero) return a;
            if (a.Unscaled.IsZero) return new CelQuantity(bu, b.Exp, false);
            var (x, y) = Align(a, new CelQuantity(bu, b.Exp, false));
            var sum = x + y;
            if (sum >= long.MinValue && sum <= long.MaxValue && x >= long.MinValue && x <= long.MaxValue && y >= long.MinValue && y <= long.MaxValue)
                return new CelQuantity(sum, Math.Min(a.Exp, b.Exp), false);
        }
        var (p, r) = Align(a, new CelQuantity(bu, b.Exp, true));
        return new CelQuantity(p + r, Math.Min(a.Exp, b.Exp), true);
    }

    /// <summary>AsInt64: only int64 amounts with a non-negative exponent whose value fits.</summary>
    public bool TryAsInt64(out long value)
    {
        value = 0;
        if (IsDec) return false;
        if (Exp == 0) { value = (long)Unscaled; return true; }
        if (Exp < 0 || Exp > 18 && !Unscaled.IsZero) return Unscaled.IsZero && Exp >= 0;
        var v = Unscaled * BigInteger.Pow(10, Exp);
        if (v < long.MinValue || v > long.MaxValue) return false;
        value = (long)v;
        return true;
    }

    /// <summary>AsApproximateFloat64: the unscaled value as a double times Go's math.Pow10 of the exponent.</summary>
    public double AsApproximateFloat64()
    {
        double b = (double)Unscaled;
        return Exp == 0 ? b : b * Pow10(Exp);
    }

    // Go's math.Pow10 (table products, as Go computes them)
    static double Pow10(int n)
    {
        if (n >= 0 && n <= 308) return PosTab32[n / 32] * Tab[n % 32];
        if (n >= -323 && n <= 0) return NegTab32[-n / 32] / Tab[-n % 32];
        return n > 0 ? double.PositiveInfinity : 0;
    }

    static readonly double[] Tab =
    [
        1e00, 1e01, 1e02, 1e03, 1e04, 1e05, 1e06, 1e07, 1e08, 1e09, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
        1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31,
    ];
    static readonly double[] PosTab32 = [1e00, 1e32, 1e64, 1e96, 1e128, 1e160, 1e192, 1e224, 1e256, 1e288];
    static readonly double[] NegTab32 = [1e-00, 1e-32, 1e-64, 1e-96, 1e-128, 1e-160, 1e-192, 1e-224, 1e-256, 1e-288, 1e-320];
}

/// <summary>quantity.go (kubernetes.quantity).</summary>
internal static class KubernetesQuantity
{
    public static void Add(CelEnvironment env)
    {
        const string Q = "kubernetes.Quantity";
        env.DeclareType(CelQuantity.QuantityType);
        env.DeclareFunction($"quantity(string) -> {Q}");
        env.DeclareFunction("isQuantity(string) -> bool");
        // declared as a global overload upstream (cel.Overload), so it is called as sign(q)
        env.DeclareFunction($"sign({Q}) -> int");
        env.DeclareFunction($"{Q}.isGreaterThan({Q}) -> bool");
        env.DeclareFunction($"{Q}.isLessThan({Q}) -> bool");
        env.DeclareFunction($"{Q}.compareTo({Q}) -> int");
        env.DeclareFunction($"{Q}.asApproximateFloat() -> double");
        env.DeclareFunction($"{Q}.asInteger() -> int");
        env.DeclareFunction($"{Q}.isInteger() -> bool");
        env.DeclareFunction($"{Q}.add({Q}) -> {Q}");
        env.DeclareFunction($"{Q}.add(int) -> {Q}");
        env.DeclareFunction($"{Q}.sub({Q}) -> {Q}");
        env.DeclareFunction($"{Q}.sub(int) -> {Q}");

        env.AddFunction("quantity", a =>
        {
            if (a.Length != 1 || a[0] is not CelString s) return null;
            return CelQuantity.Parse(s.Value, out var err) is { } q ? q : new CelError(err!);
        });
        env.AddFunction("isQuantity", a => a.Length == 1 && a[0] is CelString s ? CelBool.Of(CelQuantity.Parse(s.Value, out _) is not null) : null);
        env.AddFunction("sign", a => a.Length == 1 && a[0] is CelQuantity q ? CelInt.Of(q.Sign) : null);
        env.AddMemberFunction("isGreaterThan", a => a.Length == 2 && a[0] is CelQuantity x && a[1] is CelQuantity y ? CelBool.Of(CelQuantity.Compare(x, y) == 1) : null);
        env.AddMemberFunction("isLessThan", a => a.Length == 2 && a[0] is CelQuantity x && a[1] is CelQuantity y ? CelBool.Of(CelQuantity.Compare(x, y) == -1) : null);
        env.AddMemberFunction("compareTo", a => a.Length == 2 && a[0] is CelQuantity x && a[1] is CelQuantity y ? CelInt.Of(CelQuantity.Compare(x, y)) : null);
        env.AddMemberFunction("asApproximateFloat", a => a.Length == 1 && a[0] is CelQuantity q ? new CelDouble(q.AsApproximateFloat64()) : null);
        env.AddMemberFunction("isInteger", a => a.Length == 1 && a[0] is CelQuantity q ? CelBool.Of(q.TryAsInt64(out _)) : null);
        env.AddMemberFunction("asInteger", a =>
        {
            if (a.Length != 1 || a[0] is not CelQuantity q) return null;
            return q.TryAsInt64(out long v) ? CelInt.Of(v) : new CelError("cannot convert value to integer");
        });
        foreach (var (name, subtract) in new[] { ("add", false), ("sub", true) })
        {
            env.AddMemberFunction(name, a =>
            {
                if (a.Length != 2 || a[0] is not CelQuantity x) return null;
                return a[1] switch
                {
                    CelQuantity y => CelQuantity.Add(x, y, subtract),
                    CelInt i => CelQuantity.Add(x, new CelQuantity(i.Value, 0, false), subtract),
                    _ => null,
                };
            });
        }
    }
}
