using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.LeaderElection;

namespace Portcullis.Server.Tests.Controllers.LeaderElection;

/// <summary>Two or three electors over one store, one attempt at a time (tryAcquireOrRenew), on a clock the test moves.</summary>
public sealed class LeaderElectorTests : IAsyncLifetime
{
    private readonly LeaseWorld _w = new();
    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _w.DisposeAsync();

    private static JsonObject Spec(JsonObject lease) => (JsonObject)lease["spec"]!;

    [Fact]
    public async Task FirstElectorCreatesTheLease_SecondWaits()
    {
        var a = _w.Elector(_w.Lock("host_a"));
        var b = _w.Elector(_w.Lock("host_b"));

        Assert.True(await a.TryAcquireOrRenewAsync(default));
        Assert.False(await b.TryAcquireOrRenewAsync(default));
        Assert.True(a.IsLeader);
        Assert.False(b.IsLeader);
        Assert.Equal("host_a", b.Leader);

        var spec = Spec(await _w.LeaseAsync());
        Assert.Equal("host_a", (string)spec["holderIdentity"]!);
        Assert.Equal(15, (long)spec["leaseDurationSeconds"]!);
        Assert.Equal(0, (long)spec["leaseTransitions"]!);
        Assert.Equal("2026-03-01T12:00:00.000000Z", (string)spec["acquireTime"]!);
        Assert.Equal("2026-03-01T12:00:00.000000Z", (string)spec["renewTime"]!);
    }

    [Fact]
    public async Task RenewalKeepsAcquireTimeAndMovesRenewTime_WhileOthersKeepWaiting()
    {
        var a = _w.Elector(_w.Lock("host_a"));
        var b = _w.Elector(_w.Lock("host_b"));
        Assert.True(await a.TryAcquireOrRenewAsync(default));
        Assert.False(await b.TryAcquireOrRenewAsync(default));
        for (var i = 0; i < 10; i++)
        {
            _w.Clock.Advance(TimeSpan.FromSeconds(10));
            Assert.True(await a.TryAcquireOrRenewAsync(default));
            Assert.False(await b.TryAcquireOrRenewAsync(default));
        }
        var spec = Spec(await _w.LeaseAsync());
        Assert.Equal("host_a", (string)spec["holderIdentity"]!);
        Assert.Equal("2026-03-01T12:00:00.000000Z", (string)spec["acquireTime"]!);
        Assert.Equal("2026-03-01T12:01:40.000000Z", (string)spec["renewTime"]!);
        Assert.Equal(0, (long)spec["leaseTransitions"]!);
    }

    [Fact]
    public async Task AnotherTakesOverOnlyOnceTheLeaseHasGoneUnchangedForItsDuration()
    {
        var a = _w.Elector(_w.Lock("host_a"));
        var b = _w.Elector(_w.Lock("host_b"));
        Assert.True(await a.TryAcquireOrRenewAsync(default));
        Assert.False(await b.TryAcquireOrRenewAsync(default));   // b observes the lease at 0 s

        _w.Clock.Advance(TimeSpan.FromSeconds(14));               // a stops renewing (crashed)
        Assert.False(await b.TryAcquireOrRenewAsync(default));
        _w.Clock.Advance(TimeSpan.FromSeconds(2));                // 16 s since b saw it change
        Assert.True(await b.TryAcquireOrRenewAsync(default));

        var spec = Spec(await _w.LeaseAsync());
        Assert.Equal("host_b", (string)spec["holderIdentity"]!);
        Assert.Equal(1, (long)spec["leaseTransitions"]!);
        Assert.Equal("2026-03-01T12:00:16.000000Z", (string)spec["acquireTime"]!);

        // The old holder comes back: its lease expired in its own eyes, it reads b's and does not take it.
        Assert.False(await a.TryAcquireOrRenewAsync(default));
        Assert.False(a.IsLeader);
        Assert.Equal("host_b", a.Leader);
    }

    [Fact]
    public async Task ARenewalSeenLate_RestartsTheWait()
    {
        // The wait counts from when an elector last saw the lease change (observedTime), never from the holder's clock.
        var a = _w.Elector(_w.Lock("host_a"));
        var b = _w.Elector(_w.Lock("host_b"));
        Assert.True(await a.TryAcquireOrRenewAsync(default));
        Assert.False(await b.TryAcquireOrRenewAsync(default));
        _w.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(await a.TryAcquireOrRenewAsync(default));     // renewed at 10 s; b has not looked
        _w.Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.False(await b.TryAcquireOrRenewAsync(default));    // b sees the change now, at 30 s
        _w.Clock.Advance(TimeSpan.FromSeconds(14));
        Assert.False(await b.TryAcquireOrRenewAsync(default));
        _w.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await b.TryAcquireOrRenewAsync(default));
    }

    [Fact]
    public async Task TwoCandidatesForAnExpiredLease_OnlyOneWins()
    {
        var a = _w.Elector(_w.Lock("host_a"));
        Assert.True(await a.TryAcquireOrRenewAsync(default));
        var b = _w.Elector(_w.Lock("host_b"));
        var c = _w.Elector(_w.Lock("host_c"));
        Assert.False(await b.TryAcquireOrRenewAsync(default));
        Assert.False(await c.TryAcquireOrRenewAsync(default));
        _w.Clock.Advance(TimeSpan.FromSeconds(16));

        var results = await Task.WhenAll(b.TryAcquireOrRenewAsync(default), c.TryAcquireOrRenewAsync(default));

        Assert.Single(results, r => r);
        var holder = (string)Spec(await _w.LeaseAsync())["holderIdentity"]!;
        Assert.Equal(results[0] ? "host_b" : "host_c", holder);
        Assert.Equal(1, (long)Spec(await _w.LeaseAsync())["leaseTransitions"]!);
    }

    [Fact]
    public async Task ALeaderWhoseLeaseWasTakenFailsItsOptimisticRenewal()
    {
        var a = _w.Elector(_w.Lock("host_a"));
        Assert.True(await a.TryAcquireOrRenewAsync(default));
        // A restart of the only process on a SQLite file takes the lease over at once (docs/replicas.md).
        var restarted = _w.Elector(_w.Lock("host_a2"), takeOverAtStart: true);
        Assert.True(await restarted.TryAcquireOrRenewAsync(default));

        _w.Clock.Advance(TimeSpan.FromSeconds(2));
        // a still believes it leads, updates with the resourceVersion it wrote: 409, then reads and sees a2.
        Assert.False(await a.TryAcquireOrRenewAsync(default));
        Assert.False(a.IsLeader);
        var spec = Spec(await _w.LeaseAsync());
        Assert.Equal("host_a2", (string)spec["holderIdentity"]!);
        Assert.Equal(1, (long)spec["leaseTransitions"]!);
    }

    [Fact]
    public async Task TakeOverAtStart_AppliesToTheFirstAcquisitionOnly()
    {
        var a = _w.Elector(_w.Lock("host_a"));
        Assert.True(await a.TryAcquireOrRenewAsync(default));
        var b = _w.Elector(_w.Lock("host_b"), takeOverAtStart: true);
        Assert.True(await b.TryAcquireOrRenewAsync(default));
        // a takes it back only by waiting it out; b, having acquired once, waits like anyone else.
        var a2 = _w.Elector(_w.Lock("host_a"));
        Assert.False(await a2.TryAcquireOrRenewAsync(default));
        Assert.True(await b.TryAcquireOrRenewAsync(default));
    }

    [Fact]
    public async Task Release_ClearsTheHolderAndAnotherTakesOverAtOnce()
    {
        var a = _w.Elector(_w.Lock("host_a"));
        var b = _w.Elector(_w.Lock("host_b"));
        Assert.True(await a.TryAcquireOrRenewAsync(default));
        Assert.False(await b.TryAcquireOrRenewAsync(default));
        _w.Clock.Advance(TimeSpan.FromSeconds(3));

        Assert.True(await a.ReleaseAsync());

        var spec = Spec(await _w.LeaseAsync());
        Assert.Equal("", (string)spec["holderIdentity"]!);
        Assert.Equal(1, (long)spec["leaseDurationSeconds"]!);
        Assert.Equal(0, (long)spec["leaseTransitions"]!);
        Assert.Equal("2026-03-01T12:00:03.000000Z", (string)spec["acquireTime"]!);
        Assert.Equal("2026-03-01T12:00:03.000000Z", (string)spec["renewTime"]!);
        Assert.False(a.IsLeader);

        Assert.True(await b.TryAcquireOrRenewAsync(default));    // no wait: the holder is empty
        spec = Spec(await _w.LeaseAsync());
        Assert.Equal("host_b", (string)spec["holderIdentity"]!);
        Assert.Equal(1, (long)spec["leaseTransitions"]!);
        Assert.Equal(15, (long)spec["leaseDurationSeconds"]!);
    }

    [Fact]
    public async Task AStoreFailure_IsAFailedAttemptNotAnException()
    {
        var flaky = new FlakyLock(_w.Lock("host_a")) { Failing = true };
        var a = _w.Elector(flaky);
        Assert.False(await a.TryAcquireOrRenewAsync(default));
        flaky.Failing = false;
        Assert.True(await a.TryAcquireOrRenewAsync(default));
    }

    [Theory]
    [InlineData(10, 10, 2, "leaseDuration must be greater than renewDeadline")]
    [InlineData(15, 2, 2, "renewDeadline must be greater than retryPeriod*JitterFactor")]
    [InlineData(15, 10, 2, null)]
    public void Timings_AreCheckedAsNewLeaderElectorChecksThem(int lease, int renew, int retry, string? error) =>
        Assert.Equal(error, new LeaderElectionTimings(TimeSpan.FromSeconds(lease), TimeSpan.FromSeconds(renew), TimeSpan.FromSeconds(retry)).Validate());
}
