using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// kube-controller-manager 1.33's CronJob controller (pkg/controller/cronjob/cronjob_controllerv2.go): creates a
/// Job for each scheduled time, named <c>&lt;cronjob&gt;-&lt;scheduled time in minutes since the epoch&gt;</c> (the
/// name is the lock against creating one twice), honours concurrencyPolicy, startingDeadlineSeconds and suspend,
/// keeps <c>status.active</c>, <c>lastScheduleTime</c> and <c>lastSuccessfulTime</c>, deletes finished Jobs past
/// the history limits, and syncs again just after the next scheduled time.
/// </summary>
public sealed class CronJobController : QueueController
{
    public const string ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp";
    /// <summary>nextScheduleDelta: the sync comes this long after the scheduled time.</summary>
    private static readonly TimeSpan NextScheduleDelta = TimeSpan.FromMilliseconds(100);

    private readonly Informer _jobs;

    public CronJobController(ControllerContext context) : base(context, "cronjob-controller", context.Informers.For("batch", "cronjobs"))
    {
        _jobs = Informers.For("batch", "jobs");
    }

    private GenericStore CronJobs => Primary.Store;
    private GenericStore Jobs => _jobs.Store;

    /// <summary>A Job's change syncs the CronJob that controls it.</summary>
    protected override void OnChange(InformerEvent e)
    {
        if (e.Source != _jobs) return;
        foreach (var job in new[] { e.Object, e.OldObject })
            if (job is not null && ControllerRef.Of(job) is { } r && JsonRead.Str(r, "kind") == "CronJob" && JsonRead.Str(r, "apiVersion") == "batch/v1")
                Enqueue(Meta.Namespace(job), JsonRead.StrOrEmpty(r, "name"));
    }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        if (Primary.Get(ns, name) is not { } shared) return;
        var cronJob = (JsonObject)shared.DeepClone();
        var uid = Meta.Uid(cronJob);
        // Jobs controlled by this CronJob (by controller reference only; a CronJob adopts none).
        var jobs = _jobs.List(ns).Where(j => ControllerRef.UidOf(j) == uid).ToList();
        var (requeueAfter, updateStatus) = await SyncCronJobAsync(cronJob, jobs, ct);
        if (await CleanupFinishedJobsAsync(cronJob, jobs, ct)) updateStatus = true;
        if (updateStatus) await UpdateStatusAsync(cronJob, ct);
        // The resync (every 5 minutes) covers a later time; a timer is kept under a day.
        if (requeueAfter is { } after) Queue.AddAfter(Key(ns, name), after < TimeSpan.FromDays(1) ? after : TimeSpan.FromDays(1), ct);
    }

    /// <summary>syncCronJob: reconciles status.active with the Jobs, then starts the most recent unmet scheduled time.</summary>
    private async Task<(TimeSpan? RequeueAfter, bool UpdateStatus)> SyncCronJobAsync(JsonObject cj, List<JsonObject> jobs, CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        var updateStatus = false;
        var status = cj["status"] as JsonObject ?? (JsonObject)(cj["status"] = new JsonObject());
        var children = new HashSet<string>(StringComparer.Ordinal);
        foreach (var j in jobs)
        {
            var jobUid = Meta.Uid(j);
            children.Add(jobUid);
            var found = InActiveList(status, jobUid);
            var finished = JobConditions.IsFinished(j);
            if (!found && !finished)
            {
                if (await Client.TryGetAsync(CronJobs, Meta.Namespace(cj), Meta.Name(cj), ct) is { } fresh && InActiveList(fresh["status"] as JsonObject, jobUid))
                    continue;
                await EventAsync(CronJobs.Definition, cj, "Warning", "UnexpectedJob", $"Saw a job that the controller did not create or forgot: {Meta.Name(j)}", ct);
            }
            else if (found && finished)
            {
                DeleteFromActiveList(status, jobUid);
                await EventAsync(CronJobs.Definition, cj, "Normal", "SawCompletedJob", $"Saw completed job: {Meta.Name(j)}, condition: {JobConditions.FinishedType(j)}", ct);
                updateStatus = true;
            }
            if (JobConditions.IsSucceeded(j) && PodFacts.Time(j["status"]?["completionTime"]) is { } completed)
            {
                var last = PodFacts.Time(status["lastSuccessfulTime"]);
                if (last is null || completed > last)
                {
                    status["lastSuccessfulTime"] = ObjectShaper.FormatTime(completed);
                    updateStatus = true;
                }
            }
        }
        // Active references whose Job is gone.
        foreach (var r in (status["active"] as JsonArray ?? []).OfType<JsonObject>().ToList())
        {
            var refUid = JsonRead.StrOrEmpty(r, "uid");
            if (children.Contains(refUid)) continue;
            if (await Client.TryGetAsync(Jobs, JsonRead.StrOrEmpty(r, "namespace"), JsonRead.StrOrEmpty(r, "name"), ct) is null)
            {
                await EventAsync(CronJobs.Definition, cj, "Normal", "MissingJob", $"Active job went missing: {JsonRead.Str(r, "name")}", ct);
                DeleteFromActiveList(status, refUid);
                updateStatus = true;
            }
        }
        if (Meta.IsDeleting(cj)) return (null, updateStatus);
        var spec = cj["spec"] as JsonObject ?? new JsonObject();
        var timeZone = JsonRead.Str(spec, "timeZone");
        if (timeZone is not null && CronJobSchedule.FindZone(timeZone) is null)
        {
            await EventAsync(CronJobs.Definition, cj, "Warning", "UnknownTimeZone", $"invalid timeZone: {GoText.Quote(timeZone)}: unknown time zone {timeZone}", ct);
            return (null, updateStatus);
        }
        if (JsonRead.Bool(spec, "suspend") == true) return (null, updateStatus);
        var scheduleText = JsonRead.StrOrEmpty(spec, "schedule");
        var formatted = await FormatScheduleAsync(cj, scheduleText, timeZone, ct);
        if (CronJobSchedule.Parse(formatted) is not { } sched)
        {
            var err = Api.Validation.CronSchedule.Parse(formatted) ?? "invalid schedule";
            await EventAsync(CronJobs.Definition, cj, "Warning", "UnparseableSchedule", $"unparseable schedule: {GoText.Quote(scheduleText)} : {err}", ct);
            return (null, updateStatus);
        }
        CronJobTimes.Result recent;
        try { recent = CronJobTimes.MostRecent(cj, now, sched, includeStartingDeadline: true); }
        catch (InvalidOperationException e)
        {
            await EventAsync(CronJobs.Definition, cj, "Warning", "InvalidSchedule", $"invalid schedule: {scheduleText} : {e.Message}", ct);
            return (null, updateStatus);
        }
        if (recent.Missed == CronJobTimes.MissedSchedules.Many && recent.MostRecent is not null)
            await EventAsync(CronJobs.Definition, cj, "Warning", "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew", ct);
        if (recent.MostRecent is not { } scheduled || scheduled > now)
            return (CronJobTimes.NextDuration(cj, now, sched, NextScheduleDelta), updateStatus);

        var tooLate = JsonRead.Long(spec, "startingDeadlineSeconds") is { } deadline && scheduled.AddSeconds(deadline) < now;
        if (tooLate)
        {
            await EventAsync(CronJobs.Definition, cj, "Warning", "MissSchedule",
                $"Missed scheduled time to start a job: {scheduled.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)}", ct);
            return (CronJobTimes.NextDuration(cj, now, sched, NextScheduleDelta), updateStatus);
        }
        var jobName = CronJobTimes.JobName(Meta.Name(cj), scheduled);
        if (InActiveListByName(status, jobName) || PodFacts.Time(status["lastScheduleTime"]) == scheduled)
            return (CronJobTimes.NextDuration(cj, now, sched, NextScheduleDelta), updateStatus);
        var policy = JsonRead.Str(spec, "concurrencyPolicy") ?? "Allow";
        if (policy == "Forbid" && (status["active"] as JsonArray)?.Count > 0)
        {
            await EventAsync(CronJobs.Definition, cj, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid", ct);
            return (CronJobTimes.NextDuration(cj, now, sched, NextScheduleDelta), updateStatus);
        }
        if (policy == "Replace")
        {
            foreach (var r in (status["active"] as JsonArray ?? []).OfType<JsonObject>().ToList())
            {
                JsonObject? running;
                try { running = await Jobs.GetAsync(JsonRead.StrOrEmpty(r, "namespace"), JsonRead.StrOrEmpty(r, "name"), ct); }
                catch (ApiException e) when (e.Code != 404)
                {
                    await EventAsync(CronJobs.Definition, cj, "Warning", "FailedGet", $"Get job: {e.Message}", ct);
                    throw;
                }
                catch (ApiException) { running = null; }
                if (running is not null && !await DeleteJobAsync(cj, running, ct))
                    throw new InvalidOperationException($"could not replace job {Meta.Namespace(running)}/{Meta.Name(running)}");
                if (running is null) DeleteFromActiveList(status, JsonRead.StrOrEmpty(r, "uid"));
                updateStatus = true;
            }
        }

        var request = JobFromTemplate(cj, scheduled, timeZone);
        JsonObject created;
        try
        {
            created = await Jobs.CreateAsync(Meta.Namespace(cj), request, Writes, ct);
            await EventAsync(CronJobs.Definition, cj, "Normal", "SuccessfulCreate", $"Created job {Meta.Name(created)}", ct);
        }
        catch (ApiException e) when (e.Code == 409 && e.Reason == "AlreadyExists")
        {
            // Created by someone else: only a Job this CronJob controls and that is missing from active is added.
            created = await Jobs.GetAsync(Meta.Namespace(cj), jobName, ct);
            if (ControllerRef.UidOf(created) != Meta.Uid(cj) || InActiveList(status, Meta.Uid(created))) return (null, updateStatus);
        }
        catch (ApiException e) when (e.Causes?.Any(c => c.Reason == "NamespaceTerminating") == true)
        {
            return (null, updateStatus);
        }
        catch (ApiException e)
        {
            await EventAsync(CronJobs.Definition, cj, "Warning", "FailedCreate", $"Error creating job: {e.Message}", ct);
            throw;
        }
        var active = status["active"] as JsonArray ?? (JsonArray)(status["active"] = new JsonArray());
        active.Add((JsonNode)new JsonObject
        {
            ["kind"] = "Job",
            ["namespace"] = Meta.Namespace(created),
            ["name"] = Meta.Name(created),
            ["uid"] = Meta.Uid(created),
            ["apiVersion"] = "batch/v1",
            ["resourceVersion"] = Meta.ResourceVersion(created),
        });
        status["lastScheduleTime"] = ObjectShaper.FormatTime(scheduled);
        return (CronJobTimes.NextDuration(cj, now, sched, NextScheduleDelta), true);
    }

    /// <summary>
    /// formatSchedule: a schedule naming TZ= itself is used as it is (with the UnsupportedSchedule warning);
    /// otherwise spec.timeZone, when it is known, is put in front as "TZ=zone".
    /// </summary>
    private async Task<string> FormatScheduleAsync(JsonObject cj, string schedule, string? timeZone, CancellationToken ct)
    {
        if (schedule.Contains("TZ", StringComparison.Ordinal))
        {
            await EventAsync(CronJobs.Definition, cj, "Warning", "UnsupportedSchedule",
                $"CRON_TZ or TZ used in schedule {GoText.Quote(schedule)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", ct);
            return schedule;
        }
        if (timeZone is not null && CronJobSchedule.FindZone(timeZone) is not null) return $"TZ={timeZone} {schedule}";
        return schedule;
    }

    /// <summary>
    /// getJobFromTemplate2: the job template's labels, annotations and spec, the scheduled time (RFC 3339 in the
    /// CronJob's zone) as <c>batch.kubernetes.io/cronjob-scheduled-timestamp</c>, owned by the CronJob.
    /// </summary>
    public static JsonObject JobFromTemplate(JsonObject cj, DateTimeOffset scheduled, string? timeZone)
    {
        var template = cj["spec"]?["jobTemplate"] as JsonObject;
        var tmeta = template?["metadata"] as JsonObject;
        var labels = tmeta?["labels"]?.DeepClone() as JsonObject ?? new JsonObject();
        var annotations = tmeta?["annotations"]?.DeepClone() as JsonObject ?? new JsonObject();
        var zone = CronJobSchedule.FindZone(timeZone ?? "") ?? TimeZoneInfo.Utc;
        annotations[ScheduledTimestampAnnotation] = GoRfc3339(TimeZoneInfo.ConvertTime(scheduled, zone));
        var meta = new JsonObject
        {
            ["name"] = CronJobTimes.JobName(Meta.Name(cj), scheduled),
            ["namespace"] = Meta.Namespace(cj),
            ["ownerReferences"] = new JsonArray(ControllerRef.New(cj, "batch/v1", "CronJob")),
        };
        if (labels.Count > 0) meta["labels"] = labels;
        meta["annotations"] = annotations;
        return new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = meta,
            ["spec"] = template?["spec"]?.DeepClone() ?? new JsonObject(),
        };
    }

    /// <summary>Go's time.RFC3339: "Z" for UTC, else the offset.</summary>
    public static string GoRfc3339(DateTimeOffset t) =>
        t.Offset == TimeSpan.Zero
            ? t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : t.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static bool InActiveList(JsonObject? status, string uid) =>
        (status?["active"] as JsonArray ?? []).OfType<JsonObject>().Any(r => JsonRead.Str(r, "uid") == uid);

    private static bool InActiveListByName(JsonObject status, string name) =>
        (status["active"] as JsonArray ?? []).OfType<JsonObject>().Any(r => JsonRead.Str(r, "name") == name);

    private static void DeleteFromActiveList(JsonObject status, string uid)
    {
        if (status["active"] is not JsonArray active) return;
        var kept = active.OfType<JsonObject>().Where(r => JsonRead.Str(r, "uid") != uid).Select(r => (JsonNode?)r.DeepClone()).ToArray();
        if (kept.Length == 0) status.Remove("active");
        else status["active"] = new JsonArray(kept);
    }

    /// <summary>cleanupFinishedJobs: finished Jobs past successfulJobsHistoryLimit / failedJobsHistoryLimit go, oldest first.</summary>
    private async Task<bool> CleanupFinishedJobsAsync(JsonObject cj, List<JsonObject> jobs, CancellationToken ct)
    {
        var spec = cj["spec"] as JsonObject;
        var successfulLimit = JsonRead.Long(spec, "successfulJobsHistoryLimit");
        var failedLimit = JsonRead.Long(spec, "failedJobsHistoryLimit");
        if (successfulLimit is null && failedLimit is null) return false;
        var updated = false;
        var succeeded = jobs.Where(j => JobConditions.FinishedType(j) == "Complete").ToList();
        var failed = jobs.Where(j => JobConditions.FinishedType(j) == "Failed").ToList();
        if (successfulLimit is { } s && await RemoveOldestJobsAsync(cj, succeeded, (int)s, ct)) updated = true;
        if (failedLimit is { } f && await RemoveOldestJobsAsync(cj, failed, (int)f, ct)) updated = true;
        return updated;
    }

    private async Task<bool> RemoveOldestJobsAsync(JsonObject cj, List<JsonObject> jobs, int max, CancellationToken ct)
    {
        var toDelete = jobs.Count - max;
        if (toDelete <= 0) return false;
        // byJobStartTime: by status.startTime (jobs without one last), then name.
        var ordered = jobs.OrderBy(j => PodFacts.Time(j["status"]?["startTime"]) is null ? 1 : 0)
            .ThenBy(j => PodFacts.Time(j["status"]?["startTime"]) ?? DateTimeOffset.MaxValue)
            .ThenBy(j => Meta.Name(j), StringComparer.Ordinal).ToList();
        var updated = false;
        for (var i = 0; i < toDelete; i++)
            if (await DeleteJobAsync(cj, ordered[i], ct)) updated = true;
        return updated;
    }

    /// <summary>deleteJob: background deletion, SuccessfulDelete "Deleted job x" (FailedDelete on error), and the Job leaves status.active.</summary>
    private async Task<bool> DeleteJobAsync(JsonObject cj, JsonObject job, CancellationToken ct)
    {
        try
        {
            await Jobs.DeleteAsync(Meta.Namespace(job), Meta.Name(job), new DeleteOptions(User, PropagationPolicy: "Background"), ct);
        }
        catch (ApiException e) when (e.Code == 404) { }
        catch (ApiException e)
        {
            await EventAsync(CronJobs.Definition, cj, "Warning", "FailedDelete", $"Deleted job: {e.Message}", ct);
            return false;
        }
        if (cj["status"] is JsonObject status) DeleteFromActiveList(status, Meta.Uid(job));
        await EventAsync(CronJobs.Definition, cj, "Normal", "SuccessfulDelete", $"Deleted job {Meta.Name(job)}", ct);
        return true;
    }

    /// <summary>UpdateStatus with the CronJob's resourceVersion (a stale one is a conflict, and the sync is retried).</summary>
    private async Task UpdateStatusAsync(JsonObject cj, CancellationToken ct)
    {
        var rv = Meta.ResourceVersion(cj);
        var status = cj["status"]!.DeepClone();
        await CronJobs.UpdateAsync(Meta.Namespace(cj), Meta.Name(cj), "status", cur =>
        {
            Meta.Set(cur, "resourceVersion", rv);
            cur["status"] = status.DeepClone();
            return cur;
        }, Writes, ct);
    }
}
