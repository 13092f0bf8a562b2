using System.Globalization;

namespace Portcullis.Server.Api.Printing;

/// <summary>
/// apimachinery's <c>duration.HumanDuration</c>: an age with two or three significant figures
/// ("39s", "2m8s", "5m", "7h3m", "2d12h", "3y"), and printers' <c>translateTimestampSince</c>.
/// </summary>
public static class HumanDuration
{
    /// <summary>Formats a duration the way kubectl's AGE column shows it.</summary>
    public static string Format(TimeSpan d)
    {
        // Go truncates toward zero (int(d.Seconds()), d / time.Minute, ...); so does C# integer division.
        long ticks = d.Ticks;
        long seconds = ticks / TimeSpan.TicksPerSecond;
        // Up to a second and a bit of clock skew still counts as "now".
        if (seconds < -1) return "<invalid>";
        if (seconds < 0) return "0s";
        if (seconds < 60 * 2) return F($"{seconds}s");

        long minutes = ticks / TimeSpan.TicksPerMinute;
        if (minutes < 10)
        {
            long s = seconds % 60;
            return s == 0 ? F($"{minutes}m") : F($"{minutes}m{s}s");
        }
        if (minutes < 60 * 3) return F($"{minutes}m");

        long hours = ticks / TimeSpan.TicksPerHour;
        if (hours < 8)
        {
            long m = minutes % 60;
            return m == 0 ? F($"{hours}h") : F($"{hours}h{m}m");
        }
        if (hours < 48) return F($"{hours}h");
        if (hours < 24 * 8)
        {
            long h = hours % 24;
            return h == 0 ? F($"{hours / 24}d") : F($"{hours / 24}d{h}h");
        }
        if (hours < 24 * 365 * 2) return F($"{hours / 24}d");
        if (hours < 24 * 365 * 8)
        {
            long dy = hours / 24 % 365;
            return dy == 0 ? F($"{hours / 24 / 365}y") : F($"{hours / 24 / 365}y{dy}d");
        }
        return F($"{hours / 24 / 365}y");
    }

    /// <summary>The age of a timestamp at <paramref name="now"/>; "&lt;unknown&gt;" when the timestamp is unset.</summary>
    public static string Since(DateTimeOffset? timestamp, DateTimeOffset now) =>
        timestamp is { } t ? Format(now - t) : "<unknown>";

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
