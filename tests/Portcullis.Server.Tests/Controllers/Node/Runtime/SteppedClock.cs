using System.Threading.Channels;

namespace Portcullis.Server.Tests.Controllers.Node.Runtime;

/// <summary>
/// A clock the test moves by hand, with timers (so <c>Task.Delay(d, clock)</c> works). Unlike
/// FakeTimeProvider, a jump fires each due timer once, on the thread pool, with the clock already
/// at the jump's target: a loop that waits on a 10-second delay runs exactly one pass per jump,
/// at a known instant, however far the jump goes. The test learns that a pass has finished from
/// the loop's next timer being created (<see cref="NextTimerAsync"/>).
/// </summary>
public sealed class SteppedClock(DateTimeOffset start) : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<SteppedTimer> _timers = [];
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new SteppedTimer(this, callback, state);
        t.Change(dueTime, period);
        _created.Writer.TryWrite(dueTime);
        return t;
    }

    /// <summary>Moves the clock by <paramref name="by"/> and fires, once each, the timers then due.</summary>
    public void Advance(TimeSpan by)
    {
        List<SteppedTimer> due;
        lock (_gate)
        {
            _now += by;
            due = _timers.Where(t => t.DueAt <= _now).ToList();
            foreach (var t in due)
            {
                if (t.Period is { } p) t.DueAt = _now + p;
                else _timers.Remove(t);
            }
        }
        foreach (var t in due) ThreadPool.QueueUserWorkItem(_ => t.Fire());
    }

    /// <summary>Waits until a timer of <paramref name="dueTime"/> is created (skipping others); fails after a generous wait.</summary>
    public async Task NextTimerAsync(TimeSpan dueTime)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await _created.Reader.ReadAsync(cts.Token) != dueTime) { }
    }

    private sealed class SteppedTimer(SteppedClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset DueAt { get; set; }
        public TimeSpan? Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan) return true;
                DueAt = clock._now + dueTime;
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period;
                if (dueTime > TimeSpan.Zero || Period is not null) clock._timers.Add(this);
            }
            if (dueTime <= TimeSpan.Zero) ThreadPool.QueueUserWorkItem(_ => Fire());
            return true;
        }

        public void Dispose()
        {
            lock (clock._gate) clock._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
