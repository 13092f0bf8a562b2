using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Workloads;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>
/// The CronJob schedule: robfig/cron v3's spec_test.go TestNext cases (the five-field forms, second 0) and
/// descriptors, and pkg/controller/cronjob/utils_test.go's most recent schedule time and job name.
/// </summary>
public sealed class CronJobScheduleTests
{
    private static DateTimeOffset T(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    [Theory]
    // Simple cases.
    [InlineData("2012-07-09T14:45:00Z", "0/15 * * * *", "2012-07-09T15:00:00Z")]
    [InlineData("2012-07-09T14:59:00Z", "0/15 * * * *", "2012-07-09T15:00:00Z")]
    [InlineData("2012-07-09T14:59:59Z", "0/15 * * * *", "2012-07-09T15:00:00Z")]
    // Wrap around hours.
    [InlineData("2012-07-09T15:45:00Z", "20-35/15 * * * *", "2012-07-09T16:20:00Z")]
    // Wrap around days.
    [InlineData("2012-07-09T23:46:00Z", "*/15 * * * *", "2012-07-10T00:00:00Z")]
    [InlineData("2012-07-09T23:45:00Z", "20-35/15 * * * *", "2012-07-10T00:20:00Z")]
    [InlineData("2012-07-09T23:35:51Z", "20-35/15 1/2 * * *", "2012-07-10T01:20:00Z")]
    [InlineData("2012-07-09T23:35:51Z", "20-35/15 10-12 * * *", "2012-07-10T10:20:00Z")]
    [InlineData("2012-07-09T23:35:51Z", "20-35/15 1/2 */2 * *", "2012-07-11T01:20:00Z")]
    [InlineData("2012-07-09T23:35:51Z", "20-35/15 * 9-20 * *", "2012-07-10T00:20:00Z")]
    [InlineData("2012-07-09T23:35:51Z", "20-35/15 * 9-20 Jul *", "2012-07-10T00:20:00Z")]
    // Wrap around months.
    [InlineData("2012-07-09T23:35:00Z", "0 0 9 Apr-Oct ?", "2012-08-09T00:00:00Z")]
    [InlineData("2012-07-09T23:35:00Z", "0 0 */5 Apr,Aug,Oct Mon", "2012-08-01T00:00:00Z")]
    [InlineData("2012-07-09T23:35:00Z", "0 0 */5 Oct Mon", "2012-10-01T00:00:00Z")]
    // Wrap around years.
    [InlineData("2012-07-09T23:35:00Z", "0 0 * Feb Mon", "2013-02-04T00:00:00Z")]
    [InlineData("2012-07-09T23:35:00Z", "0 0 * Feb Mon/2", "2013-02-01T00:00:00Z")]
    // Wrap around minute, hour, day, month and year.
    [InlineData("2012-12-31T23:59:45Z", "* * * * *", "2013-01-01T00:00:00Z")]
    // Leap year.
    [InlineData("2012-07-09T23:35:00Z", "0 0 29 Feb ?", "2016-02-29T00:00:00Z")]
    // Day of month and day of week: either, unless one is "*".
    [InlineData("2012-07-09T23:35:00Z", "0 0 1 * Fri", "2012-07-13T00:00:00Z")]
    [InlineData("2012-07-09T23:35:00Z", "0 0 * * Fri", "2012-07-13T00:00:00Z")]
    // Descriptors.
    [InlineData("2012-07-09T23:35:00Z", "@hourly", "2012-07-10T00:00:00Z")]
    [InlineData("2012-07-09T23:35:00Z", "@daily", "2012-07-10T00:00:00Z")]
    [InlineData("2012-07-09T23:35:00Z", "@weekly", "2012-07-15T00:00:00Z")]
    [InlineData("2012-07-09T23:35:00Z", "@monthly", "2012-08-01T00:00:00Z")]
    [InlineData("2012-07-09T23:35:00Z", "@yearly", "2013-01-01T00:00:00Z")]
    [InlineData("2012-07-09T23:35:10Z", "@every 90s", "2012-07-09T23:36:40Z")]
    // Time zones: the walk is in the zone; the result is the same instant.
    [InlineData("2012-07-09T23:35:00Z", "TZ=America/New_York 0 3 * * *", "2012-07-10T07:00:00Z")]
    [InlineData("2012-11-04T04:00:00Z", "CRON_TZ=America/New_York 0 3 3 * ?", "2012-12-03T08:00:00Z")]
    // 2:30 does not exist on 11 March 2012 in New York: the next one is a year later (robfig's DST case).
    [InlineData("2012-03-11T05:00:00Z", "TZ=America/New_York 30 2 11 Mar ?", "2013-03-11T06:30:00Z")]
    public void Next_IsTheFirstActivationAfter(string from, string spec, string want)
    {
        var schedule = CronJobSchedule.Parse(spec);
        Assert.NotNull(schedule);
        Assert.Equal(T(want), schedule.Next(T(from)));
    }

    [Theory]
    [InlineData("0 0 30 Feb ?")]
    [InlineData("0 0 31 Apr ?")]
    public void Next_OfAnUnsatisfiableSchedule_IsNone(string spec) =>
        Assert.Equal(DateTimeOffset.MinValue, CronJobSchedule.Parse(spec)!.Next(T("2012-07-09T23:35:00Z")));

    [Theory]
    [InlineData("")]
    [InlineData("* * * *")]
    [InlineData("60 * * * *")]
    [InlineData("* 24 * * *")]
    [InlineData("* * 0 * *")]
    [InlineData("* * * 13 *")]
    [InlineData("* * * * 7")]
    [InlineData("5-1 * * * *")]
    [InlineData("*/0 * * * *")]
    [InlineData("@fortnightly")]
    [InlineData("TZ=Mars/Olympus * * * * *")]
    public void Parse_RefusesWhatRobfigRefuses(string spec) => Assert.Null(CronJobSchedule.Parse(spec));

    private static JsonObject CronJob(string created, string? lastSchedule = null, long? startingDeadline = null)
    {
        var cj = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "cj", ["namespace"] = "default", ["creationTimestamp"] = created },
            ["spec"] = new JsonObject { ["schedule"] = "*/1 * * * *" },
            ["status"] = new JsonObject(),
        };
        if (lastSchedule is not null) cj["status"]!["lastScheduleTime"] = lastSchedule;
        if (startingDeadline is { } d) cj["spec"]!["startingDeadlineSeconds"] = d;
        return cj;
    }

    [Fact]
    public void MostRecent_BeforeTheFirstActivation_IsNone()
    {
        var r = CronJobTimes.MostRecent(CronJob("2016-05-19T10:00:10Z"), T("2016-05-19T10:00:40Z"), CronJobSchedule.Parse("*/1 * * * *")!, true);
        Assert.Null(r.MostRecent);
        Assert.Equal(CronJobTimes.MissedSchedules.None, r.Missed);
    }

    [Fact]
    public void MostRecent_OneMissed_IsThatTime()
    {
        var r = CronJobTimes.MostRecent(CronJob("2016-05-19T10:00:10Z"), T("2016-05-19T10:01:30Z"), CronJobSchedule.Parse("*/1 * * * *")!, true);
        Assert.Equal(T("2016-05-19T10:01:00Z"), r.MostRecent);
        Assert.Equal(CronJobTimes.MissedSchedules.None, r.Missed);
    }

    [Fact]
    public void MostRecent_SeveralMissed_IsTheLatest_AndFew()
    {
        var r = CronJobTimes.MostRecent(CronJob("2016-05-19T09:00:00Z", "2016-05-19T10:00:00Z"), T("2016-05-19T10:05:30Z"), CronJobSchedule.Parse("*/1 * * * *")!, true);
        Assert.Equal(T("2016-05-19T10:05:00Z"), r.MostRecent);
        Assert.Equal(CronJobTimes.MissedSchedules.Few, r.Missed);
    }

    [Fact]
    public void MostRecent_MoreThanAHundredMissed_IsMany_UnlessTheStartingDeadlineCutsThem()
    {
        var schedule = CronJobSchedule.Parse("0 * * * *")!;
        var now = T("2016-05-19T10:00:00Z").AddHours(101).AddMinutes(30);
        var r = CronJobTimes.MostRecent(CronJob("2016-05-19T09:30:00Z"), now, schedule, true);
        Assert.Equal(CronJobTimes.MissedSchedules.Many, r.Missed);
        Assert.Equal(T("2016-05-23T15:00:00Z"), r.MostRecent);
        var cut = CronJobTimes.MostRecent(CronJob("2016-05-19T09:30:00Z", startingDeadline: 3600), now, schedule, true);
        Assert.Equal(CronJobTimes.MissedSchedules.None, cut.Missed);
        Assert.Equal(T("2016-05-23T15:00:00Z"), cut.MostRecent);
    }

    [Fact]
    public void MostRecent_OfAnImpossibleDate_IsAnError() =>
        Assert.Throws<InvalidOperationException>(() =>
            CronJobTimes.MostRecent(CronJob("2016-05-19T10:00:00Z"), T("2017-05-19T10:00:00Z"), CronJobSchedule.Parse("59 23 31 2 *")!, true));

    [Fact]
    public void NextDuration_IsJustAfterTheNextActivation()
    {
        var d = CronJobTimes.NextDuration(CronJob("2016-05-19T10:00:10Z"), T("2016-05-19T10:00:40Z"), CronJobSchedule.Parse("*/1 * * * *")!, TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromSeconds(20.1), d);
    }

    [Fact]
    public void JobName_IsTheScheduledTimeInMinutesSinceTheEpoch() =>
        Assert.Equal("cj-24394200", CronJobTimes.JobName("cj", T("2016-05-19T10:00:00Z")));

    [Fact]
    public void JobFromTemplate_CarriesTheScheduledTimestampInTheCronJobsZone()
    {
        var cj = CronJob("2016-05-19T10:00:00Z");
        cj["metadata"]!["uid"] = "u1";
        cj["spec"]!["jobTemplate"] = new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["a"] = "b" } },
            ["spec"] = new JsonObject { ["backoffLimit"] = 2 },
        };
        var job = CronJobController.JobFromTemplate(cj, T("2016-05-19T10:00:00Z"), "America/New_York");
        Assert.Equal("cj-24394200", (string?)job["metadata"]!["name"]);
        Assert.Equal("2016-05-19T06:00:00-04:00", (string?)job["metadata"]!["annotations"]!["batch.kubernetes.io/cronjob-scheduled-timestamp"]);
        Assert.Equal("b", (string?)job["metadata"]!["labels"]!["a"]);
        Assert.Equal(2, (int)job["spec"]!["backoffLimit"]!);
        Assert.Equal("u1", (string?)job["metadata"]!["ownerReferences"]![0]!["uid"]);
        var utc = CronJobController.JobFromTemplate(cj, T("2016-05-19T10:00:00Z"), null);
        Assert.Equal("2016-05-19T10:00:00Z", (string?)utc["metadata"]!["annotations"]!["batch.kubernetes.io/cronjob-scheduled-timestamp"]);
    }
}
