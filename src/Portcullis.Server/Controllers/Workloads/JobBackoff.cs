using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// A Job's pod failures since its last success (pkg/controller/job/backoff_utils.go's backoffRecord): how
/// many, and when the last one finished. New pods wait <c>10 s × 2^(failures−1)</c>, at most 10 minutes,
/// after the last failure: upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff, kept as they are.
/// </summary>
public readonly record struct JobBackoffRecord(int FailuresAfterLastSuccess, DateTimeOffset? LastFailureTime)
{
    public static readonly TimeSpan DefaultBackoff = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(10);

    /// <summary>newBackoffRecord: this record moved on by the pods that finished since it was stored.</summary>
    public JobBackoffRecord With(List<JsonObject> newSucceeded, List<JsonObject> newFailed)
    {
        var succeeded = newSucceeded.Select(FinishedTime).Order().ToList();
        var failed = newFailed.Select(FinishedTime).Order().ToList();
        if (succeeded.Count == 0)
            return failed.Count == 0 ? this : new(FailuresAfterLastSuccess + failed.Count, failed[^1]);
        if (failed.Count == 0) return new(0, null);
        var lastSuccess = succeeded[^1];
        var after = failed.Where(t => t > lastSuccess).ToList();
        return after.Count == 0 ? new(0, null) : new(after.Count, after[^1]);
    }

    /// <summary>getRemainingTime: how long pod creation still waits.</summary>
    public TimeSpan Remaining(DateTimeOffset now) => RemainingFor(FailuresAfterLastSuccess, LastFailureTime, now);

    /// <summary>getRemainingTimeForFailuresCount.</summary>
    public static TimeSpan RemainingFor(int failures, DateTimeOffset? lastFailure, DateTimeOffset now)
    {
        if (failures == 0 || lastFailure is null) return TimeSpan.Zero;
        var backoff = DefaultBackoff;
        for (var i = 1; i < failures; i++)
        {
            backoff *= 2;
            if (backoff >= MaxBackoff) { backoff = MaxBackoff; break; }
        }
        var elapsed = now - lastFailure.Value;
        return backoff < elapsed ? TimeSpan.Zero : backoff - elapsed;
    }

    /// <summary>
    /// getFinishedTime: the latest finishedAt of the containers (all terminated), else the time the Ready
    /// condition turned False, else the deletion timestamp, else the creation time.
    /// </summary>
    public static DateTimeOffset FinishedTime(JsonObject pod)
    {
        DateTimeOffset? fromContainers = null;
        var statuses = pod["status"]?["containerStatuses"] as JsonArray ?? [];
        foreach (var cs in statuses.OfType<JsonObject>())
        {
            if (PodFacts.Time(cs["state"]?["terminated"]?["finishedAt"]) is not { } t) { fromContainers = null; break; }
            if (fromContainers is null || t > fromContainers) fromContainers = t;
        }
        if (statuses.Count > 0 && fromContainers is { } c) return c;
        if (PodFacts.Condition(pod, "Ready") is { } ready && JsonRead.Str(ready, "status") == "False"
            && PodFacts.Time(ready["lastTransitionTime"]) is { } rt) return rt;
        if (PodFacts.Time(Meta.Of(pod)["deletionTimestamp"]) is { } dt) return dt;
        return PodFacts.Time(Meta.Of(pod)["creationTimestamp"]) ?? DateTimeOffset.UnixEpoch;
    }
}
