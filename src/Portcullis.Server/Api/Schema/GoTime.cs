namespace Portcullis.Server.Api.Schema;

/// <summary>
/// Durations and instants computed from object fields the way Go computes them, so that any int64
/// an object may carry gives upstream's answer instead of an overflow: <c>time.Duration(s) * time.Second</c>
/// wraps around as int64 arithmetic does (9223372036854775807 s becomes −1 s), and an instant is
/// clamped to what DateTimeOffset can hold.
/// </summary>
public static class GoTime
{
    /// <summary><c>time.Duration(seconds) * time.Second</c>, wrapping on overflow like Go.</summary>
    public static TimeSpan Seconds(long seconds) => TimeSpan.FromTicks(unchecked(seconds * 1_000_000_000L) / 100);

    /// <summary><c>t.Add(d)</c>, clamped to the representable range instead of throwing.</summary>
    public static DateTimeOffset Add(DateTimeOffset t, TimeSpan d)
    {
        var ticks = t.UtcTicks;
        if (d.Ticks > 0 && ticks > DateTimeOffset.MaxValue.UtcTicks - d.Ticks) return DateTimeOffset.MaxValue;
        if (d.Ticks < 0 && ticks < DateTimeOffset.MinValue.UtcTicks - d.Ticks) return DateTimeOffset.MinValue;
        return new DateTimeOffset(ticks + d.Ticks, TimeSpan.Zero);
    }

    /// <summary><c>t.Add(time.Duration(seconds) * time.Second)</c>.</summary>
    public static DateTimeOffset AddSeconds(DateTimeOffset t, long seconds) => Add(t, Seconds(seconds));

    /// <summary>Task.Delay for any span: long waits go in steps Task.Delay accepts (it refuses more than ~49 days).</summary>
    public static async Task DelayAsync(TimeSpan delay, TimeProvider time, CancellationToken ct = default)
    {
        var step = TimeSpan.FromDays(30);
        while (delay > TimeSpan.Zero)
        {
            var d = delay > step ? step : delay;
            await Task.Delay(d, time, ct);
            delay -= d;
        }
    }
}
