using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// The workload controllers' shared informers (kube-controller-manager's SharedInformerFactory): one list of
/// each tracked kind, then one watch of the whole registry from that revision that keeps every
/// <see cref="Informer"/> current and tells the subscribed controllers what changed.
/// </summary>
/// <remarks>
/// <para><b>Reading one's own writes.</b> Upstream's controllers read a cache that can lag their own writes and
/// guard against acting twice with "expectations". Here a controller starts each sync with
/// <see cref="CatchUpAsync"/>: the informers are brought up to the storage's current revision (every write to
/// the registry is one revision and one watch event), so a sync always sees what was written before it
/// began, its own earlier writes included, and needs no expectations.</para>
/// <para><b>Failures.</b> A watch that breaks (compaction, storage trouble) ends the loop; the controller host
/// restarts it, it lists again, and the subscribers are told to resync everything (<see cref="Relisted"/>).</para>
/// </remarks>
public sealed partial class InformerHub(SystemClient client, ILogger? log = null) : IController
{
    private readonly ILogger _log = log ?? NullLogger.Instance;
    private readonly Dictionary<string, Informer> _informers = new(StringComparer.Ordinal);
    private readonly List<Action<InformerEvent>> _handlers = [];
    private readonly List<Action> _relisted = [];
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly List<(long Revision, TaskCompletionSource Done)> _waiters = [];
    private long _applied;

    public string Name => "informers";

    /// <summary>The informer of a built-in kind (tracked from the first start on; call before the host starts).</summary>
    public Informer For(string group, string plural)
    {
        var store = client.Store(group, plural);
        lock (_gate)
        {
            if (!_informers.TryGetValue(store.Definition.KeyPrefix, out var inf))
                _informers[store.Definition.KeyPrefix] = inf = new Informer(store);
            return inf;
        }
    }

    /// <summary>Called for every change of a tracked kind, on the hub's watch loop: keep it short (enqueue keys).</summary>
    public void Subscribe(Action<InformerEvent> handler) { lock (_gate) _handlers.Add(handler); }

    /// <summary>Called after the informers were listed again (a restarted watch): subscribers resync everything.</summary>
    public void Relisted(Action handler) { lock (_gate) _relisted.Add(handler); }

    /// <summary>Completes once every informer has its first list.</summary>
    public Task Synced => _synced.Task;

    /// <summary>The revision the informers reflect.</summary>
    public long Revision => Interlocked.Read(ref _applied);

    /// <summary>
    /// Waits until the informers reflect the storage's current revision (or at most a second: a revision
    /// written outside the registry never comes as an event, and a stale read is retried by the next sync).
    /// </summary>
    public async Task CatchUpAsync(CancellationToken ct)
    {
        await Synced.WaitAsync(ct);
        var target = client.Backend.CurrentRevision;
        if (Revision >= target) return;
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (Revision >= target) return;
            _waiters.Add((target, tcs));
        }
        try { await tcs.Task.WaitAsync(TimeSpan.FromSeconds(1), ct); }
        catch (TimeoutException) { }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        Informer[] all;
        lock (_gate) all = [.. _informers.Values];
        var ordered = all.OrderByDescending(i => i.Prefix.Length).ToArray();
        var from = client.Backend.CurrentRevision;
        foreach (var inf in all)
        {
            var items = new List<KeyValue>();
            string? after = null;
            while (true)
            {
                var page = await client.Backend.RangeAsync(inf.Prefix, after, 1000, from, ct);
                items.AddRange(page.Items);
                if (!page.More || page.Items.Count == 0) break;
                after = page.Items[^1].Key;
            }
            inf.Reset(items);
        }
        Advance(from);
        if (!_synced.Task.IsCompleted) _synced.TrySetResult();
        else
        {
            Action[] relisted;
            lock (_gate) relisted = [.. _relisted];
            foreach (var r in relisted) r();
        }
        await foreach (var ev in client.Backend.WatchAsync("/registry/", from, ct))
        {
            var inf = Match(ordered, ev.Kv.Key);
            if (inf is not null)
            {
                inf.Apply(ev);
                var e = new InformerEvent(inf, ev);
                Action<InformerEvent>[] handlers;
                lock (_gate) handlers = [.. _handlers];
                foreach (var h in handlers)
                {
                    try { h(e); }
                    catch (Exception x) when (!ct.IsCancellationRequested) { LogHandlerFailed(_log, x, ev.Kv.Key); }
                }
            }
            Advance(ev.Kv.ModRevision);
        }
    }

    private static Informer? Match(Informer[] ordered, string key)
    {
        foreach (var inf in ordered)
            if (key.StartsWith(inf.Prefix, StringComparison.Ordinal)) return inf;
        return null;
    }

    private void Advance(long revision)
    {
        List<TaskCompletionSource>? done = null;
        lock (_gate)
        {
            if (revision <= _applied) return;
            Interlocked.Exchange(ref _applied, revision);
            for (var i = _waiters.Count - 1; i >= 0; i--)
                if (_waiters[i].Revision <= revision)
                {
                    (done ??= []).Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
        }
        if (done is not null) foreach (var d in done) d.TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "informers: a handler failed on {Key}")]
    private static partial void LogHandlerFailed(ILogger logger, Exception e, string key);
}
