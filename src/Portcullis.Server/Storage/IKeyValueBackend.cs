namespace Portcullis.Server.Storage;

/// <summary>
/// An etcd-shaped, revisioned key-value store: every write gets the next value of one global,
/// monotonic revision, and conditional writes compare a key's modification revision.
/// Implementations: <see cref="Sqlite.SqliteBackend"/> (kine-style revision log) and, later, etcd.
/// </summary>
/// <remarks>
/// Expected outcomes are values: a create of an existing key, or an update/delete whose
/// expected revision is stale, returns <see cref="WriteResult"/> with <c>Succeeded=false</c>
/// and the current value. Only broken storage throws (<see cref="StorageException"/>);
/// reading or watching below the compacted revision throws <see cref="CompactedException"/>.
/// </remarks>
public interface IKeyValueBackend : IAsyncDisposable
{
    /// <summary>The newest revision written (0 for an empty store).</summary>
    long CurrentRevision { get; }

    /// <summary>The oldest revision still readable; reads below it throw <see cref="CompactedException"/>.</summary>
    long CompactRevision { get; }

    /// <summary>
    /// The store's revision as of now, for a read that must see every write acknowledged before it started, by anyone:
    /// <see cref="CurrentRevision"/> for a store only this process writes; etcd's own revision for etcd, whose other
    /// replicas write too (a list waits until this replica's view has applied it).
    /// </summary>
    ValueTask<long> ConsistentRevisionAsync(CancellationToken ct = default) => ValueTask.FromResult(CurrentRevision);

    /// <summary>Reads one key at the current revision.</summary>
    ValueTask<KeyValue?> GetAsync(string key, CancellationToken ct = default);

    /// <summary>
    /// Lists the live keys with the given prefix, ordered by key, strictly after <paramref name="startAfter"/>
    /// (null: from the start), at most <paramref name="limit"/> of them (0: no limit), as of
    /// <paramref name="revision"/> (0: the current revision).
    /// </summary>
    ValueTask<RangeResult> RangeAsync(string prefix, string? startAfter, int limit, long revision, CancellationToken ct = default);

    /// <summary>Creates a key that does not exist.</summary>
    ValueTask<WriteResult> CreateAsync(string key, byte[] value, CancellationToken ct = default);

    /// <summary>Replaces a key's value if its modification revision is <paramref name="expectedRevision"/>.</summary>
    ValueTask<WriteResult> UpdateAsync(string key, byte[] value, long expectedRevision, CancellationToken ct = default);

    /// <summary>Deletes a key if its modification revision is <paramref name="expectedRevision"/> (0: unconditionally).</summary>
    ValueTask<WriteResult> DeleteAsync(string key, long expectedRevision, CancellationToken ct = default);

    /// <summary>
    /// Streams every change to keys with the given prefix made after <paramref name="afterRevision"/>,
    /// in revision order, until cancelled. Throws <see cref="CompactedException"/> when that revision
    /// has been compacted away.
    /// </summary>
    IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken ct);

    /// <summary>
    /// <see cref="WatchAsync(string, long, CancellationToken)"/> for a watcher that may be slow: once
    /// more than the budget's events or bytes wait for it, it is cut off (the stream throws
    /// <see cref="StorageException"/>, the budget's <see cref="WatchBudget.CutOff"/> fires) and its
    /// backlog is dropped.
    /// </summary>
    IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, WatchBudget? budget, CancellationToken ct);

    /// <summary>
    /// Whether the store answers (the <c>etcd</c> health check): etcd's backend says whether its watch cache is connected;
    /// an embedded store always answers.
    /// </summary>
    bool IsHealthy => true;

    /// <summary>Drops history at and below <paramref name="revision"/>, keeping each key's latest value.</summary>
    ValueTask CompactAsync(long revision, CancellationToken ct = default);
}

/// <summary>One key's value at one revision.</summary>
public sealed record KeyValue(string Key, byte[] Value, long CreateRevision, long ModRevision)
{
    /// <summary>
    /// Read through encryption at rest with other than what a write would use now (an older key, a later provider):
    /// an update with no change must still rewrite it (etcd3/store.go's objState.stale). Always false without encryption.
    /// </summary>
    public bool Stale { get; init; }
}

/// <summary>A page of a range read, with the revision it was read at.</summary>
public sealed record RangeResult(IReadOnlyList<KeyValue> Items, bool More, long Revision, long RemainingCount);

/// <summary>
/// The outcome of a conditional write. When <see cref="Succeeded"/> is false, <see cref="Current"/>
/// is the key's current value (null when it does not exist).
/// </summary>
public readonly record struct WriteResult(bool Succeeded, long Revision, KeyValue? Current);

/// <summary>What happened to a key (etcd's mvccpb.Event_EventType); the API's event types are Registry.WatchEventType.</summary>
public enum KeyEventType { Put, Delete }

/// <summary>
/// A change: for <see cref="KeyEventType.Put"/>, <see cref="Kv"/> is the new value and
/// <see cref="PrevKv"/> the value before (null on create); for a delete, <see cref="Kv"/> carries the
/// deletion revision and the last value.
/// </summary>
public sealed record WatchEvent(KeyEventType Type, KeyValue Kv, KeyValue? PrevKv)
{
    public bool IsCreate => Type == KeyEventType.Put && PrevKv is null;
}

/// <summary>A read or watch asked for history that compaction removed.</summary>
public sealed class CompactedException(long requested, long compacted)
    : Exception($"required revision {requested} has been compacted (oldest available {compacted})")
{
    public long Requested { get; } = requested;
    public long Compacted { get; } = compacted;
}

/// <summary>The backend itself failed (disk, corruption, connection).</summary>
public sealed class StorageException(string message, Exception? inner = null) : Exception(message, inner);
