using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Workloads;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>
/// Which pods a ReplicaSet deletes first: the ordering cases of controller_utils_test.go's TestSortingActivePodsWithRanks
/// (1.33), and the controller-reference reader of the informers.
/// </summary>
public sealed class PodRankingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static JsonObject Pod(string name, string node = "", string phase = "Pending", bool ready = false, DateTimeOffset? readySince = null,
        int restarts = 0, DateTimeOffset? created = null, int? cost = null)
    {
        var meta = new JsonObject { ["name"] = name, ["uid"] = name };
        if (created is { } c) meta["creationTimestamp"] = c.ToString("yyyy-MM-ddTHH:mm:ssZ");
        if (cost is { } k) meta["annotations"] = new JsonObject { ["controller.kubernetes.io/pod-deletion-cost"] = k.ToString() };
        var status = new JsonObject { ["phase"] = phase };
        if (ready)
            status["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = "Ready", ["status"] = "True",
                ["lastTransitionTime"] = (readySince ?? Now.AddHours(-1)).ToString("yyyy-MM-ddTHH:mm:ssZ"),
            });
        status["containerStatuses"] = new JsonArray(new JsonObject { ["name"] = "c", ["restartCount"] = restarts });
        return new JsonObject { ["metadata"] = meta, ["spec"] = new JsonObject { ["nodeName"] = node }, ["status"] = status };
    }

    private static string First(params JsonObject[] pods) =>
        PodRanking.ToDelete([.. pods], [], 1, Now)[0]["metadata"]!["name"]!.GetValue<string>();

    [Fact] public void Unassigned_BeforeAssigned() => Assert.Equal("unscheduled", First(Pod("scheduled", "n1"), Pod("unscheduled")));

    [Fact] public void Pending_BeforeUnknown_BeforeRunning()
    {
        Assert.Equal("pending", First(Pod("running", "n1", "Running"), Pod("pending", "n1", "Pending")));
        Assert.Equal("unknown", First(Pod("running", "n1", "Running"), Pod("unknown", "n1", "Unknown")));
    }

    [Fact] public void NotReady_BeforeReady() => Assert.Equal("unready", First(Pod("ready", "n1", "Running", ready: true), Pod("unready", "n1", "Running")));

    [Fact] public void LowerDeletionCost_First() =>
        Assert.Equal("cheap", First(Pod("dear", "n1", "Running", true, cost: 10), Pod("cheap", "n1", "Running", true, cost: -5)));

    [Fact] public void DoubledUpOnANode_First()
    {
        var a = Pod("alone", "n1", "Running", true);
        var b = Pod("crowded", "n2", "Running", true);
        var related = new List<JsonObject> { a, b, Pod("sibling", "n2", "Running", true) };
        var first = PodRanking.ToDelete([a, b], related, 1, Now)[0];
        Assert.Equal("crowded", first["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact] public void ReadyForLessTime_First_InLogarithmicBuckets()
    {
        Assert.Equal("young", First(Pod("old", "n1", "Running", true, Now.AddHours(-10)), Pod("young", "n1", "Running", true, Now.AddMinutes(-1))));
        // Within the same power-of-two bucket the times do not decide; the restart counts do.
        Assert.Equal("restarted", First(Pod("steady", "n1", "Running", true, Now.AddSeconds(-70)),
            Pod("restarted", "n1", "Running", true, Now.AddSeconds(-69), restarts: 3)));
    }

    [Fact] public void MoreRestarts_First() =>
        Assert.Equal("flaky", First(Pod("steady", "n1", "Running", restarts: 0), Pod("flaky", "n1", "Running", restarts: 5)));

    [Fact] public void NoCreationTime_BeforeNewer_BeforeOlder()
    {
        Assert.Equal("none", First(Pod("dated", "n1", "Running", created: Now.AddDays(-1)), Pod("none", "n1", "Running")));
        Assert.Equal("newer", First(Pod("older", "n1", "Running", created: Now.AddDays(-3)), Pod("newer", "n1", "Running", created: Now.AddMinutes(-3))));
    }

    [Fact] public void LogarithmicRankDiff_ComparesPowersOfTwoOfNanoseconds()
    {
        Assert.Equal(0, PodRanking.LogarithmicRankDiff(Now.AddSeconds(-70), Now.AddSeconds(-69), Now));
        Assert.True(PodRanking.LogarithmicRankDiff(Now.AddSeconds(-1), Now.AddSeconds(-1000), Now) < 0);
        Assert.Equal(-1 - 29, PodRanking.LogarithmicRankDiff(Now, Now.AddSeconds(-1), Now)); // log2(1e9 ns) = 29
    }

    [Fact] public void ScalingPastEveryPod_DeletesThemAll() =>
        Assert.Equal(2, PodRanking.ToDelete([Pod("a"), Pod("b")], [], 5, Now).Count);

    [Theory]
    [InlineData("""{"metadata":{"ownerReferences":[{"uid":"x"},{"uid":"y","controller":true}]}}""", "y")]
    [InlineData("""{"metadata":{"ownerReferences":[{"uid":"x","controller":false}]}}""", "")]
    [InlineData("""{"metadata":{"name":"p"},"spec":{"ownerReferences":[{"uid":"z","controller":true}]}}""", "")]
    [InlineData("""{"kind":"Pod","metadata":{"labels":{"a":"b"},"ownerReferences":[{"controller":true,"kind":"ReplicaSet","uid":"u1"}]}}""", "u1")]
    [InlineData("not json", "")]
    public void ControllerUid_IsReadFromTheStoredBytes(string json, string uid) =>
        Assert.Equal(uid, Informer.ReadControllerUid(System.Text.Encoding.UTF8.GetBytes(json)));
}
