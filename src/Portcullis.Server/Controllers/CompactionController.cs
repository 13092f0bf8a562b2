using Portcullis.Server.Storage;

namespace Portcullis.Server.Controllers;

/// <summary>
/// Keeps a bounded history: every interval it notes the current revision, and compacts to the
/// revision it noted one history window ago (kube-apiserver compacts etcd the same way).
/// </summary>
public sealed class CompactionController(IKeyValueBackend kv, TimeProvider time, TimeSpan history, TimeSpan interval) : IController
{
    public string Name => "compaction";

    /// <summary>The longest interval a timer takes (about 49.7 days).</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public async Task RunAsync(CancellationToken ct)
    {
        // 0 disables compaction (as upstream's --etcd-compaction-interval); a timer ticks at most every millisecond.
        if (interval <= TimeSpan.Zero) { await Task.Delay(Timeout.InfiniteTimeSpan, time, ct); return; }
        var marks = new Queue<(DateTimeOffset At, long Revision)>();
        using var timer = new PeriodicTimer(interval < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : interval > MaxInterval ? MaxInterval : interval, time);
        do
        {
            var now = time.GetUtcNow();
            marks.Enqueue((now, kv.CurrentRevision));
            long target = 0;
            while (marks.Count > 0 && now - marks.Peek().At >= history) target = marks.Dequeue().Revision;
            if (target > kv.CompactRevision) await kv.CompactAsync(target, ct);
        } while (await timer.WaitForNextTickAsync(ct));
    }
}
