using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// What the ResourceQuota admission plugin and the quota controller share in one server: a lock per
/// namespace (so a charge and a recount never interleave), the objects admission has charged
/// for but storage may not hold yet, which a recount must still count, and the revisions of the
/// quota status writes this server made, so that the controller can tell another replica's charges
/// (whose objects it cannot know) from its own. Pass one instance to both.
/// </summary>
/// <remarks>
/// Across replicas nothing here is shared: the quota object is. Admission charges it with its
/// resourceVersion (a lost race is re-read and re-checked), so replicas never admit past the limit;
/// the controller holds back a lower recount while another replica's charge may still be on its way
/// (<see cref="Controllers.ResourceQuotaController"/>).
/// </remarks>
public sealed class QuotaCoordinator
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Ns, Api.GroupResource Resource), Dictionary<string, PendingCharge>> _pending = new();
    private readonly Queue<PendingCharge> _byExpiry = new();

    /// <summary>How long a charged object is assumed to be on its way into storage.</summary>
    public TimeSpan PendingLifetime { get; init; } = TimeSpan.FromSeconds(10);

    private sealed record PendingCharge((string Ns, Api.GroupResource Resource) Kind, string Name, JsonObject Object, DateTimeOffset Expires);

    /// <summary>Holds the namespace's quota lock until disposed.</summary>
    public async Task<IDisposable> LockAsync(string ns, CancellationToken ct)
    {
        var sem = _locks.GetOrAdd(ns, _ => new SemaphoreSlim(1, 1));
        await sem.WaitAsync(ct);
        return new Releaser(sem);
    }

    private sealed class Releaser(SemaphoreSlim sem) : IDisposable
    {
        private int _done;
        public void Dispose() { if (Interlocked.Exchange(ref _done, 1) == 0) sem.Release(); }
    }

    internal void AddPending(string ns, string group, string resource, string name, JsonObject obj, DateTimeOffset now)
    {
        if (name.Length == 0) return;
        var charge = new PendingCharge((ns, new Api.GroupResource(group, resource)), name, (JsonObject)obj.DeepClone(), now + PendingLifetime);
        lock (_gate)
        {
            Expire(now);
            if (!_pending.TryGetValue(charge.Kind, out var byName)) _pending[charge.Kind] = byName = new Dictionary<string, PendingCharge>(StringComparer.Ordinal);
            byName[name] = charge;
            _byExpiry.Enqueue(charge);
            Volatile.Write(ref _queued, _byExpiry.Count);
        }
    }

    /// <summary>
    /// Whether any charge may wait for its object (charges not yet expired, whether or not their
    /// object arrived): a watcher of every write skips <see cref="Arrived"/> when none does.
    /// </summary>
    internal bool AnyPending => Volatile.Read(ref _queued) > 0;
    private int _queued;

    /// <summary>The object reached storage: it is counted from there on.</summary>
    internal void Arrived(string ns, string group, string resource, string name)
    {
        lock (_gate)
            if (_pending.TryGetValue((ns, new Api.GroupResource(group, resource)), out var byName)) byName.Remove(name);
    }

    /// <summary>
    /// The charged objects of a kind missing from <paramref name="stored"/> (by name) and still fresh;
    /// those found stored are forgotten.
    /// </summary>
    internal List<JsonObject> Pending(string ns, string group, string resource, IReadOnlySet<string> stored, DateTimeOffset now)
    {
        lock (_gate)
        {
            Expire(now);
            if (!_pending.TryGetValue((ns, new Api.GroupResource(group, resource)), out var byName)) return [];
            foreach (var name in byName.Keys.Where(stored.Contains).ToList()) byName.Remove(name);
            return byName.Values.Select(p => p.Object).ToList();
        }
    }

    private readonly Queue<(long Revision, DateTimeOffset At)> _localWrites = new();
    private readonly HashSet<long> _localRevisions = [];

    /// <summary>This server wrote a quota's status at <paramref name="revision"/> (a charge or a recount).</summary>
    internal void LocalWrite(long revision, DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_localWrites.TryPeek(out var first) && first.At + PendingLifetime + PendingLifetime < now)
                _localRevisions.Remove(_localWrites.Dequeue().Revision);
            if (_localRevisions.Add(revision)) _localWrites.Enqueue((revision, now));
        }
    }

    /// <summary>Whether the quota status write at <paramref name="revision"/> was this server's (remembered for twice <see cref="PendingLifetime"/>).</summary>
    internal bool IsLocalWrite(long revision)
    {
        lock (_gate) return _localRevisions.Contains(revision);
    }

    private void Expire(DateTimeOffset now)
    {
        while (_byExpiry.TryPeek(out var first) && first.Expires < now)
        {
            _byExpiry.Dequeue();
            Volatile.Write(ref _queued, _byExpiry.Count);
            if (_pending.TryGetValue(first.Kind, out var byName) && byName.TryGetValue(first.Name, out var cur) && ReferenceEquals(cur, first))
            {
                byName.Remove(first.Name);
                if (byName.Count == 0) _pending.Remove(first.Kind);
            }
        }
    }
}
