using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Workloads;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>
/// The Job controller's logic underneath: indexes as intervals (indexed_job_utils_test.go), the pod failure
/// policy (pod_failure_policy_test.go), the success policy (success_policy_test.go) and the pod back-off
/// (backoff_utils_test.go).
/// </summary>
public sealed class JobUtilsTests
{
    [Theory]
    [InlineData("", 5, "")]
    [InlineData("0,2-4,6", 10, "0,2-4,6")]
    [InlineData("1,2", 10, "1,2")]
    [InlineData("1-3,5", 4, "1-3")]
    [InlineData("0-2,3", 10, "0-3")]
    [InlineData("x,1,3-y,5", 10, "1,5")]
    public void Intervals_ParseAndFormat(string text, int completions, string want) =>
        Assert.Equal(want, OrderedIntervals.Parse(text, completions).ToString());

    [Fact]
    public void Intervals_WithIndexes_MergeAdjacentRuns()
    {
        var iv = OrderedIntervals.Parse("0,2-4,8", 10).With([1, 5, 7]);
        Assert.Equal("0-5,7,8", iv.ToString());
        Assert.Equal(8, iv.Total);
        Assert.True(iv.Has(3));
        Assert.False(iv.Has(6));
    }

    [Fact]
    public void GenerateName_KeepsTheIndexWhenTheJobNameIsLong()
    {
        Assert.Equal("job-3-", JobIndexes.GenerateName("job", 3));
        var longName = new string('a', 60);
        var name = JobIndexes.GenerateName(longName, 12);
        Assert.Equal(58, name.Length);
        Assert.EndsWith("-12-", name);
    }

    private static JsonObject FailedPod(int exitCode, string container = "main", params (string Type, string Status)[] conditions) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = "p", ["namespace"] = "ns" },
        ["status"] = new JsonObject
        {
            ["phase"] = "Failed",
            ["conditions"] = new JsonArray(conditions.Select(c => (JsonNode)new JsonObject { ["type"] = c.Type, ["status"] = c.Status }).ToArray()),
            ["containerStatuses"] = new JsonArray(new JsonObject
            {
                ["name"] = container,
                ["state"] = new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = exitCode } },
            }),
        },
    };

    private static JsonObject Policy(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void PodFailurePolicy_FailJobOnExitCode_NamesContainerPodCodeAndRule()
    {
        var policy = Policy("""{"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [1]}}, {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [5, 42]}}]}""");
        var m = JobPodFailurePolicy.Match(policy, FailedPod(42));
        Assert.Equal(PodFailureAction.FailJob, m.Action);
        Assert.True(m.CountFailed);
        Assert.Equal("Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1", m.FailJobMessage);
    }

    [Fact]
    public void PodFailurePolicy_Ignore_DoesNotCount_AndNoMatchCounts()
    {
        var policy = Policy("""{"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}, {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [3]}}]}""");
        Assert.Equal(new PodFailureMatch(null, false, PodFailureAction.Ignore), JobPodFailurePolicy.Match(policy, FailedPod(3, "main", ("DisruptionTarget", "True"))));
        Assert.Equal(new PodFailureMatch(null, true, PodFailureAction.Count), JobPodFailurePolicy.Match(policy, FailedPod(4)));
        Assert.Equal(new PodFailureMatch(null, true, PodFailureAction.None), JobPodFailurePolicy.Match(policy, FailedPod(3)));
    }

    [Fact]
    public void PodFailurePolicy_ContainerName_AndConditionMessages()
    {
        var policy = Policy("""{"rules": [{"action": "FailJob", "onExitCodes": {"containerName": "other", "operator": "In", "values": [1]}}, {"action": "FailJob", "onPodConditions": [{"type": "ConfigIssue", "status": "True"}]}]}""");
        Assert.Null(JobPodFailurePolicy.Match(policy, FailedPod(1)).FailJobMessage);
        Assert.Equal("Pod ns/p has condition ConfigIssue matching FailJob rule at index 1",
            JobPodFailurePolicy.Match(policy, FailedPod(1, "main", ("ConfigIssue", "True"))).FailJobMessage);
    }

    [Fact]
    public void SuccessPolicy_MatchesIndexesOrCount()
    {
        var succeeded = OrderedIntervals.Parse("0-2,4-7", 10);
        Assert.Equal("Matched rules at index 0", JobSuccessPolicy.Match(Policy("""{"rules": [{"succeededIndexes": "0-2"}]}"""), 10, succeeded));
        Assert.Null(JobSuccessPolicy.Match(Policy("""{"rules": [{"succeededIndexes": "0-3"}]}"""), 10, succeeded));
        Assert.Equal("Matched rules at index 1", JobSuccessPolicy.Match(Policy("""{"rules": [{"succeededIndexes": "3,8-9"}, {"succeededIndexes": "0-4", "succeededCount": 4}]}"""), 10, succeeded));
        Assert.Equal("Matched rules at index 0", JobSuccessPolicy.Match(Policy("""{"rules": [{"succeededCount": 7}]}"""), 10, succeeded));
        Assert.Null(JobSuccessPolicy.Match(Policy("""{"rules": [{"succeededCount": 8}]}"""), 10, succeeded));
    }

    [Fact]
    public void Backoff_DoublesFromTenSeconds_UpToTenMinutes()
    {
        var last = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(TimeSpan.Zero, JobBackoffRecord.RemainingFor(0, last, last));
        Assert.Equal(TimeSpan.FromSeconds(10), JobBackoffRecord.RemainingFor(1, last, last));
        Assert.Equal(TimeSpan.FromSeconds(15), JobBackoffRecord.RemainingFor(2, last, last.AddSeconds(5)));
        Assert.Equal(TimeSpan.FromSeconds(40), JobBackoffRecord.RemainingFor(3, last, last));
        Assert.Equal(TimeSpan.FromMinutes(10), JobBackoffRecord.RemainingFor(20, last, last));
        Assert.Equal(TimeSpan.Zero, JobBackoffRecord.RemainingFor(1, last, last.AddSeconds(11)));
    }

    private static JsonObject Finished(string phase, string finishedAt) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = "p" },
        ["status"] = new JsonObject
        {
            ["phase"] = phase,
            ["containerStatuses"] = new JsonArray(new JsonObject { ["state"] = new JsonObject { ["terminated"] = new JsonObject { ["finishedAt"] = finishedAt } } }),
        },
    };

    [Fact]
    public void BackoffRecord_CountsFailuresSinceTheLastSuccess()
    {
        var r = new JobBackoffRecord(0, null).With([], [Finished("Failed", "2026-01-01T00:00:01Z"), Finished("Failed", "2026-01-01T00:00:03Z")]);
        Assert.Equal(2, r.FailuresAfterLastSuccess);
        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:00:03Z"), r.LastFailureTime);
        var after = r.With([Finished("Succeeded", "2026-01-01T00:00:05Z")], [Finished("Failed", "2026-01-01T00:00:04Z"), Finished("Failed", "2026-01-01T00:00:06Z")]);
        Assert.Equal(1, after.FailuresAfterLastSuccess);
        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:00:06Z"), after.LastFailureTime);
        Assert.Equal(new JobBackoffRecord(0, null), r.With([Finished("Succeeded", "2026-01-01T00:00:05Z")], []));
    }
}
