using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Portcullis.Cel;

// The standard conversions (int, uint, double, string, bytes, bool, dyn, type) and time functions.
internal static partial class Std
{
    // ---------- conversions ----------

    static CelValue? ToInt(CelValue v)
    {
        switch (v)
        {
            case CelInt: return v;
            case CelUint u: return u.Value > long.MaxValue ? IntOverflow : CelInt.Of((long)u.Value);
            case CelDouble d:
                // [-2^63, 2^63): the largest doubles below 2^63 are exactly representable; 2^63 itself is not an int
                if (double.IsNaN(d.Value) || d.Value <= -9223372036854775808.0 || d.Value >= 9223372036854775807.0)
                    return IntOverflow;
                return CelInt.Of((long)Math.Truncate(d.Value));
            case CelString s:
                return long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)
                    ? CelInt.Of(l) : ConversionError("string", "int");
            case CelTimestamp t: return CelInt.Of(t.Seconds);
            case CelDuration d: return CelInt.Of(d.Nanos);
            default: return null;
        }
    }

    static CelValue? ToUint(CelValue v)
    {
        switch (v)
        {
            case CelUint: return v;
            case CelInt i: return i.Value < 0 ? UintOverflow : new CelUint((ulong)i.Value);
            case CelDouble d:
                if (double.IsNaN(d.Value) || d.Value <= -1.0 || d.Value >= 18446744073709551615.0)
                    return UintOverflow;
                return new CelUint((ulong)Math.Truncate(d.Value));
            case CelString s:
                return ulong.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong u)
                    ? new CelUint(u) : ConversionError("string", "uint");
            default: return null;
        }
    }

    static CelValue? ToDouble(CelValue v)
    {
        switch (v)
        {
            case CelDouble: return v;
            case CelInt i: return new CelDouble(i.Value);
            case CelUint u: return new CelDouble(u.Value);
            case CelString s:
                string t = s.Value;
                double d;
                if (t is "NaN" or "nan") d = double.NaN;
                else if (t is "Inf" or "+Inf" or "inf" or "+inf" or "Infinity" or "+Infinity" or "infinity") d = double.PositiveInfinity;
                else if (t is "-Inf" or "-inf" or "-Infinity" or "-infinity") d = double.NegativeInfinity;
                else if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out d))
                    return ConversionError("string", "double");
                return new CelDouble(d);
            default: return null;
        }
    }

    static CelValue? ToBool(CelValue v)
    {
        switch (v)
        {
            case CelBool: return v;
            case CelString s:
                return s.Value switch
                {
                    "1" or "t" or "T" or "TRUE" or "true" or "True" => CelBool.True,
                    "0" or "f" or "F" or "FALSE" or "false" or "False" => CelBool.False,
                    _ => ConversionError("string", "bool"),
                };
            default: return null;
        }
    }

    static CelValue? ToStr(CelValue v)
    {
        switch (v)
        {
            case CelString: return v;
            case CelInt i: return new CelString(i.Value.ToString(CultureInfo.InvariantCulture));
            case CelUint u: return new CelString(u.Value.ToString(CultureInfo.InvariantCulture));
            case CelDouble d: return new CelString(GoFloat.FormatG(d.Value));
            case CelBool b: return new CelString(b.Value ? "true" : "false");
            case CelBytes b:
                try { return new CelString(new UTF8Encoding(false, true).GetString(b.Value)); }
                catch (DecoderFallbackException) { return new CelError("invalid UTF-8 in bytes, cannot convert to string"); }
            case CelTimestamp t: return new CelString(Time.FormatTimestamp(t));
            case CelDuration d: return new CelString(Time.FormatDuration(d.Nanos));
            default: return null;
        }
    }

    // ---------- time ----------

    static CelValue? TimeAccessor(string fn, CelValue v, string? zone)
    {
        if (v is CelDuration d)
        {
            if (zone is not null) return null;
            long n = d.Nanos;
            return fn switch
            {
                "getHours" => CelInt.Of(n / 3_600_000_000_000L),
                "getMinutes" => CelInt.Of(n / 60_000_000_000L),
                "getSeconds" => CelInt.Of(n / 1_000_000_000L),
                // cel-go (and so Kubernetes) gives the whole duration in milliseconds (Go's Duration.Milliseconds),
                // where cel-spec's conformance case expects the milliseconds part; cel-go skips that case
                "getMilliseconds" => CelInt.Of(n / 1_000_000L),
                _ => null,
            };
        }
        if (v is not CelTimestamp t) return null;
        if (Time.Local(t, zone) is not { } dt) return new CelError($"unknown time zone: {zone}");
        return fn switch
        {
            "getFullYear" => CelInt.Of(dt.Year),
            "getMonth" => CelInt.Of(dt.Month - 1),
            "getDayOfYear" => CelInt.Of(dt.DayOfYear - 1),
            "getDayOfMonth" => CelInt.Of(dt.Day - 1),
            "getDate" => CelInt.Of(dt.Day),
            "getDayOfWeek" => CelInt.Of((int)dt.DayOfWeek),
            "getHours" => CelInt.Of(dt.Hour),
            "getMinutes" => CelInt.Of(dt.Minute),
            "getSeconds" => CelInt.Of(dt.Second),
            "getMilliseconds" => CelInt.Of(t.Nanos / 1_000_000),
            _ => null,
        };
    }
}
