using System.Runtime.CompilerServices;
using System.Text;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// The storage of an encrypting server: every value of a resource goes through that resource's transformer on its way to
/// the backend and back (etcd3/store.go's TransformToStorage / TransformFromStorage at each read and write), on every path
/// that carries values: get, range, the current value a failed write returns, and watch events with their previous values.
/// The backends and their caches (SQLite's latest values, etcd's watch cache) hold only the stored, encrypted bytes.
/// </summary>
/// <remarks>
/// A value that cannot be read (no matching prefix, a wrong key, a tampered value, a KMS plugin that cannot decrypt its
/// DEK) is a 500 InternalError with upstream's message (<c>Internal error occurred: no matching prefix found</c>; in a
/// list, <c>unable to transform key "…": …</c>), never garbage. A value read with other than the first provider's current
/// key is marked <see cref="KeyValue.Stale"/>, so that an update with no change still rewrites it.
/// Keys that belong to no resource (the service range allocators) are stored as they are.
/// </remarks>
public sealed class TransformingBackend(IKeyValueBackend inner, EncryptionAtRest encryption, Func<string, StoredResource?> resolve, Func<string, string> storageKey)
    : IKeyValueBackend
{
    /// <summary>Over the resources of <paramref name="resources"/>, by their key prefixes (<see cref="StoredResources"/>).</summary>
    public TransformingBackend(IKeyValueBackend inner, EncryptionAtRest encryption, ResourceRegistry resources, Func<string, string> storageKey)
        : this(inner, encryption, new StoredResources(resources).Resolve, storageKey) { }

    /// <summary>The backend underneath (the SQLite or etcd backend).</summary>
    public IKeyValueBackend Inner => inner;

    /// <summary>The backend underneath a possible decorator: what a caller that asks "is this SQLite?" means.</summary>
    public static IKeyValueBackend Unwrap(IKeyValueBackend kv) => kv is TransformingBackend t ? t.Inner : kv;

    public long CurrentRevision => inner.CurrentRevision;
    public long CompactRevision => inner.CompactRevision;
    public bool IsHealthy => inner.IsHealthy;
    public ValueTask<long> ConsistentRevisionAsync(CancellationToken ct = default) => inner.ConsistentRevisionAsync(ct);
    public ValueTask CompactAsync(long revision, CancellationToken ct = default) => inner.CompactAsync(revision, ct);
    public async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await encryption.DisposeAsync();
    }

    /// <summary>Encryption at rest as configured (its KMS health check, its reload).</summary>
    public EncryptionAtRest Encryption => encryption;

    public async ValueTask<KeyValue?> GetAsync(string key, CancellationToken ct = default)
    {
        var kv = await inner.GetAsync(key, ct);
        return kv is null ? null : await FromStorageAsync(kv, inList: false, ct);
    }

    public async ValueTask<RangeResult> RangeAsync(string prefix, string? startAfter, int limit, long revision, CancellationToken ct = default)
    {
        var page = await inner.RangeAsync(prefix, startAfter, limit, revision, ct);
        var items = new KeyValue[page.Items.Count];
        for (var i = 0; i < items.Length; i++) items[i] = await FromStorageAsync(page.Items[i], inList: true, ct);
        return page with { Items = items };
    }

    public async ValueTask<WriteResult> CreateAsync(string key, byte[] value, CancellationToken ct = default)
    {
        var r = await inner.CreateAsync(key, await ToStorageAsync(key, value, ct), ct);
        return await PlainAsync(r, value, ct);
    }

    public async ValueTask<WriteResult> UpdateAsync(string key, byte[] value, long expectedRevision, CancellationToken ct = default)
    {
        var r = await inner.UpdateAsync(key, await ToStorageAsync(key, value, ct), expectedRevision, ct);
        return await PlainAsync(r, value, ct);
    }

    public async ValueTask<WriteResult> DeleteAsync(string key, long expectedRevision, CancellationToken ct = default)
    {
        var r = await inner.DeleteAsync(key, expectedRevision, ct);
        return r.Current is null ? r : r with { Current = await FromStorageAsync(r.Current, inList: false, ct) };
    }

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken ct) => WatchAsync(prefix, afterRevision, null, ct);

    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, WatchBudget? budget, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var ev in inner.WatchAsync(prefix, afterRevision, budget, ct))
        {
            var kv = await FromStorageAsync(ev.Kv, inList: false, ct);
            var prev = ev.PrevKv is null ? null : await FromStorageAsync(ev.PrevKv, inList: false, ct);
            yield return ReferenceEquals(kv, ev.Kv) && ReferenceEquals(prev, ev.PrevKv) ? ev : ev with { Kv = kv, PrevKv = prev };
        }
    }

    /// <summary>A successful write's value is the plaintext just written (no need to decrypt it); a failed one's current value is read back.</summary>
    private async ValueTask<WriteResult> PlainAsync(WriteResult r, byte[] plaintext, CancellationToken ct)
    {
        if (r.Current is null) return r;
        return r.Succeeded
            ? r with { Current = r.Current with { Value = plaintext } }
            : r with { Current = await FromStorageAsync(r.Current, inList: false, ct) };
    }

    private async ValueTask<byte[]> ToStorageAsync(string key, byte[] value, CancellationToken ct)
    {
        if (resolve(key) is not { } gr) return value;
        TransformationMetrics.Resource.Value = gr.Name;
        try { return await encryption.For(gr.Resource).ToStorageAsync(value, AuthenticatedData(key), ct); }
        catch (TransformException e) { throw ApiErrors.Internal(e.Message); }
    }

    private async ValueTask<KeyValue> FromStorageAsync(KeyValue kv, bool inList, CancellationToken ct)
    {
        if (resolve(kv.Key) is not { } gr) return kv;
        TransformationMetrics.Resource.Value = gr.Name;
        TransformResult r;
        try { r = await encryption.For(gr.Resource).FromStorageAsync(kv.Value, AuthenticatedData(kv.Key), ct); }
        catch (TransformException e)
        {
            throw ApiErrors.Internal(inList ? $"unable to transform key {Serialization.GoText.Quote(storageKey(kv.Key))}: {e.Message}" : e.Message);
        }
        return kv with { Value = r.Data, Stale = r.Stale };
    }

    /// <summary>The authenticated data of a value: its etcd key, prefix included (authenticatedDataString).</summary>
    private byte[] AuthenticatedData(string key) => Encoding.UTF8.GetBytes(storageKey(key));
}

/// <summary>A resource whose values a key holds, and its name as metrics label it (<c>secrets</c>, <c>deployments.apps</c>).</summary>
public sealed record StoredResource(GroupResource Resource, string Name);

/// <summary>Which resource a storage key belongs to, from the registry's key prefixes.</summary>
public sealed class StoredResources(ResourceRegistry resources)
{
    // Key prefix → resource, rebuilt when the registry changes (a CRD established or removed).
    private sealed record Table(long Generation, Dictionary<string, StoredResource> ByPrefix);
    private volatile Table? _table;

    /// <summary>
    /// The group resource a key stores (<c>/registry/secrets/ns/name</c> → secrets; <c>/registry/minions/n</c> → nodes), by
    /// the longest registered key prefix; null for keys of no resource. Kinds that share a prefix (events and
    /// events.k8s.io events) are the core group's, as upstream stores them.
    /// </summary>
    public StoredResource? Resolve(string key)
    {
        var table = _table;
        if (table is null || table.Generation != resources.Generation)
        {
            var generation = resources.Generation;
            var map = new Dictionary<string, StoredResource>(StringComparer.Ordinal);
            foreach (var d in resources.All)
            {
                if (d.Virtual) continue;
                if (map.TryGetValue(d.KeyPrefix, out var had) && had.Resource.Group.Length == 0) continue;
                var gr = new GroupResource(d.Group, d.Plural);
                map[d.KeyPrefix] = new StoredResource(gr, gr.ToString());
            }
            _table = table = new Table(generation, map);
        }
        var byPrefix = table.ByPrefix.GetAlternateLookup<ReadOnlySpan<char>>();
        StoredResource? found = null;
        for (var slash = key.IndexOf('/', 1); slash > 0; slash = key.IndexOf('/', slash + 1))
            if (byPrefix.TryGetValue(key.AsSpan(0, slash + 1), out var r)) found = r;
        return found;
    }
}
