using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Controllers;

/// <summary>
/// kube-controller-manager's resource quota controller: keeps each quota's <c>status.hard</c> equal
/// to <c>spec.hard</c> and <c>status.used</c> equal to the namespace's true usage, recounted from the
/// objects (pods in a terminal phase or past their deletion grace period charge only count/pods).
/// A namespace is recounted when one of its quotas is created, deleted or changes spec.hard, when an
/// object in it is deleted, when a pod, service or claim update changes what it charges (creates are
/// charged by admission), and on every resync period. Changes are debounced; recounts hold the
/// namespace's quota lock shared with admission, and count objects admission charged for that are not
/// stored yet.
/// </summary>
/// <remarks>
/// With several replicas on one store, another replica's admission may have charged a quota for an
/// object not stored yet, which this controller cannot see. A charge is a status write that raises
/// <c>status.used</c>; one whose revision is not this server's (<see cref="QuotaCoordinator.IsLocalWrite"/>)
/// holds back any lower recount of that quota for the coordinator's pending lifetime after it was seen,
/// then the namespace is counted again; so does the start of a leader's term (charges made before it
/// watched are unknown), except over SQLite, which one process serves alone. Upstream's controller has
/// the same race and no guard; this keeps a quota exact at the price of a late release right after
/// another replica's charge.
/// </remarks>
/// <param name="client">Reads objects and writes quota status.</param>
/// <param name="time">Clock for resyncs, debouncing and pod grace periods.</param>
/// <param name="coordinator">The instance given to <see cref="ResourceQuotaAdmission"/>; a private one when null.</param>
/// <param name="resyncPeriod">Full recount of every quota (upstream's default: 5 minutes).</param>
/// <param name="debounce">How long changes gather before a recount (default 100 ms).</param>
public sealed partial class ResourceQuotaController(SystemClient client, TimeProvider time, QuotaCoordinator? coordinator = null,
    TimeSpan? resyncPeriod = null, TimeSpan? debounce = null, ILogger? log = null) : IController
{
    private readonly ILogger _log = log ?? NullLogger.Instance;
    private const int ConflictRetries = 5;

    private readonly QuotaCoordinator _coordinator = coordinator ?? new QuotaCoordinator();
    private readonly TimeSpan _resync = resyncPeriod ?? TimeSpan.FromMinutes(5);
    private readonly TimeSpan _debounce = debounce ?? TimeSpan.FromMilliseconds(100);
    private readonly Lock _gate = new();
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0);

    /// <summary>Status writes that raised a quota's usage, by quota: their revision and when they were seen.</summary>
    private readonly Dictionary<(string Ns, string Name), List<(long Revision, DateTimeOffset At)>> _charges = [];

    public string Name => "resourcequota";

    private GenericStore Quotas => client.All.First(s => s.Definition.Group.Length == 0 && s.Definition.Plural == "resourcequotas");

    /// <summary>
    /// When this controller started acting, on a store other replicas may write (not SQLite, one
    /// process per file): charges made before it watched are unknown, so decreases wait as after one.
    /// </summary>
    private DateTimeOffset? _termStart;

    public async Task RunAsync(CancellationToken ct)
    {
        if (Storage.Encryption.TransformingBackend.Unwrap(client.Backend) is not Storage.Sqlite.SqliteBackend) _termStart = time.GetUtcNow();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var from = client.Backend.CurrentRevision;
        List<GenericStore> Prefixes() => client.All.Where(s => s.Definition.Namespaced && !s.Definition.Virtual)
            .OrderByDescending(s => s.Definition.KeyPrefix.Length).ToList();
        var generation = client.Resources.Generation;
        var prefixes = Prefixes();
        var worker = Task.Run(() => WorkAsync(cts.Token), CancellationToken.None);
        var resync = Task.Run(() => ResyncAsync(cts.Token), CancellationToken.None);
        try
        {
            await foreach (var ev in client.Backend.WatchAsync("/registry/", from, cts.Token))
            {
                // Kinds defined at run time (CustomResourceDefinitions) count as soon as they are served.
                if (client.Resources.Generation != generation) (generation, prefixes) = (client.Resources.Generation, Prefixes());
                try { Observe(ev, prefixes); }
                catch (Exception e) when (!cts.IsCancellationRequested) { LogFailed(_log, e, ev.Kv.Key); }
            }
        }
        finally
        {
            await cts.CancelAsync();
            try { await Task.WhenAll(worker, resync); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>Queues a recount of the namespace's quotas.</summary>
    public void Enqueue(string ns)
    {
        lock (_gate)
            if (_dirty.Add(ns)) _signal.Release();
    }

    private async Task ResyncAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                foreach (var ns in (await client.ListAsync(Quotas, "", ct)).Select(Meta.Namespace).Distinct())
                    Enqueue(ns);
            }
            catch (Exception e) when (e is not OperationCanceledException) { }
            await Task.Delay(_resync, time, ct);
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        while (true)
        {
            await _signal.WaitAsync(ct);
            await Task.Delay(_debounce, time, ct);
            string[] batch;
            lock (_gate)
            {
                batch = [.. _dirty];
                _dirty.Clear();
            }
            foreach (var ns in batch)
            {
                try { await SyncNamespaceAsync(ns, ct); }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    // Try again later (a later change or the resync also brings it back).
                    LogFailed(_log, e, ns);
                    _ = RetryLaterAsync(ns, ct);
                }
            }
        }
    }

    private async Task RetryLaterAsync(string ns, CancellationToken ct)
    {
        try { await Task.Delay(TimeSpan.FromSeconds(1), time, ct); Enqueue(ns); }
        catch (OperationCanceledException) { }
    }

    private void Observe(WatchEvent ev, List<GenericStore> prefixes)
    {
        // Every write of every kind passes here: nothing is allocated for one that changes no count.
        var key = ev.Kv.Key;
        GenericStore? store = null;
        foreach (var s in prefixes)
            if (key.StartsWith(s.Definition.KeyPrefix, StringComparison.Ordinal)) { store = s; break; }
        if (store is null) return;
        var def = store.Definition;
        var start = def.KeyPrefix.Length;
        var slash = key.IndexOf('/', start);
        if (slash <= start) return;
        // The namespace is cut from the key only when something below needs it.
        string Ns() => key[start..slash];
        if (ev.IsCreate && _coordinator.AnyPending) _coordinator.Arrived(Ns(), def.Group, def.Plural, key[(slash + 1)..]);
        if (def.Group.Length == 0 && def.Plural == "resourcequotas")
        {
            // Quota status writes (admission's and ours) are not a reason to recount; spec changes are.
            if (ev.Type == KeyEventType.Delete || ev.IsCreate || !SameSpecHard(store, ev)) Enqueue(Ns());
            else if (RaisesUsage(store, ev)) RecordCharge(Ns(), key[(slash + 1)..], ev.Kv.ModRevision);
            return;
        }
        if (QuotaEvaluators.IsIgnored(def.Group, def.Plural)) return;
        if (ev.Type == KeyEventType.Delete) { Enqueue(Ns()); return; }
        if (ev.IsCreate || def.Group.Length > 0 || def.Plural is not ("pods" or "services" or "persistentvolumeclaims")) return;
        try
        {
            var evaluator = QuotaEvaluators.For(def.Group, def.Plural);
            var now = time.GetUtcNow();
            var before = evaluator.Usage(store.Decode(ev.PrevKv!), now);
            var after = evaluator.Usage(store.Decode(ev.Kv), now);
            if (!ResourceLists.Equal(before, after)) Enqueue(Ns());
        }
        catch (Exception) { Enqueue(Ns()); }
    }

    private static bool SameSpecHard(GenericStore store, WatchEvent ev)
    {
        try
        {
            return ResourceLists.Equal(ResourceLists.Read(store.Decode(ev.PrevKv!)["spec"]?["hard"]),
                ResourceLists.Read(store.Decode(ev.Kv)["spec"]?["hard"]));
        }
        catch (Exception) { return false; }
    }

    private static bool RaisesUsage(GenericStore store, WatchEvent ev)
    {
        try
        {
            var before = ResourceLists.Read(store.Decode(ev.PrevKv!)["status"]?["used"]);
            var after = ResourceLists.Read(store.Decode(ev.Kv)["status"]?["used"]);
            return after.Any(kv => !before.TryGetValue(kv.Key, out var old) || kv.Value.CompareTo(old) > 0);
        }
        catch (Exception) { return true; }
    }

    private void RecordCharge(string ns, string name, long revision)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_charges.TryGetValue((ns, name), out var list)) _charges[(ns, name)] = list = [];
            list.RemoveAll(c => c.At + _coordinator.PendingLifetime < now);
            list.Add((revision, now));
        }
    }

    /// <summary>
    /// When the latest charge of the quota made by another replica was seen, if within the pending
    /// lifetime (its object may not be stored yet); null otherwise.
    /// </summary>
    internal DateTimeOffset? ForeignChargeSeen(string ns, string name)
    {
        var now = time.GetUtcNow();
        DateTimeOffset? latest = _termStart is { } start && start + _coordinator.PendingLifetime >= now ? start : null;
        lock (_gate)
        {
            if (!_charges.TryGetValue((ns, name), out var list)) return latest;
            list.RemoveAll(c => c.At + _coordinator.PendingLifetime < now);
            if (list.Count == 0) { _charges.Remove((ns, name)); return latest; }
            foreach (var (revision, at) in list)
                if (!_coordinator.IsLocalWrite(revision) && (latest is null || at > latest)) latest = at;
            return latest;
        }
    }

    private async Task RecountAtAsync(string ns, DateTimeOffset at, CancellationToken ct)
    {
        try
        {
            var wait = at - time.GetUtcNow();
            if (wait > TimeSpan.Zero) await Task.Delay(wait, time, ct);
            Enqueue(ns);
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Recounts every quota of the namespace now, writing the statuses that changed.</summary>
    public async Task SyncNamespaceAsync(string ns, CancellationToken ct)
    {
        using var held = await _coordinator.LockAsync(ns, ct);
        var quotas = await client.ListAsync(Quotas, ns, ct);
        if (quotas.Count == 0) return;
        var evaluators = QuotaEvaluators.ForServed(client.All.Select(s => s.Definition));
        List<Exception>? failures = null;
        foreach (var quota in quotas)
        {
            try { await SyncQuotaWithRetriesAsync(quota, evaluators, ct); }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // One quota's failure leaves the namespace's other quotas to be counted; the namespace is retried.
                (failures ??= []).Add(e);
            }
        }
        if (failures is not null) throw new AggregateException(failures);
    }

    private async Task SyncQuotaWithRetriesAsync(JsonObject quota, List<QuotaEvaluator> evaluators, CancellationToken ct)
    {
        var ns = Meta.Namespace(quota);
        {
            var current = quota;
            for (var attempt = 0; ; attempt++)
            {
                var cache = new Dictionary<QuotaEvaluator, List<JsonObject>>();
                try
                {
                    await SyncQuotaAsync(current, evaluators, cache, ct);
                    break;
                }
                catch (ApiException e) when (e.Code == 409 && attempt < ConflictRetries)
                {
                    if (await client.TryGetAsync(Quotas, ns, Meta.Name(current), ct) is not { } fresh) break;
                    current = fresh;
                }
                catch (ApiException e) when (e.Code == 404) { break; }
            }
        }
    }

    private async Task SyncQuotaAsync(JsonObject quota, List<QuotaEvaluator> evaluators, Dictionary<QuotaEvaluator, List<JsonObject>> cache, CancellationToken ct)
    {
        var ns = Meta.Namespace(quota);
        var status = quota["status"] as JsonObject;
        var hard = ResourceLists.Read(quota["spec"]?["hard"]);
        var oldUsed = ResourceLists.Read(status?["used"]);
        var used = new Dictionary<string, Qty>(oldUsed, StringComparer.Ordinal);
        foreach (var (k, v) in await CalculateUsageAsync(ns, quota, hard, evaluators, cache, ct)) used[k] = v;
        used = ResourceLists.Mask(used, hard.Keys);

        // Another replica's recent charge: its object may be on its way, so nothing is released yet.
        if (ForeignChargeSeen(ns, Meta.Name(quota)) is { } seen
            && used.Any(kv => oldUsed.TryGetValue(kv.Key, out var was) && kv.Value.CompareTo(was) < 0))
        {
            foreach (var k in used.Keys.ToList())
                if (oldUsed.TryGetValue(k, out var was) && used[k].CompareTo(was) < 0) used[k] = was;
            _ = RecountAtAsync(ns, seen + _coordinator.PendingLifetime, ct);
        }

        var dirty = status?["hard"] is not JsonObject || status["used"] is not JsonObject
            || !ResourceLists.Equal(hard, ResourceLists.Read(status["hard"]))
            || !ResourceLists.Equal(used, oldUsed);
        if (!dirty) return;
        var newStatus = new JsonObject { ["hard"] = ResourceLists.ToJson(hard), ["used"] = ResourceLists.ToJson(used) };
        var rv = Meta.ResourceVersion(quota);
        var written = await Quotas.UpdateAsync(ns, Meta.Name(quota), "status", current =>
        {
            current["status"] = newStatus.DeepClone();
            Meta.Of(current)["resourceVersion"] = rv;
            return current;
        }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);
        if (long.TryParse(Meta.ResourceVersion(written), out var revision)) _coordinator.LocalWrite(revision, time.GetUtcNow());
    }

    /// <summary>quota.CalculateUsage: the usage of the resources the quota limits that some evaluator tracks.</summary>
    private async Task<Dictionary<string, Qty>> CalculateUsageAsync(string ns, JsonObject quota, Dictionary<string, Qty> hard,
        List<QuotaEvaluator> evaluators, Dictionary<QuotaEvaluator, List<JsonObject>> cache, CancellationToken ct)
    {
        var hardNames = hard.Keys.ToList();
        var tracked = evaluators.SelectMany(e => e.MatchingResources(hardNames)).ToHashSet(StringComparer.Ordinal);
        var matched = hardNames.Where(tracked.Contains).ToList();
        var scopes = QuotaScopes.Of(quota);
        var now = time.GetUtcNow();
        var usage = new Dictionary<string, Qty>(StringComparer.Ordinal);
        foreach (var evaluator in evaluators)
        {
            var resources = evaluator.MatchingResources(matched);
            if (resources.Count == 0) continue;
            var stats = resources.ToDictionary(r => r, _ => Qty.Zero, StringComparer.Ordinal);
            foreach (var item in await ItemsAsync(ns, evaluator, cache, ct))
                if (scopes.All(s => evaluator.MatchesScope(s, item)))
                    stats = ResourceLists.Add(stats, evaluator.Usage(item, now));
            usage = ResourceLists.Add(usage, stats);
        }
        return ResourceLists.Mask(usage, matched);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "resource quota: syncing {What} failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception e, string what);

    /// <summary>The stored objects of the evaluator's kind, plus those admission charged for that are still on their way.</summary>
    private async Task<List<JsonObject>> ItemsAsync(string ns, QuotaEvaluator evaluator, Dictionary<QuotaEvaluator, List<JsonObject>> cache, CancellationToken ct)
    {
        if (cache.TryGetValue(evaluator, out var cached)) return cached;
        var store = client.All.FirstOrDefault(s => s.Definition.Group == evaluator.Group && s.Definition.Plural == evaluator.Resource);
        var items = store is null ? [] : await client.ListAsync(store, ns, ct);
        var names = items.Select(Meta.Name).ToHashSet(StringComparer.Ordinal);
        items.AddRange(_coordinator.Pending(ns, evaluator.Group, evaluator.Resource, names, time.GetUtcNow()));
        cache[evaluator] = items;
        return items;
    }
}
