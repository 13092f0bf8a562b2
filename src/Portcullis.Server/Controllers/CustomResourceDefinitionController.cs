using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Resources.ApiExtensions;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers;

/// <summary>
/// apiextensions-apiserver's controllers in one loop, at 1.33: the naming controller (accepts a
/// CustomResourceDefinition's names unless another CRD of its group holds them: the NamesAccepted
/// condition and status.acceptedNames), the establishing controller (Established), the serving of
/// each established CRD's served versions (their kinds added to the registry with a store each, and
/// removed when the CRD or the version goes), and the finalizer controller (a deleted CRD's objects are
/// deleted, then its cleanup finalizer is removed, with the Terminating condition telling how far it got).
/// </summary>
public sealed class CustomResourceDefinitionController(
    SystemClient client, ResourceRegistry registry, Action<IEnumerable<GenericStore>, IEnumerable<ResourceDefinition>> changeStores,
    Func<ResourceDefinition, GenericStore> makeStore, TimeProvider time, Microsoft.Extensions.Logging.ILogger? log = null,
    CrdWebhookConverter? converter = null) : IController
{
    /// <summary>How often the loop looks again while a deleted CRD still has objects (their finalizers may be pending).</summary>
    public static readonly TimeSpan PendingInterval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, (string Version, List<ResourceDefinition> Defs)> _served = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sync = new(1, 1);
    private volatile bool _pending;

    public string Name => "customresourcedefinition";

    private GenericStore Crds => client.Store("apiextensions.k8s.io", "customresourcedefinitions");

    /// <summary>Serves the CRDs established before a restart before the server is ready.</summary>
    public Task InitializeAsync(CancellationToken ct) => SyncAllAsync(ct);

    public async Task RunAsync(CancellationToken ct)
    {
        // The look while a deletion is pending runs beside the watch, and stops with it.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var ticker = Task.Run(() => TickAsync(stop.Token), CancellationToken.None);
        try { await client.WatchPrefixAsync(Crds.Prefix(""), SyncAllAsync, ct); }
        finally
        {
            stop.Cancel();
            await ticker;
        }
    }

    private async Task TickAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PendingInterval, time, ct);
                if (_pending) await SyncAllAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            // A failed pass (the store, not one CRD: those are caught per object) is tried again at the next tick.
            catch (Exception e) { await PerObject.TryAsync(log, Name, "pending deletions", () => Task.FromException(e), ct); }
        }
    }

    public async Task SyncAllAsync(CancellationToken ct)
    {
        await _sync.WaitAsync(ct);
        try
        {
            var crds = await client.ListAsync(Crds, "", ct);
            var pending = false;
            foreach (var crd in crds)
            {
                var name = Meta.Name(crd);
                var ok = await PerObject.TryAsync(log, Name, "customresourcedefinition " + name, async () =>
                {
                    if (Meta.IsDeleting(crd)) pending |= !await FinalizeAsync(crd, ct);
                    else await AcceptNamesAsync(crd, crds, ct);
                }, ct);
                if (!ok) pending = true;
            }
            _pending = pending;
            // Serve what the stored CRDs say now (a status write above comes back through the watch).
            var current = await client.ListAsync(Crds, "", ct);
            Serve(current);
        }
        finally { _sync.Release(); }
    }

    /// <summary>The naming and establishing controllers: accepted names, NamesAccepted and Established.</summary>
    private async Task AcceptNamesAsync(JsonObject crd, List<JsonObject> all, CancellationToken ct)
    {
        var spec = CrdSpec.Read(crd);
        var accepted = crd["status"]?["acceptedNames"] as JsonObject ?? [];
        var (names, namesAccepted) = CalculateNames(crd, spec.Group, all);
        var establishedNow = CrdSpec.IsTrue(crd, "Established");
        var nameOk = namesAccepted.Status == "True";
        // Established once the names are accepted (the establishing controller, at once on a single server).
        var established = establishedNow || nameOk
            ? (Status: "True", Reason: "InitialNamesAccepted", Message: "the initial names have been accepted")
            : (Status: "False", Reason: "NotAccepted", Message: "not all names are accepted");
        if (establishedNow && CrdSpec.Condition(crd, "Established") is { } keep)
            established = (JsonRead.StrOrEmpty(keep, "status"), JsonRead.StrOrEmpty(keep, "reason"), JsonRead.StrOrEmpty(keep, "message"));
        if (JsonNode.DeepEquals(names, accepted) && SameCondition(crd, "NamesAccepted", namesAccepted) && SameCondition(crd, "Established", established))
            return;
        try
        {
            await Crds.UpdateAsync("", spec.Name, "status", current =>
            {
                if (JsonRead.StrOrEmpty(current["metadata"], "uid") != spec.Uid) return current;
                if (current["status"] is not JsonObject st) current["status"] = st = new JsonObject();
                st["acceptedNames"] = names.DeepClone();
                var now = time.GetUtcNow();
                CustomResourceDefinitionKind.SetCondition(current, "NamesAccepted", namesAccepted.Status, namesAccepted.Reason, namesAccepted.Message, now);
                CustomResourceDefinitionKind.SetCondition(current, "Established", established.Status, established.Reason, established.Message, now);
                return current;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-apiserver" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    private static bool SameCondition(JsonObject crd, string type, (string Status, string Reason, string Message) want) =>
        CrdSpec.Condition(crd, type) is { } c && JsonRead.StrOrEmpty(c, "status") == want.Status
        && JsonRead.StrOrEmpty(c, "reason") == want.Reason && JsonRead.StrOrEmpty(c, "message") == want.Message;

    /// <summary>calculateNamesAndConditions: each requested name is taken unless another CRD of the group accepted it.</summary>
    public static (JsonObject Names, (string Status, string Reason, string Message) Condition) CalculateNames(JsonObject crd, string group, IEnumerable<JsonObject> all)
    {
        var resources = new HashSet<string>(StringComparer.Ordinal);
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var other in all)
        {
            if (JsonRead.StrOrEmpty(other["spec"], "group") != group) continue;
            var a = other["status"]?["acceptedNames"] as JsonObject ?? [];
            resources.Add(JsonRead.StrOrEmpty(a, "plural"));
            resources.Add(JsonRead.StrOrEmpty(a, "singular"));
            foreach (var s in (a["shortNames"] as JsonArray ?? []).Select(JsonRead.Str)) if (s is not null) resources.Add(s);
            kinds.Add(JsonRead.StrOrEmpty(a, "kind"));
            kinds.Add(JsonRead.StrOrEmpty(a, "listKind"));
        }
        var requested = crd["spec"]?["names"] as JsonObject ?? [];
        var accepted = crd["status"]?["acceptedNames"] as JsonObject ?? [];
        var result = accepted.DeepClone().AsObject();
        (string Status, string Reason, string Message)? conflict = null;

        string? Check(string field, HashSet<string> used)
        {
            var want = JsonRead.StrOrEmpty(requested, field);
            var have = JsonRead.StrOrEmpty(accepted, field);
            if (want == have || !used.Contains(want)) return null;
            return GoText.Quote(want) + " is already in use";
        }

        void Take(string field, HashSet<string> used, string reason)
        {
            if (Check(field, used) is { } err) conflict = ("False", reason, err);
            else if (requested[field] is { } v) result[field] = v.DeepClone();
            else result.Remove(field);
        }

        Take("plural", resources, "PluralConflict");
        Take("singular", resources, "SingularConflict");
        var wantShort = (requested["shortNames"] as JsonArray ?? []).Select(JsonRead.Str).Where(s => s is not null).Select(s => s!).ToList();
        var haveShort = (accepted["shortNames"] as JsonArray ?? []).Select(JsonRead.Str).Where(s => s is not null).Select(s => s!).ToList();
        if (!wantShort.SequenceEqual(haveShort))
        {
            var errs = wantShort.Where(s => !haveShort.Contains(s) && s.Length > 0 && resources.Contains(s)).Select(s => GoText.Quote(s) + " is already in use").ToList();
            if (errs.Count > 0) conflict = ("False", "ShortNamesConflict", errs.Count == 1 ? errs[0] : "[" + string.Join(", ", errs) + "]");
            else if (requested["shortNames"] is { } sn) result["shortNames"] = sn.DeepClone();
            else result.Remove("shortNames");
        }
        Take("kind", kinds, "KindConflict");
        Take("listKind", kinds, "ListKindConflict");
        if (requested["categories"] is { } cats) result["categories"] = cats.DeepClone();
        else result.Remove("categories");
        return (result, conflict ?? ("True", "NoConflicts", "no conflicts found"));
    }

    /// <summary>
    /// The finalizer controller: deletes every object of the kind, then removes the cleanup finalizer
    /// (and the CRD goes). True when done; false while objects remain (their own finalizers pending).
    /// </summary>
    private async Task<bool> FinalizeAsync(JsonObject crd, CancellationToken ct)
    {
        var name = Meta.Name(crd);
        if (!Meta.Finalizers(crd).Contains(CustomResourceDefinitionKind.CleanupFinalizer)) return true;
        var spec = CrdSpec.Read(crd);
        var store = StoreFor(spec);
        var left = 0;
        (string Status, string Reason, string Message) condition;
        var (objects, error) = store is null ? (null, null) : await TryListAsync(store, ct);
        if (store is null) condition = ("False", "InstanceDeletionCompleted", "removed all instances");
        else if (objects is null) condition = ("True", "InstanceDeletionFailed", "could not list instances: " + error);
        else
        {
            if (objects.Count > 0)
                await SetTerminatingAsync(name, ("True", "InstanceDeletionInProgress", "CustomResource deletion is in progress"), ct);
            var failed = 0;
            foreach (var obj in objects)
            {
                try
                {
                    if (!Meta.IsDeleting(obj))
                        await store.DeleteAsync(Meta.Namespace(obj), Meta.Name(obj), new DeleteOptions(SystemClient.Controller), ct);
                }
                catch (ApiException e) when (e.Code == 404) { }
                catch (ApiException) { failed++; }
            }
            left = (await TryListAsync(store, ct)).Objects?.Count ?? 1;
            condition = failed > 0 ? ("True", "InstanceDeletionFailed", "could not issue all deletes")
                : left > 0 ? ("True", "InstanceDeletionCheck", $"could not confirm zero CustomResources remaining: timed out waiting for the condition")
                : ("False", "InstanceDeletionCompleted", "removed all instances");
        }
        await SetTerminatingAsync(name, condition, ct);
        if (left > 0 || condition.Status == "True") return false;
        try
        {
            await Crds.UpdateAsync("", name, "", current =>
            {
                var finalizers = Meta.Finalizers(current);
                finalizers.Remove(CustomResourceDefinitionKind.CleanupFinalizer);
                Meta.Set(current, "finalizers", finalizers.Count > 0 ? new JsonArray(finalizers.Select(f => (JsonNode)f!).ToArray()) : null);
                // Conditional on the object read (CRDs take no unconditional update): a lost race is retried by the next pass.
                return current;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-apiserver" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { return e.Code == 404; }
        return true;
    }

    private async Task SetTerminatingAsync(string name, (string Status, string Reason, string Message) c, CancellationToken ct)
    {
        try
        {
            await Crds.UpdateAsync("", name, "status", current =>
            {
                if (SameCondition(current, "Terminating", c)) return current;
                CustomResourceDefinitionKind.SetCondition(current, "Terminating", c.Status, c.Reason, c.Message, time.GetUtcNow());
                return current;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-apiserver" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    /// <summary>
    /// A store over the kind's objects in the storage version, served or not, so the cleanup never needs a conversion
    /// (with a conversion webhook down, deleting the CRD still removes its objects, as upstream).
    /// </summary>
    private GenericStore? StoreFor(CrdSpec spec) =>
        spec.Group.Length == 0 || spec.Plural.Length == 0 ? null
        : CustomResourceKinds.Build(spec, terminating: true, converter, storageOnly: true) is [var first, ..] ? makeStore(first) : null;

    /// <summary>The objects, or the error when they cannot be listed (the condition says so and the next pass tries again).</summary>
    private async Task<(List<JsonObject>? Objects, string? Error)> TryListAsync(GenericStore store, CancellationToken ct)
    {
        try { return (await client.ListAsync(store, "", ct), null); }
        catch (ApiException e) { return (null, e.Message); }
    }

    /// <summary>Registers the kinds of the established CRDs as they are now; drops the others'.</summary>
    private void Serve(List<JsonObject> crds)
    {
        var added = new List<ResourceDefinition>();
        var removed = new List<ResourceDefinition>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var crd in crds)
        {
            var name = Meta.Name(crd);
            if (!CrdSpec.IsTrue(crd, "Established")) continue;
            seen.Add(name);
            var terminating = Meta.IsDeleting(crd);
            // The served form changes with the spec, the accepted names and whether it is terminating.
            var version = (crd["spec"]?.ToJsonString() ?? "") + "|" + (crd["status"]?["acceptedNames"]?.ToJsonString() ?? "") + "|" + terminating;
            if (_served.TryGetValue(name, out var s) && s.Version == version) continue;
            var defs = CustomResourceKinds.Build(CrdSpec.Read(crd), terminating, converter).ToList();
            if (_served.TryGetValue(name, out var old)) removed.AddRange(old.Defs);
            added.AddRange(defs);
            _served[name] = (version, defs);
        }
        foreach (var name in _served.Keys.Where(n => !seen.Contains(n)).ToList())
        {
            removed.AddRange(_served[name].Defs);
            _served.Remove(name);
        }
        if (added.Count == 0 && removed.Count == 0) return;
        // Stores first, so a request that finds a kind in the registry finds its store.
        changeStores(added.Select(makeStore).ToList(), removed.Where(r => !added.Any(a => a.GroupVersionResource == r.GroupVersionResource)).ToList());
        registry.Change(added, removed);
        // The replaced definitions' stores go once the registry no longer names them.
        changeStores([], removed.Where(r => added.Any(a => a.GroupVersionResource == r.GroupVersionResource)).ToList());
    }
}
