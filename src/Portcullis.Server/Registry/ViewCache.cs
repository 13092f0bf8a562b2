using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Registry;

/// <summary>
/// What a store knows of the view caches read through it: it drops an object's entry when it
/// deletes the object (see <see cref="ViewCache{T}"/>).
/// </summary>
public abstract class ViewCache
{
    /// <summary>Entries kept per cache before it starts over (each is rebuilt by the next read of its object).</summary>
    public const int DefaultCapacity = 16_384;

    /// <summary>Drops the entry of <paramref name="key"/>, if any.</summary>
    internal abstract void Forget(string key);
}

/// <summary>
/// Typed, read-only views of stored objects, made once per stored revision and kept by key: a
/// reader that looks at a few fields of an object on every request (the ServiceAccount token
/// authenticator reads a uid and a deletionTimestamp) decodes the object once per revision instead
/// of once per request. Read through <see cref="GenericStore.GetViewAsync{T}"/>.
/// </summary>
/// <remarks>
/// <para>Every read asks the storage for the key's current revision (from memory) and compares it
/// with the kept entry's, so a kept view is never stale: an update (a new revision) remakes it,
/// and a read of a key that no longer exists drops its entry and answers null, whoever deleted the
/// object (this store, another store, a write straight to the key-value backend). The store also
/// drops the entry when it deletes the object itself. Entries of objects deleted elsewhere and never
/// read again are bounded by <c>capacity</c>: a cache that reaches it starts over.</para>
/// <para><paramref name="make"/> gets a freshly decoded object that nobody else holds and must
/// return an immutable value of the facts it reads, never the <see cref="JsonObject"/> itself or a
/// part of it: the view is shared by every reader of that revision.</para>
/// </remarks>
public sealed class ViewCache<T>(Func<JsonObject, T> make, int capacity = ViewCache.DefaultCapacity) : ViewCache where T : class
{
    private sealed record Entry(long Revision, T View);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>How many objects' views are kept (tests).</summary>
    internal int Count => _entries.Count;

    /// <summary>The view of <paramref name="stored"/> (the key's current value), made once per revision and kept.</summary>
    internal T Get(KeyValue stored, Func<KeyValue, JsonObject> decode)
    {
        if (_entries.TryGetValue(stored.Key, out var kept) && kept.Revision == stored.ModRevision) return kept.View;
        var entry = new Entry(stored.ModRevision, make(decode(stored)));
        if (kept is null && _entries.Count >= capacity) _entries.Clear();
        // Two readers of different revisions: the newer one stays.
        _entries.AddOrUpdate(stored.Key, entry, (_, current) => current.Revision > entry.Revision ? current : entry);
        return entry.View;
    }

    internal override void Forget(string key) => _entries.TryRemove(key, out _);
}
