using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// kube-controller-manager 1.33's Job controller (pkg/controller/job/job_controller.go): runs a Job's pods to
/// completion. Pods are made from the template with the tracking finalizer
/// <c>batch.kubernetes.io/job-tracking</c>; a finished pod is first recorded in
/// <c>status.uncountedTerminatedPods</c>, then its finalizer is removed, then it moves into the
/// <c>succeeded</c>/<c>failed</c> counters, so no pod is counted twice or lost. The Job meets its success
/// criteria (<c>SuccessCriteriaMet</c>) or a failure target (<c>FailureTarget</c>: backoffLimit, deadline,
/// pod failure policy, failed indexes) first; <c>Complete</c>/<c>Failed</c> follow once no pod is terminating
/// (JobPodReplacementPolicy, beta and on in 1.33, delays the terminal condition).
/// </summary>
/// <remarks>
/// Each sync reads informers caught up to the storage revision (<see cref="InformerHub.CatchUpAsync"/>), so
/// upstream's creation and finalizer-removal expectations are not needed. The pod failure back-off record
/// lives in memory, as upstream's podBackoffStore.
/// </remarks>
public sealed partial class JobController : QueueController
{
    public const string TrackingFinalizer = "batch.kubernetes.io/job-tracking";
    /// <summary>MaxUncountedPods: finished pods recorded per status write.</summary>
    private const int MaxUncountedPods = 500;
    /// <summary>MaxPodCreateDeletePerSync.</summary>
    private const int MaxPodCreateDeletePerSync = 500;

    private readonly Informer _pods;
    private readonly PodControl _podControl;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, JobBackoffRecord> _backoff = new(StringComparer.Ordinal);

    public JobController(ControllerContext context) : base(context, "job-controller", context.Informers.For("batch", "jobs"))
    {
        _pods = Informers.For("", "pods");
        _podControl = new PodControl(this, Api.Resources.Batch.JobKind.V1);
    }

    private GenericStore Jobs => Primary.Store;
    private GenericStore Pods => _pods.Store;

    /// <summary>A pod's change syncs its controlling Job (or cleans up its finalizer when that Job is gone or finished).</summary>
    protected override void OnChange(InformerEvent e)
    {
        if (e.Source != _pods) return;
        foreach (var pod in new[] { e.Object, e.OldObject })
        {
            if (pod is null) continue;
            if (ControllerRef.Of(pod) is { } r)
            {
                if (JsonRead.Str(r, "kind") == "Job" && JsonRead.Str(r, "apiVersion") == "batch/v1")
                    Enqueue(Meta.Namespace(pod), JsonRead.StrOrEmpty(r, "name"));
                continue;
            }
            // An orphan: the Jobs whose selector matches it may adopt it (getPodJobs).
            if (e.Object is null || Meta.IsDeleting(pod)) continue;
            var labels = Meta.Labels(pod);
            foreach (var job in Primary.List(Meta.Namespace(pod)))
                if (job["spec"]?["selector"] is System.Text.Json.Nodes.JsonObject sel && MetaLabelSelector.AsSelector(sel) is { IsEmpty: false } s && s.Matches(labels))
                    Enqueue(Meta.Namespace(job), Meta.Name(job));
        }
    }

    /// <summary>The state one sync works on (upstream's syncJobCtx).</summary>
    private sealed class Sync
    {
        public required JsonObject Job;
        public required JsonObject Spec;
        public required JsonObject Status;
        public required List<JsonObject> Pods;
        public required List<JsonObject> Active;
        public int Ready;
        public int Terminating;
        public int Succeeded;
        public int Failed;
        public required HashSet<string> UncountedSucceeded;
        public required HashSet<string> UncountedFailed;
        public JsonObject? FinishedCondition;
        public JobBackoffRecord NewBackoff;
        public OrderedIntervals PrevSucceededIndexes = OrderedIntervals.Empty;
        public OrderedIntervals SucceededIndexes = OrderedIntervals.Empty;
        public OrderedIntervals? FailedIndexes;
        public Dictionary<int, JsonObject> DelayedDeletion = [];
        public bool Indexed => JsonRead.Str(Spec, "completionMode") == "Indexed";
        public int? Completions => (int?)JsonRead.Long(Spec, "completions");
        public JsonObject? PodFailurePolicy => Spec["podFailurePolicy"] as JsonObject;
        public bool PerIndex => Indexed && JsonRead.Long(Spec, "backoffLimitPerIndex") is not null;
    }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        var key = Key(ns, name);
        var shared = Primary.Get(ns, name);
        if (shared is null)
        {
            lock (_gate) _backoff.Remove(key);
            await CleanupOrphanPodsAsync(ns, name, null, ct);
            return;
        }
        // Jobs managed by another controller (spec.managedBy, beta in 1.33) are left alone.
        if (JsonRead.Str(shared["spec"], "managedBy") is { } managedBy && managedBy != "kubernetes.io/job-controller") return;
        var job = (JsonObject)shared.DeepClone();
        if (JobConditions.IsFinished(job))
        {
            lock (_gate) _backoff.Remove(key);
            await CleanupOrphanPodsAsync(ns, name, job, ct);
            return;
        }
        var spec = job["spec"] as JsonObject ?? new JsonObject();
        if (JsonRead.Str(spec, "completionMode") is { } mode && mode is not ("NonIndexed" or "Indexed"))
        {
            await EventAsync(Jobs.Definition, job, "Warning", "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown", ct);
            return;
        }
        var status = job["status"] as JsonObject ?? (JsonObject)(job["status"] = new JsonObject());
        var uncounted = status["uncountedTerminatedPods"] as JsonObject ?? (JsonObject)(status["uncountedTerminatedPods"] = new JsonObject());

        var pods = await PodsForJobAsync(job, ct);
        var active = pods.Where(PodFacts.IsActive).ToList();
        var s = new Sync
        {
            Job = job, Spec = spec, Status = status, Pods = pods, Active = active,
            Ready = active.Count(PodFacts.IsReady),
            Terminating = pods.Count(IsTerminating),
            UncountedSucceeded = Uids(uncounted["succeeded"]),
            UncountedFailed = Uids(uncounted["failed"]),
        };
        var activeCount = active.Count;
        var (newSucceeded, newFailed) = NewFinishedPods(s);
        s.Succeeded = Int(status, "succeeded") + newSucceeded.Count + s.UncountedSucceeded.Count;
        s.Failed = Int(status, "failed") + newFailed.Count(p => JobPodFailurePolicy.Match(s.PodFailurePolicy, p).CountFailed) + s.UncountedFailed.Count;

        var now = Time.GetUtcNow();
        var suspended = JsonRead.Bool(spec, "suspend") == true;
        if (status["startTime"] is null && !suspended) status["startTime"] = ObjectShaper.FormatTime(now);

        JobBackoffRecord record;
        lock (_gate) record = _backoff.GetValueOrDefault(key);
        s.NewBackoff = record.With(newSucceeded, newFailed);

        Exception? manageError = null;
        var backoffLimit = JsonRead.Long(spec, "backoffLimit") ?? 6;
        var exceedsBackoffLimit = s.Failed > backoffLimit;
        s.FinishedCondition = JobConditions.Find(status, "SuccessCriteriaMet") is { } met && JsonRead.Str(met, "status") == "True" ? met : null;
        // With SuccessCriteriaMet already recorded, the pod failure policy is not evaluated again.
        if (s.FinishedCondition is null)
        {
            if (JobConditions.Find(status, "FailureTarget") is { } target && JsonRead.Str(target, "status") == "True")
                s.FinishedCondition = JobConditions.New("Failed", JsonRead.StrOrEmpty(target, "reason"), JsonRead.StrOrEmpty(target, "message"), now);
            else if (FailJobMessage(s) is { } message)
                s.FinishedCondition = JobConditions.New("FailureTarget", "PodFailurePolicy", message, now);
        }
        if (s.FinishedCondition is null)
        {
            if (exceedsBackoffLimit || PastBackoffLimitOnFailure(s, backoffLimit))
                s.FinishedCondition = JobConditions.New("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit", now);
            else if (PastActiveDeadline(s, now, suspended))
                s.FinishedCondition = JobConditions.New("FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline", now);
            else if (JsonRead.Long(spec, "activeDeadlineSeconds") is { } deadline && !suspended && PodFacts.Time(status["startTime"]) is { } started)
            {
                // A timer is kept under a day; the resync (every 5 minutes) covers a later deadline.
                var left = TimeSpan.FromSeconds(deadline) - (now - started);
                Queue.AddAfter(key, left < TimeSpan.FromDays(1) ? left : TimeSpan.FromDays(1), ct);
            }
        }
        if (s.Indexed)
        {
            (s.PrevSucceededIndexes, s.SucceededIndexes) = SucceededIndexes(s);
            s.Succeeded = s.SucceededIndexes.Total;
            if (s.PerIndex)
            {
                s.FailedIndexes = FailedIndexes(s);
                if (s.FinishedCondition is null)
                {
                    if (JsonRead.Long(spec, "maxFailedIndexes") is { } maxFailed && s.FailedIndexes.Total > maxFailed)
                        s.FinishedCondition = JobConditions.New("FailureTarget", "MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes", now);
                    else if (s.FailedIndexes.Total > 0 && s.FailedIndexes.Total + s.SucceededIndexes.Total >= (s.Completions ?? 0))
                        s.FinishedCondition = JobConditions.New("FailureTarget", "FailedIndexes", "Job has failed indexes", now);
                }
                s.DelayedDeletion = PodsWithDelayedDeletionPerIndex(s);
            }
            if (s.FinishedCondition is null && JobSuccessPolicy.Match(spec["successPolicy"] as JsonObject, s.Completions ?? 0, s.SucceededIndexes) is { } msg)
                s.FinishedCondition = JobConditions.New("SuccessCriteriaMet", "SuccessPolicy", msg, now);
        }

        var suspendChanged = false;
        if (s.FinishedCondition is not null)
        {
            // The Job is finishing: its active pods go (their finalizers are removed below).
            var (deletedReady, deleted, err) = await DeleteActivePodsAsync(job, s.Active, ct);
            if (deleted != activeCount) s.FinishedCondition = null;
            activeCount -= deleted;
            s.Terminating += deleted;
            s.Ready -= deletedReady;
            manageError = err;
        }
        else
        {
            var manageCalled = false;
            if (!Meta.IsDeleting(job))
            {
                try { activeCount = await ManageAsync(s, key, ct); }
                catch (Exception e) when (e is not OperationCanceledException) { manageError = e; activeCount = s.Active.Count; }
                manageCalled = true;
            }
            var complete = s.Completions is { } completions
                ? s.Succeeded >= completions && activeCount == 0
                : s.Succeeded > 0 && activeCount == 0;
            if (complete)
                s.FinishedCondition = JobConditions.New("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", now);
            else if (manageCalled)
            {
                if (suspended)
                {
                    if (JobConditions.Ensure(status, "Suspended", "True", "JobSuspended", "Job suspended", now))
                    {
                        suspendChanged = true;
                        await EventAsync(Jobs.Definition, job, "Normal", "Suspended", "Job suspended", ct);
                    }
                }
                else if (JobConditions.Ensure(status, "Suspended", "False", "JobResumed", "Job resumed", now))
                {
                    suspendChanged = true;
                    await EventAsync(Jobs.Definition, job, "Normal", "Resumed", "Job resumed", ct);
                    // A resumed Job's activeDeadlineSeconds counts from now.
                    status["startTime"] = ObjectShaper.FormatTime(now);
                }
            }
        }

        var needsUpdate = suspendChanged || activeCount != Int(status, "active")
            || JsonRead.Long(status, "ready") != s.Ready || JsonRead.Long(status, "terminating") != s.Terminating;
        SetCount(status, "active", activeCount);
        status["ready"] = s.Ready;
        status["terminating"] = s.Terminating;
        await TrackStatusAndRemoveFinalizersAsync(s, needsUpdate, key, ct);
        if (manageError is not null) throw manageError;
    }

    private static HashSet<string> Uids(JsonNode? list) =>
        (list as JsonArray ?? []).Select(JsonRead.Str).OfType<string>().ToHashSet(StringComparer.Ordinal);

    private static int Int(JsonObject o, string field) => (int)(JsonRead.Long(o, field) ?? 0);

    /// <summary>A counter with omitempty: absent when zero.</summary>
    private static void SetCount(JsonObject status, string field, int value)
    {
        if (value == 0) status.Remove(field);
        else status[field] = value;
    }

    private static bool HasFinalizer(JsonObject pod) => Meta.Finalizers(pod).Contains(TrackingFinalizer);

    /// <summary>CountTerminatingPods: being deleted and not finished.</summary>
    private static bool IsTerminating(JsonObject pod) => Meta.IsDeleting(pod) && PodFacts.Phase(pod) is not ("Succeeded" or "Failed");

    /// <summary>onlyReplaceFailedPods: podReplacementPolicy Failed, or a pod failure policy.</summary>
    private static bool OnlyReplaceFailedPods(Sync s) =>
        JsonRead.Str(s.Spec, "podReplacementPolicy") == "Failed" || s.PodFailurePolicy is not null;

    /// <summary>isPodFailed: phase Failed; or (unless only failed pods are replaced) deleted before succeeding.</summary>
    private static bool IsPodFailed(JsonObject pod, Sync s)
    {
        var phase = PodFacts.Phase(pod);
        if (phase == "Failed") return true;
        if (OnlyReplaceFailedPods(s)) return false;
        return Meta.IsDeleting(pod) && phase != "Succeeded";
    }

    /// <summary>getValidPodsWithFilter: pods with the finalizer, not yet uncounted, with a valid index (Indexed).</summary>
    private static List<JsonObject> ValidPods(Sync s, HashSet<string>? uncounted, Func<JsonObject, bool> filter)
    {
        var result = new List<JsonObject>();
        foreach (var p in s.Pods)
        {
            if (!HasFinalizer(p) || (uncounted?.Contains(Meta.Uid(p)) ?? false)) continue;
            if (s.Indexed)
            {
                var ix = JobIndexes.Of(p);
                if (ix == JobIndexes.Unknown || ix >= (s.Completions ?? 0)) continue;
            }
            if (filter(p)) result.Add(p);
        }
        return result;
    }

    private static (List<JsonObject> Succeeded, List<JsonObject> Failed) NewFinishedPods(Sync s) =>
        (ValidPods(s, s.UncountedSucceeded, p => PodFacts.Phase(p) == "Succeeded"),
         ValidPods(s, s.UncountedFailed, p => IsPodFailed(p, s)));

    /// <summary>getFailJobMessage: the message of the first failed pod that matched a FailJob rule.</summary>
    private static string? FailJobMessage(Sync s)
    {
        if (s.PodFailurePolicy is null) return null;
        foreach (var p in s.Pods)
            if (IsPodFailed(p, s) && JobPodFailurePolicy.Match(s.PodFailurePolicy, p).FailJobMessage is { } m) return m;
        return null;
    }

    /// <summary>pastBackoffLimitOnFailure: with restartPolicy OnFailure, the restarts of running and pending pods reach the limit.</summary>
    private static bool PastBackoffLimitOnFailure(Sync s, long backoffLimit)
    {
        if (JsonRead.Str(s.Spec["template"]?["spec"], "restartPolicy") != "OnFailure") return false;
        long restarts = 0;
        foreach (var p in s.Pods)
        {
            if (PodFacts.Phase(p) is not ("Running" or "Pending")) continue;
            foreach (var list in new[] { "initContainerStatuses", "containerStatuses" })
                foreach (var cs in (p["status"]?[list] as JsonArray ?? []).OfType<JsonObject>())
                    restarts += JsonRead.Long(cs, "restartCount") ?? 0;
        }
        return backoffLimit == 0 ? restarts > 0 : restarts >= backoffLimit;
    }

    /// <summary>pastActiveDeadline: running (not suspended) for activeDeadlineSeconds or longer.</summary>
    private static bool PastActiveDeadline(Sync s, DateTimeOffset now, bool suspended) =>
        !suspended && JsonRead.Long(s.Spec, "activeDeadlineSeconds") is { } deadline
        && PodFacts.Time(s.Status["startTime"]) is { } started && now - started >= TimeSpan.FromSeconds(deadline);

    /// <summary>calculateSucceededIndexes: the recorded completed indexes, and those with the indexes of newly succeeded pods added.</summary>
    private static (OrderedIntervals Prev, OrderedIntervals Now) SucceededIndexes(Sync s)
    {
        var completions = s.Completions ?? 0;
        var prev = OrderedIntervals.Parse(JsonRead.Str(s.Status, "completedIndexes"), completions);
        var added = s.Pods.Where(p => PodFacts.Phase(p) == "Succeeded" && HasFinalizer(p))
            .Select(JobIndexes.Of).Where(ix => ix != JobIndexes.Unknown && ix < completions).ToList();
        return (prev, prev.With(added));
    }

    /// <summary>calculateFailedIndexes: the recorded failed indexes, with those of pods whose index failed now.</summary>
    private static OrderedIntervals FailedIndexes(Sync s)
    {
        var completions = s.Completions ?? 0;
        var prev = OrderedIntervals.Parse(JsonRead.Str(s.Status, "failedIndexes"), completions);
        var added = s.Pods.Where(p => HasFinalizer(p) && IsIndexFailed(s, p))
            .Select(JobIndexes.Of).Where(ix => ix != JobIndexes.Unknown && ix < completions).ToList();
        return prev.With(added);
    }

    /// <summary>isIndexFailed: a FailIndex rule matched, or a counted failure reached backoffLimitPerIndex.</summary>
    private static bool IsIndexFailed(Sync s, JsonObject pod)
    {
        if (!IsPodFailed(pod, s)) return false;
        var counted = true;
        if (s.PodFailurePolicy is not null)
        {
            var m = JobPodFailurePolicy.Match(s.PodFailurePolicy, pod);
            if (m.Action == PodFailureAction.FailIndex) return true;
            counted = m.CountFailed;
        }
        return counted && JobIndexes.FailureCount(pod) >= (JsonRead.Long(s.Spec, "backoffLimitPerIndex") ?? 0);
    }

    /// <summary>
    /// getPodsWithDelayedDeletionPerIndex: per index still to run, the latest failed pod, whose finalizer stays
    /// until its replacement carries the index's failure count on.
    /// </summary>
    private static Dictionary<int, JsonObject> PodsWithDelayedDeletionPerIndex(Sync s)
    {
        var activeIndexes = s.Active.Select(JobIndexes.Of).ToHashSet();
        var result = new Dictionary<int, JsonObject>();
        ValidPods(s, null, p =>
        {
            if (!IsPodFailed(p, s)) return false;
            var ix = JobIndexes.Of(p);
            if (ix == JobIndexes.Unknown || ix >= (s.Completions ?? 0)) return false;
            if (s.SucceededIndexes.Has(ix) || (s.FailedIndexes?.Has(ix) ?? false) || activeIndexes.Contains(ix)) return false;
            if (result.TryGetValue(ix, out var last))
            {
                if (JobIndexes.AbsoluteFailureCount(last) <= JobIndexes.AbsoluteFailureCount(p)
                    && JobBackoffRecord.FinishedTime(p) >= JobBackoffRecord.FinishedTime(last))
                    result[ix] = p;
            }
            else result[ix] = p;
            return false;
        });
        return result;
    }
}
