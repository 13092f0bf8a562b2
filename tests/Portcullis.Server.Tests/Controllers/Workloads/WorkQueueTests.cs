using Portcullis.Server.Tests.Controllers.Node.Runtime;
using Portcullis.Server.Controllers.Workloads;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>client-go workqueue semantics: one entry per key, never two workers on a key, per-key back-off.</summary>
public sealed class WorkQueueTests
{
    [Fact]
    public async Task AKeyAddedTwice_IsQueuedOnce()
    {
        var q = new WorkQueue(TimeProvider.System);
        q.Add("ns/a");
        q.Add("ns/a");
        q.Add("ns/b");
        Assert.Equal(2, q.Count);
        Assert.Equal("ns/a", await q.GetAsync(CancellationToken.None));
        Assert.Equal("ns/b", await q.GetAsync(CancellationToken.None));
        Assert.Equal(0, q.Count);
    }

    [Fact]
    public async Task AKeyAddedWhileBeingWorkedOn_ComesBackOnlyAfterDone()
    {
        var q = new WorkQueue(TimeProvider.System);
        q.Add("k");
        var key = await q.GetAsync(CancellationToken.None);
        q.Add("k");
        Assert.Equal(0, q.Count); // not handed to a second worker meanwhile
        q.Done(key);
        Assert.Equal(1, q.Count);
        Assert.Equal("k", await q.GetAsync(CancellationToken.None));
        q.Done("k");
        Assert.Equal(0, q.Count);
    }

    [Fact]
    public async Task Failures_BackOffExponentiallyUntilForgotten()
    {
        var time = new SteppedClock(DateTimeOffset.UnixEpoch);
        var q = new WorkQueue(time);
        q.AddRateLimited("k", CancellationToken.None); // 5 ms
        Assert.Equal(0, q.Count);
        time.Advance(TimeSpan.FromMilliseconds(5));
        await WaitFor(() => q.Count == 1);
        q.Done(await q.GetAsync(CancellationToken.None));
        q.AddRateLimited("k", CancellationToken.None); // 10 ms
        time.Advance(TimeSpan.FromMilliseconds(9));
        await Task.Delay(50);
        Assert.Equal(0, q.Count);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await WaitFor(() => q.Count == 1);
        Assert.Equal(2, q.Failures("k"));
        q.Forget("k");
        Assert.Equal(0, q.Failures("k"));
    }

    [Fact]
    public void TheBackOff_IsCappedAtSixtySeconds()
    {
        var time = new SteppedClock(DateTimeOffset.UnixEpoch);
        var q = new WorkQueue(time);
        for (var i = 0; i < 40; i++) q.AddRateLimited("k", CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.True(SpinWait.SpinUntil(() => q.Count == 1, TimeSpan.FromSeconds(10)));
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }
}
