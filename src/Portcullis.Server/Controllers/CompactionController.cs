using Portcullis.Server.Storage;

namespace Portcullis.Server.Controllers;

/// <summary>
/// Keeps a bounded history: every interval it notes the current revision, and compacts to the
/// revision it noted one history window ago (kube-apiserver compacts etcd the same way).
/// </summary>
public sealed class CompactionController(IKeyValueBackend kv, TimeProvider time, TimeSpan history, TimeSpan interval) : IController
{
    public string Name => "compaction";

    public async Task RunAsync(CancellationToken ct)
    {
        var marks = new Queue<(DateTimeOffset At, long Revision)>();
        using var timer = new PeriodicTimer(interval, time);
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
