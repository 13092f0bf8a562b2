using System.Globalization;
using System.Text;

namespace Portcullis.Cel;

/// <summary>Durations (Go time.Duration syntax and range) and RFC 3339 timestamps, as cel-go.</summary>
internal static class Time
{
    const long NanosPerSecond = 1_000_000_000L;

    /// <summary>Parses Go's duration syntax: an optional sign and a sequence of decimal numbers with a unit
    /// (ns, us, µs, ms, s, m, h). Null when the text is malformed or out of the int64 nanosecond range.</summary>
    public static long? ParseDuration(string s)
    {
        int i = 0;
        bool neg = false;
        if (i < s.Length && s[i] is '+' or '-') { neg = s[i] == '-'; i++; }
        if (s[i..] == "0") return 0;
        if (i >= s.Length) return null;
        decimal total = 0;
        while (i < s.Length)
        {
            int ns = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (i == ns) return null;
            if (!decimal.TryParse(s.AsSpan(ns, i - ns), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal num)) return null;
            int us = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.') i++;
            decimal unit = s[us..i] switch
            {
                "ns" => 1m, "us" or "µs" or "μs" => 1_000m, "ms" => 1_000_000m, "s" => 1_000_000_000m,
                "m" => 60_000_000_000m, "h" => 3_600_000_000_000m, _ => -1m,
            };
            if (unit < 0) return null;
            try { total += num * unit; }
            catch (OverflowException) { return null; }
            if (total > (decimal)long.MaxValue + 1) return null;
        }
        total = decimal.Truncate(total);
        if (neg) total = -total;
        if (total > long.MaxValue || total < long.MinValue) return null;
        return (long)total;
    }

    /// <summary>cel-go's string(duration): seconds with up to nine fraction digits and an "s".</summary>
    public static string FormatDuration(long nanos)
    {
        var sb = new StringBuilder();
        Int128 n = nanos;
        if (n < 0) { sb.Append('-'); n = -n; }
        Int128 sec = n / NanosPerSecond, frac = n % NanosPerSecond;
        sb.Append(sec.ToString(CultureInfo.InvariantCulture));
        if (frac != 0) sb.Append('.').Append(((long)frac).ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0'));
        return sb.Append('s').ToString();
    }

    /// <summary>Parses an RFC 3339 timestamp (with a 'Z' or numeric offset, up to nine fraction digits).</summary>
    public static CelTimestamp? ParseTimestamp(string s)
    {
        // yyyy-mm-ddThh:mm:ss[.fffffffff](Z|+hh:mm|-hh:mm)
        if (s.Length < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return null;
        if (!Num(s, 0, 4, out int year) || !Num(s, 5, 2, out int month) || !Num(s, 8, 2, out int day) ||
            !Num(s, 11, 2, out int hour) || !Num(s, 14, 2, out int minute) || !Num(s, 17, 2, out int second)) return null;
        int i = 19;
        long nanos = 0;
        if (i < s.Length && s[i] == '.')
        {
            int fs = ++i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            int digits = i - fs;
            if (digits is 0 or > 9) return null;
            nanos = long.Parse(s.AsSpan(fs, digits), CultureInfo.InvariantCulture);
            for (int k = digits; k < 9; k++) nanos *= 10;
        }
        if (i >= s.Length) return null;
        int offsetSeconds = 0;
        if (s[i] == 'Z') { i++; }
        else if (s[i] is '+' or '-')
        {
            if (s.Length != i + 6 || s[i + 3] != ':' || !Num(s, i + 1, 2, out int oh) || !Num(s, i + 4, 2, out int om)) return null;
            offsetSeconds = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
            i += 6;
        }
        else return null;
        if (i != s.Length) return null;
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return null;
        long secs = (long)(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalSeconds - offsetSeconds;
        if (secs < CelTimestamp.MinSeconds || secs > CelTimestamp.MaxSeconds) return null;
        return new CelTimestamp(secs, (int)nanos);
    }

    static bool Num(string s, int at, int len, out int v)
    {
        v = 0;
        if (at + len > s.Length) return false;
        for (int k = 0; k < len; k++)
        {
            if (!char.IsAsciiDigit(s[at + k])) return false;
            v = v * 10 + (s[at + k] - '0');
        }
        return true;
    }

    /// <summary>RFC 3339 in UTC with the fraction trimmed of trailing zeros (Go's RFC3339Nano).</summary>
    public static string FormatTimestamp(CelTimestamp t)
    {
        var dt = DateTime.UnixEpoch.AddSeconds(t.Seconds);
        var sb = new StringBuilder(dt.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        if (t.Nanos != 0) sb.Append('.').Append(t.Nanos.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0'));
        return sb.Append('Z').ToString();
    }

    public static bool InRange(long seconds) => seconds >= CelTimestamp.MinSeconds && seconds <= CelTimestamp.MaxSeconds;

    /// <summary>Adds nanoseconds to a timestamp; null on leaving the valid range.</summary>
    public static CelTimestamp? Add(CelTimestamp t, Int128 nanos)
    {
        Int128 total = (Int128)t.Seconds * NanosPerSecond + t.Nanos + nanos;
        Int128 sec = total / NanosPerSecond, rem = total % NanosPerSecond;
        if (rem < 0) { rem += NanosPerSecond; sec -= 1; }
        if (sec < CelTimestamp.MinSeconds || sec > CelTimestamp.MaxSeconds) return null;
        return new CelTimestamp((long)sec, (int)rem);
    }

    public static Int128 Diff(CelTimestamp a, CelTimestamp b) =>
        ((Int128)a.Seconds - b.Seconds) * NanosPerSecond + (a.Nanos - b.Nanos);

    /// <summary>The local date and time of a timestamp in a zone: an IANA name or a "[+-]hh:mm" offset.</summary>
    public static DateTime? Local(CelTimestamp t, string? zone)
    {
        var utc = DateTime.UnixEpoch.AddSeconds(t.Seconds).AddTicks(t.Nanos / 100);
        if (zone is null) return utc;
        if (zone.Length > 0 && (zone[0] is '+' or '-' || char.IsAsciiDigit(zone[0])) && zone.Contains(':'))
        {
            int sign = 1;
            string z = zone;
            if (z[0] is '+' or '-') { sign = z[0] == '-' ? -1 : 1; z = z[1..]; }
            var parts = z.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int h) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int m)) return null;
            return utc.AddMinutes(sign * (h * 60 + m));
        }
        try
        {
            var tz = TimeZoneInfo.FindSystemTimeZoneById(zone);
            return TimeZoneInfo.ConvertTimeFromUtc(utc, tz);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException or IOException
            or UnauthorizedAccessException or System.Security.SecurityException)
        {
            return null;
        }
    }
}
