using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>The Job controller's pods: claiming, creating and deleting them (manageJob), and their tracking finalizer.</summary>
public sealed partial class JobController
{
    /// <summary>
    /// manageJob: deletes all active pods of a suspended Job; otherwise deletes the surplus (and, Indexed, the
    /// pods repeating an index) or creates the missing pods, after the failure back-off. Returns the active count.
    /// </summary>
    private async Task<int> ManageAsync(Sync s, string key, CancellationToken ct)
    {
        var active = s.Active.Count;
        var parallelism = (int)(JsonRead.Long(s.Spec, "parallelism") ?? 1);
        if (JsonRead.Bool(s.Spec, "suspend") == true)
        {
            var (removedReady, removed) = await DeleteJobPodsAsync(s.Job, ActivePodsForRemoval(s, s.Active, active), ct);
            s.Terminating += removed;
            s.Ready -= removedReady;
            return active - removed;
        }
        int wantActive;
        if (s.Completions is not { } completions) wantActive = s.Succeeded > 0 ? active : parallelism;
        else wantActive = Math.Max(0, Math.Min(completions - s.Succeeded, parallelism));

        var toDelete = ActivePodsForRemoval(s, s.Active, Math.Max(0, active - wantActive));
        if (toDelete.Count > MaxPodCreateDeletePerSync) toDelete = toDelete[..MaxPodCreateDeletePerSync];
        if (toDelete.Count > 0)
        {
            // Deletions and creations never happen in the same sync; deletions come first.
            var (removedReady, removed) = await DeleteJobPodsAsync(s.Job, toDelete, ct);
            s.Terminating += removed;
            s.Ready -= removedReady;
            return active - removed;
        }
        var terminating = OnlyReplaceFailedPods(s) ? s.Terminating : 0;
        var diff = wantActive - terminating - active;
        if (diff <= 0) return active;
        if (!s.PerIndex && s.NewBackoff.Remaining(Time.GetUtcNow()) is var wait && wait > TimeSpan.Zero)
        {
            Queue.AddAfter(key, wait, ct);
            return active;
        }
        diff = Math.Min(diff, MaxPodCreateDeletePerSync);
        var indexes = new List<int>();
        if (s.Indexed)
        {
            indexes = FirstPendingIndexes(s, diff);
            if (s.PerIndex)
            {
                var (now, remaining) = IndexesReadyNow(s, indexes);
                if (remaining > TimeSpan.Zero)
                {
                    Queue.AddAfter(key, remaining, ct);
                    return active;
                }
                indexes = now;
            }
            diff = indexes.Count;
        }
        var template = (JsonObject)(s.Spec["template"]?.DeepClone() ?? new JsonObject());
        var tspec = template["spec"] as JsonObject ?? (JsonObject)(template["spec"] = new JsonObject());
        if (s.Indexed) JobIndexes.AddEnv(tspec);
        var tmeta = template["metadata"] as JsonObject ?? (JsonObject)(template["metadata"] = new JsonObject());
        var finalizers = tmeta["finalizers"] as JsonArray ?? (JsonArray)(tmeta["finalizers"] = new JsonArray());
        if (!finalizers.Any(f => JsonRead.Str(f) == TrackingFinalizer)) finalizers.Add((JsonNode)TrackingFinalizer);
        var controllerRef = ControllerRef.New(s.Job, "batch/v1", "Job");
        var jobName = Meta.Name(s.Job);
        // Pods are created one by one and creation stops at the first error (upstream's slow start, batch by batch).
        for (var i = 0; i < diff; i++)
        {
            var pod = PodControl.PodFromTemplate(template, s.Job, controllerRef);
            if (s.Indexed)
            {
                var ix = indexes[i];
                JobIndexes.Stamp(pod, jobName, ix);
                Meta.Set(pod, "generateName", JobIndexes.GenerateName(jobName, ix));
                if (s.PerIndex) AddIndexFailureCounts(s, pod, s.DelayedDeletion.GetValueOrDefault(ix));
            }
            try
            {
                await _podControl.CreateAsync(s.Job, pod, ct);
                active++;
            }
            catch (ApiException e) when (e.Causes?.Any(c => c.Reason == "NamespaceTerminating") == true)
            {
                // A namespace being torn down refuses every creation; nothing to retry.
                return active;
            }
        }
        return active;
    }

    /// <summary>activePodsForRemoval: Indexed pods repeating an index or out of range, then the most removable (<see cref="ActivePodOrder"/>).</summary>
    private static List<JsonObject> ActivePodsForRemoval(Sync s, List<JsonObject> pods, int atLeast)
    {
        List<JsonObject> rm, left;
        if (s.Indexed) (rm, left) = JobIndexes.SplitDuplicates(pods, s.Completions ?? 0);
        else (rm, left) = ([], [.. pods]);
        if (rm.Count < atLeast)
        {
            left.Sort(ActivePodOrder.Compare);
            rm.AddRange(left.Take(atLeast - rm.Count));
        }
        return rm;
    }

    /// <summary>firstPendingIndexes: the lowest indexes that neither succeeded, failed, nor have an active pod.</summary>
    private static List<int> FirstPendingIndexes(Sync s, int count)
    {
        var completions = s.Completions ?? 0;
        var busy = s.Active.Select(JobIndexes.Of).Where(ix => ix != JobIndexes.Unknown).ToHashSet();
        var result = new List<int>();
        for (var ix = 0; ix < completions && result.Count < count; ix++)
            if (!s.SucceededIndexes.Has(ix) && !(s.FailedIndexes?.Has(ix) ?? false) && !busy.Contains(ix)) result.Add(ix);
        return result;
    }

    /// <summary>getPodCreationInfoForIndependentIndexes: the indexes whose own back-off has passed, else the shortest wait.</summary>
    private (List<int> Now, TimeSpan Remaining) IndexesReadyNow(Sync s, List<int> indexes)
    {
        var now = new List<int>();
        TimeSpan? min = null;
        var t = Time.GetUtcNow();
        foreach (var ix in indexes)
        {
            var remaining = s.DelayedDeletion.TryGetValue(ix, out var replaced)
                ? JobBackoffRecord.RemainingFor(JobIndexes.AbsoluteFailureCount(replaced) + 1, JobBackoffRecord.FinishedTime(replaced), t)
                : TimeSpan.Zero;
            if (remaining == TimeSpan.Zero) now.Add(ix);
            else if (min is null || remaining < min) min = remaining;
        }
        return now.Count > 0 ? (now, TimeSpan.Zero) : (now, min ?? TimeSpan.Zero);
    }

    /// <summary>addIndexFailureCountAnnotation: the index's failure counts carried from the pod it replaces.</summary>
    private static void AddIndexFailureCounts(Sync s, JsonObject pod, JsonObject? replaced)
    {
        var annotations = Meta.Of(pod)["annotations"] as JsonObject ?? (JsonObject)(Meta.Of(pod)["annotations"] = new JsonObject());
        int failures = 0, ignored = 0;
        if (replaced is not null)
        {
            failures = JobIndexes.FailureCount(replaced);
            ignored = JobIndexes.IgnoredFailureCount(replaced);
            if (JobPodFailurePolicy.Match(s.PodFailurePolicy, replaced).CountFailed) failures++;
            else ignored++;
        }
        annotations[JobIndexes.IndexFailureCountAnnotation] = failures.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (ignored > 0) annotations[JobIndexes.IndexIgnoredFailureCountAnnotation] = ignored.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>deleteActivePods: deletes the pods keeping their finalizers (removed when the status records them).</summary>
    private async Task<(int Ready, int Deleted, Exception? Error)> DeleteActivePodsAsync(JsonObject job, List<JsonObject> pods, CancellationToken ct)
    {
        int ready = 0, deleted = 0;
        Exception? error = null;
        foreach (var pod in pods)
        {
            try
            {
                await _podControl.DeleteAsync(job, pod, ct);
                deleted++;
            }
            catch (ApiException e) { error ??= e; }
            if (PodFacts.IsReady(pod)) ready++;
        }
        return (ready, deleted, error);
    }

    /// <summary>deleteJobPods: removes each pod's finalizer, then deletes it.</summary>
    private async Task<(int Ready, int Deleted)> DeleteJobPodsAsync(JsonObject job, List<JsonObject> pods, CancellationToken ct)
    {
        int ready = 0, deleted = 0;
        ApiException? error = null;
        foreach (var pod in pods)
        {
            try
            {
                await RemoveFinalizerAsync(pod, ct);
                await _podControl.DeleteAsync(job, pod, ct);
                deleted++;
                if (PodFacts.IsReady(pod)) ready++;
            }
            catch (ApiException e) { error ??= e; }
        }
        if (error is not null) throw error;
        return (ready, deleted);
    }

    /// <summary>Removes the tracking finalizer (upstream's $deleteFromPrimitiveList patch); true when it is gone, the pod too.</summary>
    private async Task<bool> RemoveFinalizerAsync(JsonObject pod, CancellationToken ct)
    {
        if (!HasFinalizer(pod)) return true;
        var uid = Meta.Uid(pod);
        try
        {
            await Pods.UpdateAsync(Meta.Namespace(pod), Meta.Name(pod), "", cur =>
            {
                if (Meta.Uid(cur) != uid) throw ApiErrors.NotFound("pods", "", Meta.Name(pod));
                var kept = Meta.Finalizers(cur).Where(f => f != TrackingFinalizer).Select(f => (JsonNode?)f).ToArray();
                if (kept.Length == 0) Meta.Remove(cur, "finalizers");
                else Meta.Set(cur, "finalizers", new JsonArray(kept));
                Meta.Remove(cur, "resourceVersion");
                return cur;
            }, Writes, ct);
        }
        catch (ApiException e) when (e.Code == 404) { }
        return true;
    }

    /// <summary>
    /// getPodsForJob: the namespace's pods this Job controls and still selects, after adopting matching orphans
    /// and releasing controlled pods that no longer match.
    /// </summary>
    private async Task<List<JsonObject>> PodsForJobAsync(JsonObject job, CancellationToken ct)
    {
        var selector = job["spec"]?["selector"] is JsonObject sel ? MetaLabelSelector.AsSelector(sel) : null;
        if (selector is null) throw new InvalidOperationException("couldn't convert Job selector");
        var ns = Meta.Namespace(job);
        var candidates = _pods.List(ns);
        var orphans = candidates.Where(p => ControllerRef.Of(p) is null).Select(Meta.Uid).ToHashSet(StringComparer.Ordinal);
        var claimed = await ControllerRef.ClaimAsync(Pods, job, "batch/v1", "Job", candidates,
            p => selector.Matches(Meta.Labels(p)),
            async c => await Client.TryGetAsync(Jobs, ns, Meta.Name(job), c), Writes, ct);
        // Adopted pods get the tracking finalizer too (upstream's ClaimPods adds it in the adoption patch).
        for (var i = 0; i < claimed.Count; i++)
            if (orphans.Contains(Meta.Uid(claimed[i])) && !HasFinalizer(claimed[i]))
                claimed[i] = await AddFinalizerAsync(claimed[i], ct) ?? claimed[i];
        return claimed;
    }

    /// <summary>Adds the tracking finalizer to an adopted pod; null when the pod is gone or being deleted meanwhile.</summary>
    private async Task<JsonObject?> AddFinalizerAsync(JsonObject pod, CancellationToken ct)
    {
        var uid = Meta.Uid(pod);
        try
        {
            return await Pods.UpdateAsync(Meta.Namespace(pod), Meta.Name(pod), "", cur =>
            {
                if (Meta.Uid(cur) != uid || Meta.IsDeleting(cur)) throw ApiErrors.NotFound("pods", "", Meta.Name(pod));
                var finalizers = Meta.Finalizers(cur);
                if (!finalizers.Contains(TrackingFinalizer)) finalizers.Add(TrackingFinalizer);
                Meta.Set(cur, "finalizers", new JsonArray(finalizers.Select(f => (JsonNode?)f).ToArray()));
                Meta.Remove(cur, "resourceVersion");
                return cur;
            }, Writes, ct);
        }
        catch (ApiException e) when (e.Code == 404) { return null; }
    }

    /// <summary>
    /// syncOrphanPod for the pods a gone or finished Job controlled: their tracking finalizers are removed, so
    /// that the garbage collector (or whoever deletes them) is not blocked.
    /// </summary>
    private async Task CleanupOrphanPodsAsync(string ns, string jobName, JsonObject? job, CancellationToken ct)
    {
        ApiException? error = null;
        foreach (var pod in _pods.List(ns))
        {
            if (!HasFinalizer(pod) || ControllerRef.Of(pod) is not { } r) continue;
            if (JsonRead.Str(r, "kind") != "Job" || JsonRead.Str(r, "apiVersion") != "batch/v1" || JsonRead.Str(r, "name") != jobName) continue;
            // A pod of a live, unfinished Job of this name keeps its finalizer.
            if (job is not null && JsonRead.Str(r, "uid") == Meta.Uid(job) && !JobConditions.IsFinished(job)) continue;
            try { await RemoveFinalizerAsync(pod, ct); }
            catch (ApiException e) { error ??= e; }
        }
        if (error is not null) throw error;
    }
}
