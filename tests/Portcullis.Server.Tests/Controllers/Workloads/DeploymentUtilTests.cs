using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Workloads;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>
/// The deployment controller's arithmetic (upstream deployment_util_test.go, sync_test.go, rolling_test.go):
/// fenceposts and percentages, the new ReplicaSet's size, proportional scaling, revisions and annotations.
/// </summary>
public sealed class DeploymentUtilTests
{
    private static JsonNode? IntOrString(string? v) => v is null ? null : int.TryParse(v, out var i) ? JsonValue.Create(i) : JsonValue.Create(v);

    private static JsonObject Deployment(int replicas, string? maxSurge = "25%", string? maxUnavailable = "25%", string strategy = "RollingUpdate")
    {
        var strategyObj = new JsonObject { ["type"] = strategy };
        if (strategy == "RollingUpdate")
            strategyObj["rollingUpdate"] = new JsonObject { ["maxSurge"] = IntOrString(maxSurge), ["maxUnavailable"] = IntOrString(maxUnavailable) };
        return new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "web", ["namespace"] = "ns", ["generation"] = 1 },
            ["spec"] = new JsonObject
            {
                ["replicas"] = replicas, ["strategy"] = strategyObj,
                ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = "web" } } },
            },
        };
    }

    private static JsonObject ReplicaSet(string name, int replicas, int available = 0, string? desired = null, string? max = null, string created = "2026-01-01T00:00:00Z", string? revision = null)
    {
        var annotations = new JsonObject();
        if (desired is not null) annotations[DeploymentUtil.DesiredReplicasAnnotation] = desired;
        if (max is not null) annotations[DeploymentUtil.MaxReplicasAnnotation] = max;
        if (revision is not null) annotations[DeploymentUtil.RevisionAnnotation] = revision;
        return new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["uid"] = name + "-uid", ["creationTimestamp"] = created, ["annotations"] = annotations },
            ["spec"] = new JsonObject { ["replicas"] = replicas },
            ["status"] = new JsonObject { ["replicas"] = replicas, ["availableReplicas"] = available },
        };
    }

    // TestResolveFenceposts
    [Theory]
    [InlineData("0", "0", 0, 0, 1)]
    [InlineData("39%", "39%", 10, 4, 3)]
    [InlineData(null, "39%", 10, 0, 3)]
    [InlineData("39%", null, 10, 4, 0)]
    [InlineData(null, null, 10, 0, 1)]
    [InlineData("25%", "25%", 3, 1, 0)]
    [InlineData("25%", "25%", 4, 1, 1)]
    [InlineData("1%", "1%", 2, 1, 0)]
    [InlineData("0%", "1%", 2, 0, 1)]
    public void ResolveFenceposts_RoundsSurgeUpAndUnavailableDown(string? surge, string? unavailable, int desired, int expectSurge, int expectUnavailable)
    {
        var (s, u) = DeploymentUtil.ResolveFenceposts(IntOrString(surge), IntOrString(unavailable), desired);
        Assert.Equal((expectSurge, expectUnavailable), (s, u));
    }

    [Fact]
    public void ResolveFenceposts_RejectsAStringThatIsNoPercentage() =>
        Assert.Throws<FormatException>(() => DeploymentUtil.ResolveFenceposts(JsonValue.Create("oops"), JsonValue.Create(1), 10));

    // TestMaxUnavailable
    [Theory]
    [InlineData(10, "0", "1", 1)]
    [InlineData(10, "0", "25%", 2)]
    [InlineData(10, "0", "20", 10)]
    [InlineData(0, "0", "10%", 0)]
    [InlineData(10, "1", "0", 0)]
    public void MaxUnavailable_IsBoundedByReplicas(int replicas, string surge, string unavailable, int expected) =>
        Assert.Equal(expected, DeploymentUtil.MaxUnavailable(Deployment(replicas, surge, unavailable)));

    [Fact]
    public void MaxUnavailableAndSurge_AreZeroForRecreate()
    {
        var d = Deployment(10, strategy: "Recreate");
        Assert.Equal(0, DeploymentUtil.MaxUnavailable(d));
        Assert.Equal(0, DeploymentUtil.MaxSurge(d));
    }

    // TestNewRSNewReplicas
    [Theory]
    [InlineData("RollingUpdate", 1, "1", 1, 5, 1)]   // can not scale up: 6 pods ≥ 1 + 1
    [InlineData("RollingUpdate", 6, "10", 3, 1, 6)]  // scale up to the deployment's replicas
    [InlineData("RollingUpdate", 10, "25%", 0, 10, 3)] // a new rollout: ceil(2.5) surge
    [InlineData("Recreate", 3, null, 1, 0, 3)]
    public void NewRSNewReplicas_FollowsTheStrategy(string strategy, int replicas, string? maxSurge, int newReplicas, int oldReplicas, int expected)
    {
        var d = Deployment(replicas, maxSurge, "0", strategy);
        var newRS = ReplicaSet("new", newReplicas);
        var all = new List<JsonObject?> { newRS, ReplicaSet("old", oldReplicas) };
        Assert.Equal(expected, DeploymentUtil.NewRSNewReplicas(d, all, newRS));
    }

    // GetProportion / getReplicaSetFraction: scaling 5 → 10 (maxSurge 0) doubles each ReplicaSet.
    [Fact]
    public void Proportion_ScalesEachReplicaSetByTheMaxReplicasItWasSizedFor()
    {
        var d = Deployment(10, "0", "1");
        var newRS = ReplicaSet("new", 3, desired: "5", max: "5");
        var oldRS = ReplicaSet("old", 2, desired: "5", max: "5");
        var toAdd = 10 - 5;
        var p1 = DeploymentUtil.Proportion(newRS, d, toAdd, 0);
        var p2 = DeploymentUtil.Proportion(oldRS, d, toAdd, p1);
        Assert.Equal((3, 2), (p1, p2));
        // Scaling down to zero removes all of a ReplicaSet.
        Assert.Equal(-3, DeploymentUtil.Proportion(newRS, Deployment(0, "0", "1"), -5, 0));
        // Never more than is left to add.
        Assert.Equal(1, DeploymentUtil.Proportion(newRS, d, 5, 4));
    }

    [Fact]
    public void IsSaturated_NeedsSizeAnnotationAndAvailability()
    {
        var d = Deployment(3);
        Assert.True(DeploymentUtil.IsSaturated(d, ReplicaSet("rs", 3, available: 3, desired: "3")));
        Assert.False(DeploymentUtil.IsSaturated(d, ReplicaSet("rs", 3, available: 2, desired: "3")));
        Assert.False(DeploymentUtil.IsSaturated(d, ReplicaSet("rs", 3, available: 3)));
        Assert.False(DeploymentUtil.IsSaturated(d, null));
    }

    [Fact]
    public void SetNewReplicaSetAnnotations_CopiesAnnotationsAndKeepsRevisionHistory()
    {
        var d = Deployment(3, "1", "0");
        d["metadata"]!["annotations"] = new JsonObject
        {
            ["team"] = "a", [DeploymentUtil.LastAppliedConfigAnnotation] = "{}", [DeploymentUtil.RevisionAnnotation] = "9",
        };
        var rs = ReplicaSet("rs", 0);
        Assert.True(DeploymentUtil.SetNewReplicaSetAnnotations(d, rs, "1", exists: false));
        var a = rs["metadata"]!["annotations"]!.AsObject();
        Assert.Equal("a", (string?)a["team"]);
        Assert.False(a.ContainsKey(DeploymentUtil.LastAppliedConfigAnnotation));
        Assert.Equal("1", (string?)a[DeploymentUtil.RevisionAnnotation]);
        Assert.Equal("3", (string?)a[DeploymentUtil.DesiredReplicasAnnotation]);
        Assert.Equal("4", (string?)a[DeploymentUtil.MaxReplicasAnnotation]);
        Assert.False(a.ContainsKey(DeploymentUtil.RevisionHistoryAnnotation));

        // Rolled back to: revision 1 becomes 3, and 1 is remembered; then 3 becomes 5.
        Assert.True(DeploymentUtil.SetNewReplicaSetAnnotations(d, rs, "3", exists: true));
        Assert.Equal("3", (string?)a[DeploymentUtil.RevisionAnnotation]);
        Assert.Equal("1", (string?)a[DeploymentUtil.RevisionHistoryAnnotation]);
        DeploymentUtil.SetNewReplicaSetAnnotations(d, rs, "5", exists: true);
        Assert.Equal("1,3", (string?)a[DeploymentUtil.RevisionHistoryAnnotation]);
        // A lower revision changes nothing.
        Assert.False(DeploymentUtil.SetNewReplicaSetAnnotations(d, rs, "2", exists: true));
    }

    [Fact]
    public void SetNewReplicaSetAnnotations_DropsTheOldestRevisionsPastTheLengthLimit()
    {
        var rs = ReplicaSet("rs", 0, revision: "4");
        rs["metadata"]!["annotations"]![DeploymentUtil.RevisionHistoryAnnotation] = "1,2,3";
        DeploymentUtil.SetNewReplicaSetAnnotations(Deployment(1), rs, "5", exists: true, historyLimitInChars: 5);
        Assert.Equal("2,3,4", (string?)rs["metadata"]!["annotations"]![DeploymentUtil.RevisionHistoryAnnotation]);
    }

    [Fact]
    public void Revisions_MaxAndLast()
    {
        var rss = new List<JsonObject?> { ReplicaSet("a", 0, revision: "1"), ReplicaSet("b", 0, revision: "3"), ReplicaSet("c", 0, revision: "2"), null };
        Assert.Equal(3, DeploymentUtil.MaxRevision(rss));
        Assert.Equal(2, DeploymentUtil.LastRevision(rss));
    }

    [Fact]
    public void EqualIgnoreHash_IgnoresOnlyThePodTemplateHashLabel()
    {
        var t1 = JsonNode.Parse("""{"metadata":{"labels":{"app":"web","pod-template-hash":"abc"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}""");
        var t2 = JsonNode.Parse("""{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}""");
        var t3 = JsonNode.Parse("""{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:2"}]}}""");
        Assert.True(DeploymentUtil.EqualIgnoreHash(t1, t2));
        Assert.False(DeploymentUtil.EqualIgnoreHash(t1, t3));
    }

    [Fact]
    public void FindActiveOrLatest_OneActiveOrTheNewest()
    {
        var older = ReplicaSet("older", 0, created: "2026-01-01T00:00:00Z");
        var newer = ReplicaSet("newer", 0, created: "2026-01-02T00:00:00Z");
        Assert.Equal("newer", (string?)DeploymentUtil.FindActiveOrLatest(null, [older, newer])!["metadata"]!["name"]);
        var active = ReplicaSet("active", 2);
        Assert.Equal("active", (string?)DeploymentUtil.FindActiveOrLatest(ReplicaSet("new", 0), [active, older])!["metadata"]!["name"]);
        Assert.Null(DeploymentUtil.FindActiveOrLatest(ReplicaSet("new", 1), [active]));
    }
}
