using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.Apps;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// The strategies and the rollout's progress: upstream's rolling.go, recreate.go, progress.go and rollback.go
/// (pkg/controller/deployment).
/// </summary>
public sealed partial class DeploymentController
{
    // ---- rolling.go ----

    /// <summary>rolloutRolling: scale the new ReplicaSet up as far as the surge allows, else the old ones down as far as availability allows.</summary>
    private async Task RolloutRollingAsync(JsonObject d, List<JsonObject> rsList, CancellationToken ct)
    {
        var (newRS, oldRSs) = await AllReplicaSetsAndSyncRevisionAsync(d, rsList, true, ct);
        var allRSs = oldRSs.Append(newRS).ToList();
        if (await ReconcileNewReplicaSetAsync(allRSs, newRS!, d, ct))
        {
            await SyncRolloutStatusAsync(allRSs, newRS, d, ct);
            return;
        }
        if (await ReconcileOldReplicaSetsAsync(allRSs, DeploymentUtil.Active(oldRSs), newRS!, d, ct))
        {
            await SyncRolloutStatusAsync(allRSs, newRS, d, ct);
            return;
        }
        if (DeploymentConditions.Complete(d, Status(d))) await CleanupDeploymentAsync(oldRSs, d, ct);
        await SyncRolloutStatusAsync(allRSs, newRS, d, ct);
    }

    /// <summary>reconcileNewReplicaSet.</summary>
    private async Task<bool> ReconcileNewReplicaSetAsync(List<JsonObject?> allRSs, JsonObject newRS, JsonObject d, CancellationToken ct)
    {
        var replicas = DeploymentUtil.Replicas(d);
        if (DeploymentUtil.Replicas(newRS) == replicas) return false;
        if (DeploymentUtil.Replicas(newRS) > replicas)
            return (await ScaleReplicaSetAndRecordEventAsync(newRS, replicas, d, ct)).Scaled;
        var count = DeploymentUtil.NewRSNewReplicas(d, allRSs, newRS);
        return (await ScaleReplicaSetAndRecordEventAsync(newRS, count, d, ct)).Scaled;
    }

    /// <summary>
    /// reconcileOldReplicaSets: how far the old ReplicaSets may shrink (all pods − minimum available − the new
    /// ReplicaSet's unavailable ones); unhealthy replicas go first, then available ones down to the minimum.
    /// </summary>
    private async Task<bool> ReconcileOldReplicaSetsAsync(List<JsonObject?> allRSs, List<JsonObject> oldRSs, JsonObject newRS, JsonObject d, CancellationToken ct)
    {
        if (DeploymentUtil.ReplicaCount(oldRSs) == 0) return false;
        var allPods = DeploymentUtil.ReplicaCount(allRSs);
        var minAvailable = DeploymentUtil.Replicas(d) - DeploymentUtil.MaxUnavailable(d);
        var newUnavailable = DeploymentUtil.Replicas(newRS) - DeploymentUtil.StatusInt(newRS, "availableReplicas");
        var maxScaledDown = allPods - minAvailable - newUnavailable;
        if (maxScaledDown <= 0) return false;
        var cleanedUp = await CleanupUnhealthyReplicasAsync(oldRSs, d, maxScaledDown, ct);
        var scaledDown = await ScaleDownOldReplicaSetsForRollingUpdateAsync(oldRSs.Append(newRS).ToList(), oldRSs, d, ct);
        return cleanedUp + scaledDown > 0;
    }

    /// <summary>cleanupUnhealthyReplicas: old ReplicaSets lose their unavailable replicas first (oldest first).</summary>
    private async Task<int> CleanupUnhealthyReplicasAsync(List<JsonObject> oldRSs, JsonObject d, int maxCleanupCount, CancellationToken ct)
    {
        oldRSs.Sort(DeploymentUtil.ByCreation);
        var total = 0;
        for (var i = 0; i < oldRSs.Count; i++)
        {
            if (total >= maxCleanupCount) break;
            var rs = oldRSs[i];
            var replicas = DeploymentUtil.Replicas(rs);
            var available = DeploymentUtil.StatusInt(rs, "availableReplicas");
            if (replicas == 0 || replicas == available) continue;
            var down = Math.Min(maxCleanupCount - total, replicas - available);
            var target = replicas - down;
            if (target > replicas)
                throw new InvalidOperationException($"when cleaning up unhealthy replicas, got invalid request to scale down {Meta.Namespace(rs)}/{Meta.Name(rs)} {replicas} -> {target}");
            var (_, updated) = await ScaleReplicaSetAndRecordEventAsync(rs, target, d, ct);
            total += down;
            oldRSs[i] = updated;
        }
        return total;
    }

    /// <summary>scaleDownOldReplicaSetsForRollingUpdate: available replicas above the minimum are taken from the oldest ReplicaSets.</summary>
    private async Task<int> ScaleDownOldReplicaSetsForRollingUpdateAsync(List<JsonObject?> allRSs, List<JsonObject> oldRSs, JsonObject d, CancellationToken ct)
    {
        var minAvailable = DeploymentUtil.Replicas(d) - DeploymentUtil.MaxUnavailable(d);
        var availablePods = DeploymentUtil.AvailableReplicaCount(allRSs);
        if (availablePods <= minAvailable) return 0;
        oldRSs.Sort(DeploymentUtil.ByCreation);
        var total = 0;
        var toScaleDown = availablePods - minAvailable;
        foreach (var rs in oldRSs)
        {
            if (total >= toScaleDown) break;
            var replicas = DeploymentUtil.Replicas(rs);
            if (replicas == 0) continue;
            var down = Math.Min(replicas, toScaleDown - total);
            await ScaleReplicaSetAndRecordEventAsync(rs, replicas - down, d, ct);
            total += down;
        }
        return total;
    }

    // ---- recreate.go ----

    /// <summary>
    /// rolloutRecreate: old ReplicaSets go to zero, and only once none of their pods runs is the new ReplicaSet
    /// created (or scaled) to the full count.
    /// </summary>
    private async Task RolloutRecreateAsync(JsonObject d, List<JsonObject> rsList, Dictionary<string, List<JsonObject>> podMap, CancellationToken ct)
    {
        var (newRS, oldRSs) = await AllReplicaSetsAndSyncRevisionAsync(d, rsList, false, ct);
        var allRSs = oldRSs.Append(newRS).ToList();
        var scaledDown = false;
        foreach (var rs in DeploymentUtil.Active(oldRSs))
            if ((await ScaleReplicaSetAndRecordEventAsync(rs, 0, d, ct)).Scaled) scaledDown = true;
        if (scaledDown || OldPodsRunning(newRS, oldRSs, podMap))
        {
            await SyncRolloutStatusAsync(allRSs, newRS, d, ct);
            return;
        }
        if (newRS is null)
        {
            (newRS, oldRSs) = await AllReplicaSetsAndSyncRevisionAsync(d, rsList, true, ct);
            allRSs = oldRSs.Append(newRS).ToList();
        }
        await ScaleReplicaSetAndRecordEventAsync(newRS!, DeploymentUtil.Replicas(d), d, ct);
        if (DeploymentConditions.Complete(d, Status(d))) await CleanupDeploymentAsync(oldRSs, d, ct);
        await SyncRolloutStatusAsync(allRSs, newRS, d, ct);
    }

    /// <summary>oldPodsRunning: an old ReplicaSet reports replicas, or one of its pods is not Succeeded or Failed.</summary>
    internal static bool OldPodsRunning(JsonObject? newRS, List<JsonObject> oldRSs, Dictionary<string, List<JsonObject>> podMap)
    {
        if (DeploymentUtil.ActualReplicaCount(oldRSs) > 0) return true;
        foreach (var (uid, pods) in podMap)
        {
            if (newRS is not null && Meta.Uid(newRS) == uid) continue;
            if (pods.Any(p => PodFacts.Phase(p) is not ("Failed" or "Succeeded"))) return true;
        }
        return false;
    }

    // ---- progress.go ----

    /// <summary>
    /// syncRolloutStatus: the calculated status with the Progressing condition (NewReplicaSetAvailable once
    /// complete, ReplicaSetUpdated while progressing, ProgressDeadlineExceeded after the deadline without
    /// progress) and the ReplicaSets' ReplicaFailure; a rollout without progress is looked at again when its
    /// deadline passes.
    /// </summary>
    private async Task SyncRolloutStatusAsync(List<JsonObject?> allRSs, JsonObject? newRS, JsonObject d, CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        var newStatus = RolloutStatus(allRSs, newRS, d, now);
        if (SameStatus(d["status"] as JsonObject, newStatus))
        {
            RequeueStuckDeployment(d, newStatus, now);
            return;
        }
        d["status"] = newStatus;
        await UpdateStatusAsync(d, ct);
    }

    /// <summary>The status syncRolloutStatus would write (for tests, at a given time).</summary>
    internal static JsonObject RolloutStatus(List<JsonObject?> allRSs, JsonObject? newRS, JsonObject d, DateTimeOffset now)
    {
        var newStatus = CalculateStatus(allRSs, newRS, d, now);
        if (!DeploymentUtil.HasProgressDeadline(d)) DeploymentConditions.Remove(newStatus, DeploymentConditions.Progressing);
        var currentCond = DeploymentConditions.Get(d["status"] as JsonObject, DeploymentConditions.Progressing);
        var isComplete = JsonRead.Long(newStatus, "replicas") == JsonRead.Long(newStatus, "updatedReplicas")
            && currentCond is not null && JsonRead.Str(currentCond, "reason") == DeploymentConditions.NewRSAvailableReason;
        var name = Meta.Name(d);
        if (DeploymentUtil.HasProgressDeadline(d) && !isComplete)
        {
            if (DeploymentConditions.Complete(d, newStatus))
            {
                var msg = newRS is null ? $"Deployment {GoText.Quote(name)} has successfully progressed." : $"ReplicaSet {GoText.Quote(Meta.Name(newRS))} has successfully progressed.";
                DeploymentConditions.Set(newStatus, DeploymentConditions.New(DeploymentConditions.Progressing, "True", DeploymentConditions.NewRSAvailableReason, msg, now));
            }
            else if (DeploymentConditions.IsProgressing(d, newStatus))
            {
                var msg = newRS is null ? $"Deployment {GoText.Quote(name)} is progressing." : $"ReplicaSet {GoText.Quote(Meta.Name(newRS))} is progressing.";
                var condition = DeploymentConditions.New(DeploymentConditions.Progressing, "True", DeploymentConditions.ReplicaSetUpdatedReason, msg, now);
                // Progress refreshes lastUpdateTime even when the reason is the same (SetDeploymentCondition would not).
                if (currentCond is not null)
                {
                    if (JsonRead.Str(currentCond, "status") == "True") condition["lastTransitionTime"] = currentCond["lastTransitionTime"]?.DeepClone();
                    DeploymentConditions.Remove(newStatus, DeploymentConditions.Progressing);
                }
                DeploymentConditions.Set(newStatus, condition);
            }
            else if (DeploymentConditions.TimedOut(d, newStatus, now))
            {
                var msg = newRS is null ? $"Deployment {GoText.Quote(name)} has timed out progressing." : $"ReplicaSet {GoText.Quote(Meta.Name(newRS))} has timed out progressing.";
                DeploymentConditions.Set(newStatus, DeploymentConditions.New(DeploymentConditions.Progressing, "False", DeploymentConditions.TimedOutReason, msg, now));
            }
        }
        if (ReplicaFailures(allRSs, newRS) is { } failure) DeploymentConditions.Set(newStatus, failure);
        else DeploymentConditions.Remove(newStatus, DeploymentConditions.ReplicaFailure);
        return newStatus;
    }

    /// <summary>getReplicaFailures: the new ReplicaSet's ReplicaFailure condition first, else an old one's.</summary>
    private static JsonObject? ReplicaFailures(List<JsonObject?> allRSs, JsonObject? newRS)
    {
        static JsonObject? Of(JsonObject? rs) => (rs?["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(c => JsonRead.Str(c, "type") == DeploymentConditions.ReplicaFailure) is { } c ? DeploymentConditions.FromReplicaSet(c) : null;
        return Of(newRS) ?? allRSs.Select(Of).FirstOrDefault(c => c is not null);
    }

    /// <summary>
    /// requeueStuckDeployment: a rollout without progress is synced again when its deadline passes
    /// (lastUpdateTime + progressDeadlineSeconds, plus a second), so that ProgressDeadlineExceeded is reported on time.
    /// </summary>
    private void RequeueStuckDeployment(JsonObject d, JsonObject newStatus, DateTimeOffset now)
    {
        var currentCond = DeploymentConditions.Get(d["status"] as JsonObject, DeploymentConditions.Progressing);
        if (!DeploymentUtil.HasProgressDeadline(d) || currentCond is null) return;
        if (DeploymentConditions.Complete(d, newStatus) || JsonRead.Str(currentCond, "reason") == DeploymentConditions.TimedOutReason) return;
        var last = PodFacts.Time(currentCond["lastUpdateTime"]) ?? now;
        var after = last.AddSeconds(DeploymentUtil.ProgressDeadlineSeconds(d)) - now;
        if (after < TimeSpan.FromSeconds(1)) Queue.AddRateLimited(Key(Meta.Namespace(d), Meta.Name(d)), _stopping);
        else EnqueueAfter(d, after + TimeSpan.FromSeconds(1));
    }

    // ---- rollback.go ----

    /// <summary>getRollbackTo: the revision the deprecated rollback annotation asks for (0: the previous one), or null.</summary>
    private static long? RollbackTo(JsonObject d)
    {
        var v = DeploymentUtil.Annotation(d, DeploymentUtil.RollbackToAnnotation);
        if (v.Length == 0) return null;
        return long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var r) ? r : null;
    }

    /// <summary>
    /// rollback: the legacy server-side rollback (extensions/v1beta1 and apps/v1beta1's rollback subresource
    /// left the request as an annotation): the template of the ReplicaSet with the revision is copied back and
    /// the request cleared. kubectl's `rollout undo` patches the template itself and never gets here.
    /// </summary>
    private async Task RollbackAsync(JsonObject d, List<JsonObject> rsList, CancellationToken ct)
    {
        var (newRS, oldRSs) = await AllReplicaSetsAndSyncRevisionAsync(d, rsList, true, ct);
        var allRSs = oldRSs.Append(newRS).ToList();
        var revision = RollbackTo(d)!.Value;
        if (revision == 0 && (revision = DeploymentUtil.LastRevision(allRSs)) == 0)
        {
            await EventAsync(DeploymentKind.V1, d, "Warning", DeploymentConditions.RollbackRevisionNotFound, "Unable to find last revision.", ct);
            await ClearRollbackToAsync(d, ct);
            return;
        }
        foreach (var rs in allRSs.OfType<JsonObject>())
        {
            if (DeploymentUtil.Revision(rs) != revision) continue;
            if (!DeploymentUtil.EqualIgnoreHash(d["spec"]?["template"], rs["spec"]?["template"]))
            {
                // SetFromReplicaSetTemplate: the ReplicaSet's template without the hash label; its annotations back on the deployment.
                var template = (JsonObject)rs["spec"]!["template"]!.DeepClone();
                if (template["metadata"]?["labels"] is JsonObject labels) labels.Remove(DeploymentUtil.PodTemplateHashLabel);
                d["spec"]!["template"] = template;
                DeploymentUtil.SetDeploymentAnnotationsTo(d, rs);
                await ClearRollbackToAsync(d, ct);
                await EventAsync(DeploymentKind.V1, d, "Normal", DeploymentConditions.RollbackDone, $"Rolled back deployment {GoText.Quote(Meta.Name(d))} to revision {revision}", ct);
                return;
            }
            await EventAsync(DeploymentKind.V1, d, "Warning", DeploymentConditions.RollbackTemplateUnchanged,
                $"The rollback revision contains the same template as current deployment {GoText.Quote(Meta.Name(d))}", ct);
            await ClearRollbackToAsync(d, ct);
            return;
        }
        await EventAsync(DeploymentKind.V1, d, "Warning", DeploymentConditions.RollbackRevisionNotFound, "Unable to find the revision to rollback to.", ct);
        await ClearRollbackToAsync(d, ct);
    }

    /// <summary>updateDeploymentAndClearRollbackTo.</summary>
    private async Task ClearRollbackToAsync(JsonObject d, CancellationToken ct)
    {
        DeploymentUtil.Annotations(d).Remove(DeploymentUtil.RollbackToAnnotation);
        await UpdateDeploymentAsync(d, ct);
    }
}
