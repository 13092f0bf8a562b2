using Portcullis.Server.FlowControl;

namespace Portcullis.Server.Tests.FlowControl;

/// <summary>
/// The queues of a limited level (upstream's queueset): fair dispatch between flows, the queue length limit, the
/// Reject response, and a waiting request that gives up. Time is a clock the test moves: no test waits on the wall clock.
/// </summary>
public sealed class QueueSetTests
{
    /// <summary>A clock for timestamps and elapsed time, moved by hand.</summary>
    private sealed class HandClock : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Interlocked.Read(ref _ticks);
        public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp());
        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    /// <summary>Two flow hashes whose one-card hands are different queues of <paramref name="queues"/>.</summary>
    private static (ulong Heavy, ulong Light) TwoFlows(int queues)
    {
        var dealer = new ShuffleShardingDealer(queues, 1);
        var heavy = ApfFilter.FlowHash("fs", "abuser");
        var heavyQueue = dealer.DealIntoHand(heavy)[0];
        for (var i = 0; ; i++)
        {
            var light = ApfFilter.FlowHash("fs", "light-" + i);
            if (dealer.DealIntoHand(light)[0] != heavyQueue) return (heavy, light);
        }
    }

    [Fact]
    public void A_light_flow_is_served_ahead_of_an_abusive_backlog()
    {
        var clock = new HandClock();
        var qs = new QueueSet("level", clock);
        qs.Configure(concurrencyLimit: 1, queues: 64, handSize: 1, queueLengthLimit: 100);
        var (heavy, light) = TwoFlows(64);

        // The abuser fills the one seat and queues 20 more; then the light flow asks three times.
        var requests = new List<(string Flow, QueueSet.Request R)>();
        for (var i = 0; i < 21; i++) requests.Add(("heavy", qs.StartRequest(heavy, out _)!));
        for (var i = 0; i < 3; i++) requests.Add(("light", qs.StartRequest(light, out _)!));
        Assert.Equal(23, qs.RequestsWaiting);

        // Serve one request at a time, each taking 10 ms, and note who is dispatched next.
        var dispatched = new HashSet<QueueSet.Request> { requests[0].R };
        var order = new List<string>();
        var running = requests[0].R;
        while (true)
        {
            clock.Advance(TimeSpan.FromMilliseconds(10));
            qs.Finish(running);
            var next = requests.Where(x => !dispatched.Contains(x.R) && x.R.Dispatched.IsCompleted).ToList();
            if (next.Count == 0) break;
            var one = Assert.Single(next);
            Assert.True(one.R.Dispatched.Result);
            dispatched.Add(one.R);
            order.Add(one.Flow);
            running = one.R;
        }
        Assert.Equal(23, order.Count);
        var lastLight = order.FindLastIndex(o => o.StartsWith("light", StringComparison.Ordinal));
        // First come, first served would dispatch the light flow after all 20 queued abusive requests (positions 20-22);
        // fair queuing alternates the two busy queues.
        Assert.True(lastLight <= 5, "dispatch order: " + string.Join(", ", order));
    }

    [Fact]
    public void A_full_queue_rejects_when_every_seat_is_taken()
    {
        var qs = new QueueSet("level", new HandClock());
        qs.Configure(concurrencyLimit: 1, queues: 1, handSize: 1, queueLengthLimit: 2);
        var running = qs.StartRequest(1, out var r0)!;
        Assert.True(running.Dispatched.IsCompletedSuccessfully);
        var waiting1 = qs.StartRequest(2, out _)!;
        var waiting2 = qs.StartRequest(3, out _)!;
        Assert.False(waiting1.Dispatched.IsCompleted);
        Assert.Null(qs.StartRequest(4, out var reason));
        Assert.Equal(RejectReason.QueueFull, reason);
        Assert.Equal(RejectReason.None, r0);

        qs.Finish(running);
        Assert.True(waiting1.Dispatched.Result);
        Assert.False(waiting2.Dispatched.IsCompleted);
        Assert.NotNull(qs.StartRequest(5, out _)); // room in the queue again
    }

    [Fact]
    public void A_reject_level_serves_up_to_its_limit_and_refuses_the_rest()
    {
        var qs = new QueueSet("catch-all", new HandClock());
        qs.Configure(concurrencyLimit: 2, queues: 0, handSize: 0, queueLengthLimit: 0);
        var a = qs.StartRequest(0, out _)!;
        Assert.NotNull(qs.StartRequest(0, out _));
        Assert.Null(qs.StartRequest(0, out var reason));
        Assert.Equal(RejectReason.ConcurrencyLimit, reason);
        qs.Finish(a);
        Assert.NotNull(qs.StartRequest(0, out _));
    }

    [Fact]
    public void A_zero_limit_reject_level_still_serves_one_request_alone()
    {
        // canAccommodateSeatsLocked: a request wider than the limit runs when nothing else does.
        var qs = new QueueSet("jail", new HandClock());
        qs.Configure(concurrencyLimit: 0, queues: 0, handSize: 0, queueLengthLimit: 0);
        Assert.NotNull(qs.StartRequest(0, out _));
        Assert.Null(qs.StartRequest(0, out _));
    }

    [Fact]
    public void A_request_that_gives_up_leaves_its_queue_and_is_never_dispatched()
    {
        var qs = new QueueSet("level", new HandClock());
        qs.Configure(concurrencyLimit: 1, queues: 8, handSize: 2, queueLengthLimit: 10);
        var running = qs.StartRequest(11, out _)!;
        var waiting = qs.StartRequest(12, out _)!;
        var after = qs.StartRequest(13, out _)!;
        Assert.True(qs.Cancel(waiting));
        Assert.False(waiting.Dispatched.Result);
        Assert.Equal(1, qs.RequestsWaiting);
        qs.Finish(running);
        Assert.True(after.Dispatched.Result);
        Assert.False(qs.Cancel(after)); // already dispatched: it runs
    }
}
