using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.Apps;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// Upstream's pkg/controller/deployment/sync.go: finding and creating the new ReplicaSet (revisions, hash
/// collisions), scaling (proportionally during a rollout), history cleanup, and the status.
/// </summary>
public sealed partial class DeploymentController
{
    /// <summary>syncStatusOnly: a Deployment being deleted only has its status brought up to date.</summary>
    private async Task SyncStatusOnlyAsync(JsonObject d, List<JsonObject> rsList, CancellationToken ct)
    {
        var (newRS, oldRSs) = await AllReplicaSetsAndSyncRevisionAsync(d, rsList, false, ct);
        await SyncDeploymentStatusAsync(oldRSs.Append(newRS).ToList(), newRS, d, ct);
    }

    /// <summary>sync: a paused Deployment or a scaling event: scale, clean up, and update the status; no rollout.</summary>
    private async Task SyncScaleAsync(JsonObject d, List<JsonObject> rsList, CancellationToken ct)
    {
        var (newRS, oldRSs) = await AllReplicaSetsAndSyncRevisionAsync(d, rsList, false, ct);
        await ScaleAsync(d, newRS, oldRSs, ct);
        // Clean up the deployment when it's paused and no rollback is in flight.
        if (DeploymentUtil.Paused(d) && RollbackTo(d) is null) await CleanupDeploymentAsync(oldRSs, d, ct);
        await SyncDeploymentStatusAsync(oldRSs.Append(newRS).ToList(), newRS, d, ct);
    }

    /// <summary>getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked and missing) and all the old ones.</summary>
    private async Task<(JsonObject? NewRS, List<JsonObject> OldRSs)> AllReplicaSetsAndSyncRevisionAsync(JsonObject d, List<JsonObject> rsList, bool createIfNotExisted, CancellationToken ct)
    {
        var oldRSs = DeploymentUtil.FindOldReplicaSets(d, rsList);
        var newRS = await NewReplicaSetAsync(d, rsList, oldRSs, createIfNotExisted, ct);
        return (newRS, oldRSs);
    }

    /// <summary>
    /// getNewReplicaSet: the ReplicaSet whose template is the Deployment's, its annotations and revision brought
    /// up to date; or, when asked, a new one named after the template's hash and sized by the strategy. A name
    /// taken by a ReplicaSet with another template is a hash collision: status.collisionCount goes up and the
    /// next sync tries another name.
    /// </summary>
    private async Task<JsonObject?> NewReplicaSetAsync(JsonObject d, List<JsonObject> rsList, List<JsonObject> oldRSs, bool createIfNotExisted, CancellationToken ct)
    {
        var existing = DeploymentUtil.FindNewReplicaSet(d, rsList);
        var newRevision = Itoa(DeploymentUtil.MaxRevision(oldRSs) + 1);
        var now = Time.GetUtcNow();

        if (existing is not null)
        {
            var rsCopy = (JsonObject)existing.DeepClone();
            var annotationsUpdated = DeploymentUtil.SetNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
            var minReadySecondsNeedsUpdate = DeploymentUtil.MinReadySeconds(rsCopy) != DeploymentUtil.MinReadySeconds(d);
            if (annotationsUpdated || minReadySecondsNeedsUpdate)
            {
                ((JsonObject)rsCopy["spec"]!)["minReadySeconds"] = DeploymentUtil.MinReadySeconds(d);
                return await UpdateReplicaSetAsync(rsCopy, ct);
            }
            // The revision of the existing new ReplicaSet is the one it was given.
            var needsUpdate = DeploymentUtil.SetDeploymentRevision(d, DeploymentUtil.Annotation(rsCopy, DeploymentUtil.RevisionAnnotation));
            if (DeploymentUtil.HasProgressDeadline(d) && DeploymentConditions.Get(d["status"] as JsonObject, DeploymentConditions.Progressing) is null)
            {
                DeploymentConditions.Set(Status(d), DeploymentConditions.New(DeploymentConditions.Progressing, "True",
                    DeploymentConditions.FoundNewRSReason, $"Found new replica set {GoText.Quote(Meta.Name(rsCopy))}", now));
                needsUpdate = true;
            }
            if (needsUpdate) await UpdateStatusAsync(d, ct);
            return rsCopy;
        }
        if (!createIfNotExisted) return null;

        var template = (JsonObject)(d["spec"]?["template"]?.DeepClone() ?? new JsonObject());
        var collisionCount = JsonRead.Long(d["status"], "collisionCount") is { } cc ? (int?)cc : null;
        var hash = PodTemplateHash.Compute(template, collisionCount);
        var tmeta = template["metadata"] as JsonObject ?? (JsonObject)(template["metadata"] = new JsonObject());
        var labels = tmeta["labels"] as JsonObject ?? (JsonObject)(tmeta["labels"] = new JsonObject());
        labels[DeploymentUtil.PodTemplateHashLabel] = hash;
        var selector = (JsonObject)(d["spec"]?["selector"]?.DeepClone() ?? new JsonObject());
        var matchLabels = selector["matchLabels"] as JsonObject ?? (JsonObject)(selector["matchLabels"] = new JsonObject());
        matchLabels[DeploymentUtil.PodTemplateHashLabel] = hash;

        var rsName = Meta.Name(d) + "-" + hash;
        var newRS = new JsonObject
        {
            ["apiVersion"] = ApiVersion,
            ["kind"] = "ReplicaSet",
            ["metadata"] = new JsonObject
            {
                ["name"] = rsName,
                ["namespace"] = Meta.Namespace(d),
                ["labels"] = labels.DeepClone(),
                ["ownerReferences"] = new JsonArray(ControllerRef.New(d, ApiVersion, KindName)),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 0,
                ["minReadySeconds"] = DeploymentUtil.MinReadySeconds(d),
                ["selector"] = selector,
                ["template"] = template,
            },
        };
        var newReplicas = DeploymentUtil.NewRSNewReplicas(d, oldRSs.Append(newRS), newRS);
        newRS["spec"]!["replicas"] = newReplicas;
        DeploymentUtil.SetNewReplicaSetAnnotations(d, newRS, newRevision, false);

        var alreadyExists = false;
        JsonObject created;
        try
        {
            created = await ReplicaSets.CreateAsync(Meta.Namespace(d), newRS, Writes, ct);
        }
        catch (ApiException e) when (e.Code == 409 && e.Reason == "AlreadyExists")
        {
            alreadyExists = true;
            var rs = await Client.TryGetAsync(ReplicaSets, Meta.Namespace(d), rsName, ct)
                ?? throw new InvalidOperationException($"replicaset.apps \"{rsName}\" not found");
            if (ControllerRef.UidOf(rs) == Meta.Uid(d) && DeploymentUtil.EqualIgnoreHash(d["spec"]?["template"], rs["spec"]?["template"]))
                created = rs;
            else
            {
                // A hash collision: bump collisionCount and let the next sync try another name.
                Status(d)["collisionCount"] = (collisionCount ?? 0) + 1;
                try { await UpdateStatusAsync(d, ct); } catch (ApiException) { }
                throw;
            }
        }
        catch (ApiException e) when (IsNamespaceTerminating(e))
        {
            throw;
        }
        catch (ApiException e)
        {
            var msg = $"Failed to create new replica set {GoText.Quote(rsName)}: {e.Message}";
            if (DeploymentUtil.HasProgressDeadline(d))
            {
                DeploymentConditions.Set(Status(d), DeploymentConditions.New(DeploymentConditions.Progressing, "False", DeploymentConditions.FailedRSCreateReason, msg, now));
                try { await UpdateStatusAsync(d, ct); } catch (ApiException) { }
            }
            await EventAsync(DeploymentKind.V1, d, "Warning", DeploymentConditions.FailedRSCreateReason, msg, ct);
            throw;
        }
        if (!alreadyExists && newReplicas > 0)
            await EventAsync(DeploymentKind.V1, d, "Normal", "ScalingReplicaSet", $"Scaled up replica set {Meta.Name(created)} from 0 to {newReplicas}", ct);

        var update = DeploymentUtil.SetDeploymentRevision(d, newRevision);
        if (!alreadyExists && DeploymentUtil.HasProgressDeadline(d))
        {
            DeploymentConditions.Set(Status(d), DeploymentConditions.New(DeploymentConditions.Progressing, "True",
                DeploymentConditions.NewReplicaSetReason, $"Created new replica set {GoText.Quote(Meta.Name(created))}", now));
            update = true;
        }
        if (update) await UpdateStatusAsync(d, ct);
        return created;
    }

    /// <summary>
    /// scale: one active (or no active, then the newest) ReplicaSet takes all the replicas; a saturated new
    /// ReplicaSet scales the old ones to zero; otherwise, during a rolling update, the replicas to add or remove
    /// are spread over the active ReplicaSets in proportion to their sizes, leftovers to the biggest.
    /// </summary>
    private async Task ScaleAsync(JsonObject d, JsonObject? newRS, List<JsonObject> oldRSs, CancellationToken ct)
    {
        var replicas = DeploymentUtil.Replicas(d);
        if (DeploymentUtil.FindActiveOrLatest(newRS, oldRSs) is { } activeOrLatest)
        {
            if (DeploymentUtil.Replicas(activeOrLatest) == replicas) return;
            await ScaleReplicaSetAndRecordEventAsync(activeOrLatest, replicas, d, ct);
            return;
        }
        if (DeploymentUtil.IsSaturated(d, newRS))
        {
            foreach (var old in DeploymentUtil.Active(oldRSs))
                await ScaleReplicaSetAndRecordEventAsync(old, 0, d, ct);
            return;
        }
        if (!DeploymentUtil.IsRollingUpdate(d)) return;

        var allRSs = DeploymentUtil.Active(oldRSs.Append(newRS));
        var allRSsReplicas = DeploymentUtil.ReplicaCount(allRSs);
        var allowedSize = replicas > 0 ? replicas + DeploymentUtil.MaxSurge(d) : 0;
        var toAdd = allowedSize - allRSsReplicas;
        if (toAdd > 0) allRSs.Sort(DeploymentUtil.BySizeNewer);
        else if (toAdd < 0) allRSs.Sort(DeploymentUtil.BySizeOlder);

        var added = 0;
        var nameToSize = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var rs in allRSs)
        {
            if (toAdd != 0)
            {
                var proportion = DeploymentUtil.Proportion(rs, d, toAdd, added);
                nameToSize[Meta.Name(rs)] = DeploymentUtil.Replicas(rs) + proportion;
                added += proportion;
            }
            else nameToSize[Meta.Name(rs)] = DeploymentUtil.Replicas(rs);
        }
        for (var i = 0; i < allRSs.Count; i++)
        {
            var rs = allRSs[i];
            if (i == 0 && toAdd != 0)
                nameToSize[Meta.Name(rs)] = Math.Max(0, nameToSize[Meta.Name(rs)] + toAdd - added);
            await ScaleReplicaSetAsync(rs, nameToSize[Meta.Name(rs)], d, ct);
        }
    }

    /// <summary>scaleReplicaSetAndRecordEvent: nothing when the size is already right.</summary>
    private async Task<(bool Scaled, JsonObject RS)> ScaleReplicaSetAndRecordEventAsync(JsonObject rs, int newScale, JsonObject d, CancellationToken ct)
    {
        if (DeploymentUtil.Replicas(rs) == newScale) return (false, rs);
        return await ScaleReplicaSetAsync(rs, newScale, d, ct);
    }

    /// <summary>scaleReplicaSet: the size and the desired/max replica annotations, with the ScalingReplicaSet event.</summary>
    private async Task<(bool Scaled, JsonObject RS)> ScaleReplicaSetAsync(JsonObject rs, int newScale, JsonObject d, CancellationToken ct)
    {
        var oldScale = DeploymentUtil.Replicas(rs);
        var sizeNeedsUpdate = oldScale != newScale;
        var desired = DeploymentUtil.Replicas(d);
        var max = desired + DeploymentUtil.MaxSurge(d);
        if (!sizeNeedsUpdate && !DeploymentUtil.ReplicasAnnotationsNeedUpdate(rs, desired, max)) return (false, rs);
        var rsCopy = (JsonObject)rs.DeepClone();
        rsCopy["spec"]!["replicas"] = newScale;
        DeploymentUtil.SetReplicasAnnotations(rsCopy, desired, max);
        var written = await UpdateReplicaSetAsync(rsCopy, ct);
        if (!sizeNeedsUpdate) return (false, written);
        var op = oldScale < newScale ? "up" : "down";
        await EventAsync(DeploymentKind.V1, d, "Normal", "ScalingReplicaSet", $"Scaled {op} replica set {Meta.Name(rs)} from {oldScale} to {newScale}", ct);
        return (true, written);
    }

    /// <summary>
    /// cleanupDeployment: old ReplicaSets beyond revisionHistoryLimit are deleted, oldest revision first, only
    /// those with no replicas wanted or running and their latest generation observed.
    /// </summary>
    private async Task CleanupDeploymentAsync(List<JsonObject> oldRSs, JsonObject d, CancellationToken ct)
    {
        if (!DeploymentUtil.HasRevisionHistoryLimit(d)) return;
        var cleanable = oldRSs.Where(rs => !Meta.IsDeleting(rs)).ToList();
        var limit = (int)(JsonRead.Long(d["spec"], "revisionHistoryLimit") ?? 0);
        var diff = cleanable.Count - limit;
        if (diff <= 0) return;
        cleanable.Sort(DeploymentUtil.ByRevision);
        for (var i = 0; i < diff; i++)
        {
            var rs = cleanable[i];
            if (DeploymentUtil.StatusInt(rs, "replicas") != 0 || DeploymentUtil.Replicas(rs) != 0
                || DeploymentUtil.Generation(rs) > (JsonRead.Long(rs["status"], "observedGeneration") ?? 0) || Meta.IsDeleting(rs)) continue;
            try
            {
                await ReplicaSets.DeleteAsync(Meta.Namespace(rs), Meta.Name(rs), new DeleteOptions(User), ct);
            }
            catch (ApiException e) when (e.Code == 404) { }
        }
    }

    /// <summary>syncDeploymentStatus: the status as calculated, written when it changed.</summary>
    private async Task SyncDeploymentStatusAsync(List<JsonObject?> allRSs, JsonObject? newRS, JsonObject d, CancellationToken ct)
    {
        var newStatus = CalculateStatus(allRSs, newRS, d, Time.GetUtcNow());
        if (SameStatus(d["status"] as JsonObject, newStatus)) return;
        d["status"] = newStatus;
        await UpdateStatusAsync(d, ct);
    }

    /// <summary>
    /// calculateStatus: the counts summed over the ReplicaSets (terminatingReplicas is behind the
    /// DeploymentReplicaSetTerminatingReplicas gate, alpha and off in 1.33), the conditions carried over, and
    /// Available set by whether the available replicas reach replicas − maxUnavailable.
    /// </summary>
    internal static JsonObject CalculateStatus(IReadOnlyList<JsonObject?> allRSs, JsonObject? newRS, JsonObject d, DateTimeOffset now)
    {
        var available = DeploymentUtil.AvailableReplicaCount(allRSs);
        var total = DeploymentUtil.ReplicaCount(allRSs);
        var unavailable = Math.Max(0, total - available);
        var status = new JsonObject { ["observedGeneration"] = DeploymentUtil.Generation(d) };
        void Put(string field, int v) { if (v != 0) status[field] = v; }
        Put("replicas", DeploymentUtil.ActualReplicaCount(allRSs));
        Put("updatedReplicas", DeploymentUtil.ActualReplicaCount([newRS]));
        Put("readyReplicas", DeploymentUtil.ReadyReplicaCount(allRSs));
        Put("availableReplicas", available);
        Put("unavailableReplicas", unavailable);
        if (d["status"]?["conditions"] is JsonArray conds && conds.Count > 0) status["conditions"] = conds.DeepClone();
        if (d["status"]?["collisionCount"] is { } cc) status["collisionCount"] = cc.DeepClone();
        if (available >= DeploymentUtil.Replicas(d) - DeploymentUtil.MaxUnavailable(d))
            DeploymentConditions.Set(status, DeploymentConditions.New(DeploymentConditions.Available, "True", DeploymentConditions.MinimumReplicasAvailable, "Deployment has minimum availability.", now));
        else
            DeploymentConditions.Set(status, DeploymentConditions.New(DeploymentConditions.Available, "False", DeploymentConditions.MinimumReplicasUnavailable, "Deployment does not have minimum availability.", now));
        return status;
    }

    /// <summary>reflect.DeepEqual of two statuses, zero counts and an absent field being the same.</summary>
    internal static bool SameStatus(JsonObject? a, JsonObject b) => JsonNode.DeepEquals(Normalized(a), Normalized(b));

    private static JsonObject Normalized(JsonObject? status)
    {
        var n = new JsonObject();
        if (status is null) return n;
        foreach (var (k, v) in status.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (v is null || (v is JsonValue && JsonRead.Long(v) == 0 && k != "collisionCount")) continue;
            if (v is JsonArray { Count: 0 }) continue;
            n[k] = v.DeepClone();
        }
        return n;
    }
}
