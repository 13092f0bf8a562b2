using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// One sync of one StatefulSet (pkg/controller/statefulset/stateful_set_control.go, feature gates as in 1.33:
/// StatefulSetAutoDeletePVC and StatefulSetStartOrdinal on, MaxUnavailableStatefulSet off):
/// <list type="number">
/// <item>the current and update revisions (getStatefulSetRevisions: the template's revision is found again, renumbered
/// for a rollback, or created);</item>
/// <item>pods for the ordinals [start, start+replicas): a failed or succeeded pod is deleted to be made again, a
/// missing one is created with its claims; with OrderedReady each waits for its predecessors to be Running and
/// Ready (and available after minReadySeconds), with Parallel none waits;</item>
/// <item>pods beyond the range are deleted from the highest ordinal down (OrderedReady: one at a time, once all
/// others are healthy);</item>
/// <item>RollingUpdate: from the highest ordinal down to the partition, the first pod not at the update revision
/// is deleted (recreated at the update revision), waiting for each to be healthy; OnDelete leaves pods alone.</item>
/// </list>
/// </summary>
internal sealed class StatefulSetControl(StatefulSetController controller, JsonObject set, List<JsonObject> pods, List<JsonObject> revisions)
{
    private readonly List<JsonObject> _pods = pods;
    private readonly DateTimeOffset _now = controller.Time.GetUtcNow();
    private int MinReadySeconds => (int)(JsonRead.Long(set["spec"] as JsonObject, "minReadySeconds") ?? 0);
    private bool Monotonic => JsonRead.Str(set["spec"] as JsonObject, "podManagementPolicy") != "Parallel";
    private string StrategyType => JsonRead.Str(set["spec"]?["updateStrategy"] as JsonObject, "type") ?? "RollingUpdate";

    /// <summary>The revisions, sorted (the update revision added once created).</summary>
    public List<JsonObject> Revisions { get; } = revisions;
    public JsonObject? Current { get; private set; }
    public JsonObject? Update { get; private set; }
    /// <summary>The status as far as the sync got (written even when it failed part way).</summary>
    public JsonObject? Status { get; private set; }
    /// <summary>When a pod becomes available (minReadySeconds) and the set must be looked at again.</summary>
    public TimeSpan? RequeueAfter { get; private set; }

    private long _collisionCount;

    public async Task<JsonObject> UpdateAsync(CancellationToken ct)
    {
        await RevisionsAsync(ct);
        var currentTemplate = ControllerHistory.TemplateOf(Current!) ?? set["spec"]?["template"] as JsonObject;
        var updateTemplate = set["spec"]?["template"] as JsonObject;
        var currentName = Meta.Name(Current!);
        var updateName = Meta.Name(Update!);

        var start = StatefulSetPods.StartOrdinal(set);
        var count = StatefulSetPods.Replicas(set);
        var replicas = new JsonObject?[count];
        var condemned = new List<JsonObject>();
        foreach (var pod in _pods)
        {
            var ord = StatefulSetPods.Ordinal(pod);
            if (ord >= start && ord < start + count) replicas[ord - start] = pod;
            else if (ord >= 0) condemned.Add(pod);
        }
        condemned.Sort((a, b) => StatefulSetPods.Ordinal(b).CompareTo(StatefulSetPods.Ordinal(a)));
        var partition = (int)(JsonRead.Long(set["spec"]?["updateStrategy"]?["rollingUpdate"] as JsonObject, "partition") ?? 0);
        // newVersionedStatefulSetPod: under RollingUpdate the ordinals below the partition stay at the current revision.
        JsonObject NewPod(int ordinal) =>
            StrategyType == "RollingUpdate" && ordinal < start + partition
                ? StatefulSetPods.NewPod(set, currentTemplate, ordinal, currentName)
                : StatefulSetPods.NewPod(set, updateTemplate, ordinal, updateName);

        Status = ComputeStatus(currentName, updateName);
        var firstUnhealthy = replicas.Where(p => p is not null && !StatefulSetPods.IsHealthy(p)).Concat(condemned.Where(p => !StatefulSetPods.IsHealthy(p))).FirstOrDefault();

        // Replicas in ordinal order.
        for (var i = 0; i < count; i++)
        {
            var ordinal = start + i;
            var pod = replicas[i];
            if (pod is not null && StatefulSetPods.IsFailedOrSucceeded(pod))
            {
                if (!StatefulSetPods.IsTerminating(pod)) await DeletePodAsync(pod, ct);
                // The pod is made again once it is gone.
                if (Monotonic) return Finish();
                continue;
            }
            if (pod is null)
            {
                var created = await CreatePodAsync(NewPod(ordinal), ct);
                _pods.Add(created);
                Status = ComputeStatus(currentName, updateName);
                if (Monotonic) return Finish();
                continue;
            }
            await EnsureClaimsAsync(pod, ct);
            if (!Monotonic) continue;
            if (StatefulSetPods.IsTerminating(pod)) return Finish();
            if (!StatefulSetPods.IsRunningAndReady(pod)) return Finish();
            if (!StatefulSetPods.IsRunningAndAvailable(pod, MinReadySeconds, _now))
            {
                RequeueAfter = TimeSpan.FromSeconds(Math.Max(1, MinReadySeconds));
                return Finish();
            }
        }

        // Scale down, highest ordinal first.
        foreach (var pod in condemned)
        {
            if (StatefulSetPods.IsTerminating(pod))
            {
                if (Monotonic) return Finish();
                continue;
            }
            if (Monotonic && !StatefulSetPods.IsRunningAndReady(pod) && pod != firstUnhealthy) return Finish();
            await DeletePodAsync(pod, ct);
            if (Monotonic) return Finish();
        }

        if (StrategyType != "RollingUpdate") return Finish();
        for (var target = count - 1; target >= partition && target >= 0; target--)
        {
            var pod = replicas[target]!;
            if (StatefulSetPods.Revision(pod) != updateName && !StatefulSetPods.IsTerminating(pod))
            {
                await DeletePodAsync(pod, ct);
                return Finish();
            }
            if (!StatefulSetPods.IsHealthy(pod)) return Finish();
        }
        return Finish();
    }

    private JsonObject Finish()
    {
        var status = ComputeStatus(Meta.Name(Current!), Meta.Name(Update!));
        // completeRollingUpdate: every pod updated and ready, so the update revision becomes the current one.
        if (StrategyType == "RollingUpdate"
            && JsonRead.Long(status, "updatedReplicas") == JsonRead.Long(status, "replicas")
            && JsonRead.Long(status, "readyReplicas") == JsonRead.Long(status, "replicas"))
        {
            status["currentReplicas"] = status["updatedReplicas"]!.DeepClone();
            status["currentRevision"] = status["updateRevision"]!.DeepClone();
        }
        return Status = status;
    }

    /// <summary>computeReplicaStatus over the pods as this sync left them.</summary>
    private JsonObject ComputeStatus(string currentName, string updateName)
    {
        long replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
        foreach (var pod in _pods)
        {
            replicas++;
            if (StatefulSetPods.IsRunningAndReady(pod))
            {
                ready++;
                if (StatefulSetPods.IsRunningAndAvailable(pod, MinReadySeconds, _now)) available++;
            }
            if (StatefulSetPods.IsTerminating(pod)) continue;
            var revision = StatefulSetPods.Revision(pod);
            if (revision == currentName) current++;
            if (revision == updateName) updated++;
        }
        return new JsonObject
        {
            ["observedGeneration"] = JsonRead.Long(Meta.Of(set), "generation") ?? 0,
            ["replicas"] = replicas,
            ["readyReplicas"] = ready,
            ["currentReplicas"] = current,
            ["updatedReplicas"] = updated,
            ["currentRevision"] = currentName,
            ["updateRevision"] = updateName,
            ["collisionCount"] = _collisionCount,
            ["availableReplicas"] = available,
        };
    }

    /// <summary>getStatefulSetRevisions: the template's revision (reused, renumbered for a rollback, or created) and the current one.</summary>
    private async Task RevisionsAsync(CancellationToken ct)
    {
        _collisionCount = JsonRead.Long(set["status"] as JsonObject, "collisionCount") ?? 0;
        var patch = ControllerHistory.TemplatePatch(set);
        var next = ControllerHistory.NextRevision(Revisions);
        var equal = Revisions.Where(r => ControllerHistory.SameData(r, patch)).ToList();
        if (equal.Count > 0 && Revisions[^1] == equal[^1]) Update = Revisions[^1];
        else if (equal.Count > 0)
        {
            var renumbered = await ControllerHistory.RenumberAsync(controller.RevisionStore, equal[^1], next, controller.WriteOptions, ct);
            Revisions.Remove(equal[^1]);
            Revisions.Add(renumbered);
            Update = renumbered;
        }
        else
        {
            var fresh = ControllerHistory.NewRevision(set, "apps/v1", "StatefulSet", patch, next, _collisionCount);
            (Update, _collisionCount) = await ControllerHistory.CreateAsync(controller.RevisionStore, fresh, patch, _collisionCount, controller.WriteOptions, ct);
            Revisions.Add(Update);
        }
        var currentName = JsonRead.StrOrEmpty(set["status"] as JsonObject, "currentRevision");
        Current = Revisions.FirstOrDefault(r => Meta.Name(r) == currentName) ?? Update;
    }

    /// <summary>CreateStatefulPod: the claims first, then the pod, then the claims' owners for the retention policy.</summary>
    private async Task<JsonObject> CreatePodAsync(JsonObject pod, CancellationToken ct)
    {
        var name = Meta.Name(pod);
        try { await CreateClaimsAsync(pod, ct); }
        catch (Exception e) when (e is ApiException or InvalidOperationException)
        {
            await controller.RecordAsync(set, "Warning", "FailedCreate", $"create Pod {name} in StatefulSet {Meta.Name(set)} failed error: {e.Message}", ct);
            throw;
        }
        JsonObject created;
        try { created = await controller.PodStore.CreateAsync(Meta.Namespace(set), pod, controller.WriteOptions, ct); }
        catch (ApiException e) when (e.Code == 409 && e.Reason == "AlreadyExists") { throw; }
        catch (ApiException e)
        {
            await controller.RecordAsync(set, "Warning", "FailedCreate", $"create Pod {name} in StatefulSet {Meta.Name(set)} failed error: {e.Message}", ct);
            throw;
        }
        await StatefulSetClaims.UpdateOwnersAsync(controller, set, created, ct);
        await controller.RecordAsync(set, "Normal", "SuccessfulCreate", $"create Pod {name} in StatefulSet {Meta.Name(set)} successful", ct);
        return created;
    }

    /// <summary>createPersistentVolumeClaims: each missing claim created (with its event); one being deleted is an error.</summary>
    private async Task CreateClaimsAsync(JsonObject pod, CancellationToken ct)
    {
        var errors = new List<string>();
        foreach (var (_, claim) in StatefulSetPods.Claims(set, StatefulSetPods.Ordinal(pod)))
        {
            var claimName = Meta.Name(claim);
            var existing = controller.Claims.Get(Meta.Namespace(set), claimName);
            if (existing is not null)
            {
                if (Meta.IsDeleting(existing)) errors.Add($"pvc {claimName} is being deleted");
                continue;
            }
            try
            {
                await controller.ClaimStore.CreateAsync(Meta.Namespace(set), claim, controller.WriteOptions, ct);
                await controller.RecordAsync(set, "Normal", "SuccessfulCreate",
                    $"create Claim {claimName} Pod {Meta.Name(pod)} in StatefulSet {Meta.Name(set)} success", ct);
            }
            catch (ApiException e) when (e.Code == 409 && e.Reason == "AlreadyExists") { }
            catch (ApiException e)
            {
                errors.Add($"failed to create PVC {claimName}: {e.Message}");
                await controller.RecordAsync(set, "Warning", "FailedCreate",
                    $"create Claim {claimName} for Pod {Meta.Name(pod)} in StatefulSet {Meta.Name(set)} failed error: {e.Message}", ct);
            }
        }
        if (errors.Count > 0) throw new InvalidOperationException(errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]");
    }

    /// <summary>A pending pod's missing claims are created again; claim owners follow the retention policy.</summary>
    private async Task EnsureClaimsAsync(JsonObject pod, CancellationToken ct)
    {
        if (PodFacts.Phase(pod) is "Pending" or "")
        {
            foreach (var (_, claim) in StatefulSetPods.Claims(set, StatefulSetPods.Ordinal(pod)))
                if (controller.Claims.Get(Meta.Namespace(set), Meta.Name(claim)) is null)
                {
                    await CreateClaimsAsync(pod, ct);
                    break;
                }
        }
        await StatefulSetClaims.UpdateOwnersAsync(controller, set, pod, ct);
    }

    /// <summary>DeleteStatefulPod with its event; the pod is counted as terminating from here on.</summary>
    private async Task DeletePodAsync(JsonObject pod, CancellationToken ct)
    {
        var name = Meta.Name(pod);
        // whenScaled: Delete — a pod scaled away hands its claims to the pod, so they go with it.
        await StatefulSetClaims.UpdateOwnersAsync(controller, set, pod, ct);
        try
        {
            await controller.PodStore.DeleteAsync(Meta.Namespace(pod), name, new DeleteOptions(controller.User, PreconditionUid: Meta.Uid(pod)), ct);
        }
        catch (ApiException e) when (e.Code == 404) { }
        catch (ApiException e)
        {
            await controller.RecordAsync(set, "Warning", "FailedDelete", $"delete Pod {name} in StatefulSet {Meta.Name(set)} failed error: {e.Message}", ct);
            throw;
        }
        await controller.RecordAsync(set, "Normal", "SuccessfulDelete", $"delete Pod {name} in StatefulSet {Meta.Name(set)} successful", ct);
        var marked = (JsonObject)pod.DeepClone();
        Meta.Set(marked, "deletionTimestamp", Api.Schema.ObjectShaper.FormatTime(_now));
        var i = _pods.IndexOf(pod);
        if (i >= 0) _pods[i] = marked;
    }
}
