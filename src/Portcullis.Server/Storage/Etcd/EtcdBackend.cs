using System.Runtime.CompilerServices;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Portcullis.Server.Storage.Etcd;

/// <summary>
/// The backend on a real etcd v3 cluster, as kube-apiserver's storage/etcd3 uses it: a key's modification revision is
/// the object's resourceVersion, conditional writes are transactions comparing a key's create or mod revision, and a
/// lost race answers with the key's current value (the transaction's failure branch reads it).
/// </summary>
/// <remarks>
/// Point reads go to etcd (a quorum read, as upstream's GET without resourceVersion). Lists and watches are served by
/// this replica's <see cref="EtcdWatchCache"/>: a list at the current revision first asks etcd for its revision and
/// waits until the cache has applied it (upstream's consistent list from cache), so a list on any replica sees every
/// write acknowledged before it started. A list at an older revision, or one the cache cannot serve in time, reads
/// etcd. Keys: the server's <c>/registry/…</c> keys with <c>/registry</c> replaced by --etcd-prefix.
/// </remarks>
public sealed class EtcdBackend : IKeyValueBackend
{
    private readonly GrpcChannel _channel;
    private readonly KV.KVClient _kv;
    private readonly EtcdOptions _options;
    private readonly EtcdWatchCache _cache;
    private long _compactRevision;

    private EtcdBackend(EtcdOptions options, GrpcChannel channel)
    {
        _options = options;
        _channel = channel;
        _kv = new KV.KVClient(channel);
        Keys = new EtcdKeys(options.LogicalRoot, options.Prefix);
        _cache = new EtcdWatchCache(this, new Watch.WatchClient(channel));
        _revisions = new EtcdRevisionReader(CurrentEtcdRevisionAsync);
    }

    private readonly EtcdRevisionReader _revisions;

    internal EtcdKeys Keys { get; }
    internal KV.KVClient Kv => _kv;
    internal EtcdOptions Options => _options;

    /// <summary>Connects, loads the watch cache (a range of every key under the prefix) and starts its watch.</summary>
    public static async Task<EtcdBackend> OpenAsync(EtcdOptions options, CancellationToken ct = default)
    {
        var channel = EtcdConnection.Open(options);
        var backend = new EtcdBackend(options, channel);
        try
        {
            var compacted = await backend.ReadCompactKeyAsync(ct);
            backend._compactRevision = compacted.Revision;
            await backend._cache.StartAsync(ct);
            return backend;
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The revision this replica's cache has applied. A write returns only once the cache has applied it, so a process
    /// that saw its write (or its revision) finds it in lists and watches here, as with SQLite.
    /// </summary>
    public long CurrentRevision => _cache.Revision;

    public async ValueTask<long> ConsistentRevisionAsync(CancellationToken ct = default) => (await SyncAsync(ct)).Revision;

    /// <summary>
    /// The step every consistent read starts with: etcd's revision read after this call began (shared with concurrent
    /// reads), and whether this replica's cache has applied it within its wait.
    /// </summary>
    private async Task<(long Revision, bool CaughtUp)> SyncAsync(CancellationToken ct)
    {
        var rev = await _revisions.ReadAsync(ct);
        return (rev, await _cache.WaitForAsync(rev, ct));
    }

    public long CompactRevision => Volatile.Read(ref _compactRevision);
    public bool IsHealthy => _cache.Connected;

    /// <summary>The cache (tests and the health check read its state).</summary>
    internal EtcdWatchCache Cache => _cache;

    internal CallOptions Call(CancellationToken ct) => new(deadline: DateTime.UtcNow + _options.CallTimeout, cancellationToken: ct);

    /// <summary>
    /// A linearizable read, as upstream's GET without a resourceVersion (a quorum read): etcd's revision read after the
    /// call began (shared with concurrent reads), then the key from the cache once it has applied that revision; from
    /// etcd itself when the cache is behind for longer than its wait.
    /// </summary>
    public async ValueTask<KeyValue?> GetAsync(string key, CancellationToken ct = default)
    {
        if ((await SyncAsync(ct)).CaughtUp) return _cache.Get(key);
        var r = await ReadRpc(() => _kv.RangeAsync(new RangeRequest { Key = Keys.ToEtcd(key) }, Call(ct)).ResponseAsync, ct);
        return r.Kvs.Count == 0 ? null : ToKeyValue(r.Kvs[0]);
    }

    public async ValueTask<RangeResult> RangeAsync(string prefix, string? startAfter, int limit, long revision, CancellationToken ct = default)
    {
        if (revision == 0)
        {
            // Consistent read from the cache: etcd's current revision, then wait for the cache to apply it.
            var (target, caughtUp) = await SyncAsync(ct);
            if (caughtUp && _cache.Range(prefix, startAfter, limit, 0) is { } cached) return cached;
            revision = target;
        }
        // The revision the cache holds is read from memory too; any other from etcd.
        else if (_cache.Range(prefix, startAfter, limit, revision) is { } held) return held;
        return await RangeFromEtcdAsync(prefix, startAfter, limit, revision, ct);
    }

    /// <summary>A range read by etcd itself at <paramref name="revision"/> (0: its current revision).</summary>
    internal async Task<RangeResult> RangeFromEtcdAsync(string prefix, string? startAfter, int limit, long revision, CancellationToken ct)
    {
        if (revision > 0 && revision < CompactRevision) throw new CompactedException(revision, CompactRevision);
        var (from, end) = Keys.PrefixRange(prefix);
        if (startAfter is not null)
        {
            // The smallest key after startAfter: startAfter followed by a zero byte.
            var after = ByteString.CopyFrom([.. Keys.ToEtcd(startAfter).Span, (byte)0]);
            if (after.Span.SequenceCompareTo(from.Span) > 0) from = after;
        }
        var req = new RangeRequest { Key = from, RangeEnd = end, Limit = limit > 0 ? limit : 0, Revision = revision };
        RangeResponse r;
        try { r = await ReadRpc(() => _kv.RangeAsync(req, Call(ct)).ResponseAsync, ct); }
        catch (StorageException e) when (e.InnerException is RpcException { StatusCode: StatusCode.OutOfRange } rpc)
        {
            if (rpc.Status.Detail.Contains("future revision", StringComparison.Ordinal))
                return await RangeFromEtcdAsync(prefix, startAfter, limit, 0, ct); // a future revision reads as now, as SQLite's
            var compacted = Math.Max(CompactRevision, revision + 1);
            InterlockedMax(ref _compactRevision, compacted);
            throw new CompactedException(revision, compacted);
        }
        var items = r.Kvs.Select(ToKeyValue).ToList();
        var rev = revision > 0 ? revision : r.Header.Revision;
        return new RangeResult(items, r.More, rev, r.More ? r.Count - items.Count : 0);
    }

    /// <summary>etcd's current revision: the header of a one-key read.</summary>
    private async Task<long> CurrentEtcdRevisionAsync(CancellationToken ct)
    {
        var r = await ReadRpc(() => _kv.RangeAsync(new RangeRequest { Key = Keys.ToEtcd(Keys.LogicalRoot), CountOnly = true }, Call(ct)).ResponseAsync, ct);
        return r.Header.Revision;
    }

    public async ValueTask<WriteResult> CreateAsync(string key, byte[] value, CancellationToken ct = default)
    {
        var k = Keys.ToEtcd(key);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = k, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = k, Value = UnsafeBytes(value) } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = k } });
        var r = await Rpc(() => _kv.TxnAsync(txn, Call(ct)).ResponseAsync, ct);
        if (!r.Succeeded) return Failed(r);
        var rev = r.Header.Revision;
        await AppliedAsync(rev, ct);
        return new WriteResult(true, rev, new KeyValue(key, value, rev, rev));
    }

    public async ValueTask<WriteResult> UpdateAsync(string key, byte[] value, long expectedRevision, CancellationToken ct = default)
    {
        var k = Keys.ToEtcd(key);
        var txn = new TxnRequest();
        // mod_revision == expected also fails for a missing key (its mod revision is 0; expected revisions are positive).
        txn.Compare.Add(new Compare { Key = k, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expectedRevision });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = k, Value = UnsafeBytes(value), PrevKv = true } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = k } });
        var r = expectedRevision <= 0 ? null : await Rpc(() => _kv.TxnAsync(txn, Call(ct)).ResponseAsync, ct);
        if (r is null) return new WriteResult(false, CurrentRevision, await GetAsync(key, ct));
        if (!r.Succeeded) return Failed(r);
        var rev = r.Header.Revision;
        await AppliedAsync(rev, ct);
        var created = r.Responses[0].ResponsePut.PrevKv?.CreateRevision ?? rev;
        return new WriteResult(true, rev, new KeyValue(key, value, created, rev));
    }

    public async ValueTask<WriteResult> DeleteAsync(string key, long expectedRevision, CancellationToken ct = default)
    {
        var k = Keys.ToEtcd(key);
        var txn = new TxnRequest();
        txn.Compare.Add(expectedRevision == 0
            ? new Compare { Key = k, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Greater, CreateRevision = 0 }
            : new Compare { Key = k, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expectedRevision });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = k, PrevKv = true } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = k } });
        var r = await Rpc(() => _kv.TxnAsync(txn, Call(ct)).ResponseAsync, ct);
        if (!r.Succeeded) return Failed(r);
        var rev = r.Header.Revision;
        await AppliedAsync(rev, ct);
        var prev = r.Responses[0].ResponseDeleteRange.PrevKvs.FirstOrDefault();
        return new WriteResult(true, rev, new KeyValue(key, prev?.Value.ToByteArray() ?? [], prev?.CreateRevision ?? 0, rev));
    }

    private WriteResult Failed(TxnResponse r)
    {
        var kvs = r.Responses.Count > 0 ? r.Responses[0].ResponseRange?.Kvs : null;
        return new WriteResult(false, r.Header.Revision, kvs is { Count: > 0 } ? ToKeyValue(kvs[0]) : null);
    }

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken ct) =>
        WatchAsync(prefix, afterRevision, null, ct);

    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, WatchBudget? budget, [EnumeratorCancellation] CancellationToken ct)
    {
        if (afterRevision < CompactRevision) throw new CompactedException(afterRevision, CompactRevision);
        // From the cache when it still holds every event after the revision; otherwise etcd's own history.
        var fromCache = _cache.Subscribe(prefix, afterRevision, budget);
        if (fromCache is not null)
        {
            using var sub = fromCache;
            await foreach (var ev in sub.ReadAllAsync(ct)) yield return ev;
            yield break;
        }
        await foreach (var ev in _cache.WatchEtcdAsync(prefix, afterRevision, ct)) yield return ev;
    }

    /// <summary>
    /// Compacts etcd as kube-apiserver's compactor does: the <c>compact_rev_key</c> is put with a compare of its version,
    /// so of several replicas compacting at once one wins and compacts; the others note the revision.
    /// </summary>
    public async ValueTask CompactAsync(long revision, CancellationToken ct = default)
    {
        revision = Math.Min(revision, CurrentRevision);
        if (revision <= CompactRevision) return;
        var (done, version) = await ReadCompactKeyAsync(ct);
        if (done >= revision)
        {
            InterlockedMax(ref _compactRevision, done);
            return;
        }
        var key = ByteString.CopyFromUtf8(_options.CompactRevisionKey);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = version });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFromUtf8(revision.ToString(System.Globalization.CultureInfo.InvariantCulture)) } });
        var won = (await Rpc(() => _kv.TxnAsync(txn, Call(ct)).ResponseAsync, ct)).Succeeded;
        if (won)
        {
            try { await Rpc(() => _kv.CompactAsync(new CompactionRequest { Revision = revision }, Call(ct)).ResponseAsync, ct); }
            catch (StorageException e) when (e.InnerException is RpcException { StatusCode: StatusCode.OutOfRange })
            {
                // Compacted further already (by hand, or etcd's own --auto-compaction).
            }
        }
        else revision = Math.Max((await ReadCompactKeyAsync(ct)).Revision, CompactRevision);
        InterlockedMax(ref _compactRevision, revision);
        _cache.Compacted(revision);
    }

    /// <summary>The revision the last compaction recorded, and the key's version (0 when no compaction has run).</summary>
    private async Task<(long Revision, long Version)> ReadCompactKeyAsync(CancellationToken ct)
    {
        var r = await ReadRpc(() => _kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(_options.CompactRevisionKey) }, Call(ct)).ResponseAsync, ct);
        if (r.Kvs.Count == 0) return (0, 0);
        return (long.TryParse(r.Kvs[0].Value.ToStringUtf8(), System.Globalization.CultureInfo.InvariantCulture, out var rev) ? rev : 0, r.Kvs[0].Version);
    }

    /// <summary>After a write: wait (boundedly) until the cache has applied it, so this replica reads its own writes.</summary>
    private async Task AppliedAsync(long revision, CancellationToken ct) => await _cache.WaitForAsync(revision, ct);

    internal KeyValue ToKeyValue(Mvccpb.KeyValue kv) => new(Keys.FromEtcd(kv.Key), kv.Value.ToByteArray(), kv.CreateRevision, kv.ModRevision);

    /// <summary>The stored bytes without a copy: the server never changes an array it has written.</summary>
    private static ByteString UnsafeBytes(byte[] value) => UnsafeByteOperations.UnsafeWrap(value);

    /// <summary>
    /// Runs a read, tried again (twice, after 50 and 150 ms) when the member it reached is unavailable: a read changes
    /// nothing, so another member may answer it. Writes are never sent twice (<see cref="Rpc{T}"/>).
    /// </summary>
    internal static async Task<T> ReadRpc<T>(Func<Task<T>> call, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try { return await Rpc(call, ct); }
            catch (StorageException e) when (attempt < 2 && e.InnerException is RpcException { StatusCode: StatusCode.Unavailable })
            {
                await Task.Delay(attempt == 0 ? 50 : 150, ct);
            }
        }
    }

    /// <summary>Runs one call; a failure of etcd or the connection is a <see cref="StorageException"/>.</summary>
    internal static async Task<T> Rpc<T>(Func<Task<T>> call, CancellationToken ct)
    {
        try { return await call(); }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested) { throw new OperationCanceledException(ct); }
        catch (RpcException e) { throw new StorageException($"etcd: {Describe(e)}", e); }
    }

    /// <summary>One line (a start-up error is one line; gRPC's details may span several).</summary>
    internal static string Describe(RpcException e) => (e.StatusCode switch
    {
        StatusCode.DeadlineExceeded => "context deadline exceeded",
        StatusCode.Unavailable => $"unavailable: {e.Status.Detail}",
        _ => e.Status.Detail is { Length: > 0 } d ? d : e.StatusCode.ToString(),
    }).ReplaceLineEndings(" ");

    internal static void InterlockedMax(ref long field, long value)
    {
        var seen = Volatile.Read(ref field);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref field, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cache.DisposeAsync();
        _channel.Dispose();
    }
}

/// <summary>
/// The server's keys in etcd: <c>/registry</c> (the logical root) replaced by --etcd-prefix, as kube-apiserver joins its
/// prefix and the resource's path. The substitution keeps key order, so prefixes and pages map one to one.
/// </summary>
internal sealed class EtcdKeys(string logicalRoot, string etcdPrefix)
{
    public string LogicalRoot { get; } = logicalRoot;
    public string EtcdPrefix { get; } = etcdPrefix;

    public ByteString ToEtcd(string key)
    {
        if (!key.StartsWith(LogicalRoot, StringComparison.Ordinal))
            throw new ArgumentException($"key {key} is outside {LogicalRoot}");
        return ByteString.CopyFromUtf8(string.Concat(EtcdPrefix, key.AsSpan(LogicalRoot.Length)));
    }

    public string FromEtcd(ByteString key)
    {
        var s = key.ToStringUtf8();
        return string.Concat(LogicalRoot, s.AsSpan(EtcdPrefix.Length));
    }

    private readonly byte[] _prefixBytes = System.Text.Encoding.UTF8.GetBytes(etcdPrefix);

    /// <summary>Whether an etcd key is one of the server's (under --etcd-prefix).</summary>
    public bool IsOurs(ByteString key) => key.Span.StartsWith(_prefixBytes);

    /// <summary>[key, rangeEnd) in etcd for every key with this logical prefix.</summary>
    public (ByteString From, ByteString End) PrefixRange(string prefix)
    {
        var from = ToEtcd(prefix);
        return (from, PrefixEnd(from));
    }

    /// <summary>etcd's prefix end: the key with its last byte below 0xff incremented (clientv3.GetPrefixRangeEnd).</summary>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        var b = prefix.ToByteArray();
        for (var i = b.Length - 1; i >= 0; i--)
        {
            if (b[i] < 0xff)
            {
                b[i]++;
                return ByteString.CopyFrom(b, 0, i + 1);
            }
        }
        return ByteString.CopyFrom(0); // every key
    }
}
