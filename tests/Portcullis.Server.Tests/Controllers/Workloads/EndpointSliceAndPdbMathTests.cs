using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Workloads.Disruption;
using Portcullis.Server.Controllers.Workloads.Endpoints;
using static Portcullis.Server.Tests.Controllers.Workloads.EndpointsBuilderTests;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>
/// EndpointSlice endpoints (k8s.io/endpointslice utils_test.go TestPodToEndpoint, reconciler_test.go's port
/// grouping and slice size) and a PodDisruptionBudget's arithmetic (pkg/controller/disruption disruption_test.go:
/// TestNoSelector, TestUnavailable, TestIntegerMaxUnavailable, TestReplicaSet, TestMultipleController…).
/// </summary>
public sealed class EndpointSliceAndPdbMathTests
{
    private static JsonObject? Node(string name) => name == "node-1"
        ? JsonNode.Parse("""{"metadata":{"name":"node-1","labels":{"topology.kubernetes.io/zone":"zone-a"}}}""")!.AsObject()
        : null;

    [Fact]
    public void Endpoint_CarriesConditionsTargetNodeAndZone()
    {
        var chunks = EndpointSliceBuilder.Chunks(Service(), [Pod("b", "10.0.0.2", ready: false), Pod("a", "10.0.0.1"), Pod("c", "10.0.0.3", deleting: true, node: "node-2")], Node);
        var chunk = Assert.Single(chunks);
        Assert.Equal("""[{"name":"http","protocol":"TCP","port":8080}]""", chunk.Ports.ToJsonString());
        Assert.Equal(
            """{"addresses":["10.0.0.1"],"conditions":{"ready":true,"serving":true,"terminating":false},"targetRef":{"kind":"Pod","namespace":"ns","name":"a","uid":"uid-a"},"nodeName":"node-1","zone":"zone-a"}""",
            chunk.Endpoints[0].ToJsonString());
        Assert.Equal("""{"ready":false,"serving":false,"terminating":false}""", chunk.Endpoints[1]["conditions"]!.ToJsonString());
        // A terminating pod stays in its slice, serving by its readiness but not ready.
        Assert.Equal("""{"ready":false,"serving":true,"terminating":true}""", chunk.Endpoints[2]["conditions"]!.ToJsonString());
        Assert.Null(chunk.Endpoints[2]["zone"]);
    }

    [Fact]
    public void PublishNotReadyAddresses_MakesEveryEndpointReady()
    {
        var chunk = Assert.Single(EndpointSliceBuilder.Chunks(Service(publishNotReady: true), [Pod("a", "10.0.0.1", ready: false, deleting: true)], Node));
        Assert.Equal("""{"ready":true,"serving":true,"terminating":true}""", chunk.Endpoints[0]["conditions"]!.ToJsonString());
    }

    [Fact]
    public void EndpointsAreGroupedByResolvedPorts_AndCutIntoSlicesOfAtMostTheMaximum()
    {
        var svc = Service("""[{"name":"http","port":80,"protocol":"TCP","targetPort":"web"}]""");
        var pods = Enumerable.Range(0, 7).Select(i => Pod($"p{i}", $"10.0.0.{i + 1}",
            containerPorts: i < 5 ? """[{"name":"web","containerPort":8080}]""" : """[{"name":"web","containerPort":9090}]""")).ToList();
        var chunks = EndpointSliceBuilder.Chunks(svc, pods, Node, maxPerSlice: 2);
        Assert.Equal([2, 2, 1, 2], chunks.Select(c => c.Endpoints.Count));
        Assert.Equal(["8080", "8080", "8080", "9090"], chunks.Select(c => c.Ports[0]!["port"]!.ToJsonString()));
    }

    [Fact]
    public void SliceLabels_AreTheServicesPlusTheControllers()
    {
        var labels = EndpointSliceBuilder.Labels(Service(clusterIp: "None"));
        Assert.Equal("""{"app":"web","service.kubernetes.io/headless":"","kubernetes.io/service-name":"web","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"}""",
            labels.ToJsonString());
    }

    private static JsonObject Spec(string json) => JsonNode.Parse(json)!.AsObject();

    [Theory]
    // minAvailable as an integer: expected = selected pods, desired = the number.
    [InlineData("""{"minAvailable":3}""", 4, 10, 4, 3)]
    // minAvailable as a percentage of the controllers' scale, rounded up.
    [InlineData("""{"minAvailable":"28%"}""", 4, 10, 10, 3)]
    [InlineData("""{"minAvailable":"100%"}""", 4, 10, 10, 10)]
    // maxUnavailable: desired = scale minus the (rounded-up) number, never below zero.
    [InlineData("""{"maxUnavailable":1}""", 4, 3, 3, 2)]
    [InlineData("""{"maxUnavailable":"30%"}""", 4, 10, 10, 7)]
    [InlineData("""{"maxUnavailable":5}""", 4, 3, 3, 0)]
    public void ExpectedAndDesired_FollowTheBudgetsSpec(string spec, int pods, int scale, int expected, int desired)
    {
        Assert.Equal((expected, desired), PdbMath.Expected(Spec(spec), pods, scale));
    }

    [Fact]
    public void NeedsScale_OnlyForMaxUnavailableOrAPercentage()
    {
        Assert.False(PdbMath.NeedsScale(Spec("""{"minAvailable":2}""")));
        Assert.True(PdbMath.NeedsScale(Spec("""{"minAvailable":"50%"}""")));
        Assert.True(PdbMath.NeedsScale(Spec("""{"maxUnavailable":0}""")));
    }

    [Fact]
    public void AStringThatIsNoPercentage_FailsWithUpstreamsMessage()
    {
        var e = Assert.Throws<InvalidOperationException>(() => PdbMath.Scaled(JsonValue.Create("3"), 10, true));
        Assert.Equal("invalid value for IntOrString: invalid type: string is not a percentage", e.Message);
    }

    [Theory]
    [InlineData(3, 2, 3, 1)]
    [InlineData(2, 2, 3, 0)]
    [InlineData(1, 2, 3, 0)]
    [InlineData(3, 0, 0, 0)] // no pod expected yet: nothing allowed
    public void DisruptionsAllowed_IsHealthyMinusDesired_NeverNegative(int healthy, int desired, int expected, int allowed) =>
        Assert.Equal(allowed, PdbMath.DisruptionsAllowed(healthy, desired, expected));

    [Fact]
    public void CurrentHealthy_CountsReadyPods_NotDeletingOrRecentlyDisrupted()
    {
        var now = DateTimeOffset.Parse("2026-01-01T00:10:00Z");
        var pods = new[] { Pod("a", "10.0.0.1"), Pod("b", "10.0.0.2", ready: false), Pod("c", "10.0.0.3", deleting: true), Pod("d", "10.0.0.4"), Pod("e", "10.0.0.5") };
        var recorded = JsonNode.Parse("""{"d":"2026-01-01T00:09:00Z","e":"2026-01-01T00:07:00Z","gone":"2026-01-01T00:09:30Z"}""")!.AsObject();
        var (pending, recheck) = PdbMath.Disrupted(recorded, pods, now);
        // e was recorded more than two minutes ago and is still there: the eviction did not happen.
        Assert.Equal(["d"], pending.Keys);
        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:11:00Z"), recheck);
        Assert.Equal(2, PdbMath.CurrentHealthy(pods, pending, now));
    }

    [Fact]
    public void Condition_KeepsItsTransitionTime_WhileItsStatusHolds()
    {
        var status = new JsonObject();
        var t0 = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        PdbMath.SetCondition(status, "True", "SufficientPods", "", 1, t0);
        PdbMath.SetCondition(status, "True", "SufficientPods", "", 2, t0.AddMinutes(1));
        var c = status["conditions"]![0]!;
        Assert.Equal("2026-01-01T00:00:00Z", c["lastTransitionTime"]!.GetValue<string>());
        Assert.Equal(2, c["observedGeneration"]!.GetValue<long>());
        PdbMath.SetCondition(status, "False", "InsufficientPods", "", 2, t0.AddMinutes(2));
        Assert.Equal("2026-01-01T00:02:00Z", status["conditions"]![0]!["lastTransitionTime"]!.GetValue<string>());
        var pdb = new JsonObject { ["metadata"] = new JsonObject { ["generation"] = 2 }, ["status"] = status };
        status["observedGeneration"] = 2;
        status["disruptionsAllowed"] = 0;
        Assert.True(PdbMath.ConditionUpToDate(pdb));
        status["disruptionsAllowed"] = 1;
        Assert.False(PdbMath.ConditionUpToDate(pdb));
    }
}
