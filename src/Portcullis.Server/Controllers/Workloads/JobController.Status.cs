using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>The Job controller's status tracking: finished pods through uncountedTerminatedPods into the counters.</summary>
public sealed partial class JobController
{
    /// <summary>
    /// trackJobStatusAndRemoveFinalizers: (1) finished pods go into <c>uncountedTerminatedPods</c> (and the
    /// interim FailureTarget / SuccessCriteriaMet condition is recorded) in one status write, (2) their finalizers
    /// are removed, (3) the pods whose finalizers are gone move into the counters, (4) the terminal condition is
    /// added once nothing is uncounted and nothing is terminating.
    /// </summary>
    private async Task TrackStatusAndRemoveFinalizersAsync(Sync s, bool needsFlush, string key, CancellationToken ct)
    {
        var status = s.Status;
        var uncounted = (JsonObject)status["uncountedTerminatedPods"]!;
        var toRemove = new List<JsonObject>();
        var newSucceededIndexes = new List<int>();
        var pods = s.Indexed ? s.Pods.OrderBy(JobIndexes.Of).ToList() : s.Pods;
        var withFinalizer = s.Pods.Where(HasFinalizer).Select(Meta.Uid).ToHashSet(StringComparer.Ordinal);
        // The lists keep their order: as stored, then appended.
        var uncountedSucceeded = (uncounted["succeeded"] as JsonArray ?? []).Select(n => JsonRead.StrOrEmpty(n)).ToList();
        var uncountedFailed = (uncounted["failed"] as JsonArray ?? []).Select(n => JsonRead.StrOrEmpty(n)).ToList();
        if (CleanUncounted(status, uncountedSucceeded, uncountedFailed, withFinalizer)) needsFlush = true;
        var reachedMax = false;
        var completions = s.Completions ?? 0;
        foreach (var pod in pods)
        {
            if (!HasFinalizer(pod)) continue;
            var failed = IsPodFailed(pod, s);
            if (!CanRemoveFinalizer(s, pod, failed)) continue;
            toRemove.Add(pod);
            var uid = Meta.Uid(pod);
            if (PodFacts.Phase(pod) == "Succeeded" && !s.UncountedFailed.Contains(uid))
            {
                if (s.Indexed)
                {
                    var ix = JobIndexes.Of(pod);
                    if (ix != JobIndexes.Unknown && ix < completions && !s.PrevSucceededIndexes.Has(ix))
                    {
                        newSucceededIndexes.Add(ix);
                        needsFlush = true;
                    }
                }
                else if (!s.UncountedSucceeded.Contains(uid))
                {
                    needsFlush = true;
                    uncountedSucceeded.Add(uid);
                }
            }
            else if (failed || (s.FinishedCondition is not null && JsonRead.Str(s.FinishedCondition, "type") != "SuccessCriteriaMet"))
            {
                // When the Job is finishing, every pod that did not succeed is a failure.
                var ix = JobIndexes.Of(pod);
                if (!s.UncountedFailed.Contains(uid) && (!s.Indexed || (ix != JobIndexes.Unknown && ix < completions))
                    && JobPodFailurePolicy.Match(s.PodFailurePolicy, pod).CountFailed)
                {
                    needsFlush = true;
                    uncountedFailed.Add(uid);
                }
            }
            if (newSucceededIndexes.Count + uncountedSucceeded.Count + uncountedFailed.Count >= MaxUncountedPods)
            {
                reachedMax = true;
                break;
            }
        }
        SetUncounted(uncounted, uncountedSucceeded, uncountedFailed);
        if (s.Indexed)
        {
            s.SucceededIndexes = s.SucceededIndexes.With(newSucceededIndexes);
            var text = s.SucceededIndexes.ToString();
            if (text != JsonRead.StrOrEmpty(status, "completedIndexes")) needsFlush = true;
            SetCount(status, "succeeded", s.SucceededIndexes.Total);
            if (text.Length > 0) status["completedIndexes"] = text; else status.Remove("completedIndexes");
            if (s.FailedIndexes is not null)
            {
                var failedText = s.FailedIndexes.ToString();
                if (JsonRead.Str(status, "failedIndexes") != failedText)
                {
                    status["failedIndexes"] = failedText;
                    needsFlush = true;
                }
            }
        }
        if (s.FinishedCondition is { } fc && JsonRead.Str(fc, "type") == "FailureTarget")
        {
            // The interim FailureTarget is recorded before the finalizers go; Failed follows.
            JobConditions.Append(status, fc);
            needsFlush = true;
            s.FinishedCondition = JobConditions.New("Failed", JsonRead.StrOrEmpty(fc, "reason"), JsonRead.StrOrEmpty(fc, "message"), Time.GetUtcNow());
        }
        if (s.FinishedCondition is { } sc && JsonRead.Str(sc, "type") == "SuccessCriteriaMet")
        {
            if (JobConditions.Find(status, "SuccessCriteriaMet") is null)
            {
                JobConditions.Append(status, sc);
                needsFlush = true;
            }
            s.FinishedCondition = JobConditions.New("Complete", JsonRead.StrOrEmpty(sc, "reason"), JsonRead.StrOrEmpty(sc, "message"), Time.GetUtcNow());
        }

        // flushUncountedAndRemoveFinalizers.
        if (needsFlush)
        {
            await UpdateStatusAsync(s.Job, ct);
            lock (_gate) _backoff[key] = s.NewBackoff;
            needsFlush = false;
        }
        Exception? removeError = null;
        foreach (var pod in toRemove)
        {
            try
            {
                if (await RemoveFinalizerAsync(pod, ct)) withFinalizer.Remove(Meta.Uid(pod));
            }
            catch (ApiException e) { removeError ??= e; }
        }
        if (CleanUncounted(status, uncountedSucceeded, uncountedFailed, withFinalizer))
        {
            SetUncounted(uncounted, uncountedSucceeded, uncountedFailed);
            needsFlush = true;
        }
        if (removeError is not null)
        {
            if (needsFlush) await UpdateStatusAsync(s.Job, ct);
            throw removeError;
        }

        var finished = !reachedMax && EnactFinished(s);
        if (finished) needsFlush = true;
        if (needsFlush)
        {
            await UpdateStatusAsync(s.Job, ct);
            if (finished) await RecordFinishedAsync(s, ct);
        }
    }

    /// <summary>canRemoveFinalizer: the Job is going or finishing, the pod succeeded, or it failed (unless its index waits for a replacement).</summary>
    private static bool CanRemoveFinalizer(Sync s, JsonObject pod, bool failed)
    {
        if (Meta.IsDeleting(s.Job) || s.FinishedCondition is not null || PodFacts.Phase(pod) == "Succeeded") return true;
        if (!failed) return false;
        if (s.PerIndex && JobIndexes.Of(pod) is var ix && ix != JobIndexes.Unknown
            && s.DelayedDeletion.TryGetValue(ix, out var delayed) && Meta.Uid(delayed) == Meta.Uid(pod))
            return false;
        return true;
    }

    /// <summary>cleanUncountedPodsWithoutFinalizers: uncounted pods whose finalizer is gone move into the counters.</summary>
    private static bool CleanUncounted(JsonObject status, List<string> succeeded, List<string> failed, HashSet<string> withFinalizer)
    {
        var updated = false;
        var keptSucceeded = succeeded.Where(withFinalizer.Contains).ToList();
        if (keptSucceeded.Count != succeeded.Count)
        {
            updated = true;
            SetCount(status, "succeeded", Int(status, "succeeded") + succeeded.Count - keptSucceeded.Count);
            succeeded.Clear();
            succeeded.AddRange(keptSucceeded);
        }
        var keptFailed = failed.Where(withFinalizer.Contains).ToList();
        if (keptFailed.Count != failed.Count)
        {
            updated = true;
            SetCount(status, "failed", Int(status, "failed") + failed.Count - keptFailed.Count);
            failed.Clear();
            failed.AddRange(keptFailed);
        }
        return updated;
    }

    private static void SetUncounted(JsonObject uncounted, List<string> succeeded, List<string> failed)
    {
        if (succeeded.Count > 0) uncounted["succeeded"] = new JsonArray(succeeded.Select(u => (JsonNode?)u).ToArray());
        else uncounted.Remove("succeeded");
        if (failed.Count > 0) uncounted["failed"] = new JsonArray(failed.Select(u => (JsonNode?)u).ToArray());
        else uncounted.Remove("failed");
    }

    /// <summary>enactJobFinished: the Complete or Failed condition, once nothing is uncounted or terminating.</summary>
    private bool EnactFinished(Sync s)
    {
        if (s.FinishedCondition is not { } fc) return false;
        var uncounted = (JsonObject)s.Status["uncountedTerminatedPods"]!;
        if ((uncounted["succeeded"] as JsonArray)?.Count > 0 || (uncounted["failed"] as JsonArray)?.Count > 0) return false;
        if (s.Terminating > 0) return false;
        var now = Time.GetUtcNow();
        JobConditions.Ensure(s.Status, JsonRead.StrOrEmpty(fc, "type"), "True", JsonRead.StrOrEmpty(fc, "reason"), JsonRead.StrOrEmpty(fc, "message"), now);
        if (JsonRead.Str(fc, "type") == "Complete")
            s.Status["completionTime"] = JobConditions.Find(s.Status, "Complete")?["lastTransitionTime"]?.DeepClone();
        return true;
    }

    /// <summary>recordJobFinished: Completed "Job completed" (and TooManySucceededPods), or the failure's reason and message.</summary>
    private async Task RecordFinishedAsync(Sync s, CancellationToken ct)
    {
        var fc = s.FinishedCondition!;
        if (JsonRead.Str(fc, "type") == "Complete")
        {
            if (s.Completions is { } c && Int(s.Status, "succeeded") > c)
                await EventAsync(Jobs.Definition, s.Job, "Warning", "TooManySucceededPods", "Too many succeeded pods running after completion count reached", ct);
            await EventAsync(Jobs.Definition, s.Job, "Normal", "Completed", "Job completed", ct);
        }
        else await EventAsync(Jobs.Definition, s.Job, "Warning", JsonRead.StrOrEmpty(fc, "reason"), JsonRead.StrOrEmpty(fc, "message"), ct);
    }

    /// <summary>UpdateStatus with the Job's resourceVersion (a stale one is a conflict, and the sync is retried).</summary>
    private async Task UpdateStatusAsync(JsonObject job, CancellationToken ct)
    {
        var rv = Meta.ResourceVersion(job);
        var status = job["status"]!.DeepClone();
        var written = await Jobs.UpdateAsync(Meta.Namespace(job), Meta.Name(job), "status", cur =>
        {
            Meta.Set(cur, "resourceVersion", rv);
            cur["status"] = status.DeepClone();
            return cur;
        }, Writes, ct);
        Meta.Set(job, "resourceVersion", Meta.ResourceVersion(written));
    }
}
