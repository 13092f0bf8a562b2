using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.LeaderElection;

namespace Portcullis.Server.Tests.Controllers.LeaderElection;

/// <summary>
/// The elector's loop driving a group of controllers, on a stepped clock: the group runs while the lease is held,
/// stops (cancelled, its loops ended) when renewal fails for the renew deadline, before the lease could expire for
/// anyone else; it is rebuilt, not resumed, for a new term; and it releases the lease on shutdown.
/// </summary>
public sealed class LeaderElectedGroupTests : IAsyncLifetime
{
    private static readonly TimeSpan Retry = LeaderElectionTimings.Default.RetryPeriod;
    private readonly LeaseWorld _w = new();
    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _w.DisposeAsync();

    /// <summary>A controller that notes when it started and when its loop saw cancellation (on the test's clock).</summary>
    private sealed class Probe(TimeProvider clock) : IController
    {
        public readonly TaskCompletionSource<DateTimeOffset> Started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource<DateTimeOffset> Stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string Name => "probe";
        public async Task RunAsync(CancellationToken ct)
        {
            using var reg = ct.Register(() => Stopped.TrySetResult(clock.GetUtcNow()));
            Started.TrySetResult(clock.GetUtcNow());
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        }
    }

    private static async Task<T> Within<T>(Task<T> t) => await t.WaitAsync(TimeSpan.FromSeconds(60));

    [Fact]
    public async Task RenewFailure_StopsTheGroupBeforeTheLeaseExpiresForOthers()
    {
        var probes = new List<Probe>();
        var flaky = new FlakyLock(_w.Lock("host_a"));
        var group = new LeaderElectedGroup("kube-controller-manager", () => { var p = new Probe(_w.Clock); lock (probes) probes.Add(p); return [p]; },
            _w.Elector(flaky), NullLoggerFactory.Instance, _w.Clock);
        using var stop = new CancellationTokenSource();
        var run = group.RunAsync(stop.Token);

        var first = await Within(WaitForProbe(probes, 0));
        await Within(first.Started.Task);
        await _w.Clock.NextTimerAsync(Retry);                       // renewed at start; waiting for the next round
        var lastRenew = LeaderElectionRecord.FromLease(await _w.LeaseAsync()).RenewTime;
        var other = _w.Elector(_w.Lock("host_b"));
        Assert.False(await other.TryAcquireOrRenewAsync(default));   // b sees the lease now (the time of the last renewal)

        flaky.Failing = true;                                        // the store becomes unreachable for a
        while (!first.Stopped.Task.IsCompleted)
        {
            _w.Clock.Advance(Retry);
            await Task.WhenAny(first.Stopped.Task, _w.Clock.NextTimerAsync(Retry)).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(_w.Clock.GetUtcNow() - lastRenew <= TimeSpan.FromSeconds(30), "the group never stopped");
        }
        var stoppedAt = await first.Stopped.Task;
        // a gave up after the renew deadline (10 s) and stopped its loop, before the 15 s anyone else waits.
        Assert.True(stoppedAt - lastRenew >= LeaderElectionTimings.Default.RenewDeadline, $"stopped at +{stoppedAt - lastRenew}");
        Assert.True(stoppedAt - lastRenew < LeaderElectionTimings.Default.LeaseDuration, $"stopped at +{stoppedAt - lastRenew}");
        for (var i = 0; i < 600 && group.Leading; i++) await Task.Delay(50);   // the term ends once the host has waited for its loops
        Assert.False(group.Leading);
        Assert.False(await other.TryAcquireOrRenewAsync(default));   // not yet expired for b
        _w.Clock.Advance(lastRenew + LeaderElectionTimings.Default.LeaseDuration + TimeSpan.FromSeconds(1) - _w.Clock.GetUtcNow());
        Assert.True(await other.TryAcquireOrRenewAsync(default));    // only now does b lead

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("host_b", (string)(await _w.LeaseAsync())["spec"]!["holderIdentity"]!);
    }

    [Fact]
    public async Task ANewTerm_BuildsTheGroupAfresh()
    {
        var probes = new List<Probe>();
        var flaky = new FlakyLock(_w.Lock("host_a"));
        var group = new LeaderElectedGroup("kube-scheduler", () => { var p = new Probe(_w.Clock); lock (probes) probes.Add(p); return [p]; },
            _w.Elector(flaky), NullLoggerFactory.Instance, _w.Clock);
        using var stop = new CancellationTokenSource();
        var run = group.RunAsync(stop.Token);
        var first = await Within(WaitForProbe(probes, 0));
        await Within(first.Started.Task);
        await _w.Clock.NextTimerAsync(Retry);

        flaky.Failing = true;
        while (!first.Stopped.Task.IsCompleted)
        {
            _w.Clock.Advance(Retry);
            await Task.WhenAny(first.Stopped.Task, _w.Clock.NextTimerAsync(Retry)).WaitAsync(TimeSpan.FromSeconds(60));
        }
        flaky.Failing = false;
        // Acquisition retries after a jittered wait; step the clock until the second term has started.
        var second = WaitForProbe(probes, 1);
        for (var i = 0; i < 600 && !second.IsCompleted; i++)
        {
            _w.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(second, Task.Delay(50));
        }
        var p2 = await Within(second);
        await Within(p2.Started.Task);
        Assert.NotSame(first, p2);
        Assert.Equal(2, group.Terms);
        Assert.True(first.Stopped.Task.IsCompleted);
        Assert.False(p2.Stopped.Task.IsCompleted);

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(p2.Stopped.Task.IsCompleted);
    }

    [Fact]
    public async Task Shutdown_StopsTheGroupThenReleasesTheLease_WithUpstreamsEvents()
    {
        var probes = new List<Probe>();
        var group = new LeaderElectedGroup("kube-controller-manager", () => { var p = new Probe(_w.Clock); lock (probes) probes.Add(p); return [p]; },
            _w.Elector(_w.Lock("host_a")), NullLoggerFactory.Instance, _w.Clock);
        using var stop = new CancellationTokenSource();
        var run = group.RunAsync(stop.Token);
        var first = await Within(WaitForProbe(probes, 0));
        await Within(first.Started.Task);

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(first.Stopped.Task.IsCompleted);
        var spec = (JsonObject)(await _w.LeaseAsync())["spec"]!;
        Assert.Equal("", (string)spec["holderIdentity"]!);
        Assert.Equal(1, (long)spec["leaseDurationSeconds"]!);
        var b = _w.Elector(_w.Lock("host_b"));
        Assert.True(await b.TryAcquireOrRenewAsync(default));       // at once, without waiting 15 s

        var events = (await _w.EventsAsync()).OrderBy(e => (string)e["metadata"]!["name"]!).ToList();
        Assert.Equal(["host_a became leader", "host_a stopped leading"], events.Select(e => (string)e["message"]!));
        foreach (var e in events)
        {
            Assert.Equal("Normal", (string)e["type"]!);
            Assert.Equal("LeaderElection", (string)e["reason"]!);
            Assert.Equal("kube-controller-manager", (string)e["source"]!["component"]!);
            Assert.Equal("Lease", (string)e["involvedObject"]!["kind"]!);
            Assert.Equal("coordination.k8s.io/v1", (string)e["involvedObject"]!["apiVersion"]!);
            Assert.Equal("kube-controller-manager", (string)e["involvedObject"]!["name"]!);
            Assert.Equal("kube-system", (string)e["involvedObject"]!["namespace"]!);
        }
    }

    [Fact]
    public async Task WithoutLeaderElection_TheGroupStartsWithTheServer()
    {
        var probes = new List<Probe>();
        var group = new LeaderElectedGroup("kube-scheduler", () => { var p = new Probe(_w.Clock); lock (probes) probes.Add(p); return [p]; },
            null, NullLoggerFactory.Instance, _w.Clock, startWithServer: true);
        await group.InitializeAsync(default);
        Assert.True(group.Leading);
        using var stop = new CancellationTokenSource();
        var run = group.RunAsync(stop.Token);
        await Within(probes[0].Started.Task);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(probes[0].Stopped.Task.IsCompleted);
        Assert.Empty(await _w.Client.ListAsync(_w.Leases, "kube-system", default));
    }

    private static async Task<Probe> WaitForProbe(List<Probe> probes, int index)
    {
        while (true)
        {
            lock (probes) if (probes.Count > index) return probes[index];
            await Task.Delay(10);
        }
    }
}
