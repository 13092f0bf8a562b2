using System.Globalization;
using System.Text.RegularExpressions;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// The standard cron parser CronJobs use upstream (robfig/cron v3 ParseStandard: five fields or a
/// descriptor, optional TZ=/CRON_TZ= prefix); returns its error text, or null when the schedule parses.
/// </summary>
internal static partial class CronSchedule
{
    private sealed record Bounds(int Min, int Max, Dictionary<string, int>? Names);

    private static readonly Bounds Minutes = new(0, 59, null);
    private static readonly Bounds Hours = new(0, 23, null);
    private static readonly Bounds Dom = new(1, 31, null);
    private static readonly Bounds Months = new(1, 12, new()
    {
        ["jan"] = 1, ["feb"] = 2, ["mar"] = 3, ["apr"] = 4, ["may"] = 5, ["jun"] = 6,
        ["jul"] = 7, ["aug"] = 8, ["sep"] = 9, ["oct"] = 10, ["nov"] = 11, ["dec"] = 12,
    });
    private static readonly Bounds Dow = new(0, 6, new()
    {
        ["sun"] = 0, ["mon"] = 1, ["tue"] = 2, ["wed"] = 3, ["thu"] = 4, ["fri"] = 5, ["sat"] = 6,
    });

    public static string? Parse(string spec)
    {
        if (spec.Length == 0) return "empty spec string";
        if (spec.StartsWith("TZ=", StringComparison.Ordinal) || spec.StartsWith("CRON_TZ=", StringComparison.Ordinal))
        {
            var sp = spec.IndexOf(' ');
            var eq = spec.IndexOf('=');
            if (sp < 0) return $"invalid schedule {spec}"; // upstream panics here and recovers
            var loc = spec[(eq + 1)..sp];
            if (!KnownTimeZone(loc)) return $"provided bad location {loc}: unknown time zone {loc}";
            spec = spec[sp..].Trim();
        }
        if (spec.StartsWith('@')) return Descriptor(spec);
        var fields = spec.Split([' ', '\t', '\n', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5) return $"expected exactly 5 fields, found {fields.Length}: [{string.Join(" ", fields)}]";
        Bounds[] bounds = [Minutes, Hours, Dom, Months, Dow];
        for (var i = 0; i < 5; i++)
            foreach (var expr in fields[i].Split(',', StringSplitOptions.RemoveEmptyEntries))
                if (Range(expr, bounds[i]) is { } err) return err;
        return null;
    }

    private static string? Descriptor(string d)
    {
        if (d is "@yearly" or "@annually" or "@monthly" or "@weekly" or "@daily" or "@midnight" or "@hourly") return null;
        const string every = "@every ";
        if (d.StartsWith(every, StringComparison.Ordinal))
            return GoDuration(d[every.Length..]) is { } err ? $"failed to parse duration {d}: {err}" : null;
        return $"unrecognized descriptor: {d}";
    }

    private static string? Range(string expr, Bounds r)
    {
        var rangeAndStep = expr.Split('/');
        var lowAndHigh = rangeAndStep[0].Split('-');
        var single = lowAndHigh.Length == 1;
        long start, end, step;
        string? err;
        if (lowAndHigh[0] is "*" or "?")
        {
            start = r.Min;
            end = r.Max;
        }
        else
        {
            if ((err = IntOrName(lowAndHigh[0], r, out start)) is not null) return err;
            switch (lowAndHigh.Length)
            {
                case 1: end = start; break;
                case 2:
                    if ((err = IntOrName(lowAndHigh[1], r, out end)) is not null) return err;
                    break;
                default: return $"too many hyphens: {expr}";
            }
        }
        switch (rangeAndStep.Length)
        {
            case 1: step = 1; break;
            case 2:
                if ((err = MustParseInt(rangeAndStep[1], out step)) is not null) return err;
                if (single) end = r.Max;
                break;
            default: return $"too many slashes: {expr}";
        }
        if (start < r.Min) return $"beginning of range ({start}) below minimum ({r.Min}): {expr}";
        if (end > r.Max) return $"end of range ({end}) above maximum ({r.Max}): {expr}";
        if (start > end) return $"beginning of range ({start}) beyond end of range ({end}): {expr}";
        if (step == 0) return $"step of range should be a positive number: {expr}";
        return null;
    }

    private static string? IntOrName(string expr, Bounds r, out long value)
    {
        if (r.Names is not null && r.Names.TryGetValue(expr.ToLowerInvariant(), out var n)) { value = n; return null; }
        return MustParseInt(expr, out value);
    }

    [GeneratedRegex("^[+-]?[0-9]+$")] private static partial Regex IntRx();

    private static string? MustParseInt(string expr, out long value)
    {
        value = 0;
        if (!IntRx().IsMatch(expr))
            return $"failed to parse int from {expr}: strconv.Atoi: parsing {GoText.Quote(expr)}: invalid syntax";
        if (!long.TryParse(expr, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
            return $"failed to parse int from {expr}: strconv.Atoi: parsing {GoText.Quote(expr)}: value out of range";
        if (value < 0) return $"negative number ({value}) not allowed: {expr}";
        return null;
    }

    [GeneratedRegex(@"^[-+]?(([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+|0)$")] private static partial Regex DurationRx();

    /// <summary>time.ParseDuration's verdict, as its error text.</summary>
    private static string? GoDuration(string s)
    {
        if (DurationRx().IsMatch(s) && s.Any(char.IsAsciiDigit)) return null;
        if (s.Length > 0 && s.Trim('+', '-').All(c => char.IsAsciiDigit(c) || c == '.') && s.Trim('+', '-') != "0")
            return $"time: missing unit in duration {GoText.TimeQuote(System.Text.Encoding.UTF8.GetBytes(s))}";
        return $"time: invalid duration {GoText.TimeQuote(System.Text.Encoding.UTF8.GetBytes(s))}";
    }

    public static bool KnownTimeZone(string name)
    {
        if (name is "UTC" or "Local" or "") return true;
        try { TimeZoneInfo.FindSystemTimeZoneById(name); return true; }
        catch (TimeZoneNotFoundException) { return false; }
        catch (InvalidTimeZoneException) { return false; }
    }
}
