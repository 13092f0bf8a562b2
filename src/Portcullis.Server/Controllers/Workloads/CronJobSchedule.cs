using System.Globalization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// A parsed cron schedule as robfig/cron v3's ParseStandard builds it (parser.go, spec.go, constantdelay.go):
/// five fields or a descriptor, an optional <c>TZ=</c>/<c>CRON_TZ=</c> prefix, bit sets per field, and
/// <see cref="Next"/>: the first activation strictly after a time, in the schedule's time zone. Validation's
/// error texts are <see cref="Api.Validation.CronSchedule.Parse"/>'s; this parser only says whether it parses.
/// </summary>
public sealed class CronJobSchedule
{
    private const ulong StarBit = 1UL << 63;

    private readonly ulong _second, _minute, _hour, _dom, _month, _dow;
    private readonly TimeSpan? _every;

    private CronJobSchedule(ulong second, ulong minute, ulong hour, ulong dom, ulong month, ulong dow, TimeZoneInfo zone)
    {
        (_second, _minute, _hour, _dom, _month, _dow) = (second, minute, hour, dom, month, dow);
        Zone = zone;
    }

    private CronJobSchedule(TimeSpan every, TimeZoneInfo zone)
    {
        _every = every;
        Zone = zone;
    }

    /// <summary>The zone activations are computed in (UTC for the controller's "Local", as kube-controller-manager runs in UTC).</summary>
    public TimeZoneInfo Zone { get; }

    /// <summary>ParseStandard: the schedule, or null when it does not parse (or names an unknown zone).</summary>
    public static CronJobSchedule? Parse(string spec)
    {
        if (spec.Length == 0) return null;
        var zone = TimeZoneInfo.Utc;
        if (spec.StartsWith("TZ=", StringComparison.Ordinal) || spec.StartsWith("CRON_TZ=", StringComparison.Ordinal))
        {
            var sp = spec.IndexOf(' ');
            if (sp < 0) return null;
            var name = spec[(spec.IndexOf('=') + 1)..sp];
            if (FindZone(name) is not { } z) return null;
            zone = z;
            spec = spec[sp..].Trim();
        }
        if (spec.StartsWith('@')) return Descriptor(spec, zone);
        var fields = spec.Split([' ', '\t', '\n', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5) return null;
        var minute = Field(fields[0], 0, 59, null);
        var hour = Field(fields[1], 0, 23, null);
        var dom = Field(fields[2], 1, 31, null);
        var month = Field(fields[3], 1, 12, Months);
        var dow = Field(fields[4], 0, 6, Days);
        if (minute is null || hour is null || dom is null || month is null || dow is null) return null;
        return new(1, minute.Value, hour.Value, dom.Value, month.Value, dow.Value, zone);
    }

    /// <summary>time.LoadLocation: "" and "UTC" are UTC, "Local" the controller's zone (UTC here), else an IANA name.</summary>
    public static TimeZoneInfo? FindZone(string name)
    {
        if (name is "" or "UTC" or "Local") return TimeZoneInfo.Utc;
        try { return TimeZoneInfo.FindSystemTimeZoneById(name); }
        catch (TimeZoneNotFoundException) { return null; }
        catch (InvalidTimeZoneException) { return null; }
    }

    private static readonly Dictionary<string, int> Months = new(StringComparer.OrdinalIgnoreCase)
    {
        ["jan"] = 1, ["feb"] = 2, ["mar"] = 3, ["apr"] = 4, ["may"] = 5, ["jun"] = 6,
        ["jul"] = 7, ["aug"] = 8, ["sep"] = 9, ["oct"] = 10, ["nov"] = 11, ["dec"] = 12,
    };

    private static readonly Dictionary<string, int> Days = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sun"] = 0, ["mon"] = 1, ["tue"] = 2, ["wed"] = 3, ["thu"] = 4, ["fri"] = 5, ["sat"] = 6,
    };

    private static ulong All(int min, int max) => Bits(min, max, 1) | StarBit;

    private static ulong Bits(int min, int max, int step)
    {
        ulong bits = 0;
        for (var i = min; i <= max; i += step) bits |= 1UL << i;
        return bits;
    }

    private static CronJobSchedule? Descriptor(string d, TimeZoneInfo zone)
    {
        const ulong First = 1;
        return d switch
        {
            "@yearly" or "@annually" => new(First, First, First, 1UL << 1, 1UL << 1, All(0, 6), zone),
            "@monthly" => new(First, First, First, 1UL << 1, All(1, 12), All(0, 6), zone),
            "@weekly" => new(First, First, First, All(1, 31), All(1, 12), 1UL << 0, zone),
            "@daily" or "@midnight" => new(First, First, First, All(1, 31), All(1, 12), All(0, 6), zone),
            "@hourly" => new(First, First, All(0, 23), All(1, 31), All(1, 12), All(0, 6), zone),
            _ when d.StartsWith("@every ", StringComparison.Ordinal) && GoDuration(d["@every ".Length..]) is { } every =>
                // Every: at least a second, whole seconds.
                new(every < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(Math.Floor(every.TotalSeconds)), zone),
            _ => null,
        };
    }

    /// <summary>getField: comma-separated ranges "a", "a-b", "*", "?", each with an optional "/step".</summary>
    private static ulong? Field(string field, int min, int max, Dictionary<string, int>? names)
    {
        ulong bits = 0;
        foreach (var expr in field.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Range(expr, min, max, names) is not { } b) return null;
            bits |= b;
        }
        return bits;
    }

    private static ulong? Range(string expr, int min, int max, Dictionary<string, int>? names)
    {
        var rangeAndStep = expr.Split('/');
        var lowAndHigh = rangeAndStep[0].Split('-');
        var single = lowAndHigh.Length == 1;
        int start, end, step;
        ulong extra = 0;
        if (lowAndHigh[0] is "*" or "?")
        {
            (start, end, extra) = (min, max, StarBit);
        }
        else
        {
            if (Number(lowAndHigh[0], names) is not { } s) return null;
            start = s;
            switch (lowAndHigh.Length)
            {
                case 1: end = start; break;
                case 2:
                    if (Number(lowAndHigh[1], names) is not { } e) return null;
                    end = e;
                    break;
                default: return null;
            }
        }
        switch (rangeAndStep.Length)
        {
            case 1: step = 1; break;
            case 2:
                if (Number(rangeAndStep[1], null) is not { } st) return null;
                step = st;
                // "N/step" means "N-max/step".
                if (single) end = max;
                if (step > 1) extra = 0;
                break;
            default: return null;
        }
        if (start < min || end > max || start > end || step == 0) return null;
        return Bits(start, end, step) | extra;
    }

    private static int? Number(string s, Dictionary<string, int>? names)
    {
        if (names is not null && names.TryGetValue(s, out var n)) return n;
        return int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) && i >= 0 ? i : null;
    }

    /// <summary>time.ParseDuration for the forms @every takes ("1h30m", "90s", "1.5h").</summary>
    private static TimeSpan? GoDuration(string s)
    {
        if (s.Length == 0) return null;
        var total = 0.0;
        var i = 0;
        var negative = false;
        if (s[0] is '+' or '-') { negative = s[0] == '-'; i++; }
        if (i < s.Length && s[i..] == "0") return TimeSpan.Zero;
        while (i < s.Length)
        {
            var j = i;
            while (j < s.Length && (char.IsAsciiDigit(s[j]) || s[j] == '.')) j++;
            if (j == i || !double.TryParse(s[i..j], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v)) return null;
            var k = j;
            while (k < s.Length && !char.IsAsciiDigit(s[k]) && s[k] != '.') k++;
            var unit = s[j..k] switch
            {
                "ns" => 1e-9, "us" or "µs" or "μs" => 1e-6, "ms" => 1e-3, "s" => 1.0, "m" => 60.0, "h" => 3600.0, _ => -1,
            };
            if (unit < 0) return null;
            total += v * unit;
            i = k;
        }
        return TimeSpan.FromSeconds(negative ? -total : total);
    }

    /// <summary>
    /// Next: the first activation after <paramref name="t"/> (whole seconds), walking month, day, hour, minute and
    /// second in the schedule's zone as SpecSchedule.Next does; <see cref="DateTimeOffset.MinValue"/> when none
    /// comes within five years (an impossible date such as 30 February).
    /// </summary>
    public DateTimeOffset Next(DateTimeOffset t)
    {
        if (_every is { } every)
            return t.AddTicks(-(t.Ticks % TimeSpan.TicksPerSecond)) + every;
        // Start at the earliest possible time (the upcoming second).
        var u = t.ToUniversalTime();
        u = u.AddTicks(TimeSpan.TicksPerSecond - u.Ticks % TimeSpan.TicksPerSecond);
        var added = false;
        var yearLimit = Local(u).Year + 5;
    wrap:
        var l = Local(u);
        if (l.Year > yearLimit) return DateTimeOffset.MinValue;
        while ((1UL << l.Month & _month) == 0)
        {
            if (!added) { added = true; u = FromLocal(new DateTime(l.Year, l.Month, 1)); }
            u = FromLocal(Local(u).AddMonths(1));
            l = Local(u);
            if (l.Month == 1) goto wrap;
        }
        while (!DayMatches(l))
        {
            if (!added) { added = true; u = FromLocal(l.Date); }
            u = FromLocal(Local(u).AddDays(1));
            l = Local(u);
            // A day that does not start at midnight (DST): move to the midnight nearest.
            if (l.Hour != 0)
            {
                u = l.Hour > 12 ? u.AddHours(24 - l.Hour) : u.AddHours(-l.Hour);
                l = Local(u);
            }
            if (l.Day == 1) goto wrap;
        }
        while ((1UL << l.Hour & _hour) == 0)
        {
            if (!added) { added = true; u = FromLocal(new DateTime(l.Year, l.Month, l.Day, l.Hour, 0, 0)); }
            u = u.AddHours(1);
            l = Local(u);
            if (l.Hour == 0) goto wrap;
        }
        while ((1UL << l.Minute & _minute) == 0)
        {
            if (!added) { added = true; u = u.AddTicks(-(u.Ticks % TimeSpan.TicksPerMinute)); }
            u = u.AddMinutes(1);
            l = Local(u);
            if (l.Minute == 0) goto wrap;
        }
        while ((1UL << l.Second & _second) == 0)
        {
            if (!added) { added = true; u = u.AddTicks(-(u.Ticks % TimeSpan.TicksPerSecond)); }
            u = u.AddSeconds(1);
            l = Local(u);
            if (l.Second == 0) goto wrap;
        }
        return u.ToOffset(t.Offset);
    }

    /// <summary>dayMatches: with a "*" day-of-month or day-of-week both must match, otherwise either.</summary>
    private bool DayMatches(DateTime l)
    {
        var domMatch = (1UL << l.Day & _dom) != 0;
        var dowMatch = (1UL << (int)l.DayOfWeek & _dow) != 0;
        if ((_dom & StarBit) != 0 || (_dow & StarBit) != 0) return domMatch && dowMatch;
        return domMatch || dowMatch;
    }

    private DateTime Local(DateTimeOffset u) => TimeZoneInfo.ConvertTime(u, Zone).DateTime;

    /// <summary>
    /// time.Date in the zone: a wall time in a DST gap takes the offset from after the gap (Go's lookup of the
    /// instant computed with the earlier offset), an ambiguous one the earlier instant.
    /// </summary>
    private DateTimeOffset FromLocal(DateTime wall)
    {
        wall = DateTime.SpecifyKind(wall, DateTimeKind.Unspecified);
        TimeSpan offset;
        if (Zone.IsInvalidTime(wall)) offset = Zone.GetUtcOffset(wall.AddHours(3));
        else if (Zone.IsAmbiguousTime(wall)) offset = Zone.GetAmbiguousTimeOffsets(wall).Max();
        else offset = Zone.GetUtcOffset(wall);
        return new DateTimeOffset(wall, offset).ToUniversalTime();
    }
}
