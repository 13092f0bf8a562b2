using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Selectors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// kube-controller-manager's ReplicaSet controller (pkg/controller/replicaset/replica_set.go, 1.33), which also runs
/// ReplicationControllers (pkg/controller/replication: the same manager over another kind): it claims the namespace's
/// active pods its selector matches, creates pods from the template or deletes the least valuable ones until as many
/// as <c>spec.replicas</c> are active, and writes status (replicas, fullyLabeledReplicas, readyReplicas,
/// availableReplicas after minReadySeconds, observedGeneration, the ReplicaFailure condition).
/// </summary>
public sealed class ReplicaSetController : QueueController
{
    /// <summary>Upstream's BurstReplicas: at most this many pods are created or deleted in one sync.</summary>
    public const int BurstReplicas = 500;

    private readonly Informer _pods;
    private readonly PodControl _podControl;
    private readonly string _apiVersion;
    private readonly string _kind;
    private readonly bool _legacy;

    private ReplicaSetController(ControllerContext context, string component, string group, string plural, string apiVersion, string kind)
        : base(context, component, context.Informers.For(group, plural))
    {
        _pods = context.Informers.For("", "pods");
        _apiVersion = apiVersion;
        _kind = kind;
        _legacy = kind == "ReplicationController";
        _podControl = new PodControl(this, Primary.Store.Definition);
    }

    /// <summary>The ReplicaSet controller (component and service account <c>replicaset-controller</c>).</summary>
    public static ReplicaSetController ForReplicaSets(ControllerContext context) =>
        new(context, "replicaset-controller", "apps", "replicasets", "apps/v1", "ReplicaSet");

    /// <summary>The replication manager (component and service account <c>replication-controller</c>).</summary>
    public static ReplicaSetController ForReplicationControllers(ControllerContext context) =>
        new(context, "replication-controller", "", "replicationcontrollers", "v1", "ReplicationController");

    /// <summary>The selector of a ReplicaSet (metav1.LabelSelector) or ReplicationController (a label map); null when invalid.</summary>
    private LabelSelector? SelectorOf(JsonObject owner)
    {
        var spec = owner["spec"] as JsonObject;
        if (_legacy)
        {
            var map = Meta.StringMap(spec?["selector"]);
            // An RC without a selector uses its template's labels (defaulted at create, as upstream's defaults).
            if (map.Count == 0) return null;
            return LabelSelector.Of(map.Select(kv => new LabelRequirement(kv.Key, SelectorOp.Equals, [kv.Value])).ToList());
        }
        return spec?["selector"] is JsonObject s ? MetaLabelSelector.AsSelector(s) : null;
    }

    private static int Replicas(JsonObject owner) => (int)(JsonRead.Long(owner["spec"], "replicas") ?? 1);

    private static int MinReadySeconds(JsonObject owner) => (int)(JsonRead.Long(owner["spec"], "minReadySeconds") ?? 0);

    protected override void OnChange(InformerEvent e)
    {
        if (e.Source != _pods) return;
        // addPod / updatePod / deletePod: the pod's controller (now and before), else every owner whose selector
        // matches an orphan.
        var pod = e.Object;
        var old = e.OldObject;
        foreach (var p in new[] { pod, old })
        {
            if (p is null) continue;
            if (ControllerRef.Of(p) is { } r)
            {
                if (JsonRead.Str(r, "kind") == _kind && JsonRead.Str(r, "apiVersion")?.Split('/')[0] == _apiVersion.Split('/')[0])
                    EnqueueOwner(e.Namespace, r);
                continue;
            }
            if (p == pod && !Meta.IsDeleting(p))
                foreach (var owner in Primary.List(e.Namespace))
                    if (SelectorOf(owner) is { IsEmpty: false } sel && sel.Matches(Meta.Labels(p)))
                        Enqueue(e.Namespace, Meta.Name(owner));
        }
        // A pod that just became ready is available after minReadySeconds: look again then.
        if (pod is not null && old is not null && PodFacts.IsReady(pod) && !PodFacts.IsReady(old) && ControllerRef.Of(pod) is { } rr
            && Primary.Get(e.Namespace, JsonRead.StrOrEmpty(rr, "name")) is { } rs && MinReadySeconds(rs) > 0)
            Queue.AddAfter(Key(e.Namespace, Meta.Name(rs)), TimeSpan.FromSeconds(MinReadySeconds(rs) + 1), CancellationToken.None);
    }

    private void EnqueueOwner(string ns, JsonObject reference)
    {
        var name = JsonRead.StrOrEmpty(reference, "name");
        if (Primary.Get(ns, name) is { } owner && Meta.Uid(owner) == JsonRead.Str(reference, "uid")) Enqueue(ns, name);
    }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        if (Primary.Get(ns, name) is not { } rs) return;
        if (SelectorOf(rs) is not { } selector)
        {
            // Upstream logs "error converting pod selector" and does nothing; validation keeps this from happening.
            return;
        }
        var uid = Meta.Uid(rs);
        var candidates = _pods.ControlledOrOrphans(ns, uid).Where(PodFacts.IsActive).ToList();
        var pods = await ControllerRef.ClaimAsync(_pods.Store, rs, _apiVersion, _kind, candidates,
            p => !selector.IsEmpty && selector.Matches(Meta.Labels(p)),
            async c => await Client.TryGetAsync(Primary.Store, ns, name, c), Writes, ct);
        Exception? manageError = null;
        if (!Meta.IsDeleting(rs))
        {
            try { await ManageReplicasAsync(rs, pods, ct); }
            catch (Exception e) when (!ct.IsCancellationRequested) { manageError = e; }
        }
        if (manageError is null) pods = _pods.ControlledBy(uid).Where(PodFacts.IsActive).ToList();
        var updated = await UpdateStatusAsync(rs, pods, manageError, ct);
        // Resync after minReadySeconds as a last line of defence against clock skew (upstream's rule).
        if (manageError is null && updated is not null && MinReadySeconds(updated) > 0)
        {
            var status = updated["status"] as JsonObject;
            var replicas = Replicas(updated);
            if (Int(status, "readyReplicas") == replicas && Int(status, "availableReplicas") != replicas)
                Queue.AddAfter(Key(ns, name), TimeSpan.FromSeconds(MinReadySeconds(updated)), ct);
        }
        if (manageError is not null) throw manageError;
    }

    private static int Int(JsonObject? o, string field) => (int)(JsonRead.Long(o, field) ?? 0);

    /// <summary>manageReplicas: create in slow-start batches (1, 2, 4, …; stop at the first failing batch) or delete the pods ranked first.</summary>
    private async Task ManageReplicasAsync(JsonObject rs, List<JsonObject> pods, CancellationToken ct)
    {
        var diff = pods.Count - Replicas(rs);
        if (diff < 0)
        {
            var want = Math.Min(-diff, BurstReplicas);
            var template = rs["spec"]?["template"] as JsonObject;
            var controllerRef = ControllerRef.New(rs, _apiVersion, _kind);
            var remaining = want;
            for (var batch = Math.Min(remaining, 1); batch > 0; batch = Math.Min(2 * batch, remaining))
            {
                var results = await Task.WhenAll(Enumerable.Range(0, batch).Select(async _ =>
                {
                    try
                    {
                        await _podControl.CreateAsync(rs, PodControl.PodFromTemplate(template, rs, controllerRef), ct);
                        return null;
                    }
                    // A terminating namespace: nothing more to do (upstream's NamespaceTerminatingCause).
                    catch (ApiException e) when (e.Causes?.Any(c => c.Reason == "NamespaceTerminating") == true) { return null; }
                    catch (Exception e) when (!ct.IsCancellationRequested) { return e; }
                }));
                remaining -= batch;
                if (results.FirstOrDefault(e => e is not null) is { } failed) throw failed;
            }
            return;
        }
        if (diff > 0)
        {
            var victims = PodRanking.ToDelete(pods, RelatedPods(rs), Math.Min(diff, BurstReplicas), Time.GetUtcNow());
            var failures = await Task.WhenAll(victims.Select(async p =>
            {
                try { await _podControl.DeleteAsync(rs, p, ct); return null; }
                catch (Exception e) when (!ct.IsCancellationRequested) { return e; }
            }));
            if (failures.FirstOrDefault(e => e is not null) is { } failed) throw failed;
        }
    }

    /// <summary>getIndirectlyRelatedPods: the pods of every owner of the same kind whose controller (a Deployment) is this one's.</summary>
    private List<JsonObject> RelatedPods(JsonObject rs)
    {
        var related = new List<JsonObject>();
        var ownerUid = ControllerRef.UidOf(rs);
        foreach (var sibling in Primary.List(Meta.Namespace(rs)))
            if (Meta.Uid(sibling) == Meta.Uid(rs) || (ownerUid.Length > 0 && ControllerRef.UidOf(sibling) == ownerUid))
                related.AddRange(_pods.ControlledBy(Meta.Uid(sibling)));
        return related;
    }

    /// <summary>calculateStatus and updateReplicaSetStatus: written only when something changed.</summary>
    private async Task<JsonObject?> UpdateStatusAsync(JsonObject rs, List<JsonObject> pods, Exception? manageError, CancellationToken ct)
    {
        var templateLabels = Meta.StringMap(rs["spec"]?["template"]?["metadata"]?["labels"]);
        var now = Time.GetUtcNow();
        int fullyLabeled = 0, ready = 0, available = 0;
        foreach (var p in pods)
        {
            var labels = Meta.Labels(p);
            if (templateLabels.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value)) fullyLabeled++;
            if (!PodFacts.IsReady(p)) continue;
            ready++;
            if (PodFacts.IsAvailable(p, MinReadySeconds(rs), now)) available++;
        }
        var generation = Meta.Of(rs)["generation"]?.GetValue<long>() ?? 0;
        JsonObject Desired(JsonObject current)
        {
            var status = (current["status"] as JsonObject)?.DeepClone() as JsonObject ?? new JsonObject();
            var conditions = status["conditions"] as JsonArray;
            var failure = conditions?.OfType<JsonObject>().FirstOrDefault(c => JsonRead.Str(c, "type") == "ReplicaFailure");
            if (manageError is not null && failure is null)
            {
                var diff = pods.Count - Replicas(rs);
                var reason = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "";
                conditions ??= [];
                conditions.Add((JsonNode)new JsonObject
                {
                    ["type"] = "ReplicaFailure",
                    ["status"] = "True",
                    ["lastTransitionTime"] = ObjectShaper.FormatTime(now),
                    ["reason"] = reason,
                    ["message"] = manageError.Message,
                });
                status["conditions"] = conditions;
            }
            else if (manageError is null && failure is not null)
            {
                conditions!.Remove(failure);
                if (conditions.Count == 0) status.Remove("conditions");
            }
            status["replicas"] = pods.Count;
            status["fullyLabeledReplicas"] = fullyLabeled;
            status["readyReplicas"] = ready;
            status["availableReplicas"] = available;
            status["observedGeneration"] = generation;
            return status;
        }
        var wanted = Desired(rs);
        if (JsonNode.DeepEquals(wanted, rs["status"]) && (rs["status"]?["observedGeneration"]?.GetValue<long>() ?? -1) == generation) return rs;
        try
        {
            return await Primary.Store.UpdateAsync(Meta.Namespace(rs), Meta.Name(rs), "status", cur =>
            {
                if (Meta.Uid(cur) != Meta.Uid(rs)) throw ApiErrors.NotFound(Primary.Store.Definition.Plural, Primary.Store.Definition.Group, Meta.Name(rs));
                cur["status"] = Desired(cur);
                return cur;
            }, Writes, ct);
        }
        catch (ApiException e) when (e.Code == 404) { return null; }
    }
}
