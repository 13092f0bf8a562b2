using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.Apps;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// kube-controller-manager's deployment controller (pkg/controller/deployment/deployment_controller.go):
/// a Deployment is brought about through ReplicaSets named <c>&lt;deployment&gt;-&lt;pod-template-hash&gt;</c>,
/// one per pod template, scaled by the strategy (<see cref="RolloutRollingAsync"/>,
/// <see cref="RolloutRecreateAsync"/>), with revisions, history cleanup, pausing, the legacy rollback request
/// and the Available / Progressing / ReplicaFailure conditions.
/// </summary>
/// <remarks>
/// The sync is upstream's syncDeployment step by step; the rules of each step live in
/// <see cref="DeploymentUtil"/> and <see cref="DeploymentConditions"/>. Writes are made with the object as read
/// (its resourceVersion a precondition), so a sync that raced another writer fails with a conflict and runs
/// again, as upstream's.
/// </remarks>
public sealed partial class DeploymentController : QueueController
{
    private const string ApiVersion = "apps/v1";
    private const string KindName = "Deployment";

    private readonly Informer _replicaSets;
    private readonly Informer _pods;
    private CancellationToken _stopping;

    public DeploymentController(ControllerContext ctx, int workers = 4)
        : base(ctx, "deployment-controller", ctx.Informers.For("apps", "deployments"), workers)
    {
        _replicaSets = ctx.Informers.For("apps", "replicasets");
        _pods = ctx.Informers.For("", "pods");
    }

    private GenericStore Deployments => Primary.Store;
    private GenericStore ReplicaSets => _replicaSets.Store;

    /// <summary>
    /// The handlers of upstream's controller: a ReplicaSet change wakes its controlling Deployment (or, for an
    /// orphan, every Deployment whose selector matches it: it may be adopted); a deleted pod wakes the Deployment
    /// of its ReplicaSet (a Recreate rollout waits for the old pods to be gone).
    /// </summary>
    protected override void OnChange(InformerEvent e)
    {
        if (e.Source == _replicaSets)
        {
            var rs = e.Object ?? e.OldObject;
            if (rs is null) return;
            if (ControllerRef.Of(rs) is { } owner)
            {
                if (JsonRead.Str(owner, "kind") == KindName) Enqueue(e.Namespace, JsonRead.StrOrEmpty(owner, "name"));
                // A changed controller reference: the old owner syncs too (it may have lost the ReplicaSet).
                if (e.OldObject is { } old && ControllerRef.Of(old) is { } oldOwner && JsonRead.Str(oldOwner, "kind") == KindName
                    && JsonRead.Str(oldOwner, "uid") != JsonRead.Str(owner, "uid"))
                    Enqueue(e.Namespace, JsonRead.StrOrEmpty(oldOwner, "name"));
                return;
            }
            if (e.Object is null) return;
            foreach (var d in Primary.List(e.Namespace))
                if (Selects(d, rs)) Enqueue(e.Namespace, Meta.Name(d));
            return;
        }
        if (e.Source == _pods && e.Type == Storage.KeyEventType.Delete && e.OldObject is { } pod
            && ControllerRef.Of(pod) is { } podOwner && JsonRead.Str(podOwner, "kind") == "ReplicaSet"
            && _replicaSets.Get(e.Namespace, JsonRead.StrOrEmpty(podOwner, "name")) is { } podRs
            && ControllerRef.Of(podRs) is { } dRef && JsonRead.Str(dRef, "kind") == KindName)
            Enqueue(e.Namespace, JsonRead.StrOrEmpty(dRef, "name"));
    }

    private static bool Selects(JsonObject d, JsonObject obj)
    {
        if (d["spec"]?["selector"] is not JsonObject sel || sel.Count == 0) return false;
        return MetaLabelSelector.AsSelector(sel) is { } s && s.Matches(Meta.Labels(obj));
    }

    /// <summary>syncDeployment.</summary>
    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        _stopping = ct;
        if (Primary.Get(ns, name) is not { } cached) return;
        var d = (JsonObject)cached.DeepClone();
        d["apiVersion"] = ApiVersion;
        d["kind"] = KindName;

        if (d["spec"]?["selector"] is JsonObject { Count: 0 })
        {
            await EventAsync(DeploymentKind.V1, d, "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.", ct);
            if (DeploymentUtil.StatusInt(d, "observedGeneration") < DeploymentUtil.Generation(d))
            {
                Status(d)["observedGeneration"] = DeploymentUtil.Generation(d);
                await UpdateStatusAsync(d, ct);
            }
            return;
        }

        var rsList = await ReplicaSetsForDeploymentAsync(d, ct);
        if (Meta.IsDeleting(d))
        {
            await SyncStatusOnlyAsync(d, rsList, ct);
            return;
        }
        await CheckPausedConditionsAsync(d, ct);
        if (DeploymentUtil.Paused(d))
        {
            await SyncScaleAsync(d, rsList, ct);
            return;
        }
        // Rollback is not re-entrant: the request is cleared before ReplicaSets are touched again.
        if (RollbackTo(d) is not null)
        {
            await RollbackAsync(d, rsList, ct);
            return;
        }
        if (await IsScalingEventAsync(d, rsList, ct))
        {
            await SyncScaleAsync(d, rsList, ct);
            return;
        }
        switch (DeploymentUtil.StrategyType(d))
        {
            case "Recreate":
                await RolloutRecreateAsync(d, rsList, PodMap(d, rsList), ct);
                return;
            case "RollingUpdate":
                await RolloutRollingAsync(d, rsList, ct);
                return;
            default:
                throw new InvalidOperationException($"unexpected deployment strategy type: {DeploymentUtil.StrategyType(d)}");
        }
    }

    /// <summary>
    /// getReplicaSetsForDeployment: the namespace's ReplicaSets this Deployment controls after claiming (orphans
    /// its selector matches adopted, controlled ones that no longer match released).
    /// </summary>
    private async Task<List<JsonObject>> ReplicaSetsForDeploymentAsync(JsonObject d, CancellationToken ct)
    {
        var ns = Meta.Namespace(d);
        var selector = d["spec"]?["selector"] as JsonObject;
        var matcher = selector is null ? null : MetaLabelSelector.AsSelector(selector);
        if (matcher is null) throw new InvalidOperationException($"deployment {ns}/{Meta.Name(d)} has invalid label selector");
        var claimed = await ControllerRef.ClaimAsync(ReplicaSets, d, ApiVersion, KindName, _replicaSets.ControlledOrOrphans(ns, Meta.Uid(d)),
            rs => matcher.Matches(Meta.Labels(rs)),
            async c => await Client.TryGetAsync(Deployments, ns, Meta.Name(d), c), Writes, ct);
        return claimed.Select(rs => (JsonObject)rs.DeepClone()).ToList();
    }

    /// <summary>getPodMapForDeployment: the pods of the Deployment's ReplicaSets that its selector matches, by ReplicaSet uid.</summary>
    private Dictionary<string, List<JsonObject>> PodMap(JsonObject d, List<JsonObject> rsList)
    {
        var selector = MetaLabelSelector.AsSelector((JsonObject)d["spec"]!["selector"]!);
        return rsList.ToDictionary(Meta.Uid,
            rs => _pods.ControlledBy(Meta.Uid(rs)).Where(p => selector is not null && selector.Matches(Meta.Labels(p))).ToList(),
            StringComparer.Ordinal);
    }

    /// <summary>
    /// checkPausedConditions: pausing and resuming are recorded as an Unknown Progressing condition, so that a
    /// resumed Deployment does not time out for the time it was paused (a timed-out one stays so).
    /// </summary>
    private async Task CheckPausedConditionsAsync(JsonObject d, CancellationToken ct)
    {
        if (!DeploymentUtil.HasProgressDeadline(d)) return;
        var cond = DeploymentConditions.Get(d["status"] as JsonObject, DeploymentConditions.Progressing);
        if (cond is not null && JsonRead.Str(cond, "reason") == DeploymentConditions.TimedOutReason) return;
        var pausedCondExists = cond is not null && JsonRead.Str(cond, "reason") == DeploymentConditions.PausedDeployReason;
        JsonObject condition;
        if (DeploymentUtil.Paused(d) && !pausedCondExists)
            condition = DeploymentConditions.New(DeploymentConditions.Progressing, "Unknown", DeploymentConditions.PausedDeployReason, "Deployment is paused", Time.GetUtcNow());
        else if (!DeploymentUtil.Paused(d) && pausedCondExists)
            condition = DeploymentConditions.New(DeploymentConditions.Progressing, "Unknown", DeploymentConditions.ResumedDeployReason, "Deployment is resumed", Time.GetUtcNow());
        else return;
        DeploymentConditions.Set(Status(d), condition);
        await UpdateStatusAsync(d, ct);
    }

    /// <summary>isScalingEvent: an active ReplicaSet was sized for another replica count than the Deployment's.</summary>
    private async Task<bool> IsScalingEventAsync(JsonObject d, List<JsonObject> rsList, CancellationToken ct)
    {
        var (newRS, oldRSs) = await AllReplicaSetsAndSyncRevisionAsync(d, rsList, false, ct);
        foreach (var rs in DeploymentUtil.Active(oldRSs.Append(newRS)))
            if (DeploymentUtil.DesiredReplicas(rs) is { } desired && desired != DeploymentUtil.Replicas(d)) return true;
        return false;
    }

    // ---- writes ----

    private static JsonObject Status(JsonObject d)
    {
        if (d["status"] is JsonObject s) return s;
        d["status"] = s = new JsonObject();
        return s;
    }

    /// <summary>UpdateStatus with the Deployment as read (metadata and status; the revision annotation rides along, as upstream's).</summary>
    private async Task UpdateStatusAsync(JsonObject d, CancellationToken ct)
    {
        var sent = (JsonObject)d.DeepClone();
        var written = await Deployments.UpdateAsync(Meta.Namespace(d), Meta.Name(d), "status", _ => sent, Writes, ct);
        Meta.Of(d)["resourceVersion"] = Meta.ResourceVersion(written);
    }

    /// <summary>Update of the Deployment as read (the rollback request cleared, the template rolled back).</summary>
    private async Task UpdateDeploymentAsync(JsonObject d, CancellationToken ct)
    {
        var sent = (JsonObject)d.DeepClone();
        var written = await Deployments.UpdateAsync(Meta.Namespace(d), Meta.Name(d), "", _ => sent, Writes, ct);
        Meta.Of(d)["resourceVersion"] = Meta.ResourceVersion(written);
    }

    /// <summary>Update of a ReplicaSet as read; the written object.</summary>
    private async Task<JsonObject> UpdateReplicaSetAsync(JsonObject rs, CancellationToken ct)
    {
        var sent = (JsonObject)rs.DeepClone();
        sent["apiVersion"] = ApiVersion;
        sent["kind"] = "ReplicaSet";
        return await ReplicaSets.UpdateAsync(Meta.Namespace(rs), Meta.Name(rs), "", _ => sent, Writes, ct);
    }

    /// <summary>requeueStuckDeployment's enqueueAfter.</summary>
    private void EnqueueAfter(JsonObject d, TimeSpan after) => Queue.AddAfter(Key(Meta.Namespace(d), Meta.Name(d)), after, _stopping);

    private static string Itoa(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static bool IsNamespaceTerminating(ApiException e) =>
        e.Causes?.Any(c => c.Reason == "NamespaceTerminating") == true;
}
