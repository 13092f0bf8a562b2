using System.Runtime.CompilerServices;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Portcullis.Server.Storage.Etcd;

/// <summary>
/// This replica's copy of etcd, as kube-apiserver's watch cache (the cacher): every key under the prefix, loaded by one
/// range and kept current by one watch, and the most recent events, so lists and watches are served from memory and a
/// thousand watchers cost etcd one watch.
/// </summary>
/// <remarks>
/// The watch covers the whole keyspace, not only the prefix: every etcd revision is a change to some key, so the cache
/// sees every revision and knows it is current once it has applied etcd's revision, without progress requests (etcd 3.4
/// could answer those ahead of its events). Changes outside the prefix only move the revision on.
/// Watchers subscribe to a fan-out hub and first replay the events they missed from the most recent ones (20,000);
/// a watcher from an older revision gets its own etcd watch (etcd's history, 410 once compacted). When the cache's own
/// watch is compacted away (etcd was unreachable for longer than its history), the cache loads again and its watchers
/// are ended, so their clients list again, as upstream's cacher does.
/// </remarks>
internal sealed partial class EtcdWatchCache(EtcdBackend backend, Watch.WatchClient watch) : IAsyncDisposable
{
    /// <summary>How many recent events are kept for watchers that start a little behind (<see cref="EtcdOptions.WatchCacheCapacity"/>).</summary>
    private int Capacity => backend.Options.WatchCacheCapacity;
    private const int LoadPage = 5_000;

    private readonly Lock _gate = new();
    private readonly LatestValues _latest = new();
    private readonly WatchHub _hub = new();
    private readonly Queue<WatchEvent> _ring = new();
    private long _ringStart; // every event after this revision is in the ring
    private long _revision;
    private TaskCompletionSource _advanced = NewSignal();
    private readonly CancellationTokenSource _stop = new();
    private Task? _feed;

    /// <summary>The etcd revision the cache has applied.</summary>
    public long Revision => Volatile.Read(ref _revision);
    /// <summary>Whether the cache's watch is open on a member (false from a failure until the watch is created again).</summary>
    public bool Connected => Volatile.Read(ref _connected);
    private bool _connected;
    /// <summary>Keys held (the health check and tests read it).</summary>
    public int Count => _latest.Count;
    /// <summary>How many times the cache has loaded everything again after its watch was compacted away.</summary>
    public int Reloads { get; private set; }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly TaskCompletionSource _watching = NewSignal();

    /// <summary>Loads every key, then returns once etcd has created the cache's watch (so no compaction can slip in between).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        _feed = Task.Run(() => FeedAsync(_stop.Token), CancellationToken.None);
        try { await _watching.Task.WaitAsync(TimeSpan.FromSeconds(10), ct); }
        catch (TimeoutException) { throw new StorageException("etcd did not create the watch cache's watch within 10s"); }
    }

    /// <summary>Every key under the prefix at one revision, a page at a time.</summary>
    private async Task LoadAsync(CancellationToken ct)
    {
        var (from, end) = backend.Keys.PrefixRange(backend.Keys.LogicalRoot);
        var values = new List<KeyValue>();
        long rev = 0;
        while (true)
        {
            var req = new RangeRequest { Key = from, RangeEnd = end, Limit = LoadPage, Revision = rev };
            var r = await EtcdBackend.ReadRpc(() => backend.Kv.RangeAsync(req, backend.Call(ct)).ResponseAsync, ct);
            if (rev == 0) rev = r.Header.Revision;
            values.AddRange(r.Kvs.Select(backend.ToKeyValue));
            if (!r.More || r.Kvs.Count == 0) break;
            from = ByteString.CopyFrom([.. r.Kvs[^1].Key.Span, (byte)0]);
        }
        lock (_gate)
        {
            _latest.Load(values, rev);
            _ring.Clear();
            _ringStart = rev;
            Volatile.Write(ref _revision, rev);
        }
        Signal();
    }

    private async Task FeedAsync(CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(50);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var call = watch.Watch(cancellationToken: ct);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0), StartRevision = Revision + 1 },
                }, ct);
                while (await call.ResponseStream.MoveNext(ct))
                {
                    var r = call.ResponseStream.Current;
                    if (r.Created)
                    {
                        Volatile.Write(ref _connected, true);
                        _watching.TrySetResult();
                    }
                    if (r.Canceled)
                    {
                        if (r.CompactRevision > 0) await ReloadAsync(ct);
                        break;
                    }
                    if (r.Events.Count > 0) Apply(r.Events);
                    backoff = TimeSpan.FromMilliseconds(50);
                }
            }
            catch (Exception) when (ct.IsCancellationRequested) { return; }
            catch (RpcException) { Volatile.Write(ref _connected, false); }
            catch (StorageException) when (!ct.IsCancellationRequested) { Volatile.Write(ref _connected, false); }
            catch (IOException) when (!ct.IsCancellationRequested) { Volatile.Write(ref _connected, false); }
            try { await Task.Delay(backoff, ct); } catch (OperationCanceledException) { return; }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
        }
    }

    /// <summary>The watch was compacted away: load again, and end the watchers (their clients list again).</summary>
    private async Task ReloadAsync(CancellationToken ct)
    {
        Reloads++;
        _hub.FailAll(new StorageException("the watch cache lost etcd's history (compacted while disconnected) and was reloaded"));
        await LoadAsync(ct);
    }

    private void Apply(Google.Protobuf.Collections.RepeatedField<Mvccpb.Event> events)
    {
        lock (_gate)
        {
            long last = _revision;
            foreach (var e in events)
            {
                last = Math.Max(last, e.Kv.ModRevision);
                if (e.Kv.ModRevision <= _revision || !backend.Keys.IsOurs(e.Kv.Key)) continue;
                var key = backend.Keys.FromEtcd(e.Kv.Key);
                var prev = _latest.Get(key);
                WatchEvent ev;
                if (e.Type == Mvccpb.Event.Types.EventType.Put)
                    ev = new WatchEvent(KeyEventType.Put, new KeyValue(key, e.Kv.Value.ToByteArray(), e.Kv.CreateRevision, e.Kv.ModRevision), e.Kv.Version == 1 ? null : prev);
                else
                {
                    if (prev is null) continue; // a key the cache never held (deleted twice, or before it loaded)
                    ev = new WatchEvent(KeyEventType.Delete, new KeyValue(key, prev.Value, prev.CreateRevision, e.Kv.ModRevision), prev);
                }
                _latest.Apply(ev, sameRevisionAllowed: true);
                _ring.Enqueue(ev);
                while (_ring.Count > Capacity) _ringStart = _ring.Dequeue().Kv.ModRevision;
                _hub.Publish(ev);
            }
            _latest.AdvanceTo(last);
            Volatile.Write(ref _revision, last);
        }
        Signal();
    }

    private void Signal() => Interlocked.Exchange(ref _advanced, NewSignal()).TrySetResult();

    /// <summary>
    /// Waits until the cache has applied <paramref name="revision"/>; false when it has not within a few seconds (etcd
    /// unreachable from the watch, or very busy): the caller then reads etcd itself.
    /// </summary>
    public async Task<bool> WaitForAsync(long revision, CancellationToken ct)
    {
        if (Revision >= revision) return true;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            while (Revision < revision)
            {
                var signal = Volatile.Read(ref _advanced).Task;
                if (Revision >= revision) break;
                await signal.WaitAsync(timeout.Token);
            }
            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return false; }
    }

    /// <summary>The key's value as this cache holds it (callers first wait for the revision they need).</summary>
    public KeyValue? Get(string key) => _latest.Get(key);

    /// <summary>A range from memory at the revision held (0) or exactly <paramref name="revision"/>; null otherwise.</summary>
    public RangeResult? Range(string prefix, string? startAfter, int limit, long revision) =>
        _latest.Range(prefix, startAfter, limit, revision);

    /// <summary>
    /// A watcher served from the cache: subscribed to the hub and given the recent events after
    /// <paramref name="afterRevision"/>; null when the ring no longer holds all of them.
    /// </summary>
    public CacheWatcher? Subscribe(string prefix, long afterRevision, WatchBudget? budget)
    {
        lock (_gate)
        {
            if (afterRevision < _ringStart) return null;
            var sub = _hub.Subscribe(prefix, budget);
            var missed = afterRevision >= _revision ? [] : _ring.Where(e => e.Kv.ModRevision > afterRevision && e.Kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            return new CacheWatcher(sub, missed, afterRevision);
        }
    }

    /// <summary>etcd compacted to <paramref name="revision"/>: the ring's older events are no longer a watcher's to have.</summary>
    public void Compacted(long revision)
    {
        lock (_gate)
        {
            while (_ring.Count > 0 && _ring.Peek().Kv.ModRevision <= revision) _ringStart = _ring.Dequeue().Kv.ModRevision;
            if (_ringStart < revision) _ringStart = Math.Min(revision, _revision);
        }
    }

    /// <summary>A watch of etcd's own history from <paramref name="afterRevision"/>, for a watcher the ring cannot serve.</summary>
    public async IAsyncEnumerable<WatchEvent> WatchEtcdAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken ct)
    {
        var (from, end) = backend.Keys.PrefixRange(prefix);
        using var call = watch.Watch(cancellationToken: ct);
        try
        {
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest { Key = from, RangeEnd = end, StartRevision = afterRevision + 1, PrevKv = true },
            }, ct);
        }
        catch (RpcException e) { throw new StorageException("etcd: " + EtcdBackend.Describe(e), e); }
        while (true)
        {
            WatchResponse r;
            try
            {
                if (!await call.ResponseStream.MoveNext(ct)) yield break;
                r = call.ResponseStream.Current;
            }
            catch (RpcException e) when (!ct.IsCancellationRequested) { throw new StorageException("etcd: " + EtcdBackend.Describe(e), e); }
            if (r.Canceled)
            {
                if (r.CompactRevision > 0) throw new CompactedException(afterRevision, r.CompactRevision);
                throw new StorageException("etcd cancelled the watch: " + r.CancelReason);
            }
            foreach (var e in r.Events)
            {
                var prev = e.PrevKv is { } p ? backend.ToKeyValue(p) : null;
                var kv = backend.ToKeyValue(e.Kv);
                yield return e.Type == Mvccpb.Event.Types.EventType.Put
                    ? new WatchEvent(KeyEventType.Put, kv, e.Kv.Version == 1 ? null : prev)
                    : new WatchEvent(KeyEventType.Delete, new KeyValue(kv.Key, prev?.Value ?? [], prev?.CreateRevision ?? 0, kv.ModRevision), prev);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_feed is not null) await _feed;
        _hub.CompleteAll();
        _stop.Dispose();
    }

    /// <summary>
    /// One watcher on the cache: the events it missed, then the hub's. The two never overlap (the snapshot and the
    /// subscription are taken under the lock that applies events); hub events at or before the watcher's revision (a
    /// client ahead of this cache) are skipped.
    /// </summary>
    internal sealed class CacheWatcher(WatchHub.Subscriber sub, List<WatchEvent> missed, long afterRevision) : IDisposable
    {
        public async IAsyncEnumerable<WatchEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken ct)
        {
            foreach (var ev in missed) yield return ev;
            var reader = sub.Channel.Reader;
            while (await reader.WaitToReadAsync(ct))
            {
                while (sub.TryRead(out var ev))
                {
                    if (ev.Kv.ModRevision > afterRevision) yield return ev;
                }
            }
        }

        public void Dispose() => sub.Dispose();
    }
}
