using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// The CronJob controller's schedule arithmetic (pkg/controller/cronjob/utils.go): the most recent scheduled
/// time not yet started, how many were missed, when to sync next, and the Job's name for a scheduled time.
/// </summary>
public static class CronJobTimes
{
    public enum MissedSchedules { None, Few, Many }

    public readonly record struct Result(DateTimeOffset Earliest, DateTimeOffset? MostRecent, MissedSchedules Missed);

    /// <summary>getJobName: "&lt;cronjob&gt;-&lt;scheduled time in minutes since the epoch&gt;".</summary>
    public static string JobName(string cronJob, DateTimeOffset scheduled) =>
        cronJob + "-" + (scheduled.ToUnixTimeSeconds() / 60).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// mostRecentScheduleTime: from the last scheduled time (else the creation time; with the starting deadline,
    /// no earlier than now less the deadline), the latest activation at or before <paramref name="now"/>, and
    /// whether more than one (Few) or more than 100 (Many) were missed. Throws for a schedule whose activations
    /// are less than a second apart (an impossible date such as 31 February).
    /// </summary>
    public static Result MostRecent(JsonObject cj, DateTimeOffset now, CronJobSchedule schedule, bool includeStartingDeadline)
    {
        var earliest = PodFacts.Time(Meta.Of(cj)["creationTimestamp"]) ?? now;
        if (PodFacts.Time(cj["status"]?["lastScheduleTime"]) is { } last) earliest = last;
        if (includeStartingDeadline && JsonRead.Long(cj["spec"], "startingDeadlineSeconds") is { } deadline)
        {
            var schedulingDeadline = now.AddSeconds(-deadline);
            if (schedulingDeadline > earliest) earliest = schedulingDeadline;
        }
        var t1 = schedule.Next(earliest);
        // An unsatisfiable schedule (30 February) has no activation: upstream's zero times are 0 s apart.
        if (t1 == DateTimeOffset.MinValue) throw new InvalidOperationException("time difference between two schedules is less than 1 second");
        var t2 = schedule.Next(t1);
        if (now < t1) return new(earliest, null, MissedSchedules.None);
        if (now < t2) return new(earliest, t1, MissedSchedules.None);
        var between = (long)Math.Round((t2 - t1).TotalSeconds, MidpointRounding.AwayFromZero);
        if (between < 1) throw new InvalidOperationException("time difference between two schedules is less than 1 second");
        // A rough count: how many intervals fit between the first missed time and now.
        var elapsed = (long)(now - t1).TotalSeconds;
        var missed = elapsed / between + 1;
        // Start one interval before the estimate so that irregular schedules (30 6-16/4 * * 1-5) land right.
        var potentialEarliest = t1.AddSeconds((missed - 1 - 1) * between);
        DateTimeOffset? mostRecent = null;
        for (var t = schedule.Next(potentialEarliest); t <= now && t != DateTimeOffset.MinValue; t = schedule.Next(t)) mostRecent = t;
        var kind = missed > 100 ? MissedSchedules.Many : missed > 1 ? MissedSchedules.Few : MissedSchedules.None;
        return new(earliest, mostRecent, kind);
    }

    /// <summary>nextScheduleTimeDuration: how long until just after the next scheduled time.</summary>
    public static TimeSpan? NextDuration(JsonObject cj, DateTimeOffset now, CronJobSchedule schedule, TimeSpan delta)
    {
        Result r;
        try { r = MostRecent(cj, now, schedule, includeStartingDeadline: false); }
        catch (InvalidOperationException) { return null; }
        var from = r.MostRecent ?? r.Earliest;
        var next = schedule.Next(from);
        if (next == DateTimeOffset.MinValue) return null;
        return next + delta - now;
    }
}
