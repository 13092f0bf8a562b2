using Portcullis.Server.Tests.Controllers.Node.Runtime;
using Portcullis.Server.Hosting;
using static Portcullis.Server.Hosting.IdleMemoryReturn;

namespace Portcullis.Server.Tests.Hosting;

public sealed class IdleMemoryReturnTests
{
    private const long MiB = 1 << 20;

    [Fact]
    public void Quiet_with_much_unused_committed_memory_collects_once_until_busy_again()
    {
        var p = new Policy();
        Assert.False(p.Observe(new Sample(0, 70 * MiB, 180 * MiB)));             // the first look only remembers
        Assert.False(p.Observe(new Sample(1000, 70 * MiB, 180 * MiB)));          // quiet once: not yet
        Assert.True(p.Observe(new Sample(1500, 70 * MiB, 180 * MiB)));           // quiet twice, 110 MiB unused
        Assert.False(p.Observe(new Sample(2000, 70 * MiB, 180 * MiB)));          // once per quiet spell
        Assert.False(p.Observe(new Sample(2000 + 50 * MiB, 90 * MiB, 200 * MiB))); // busy: armed again, not now
        Assert.False(p.Observe(new Sample(2001 + 50 * MiB, 90 * MiB, 200 * MiB)));
        Assert.True(p.Observe(new Sample(2002 + 50 * MiB, 90 * MiB, 200 * MiB)));
    }

    [Theory]
    [InlineData(70, 100)]  // 30 MiB unused: below the minimum
    [InlineData(200, 290)] // 90 MiB unused but less than half the heap
    public void Little_unused_memory_is_left_alone(long heapMiB, long committedMiB)
    {
        var p = new Policy();
        p.Observe(new Sample(0, heapMiB * MiB, committedMiB * MiB));
        for (var i = 1; i <= 4; i++) Assert.False(p.Observe(new Sample(10 * i, heapMiB * MiB, committedMiB * MiB)));
    }

    [Fact]
    public void A_pause_between_bursts_is_not_a_quiet_spell()
    {
        var p = new Policy();
        var allocated = 0L;
        p.Observe(new Sample(allocated, 70 * MiB, 180 * MiB));
        for (var i = 0; i < 6; i++)
        {
            allocated += i % 2 == 0 ? 2 * QuietAllocationBytes : QuietAllocationBytes / 2; // busy, quiet, busy, ...
            Assert.False(p.Observe(new Sample(allocated, 70 * MiB, 180 * MiB)));
        }
    }

    [Fact]
    public void A_busy_server_is_never_collected()
    {
        var p = new Policy();
        for (var i = 0; i < 10; i++)
            Assert.False(p.Observe(new Sample(i * QuietAllocationBytes, 70 * MiB, 500 * MiB)));
    }

    [Fact]
    public async Task The_loop_looks_every_interval_and_collects_when_told()
    {
        var time = new SteppedClock(DateTimeOffset.UnixEpoch);
        var looks = 0;
        var collected = 0;
        var loop = new IdleMemoryReturn(time, () => { Interlocked.Increment(ref looks); return new Sample(0, 70 * MiB, 180 * MiB); }, () => collected++);
        using var cts = new CancellationTokenSource();
        var run = loop.RunAsync(cts.Token);
        for (var look = 1; look <= 4; look++)
        {
            time.Advance(Interval);
            for (var i = 0; i < 500 && Volatile.Read(ref looks) < look; i++) await Task.Delay(10);
        }
        await Task.Delay(50);
        Assert.Equal(4, looks);
        Assert.Equal(1, collected); // the third look (the first only remembers; two quiet ones); the fourth is the same quiet spell
        Assert.Equal(1, loop.Collections);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }
}
