using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Workloads.Endpoints;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>
/// The Endpoints subsets computed for a Service and its pods, after upstream's endpoints_controller_test.go
/// (TestSyncEndpointsItems*, TestSyncEndpointsHeadlessService*, TestPodToEndpointAddressForService,
/// TestTruncateEndpoints) and pkg/api/v1/endpoints util_test.go (TestPackSubsets).
/// </summary>
public sealed class EndpointsBuilderTests
{
    internal static JsonObject Service(string ports = """[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]""",
        string clusterIp = "10.96.0.10", bool publishNotReady = false, string name = "web")
    {
        var svc = JsonNode.Parse("""
            {"metadata":{"namespace":"ns","uid":"svc-uid","labels":{"app":"web"},"creationTimestamp":"2026-01-01T00:00:00Z"},
             "spec":{"selector":{"app":"web"}}}
            """)!.AsObject();
        svc["metadata"]!["name"] = name;
        svc["spec"]!["clusterIP"] = clusterIp;
        svc["spec"]!["ports"] = JsonNode.Parse(ports);
        svc["spec"]!["publishNotReadyAddresses"] = publishNotReady;
        return svc;
    }

    internal static JsonObject Pod(string name, string ip, bool ready = true, string containerPorts = "[]", bool deleting = false,
        string phase = "Running", string restartPolicy = "Always", string? hostname = null, string? subdomain = null, string node = "node-1")
    {
        var pod = JsonNode.Parse("""
            {"metadata":{"namespace":"ns","labels":{"app":"web"}},
             "spec":{"containers":[{"name":"c","image":"x"}]},
             "status":{"conditions":[{"type":"Ready","lastTransitionTime":"2026-01-01T00:00:05Z"}]}}
            """)!.AsObject();
        pod["metadata"]!["name"] = name;
        pod["metadata"]!["uid"] = "uid-" + name;
        if (deleting) pod["metadata"]!["deletionTimestamp"] = "2026-01-01T00:00:00Z";
        var spec = pod["spec"]!.AsObject();
        spec["nodeName"] = node;
        spec["restartPolicy"] = restartPolicy;
        if (hostname is not null) spec["hostname"] = hostname;
        if (subdomain is not null) spec["subdomain"] = subdomain;
        spec["containers"]![0]!["ports"] = JsonNode.Parse(containerPorts);
        var status = pod["status"]!.AsObject();
        status["phase"] = phase;
        status["podIP"] = ip;
        if (ip.Length > 0) status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = ip });
        status["conditions"]![0]!["status"] = ready ? "True" : "False";
        return pod;
    }

    private static JsonArray Subsets(JsonObject svc, params JsonObject[] pods) => EndpointsBuilder.Subsets(svc, pods);

    private static List<string> Ips(JsonNode? subset, string field) =>
        (subset?[field] as JsonArray ?? []).Select(a => a!["ip"]!.GetValue<string>()).ToList();

    [Fact]
    public void ReadyAndNotReadyPods_ShareOneSubset_InTheirOwnLists()
    {
        var s = Subsets(Service(), Pod("b", "10.0.0.2"), Pod("a", "10.0.0.1", ready: false), Pod("c", "10.0.0.3"));
        var subset = Assert.Single(s);
        Assert.Equal(["10.0.0.2", "10.0.0.3"], Ips(subset, "addresses"));
        Assert.Equal(["10.0.0.1"], Ips(subset, "notReadyAddresses"));
        Assert.Equal("""[{"name":"http","port":8080,"protocol":"TCP"}]""", subset!["ports"]!.ToJsonString());
        var address = subset["addresses"]![0]!;
        Assert.Equal("node-1", address["nodeName"]!.GetValue<string>());
        Assert.Equal("""{"kind":"Pod","namespace":"ns","name":"b","uid":"uid-b"}""", address["targetRef"]!.ToJsonString());
    }

    [Fact]
    public void PublishNotReadyAddresses_ListsUnreadyAndTerminatingPodsAsReady()
    {
        var s = Subsets(Service(publishNotReady: true), Pod("a", "10.0.0.1", ready: false), Pod("b", "10.0.0.2", deleting: true));
        var subset = Assert.Single(s);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], Ips(subset, "addresses"));
        Assert.Null(subset!["notReadyAddresses"]);
    }

    [Fact]
    public void TerminatingFinishedAndUnaddressedPods_AreLeftOut()
    {
        var s = Subsets(Service(),
            Pod("deleting", "10.0.0.1", deleting: true),
            Pod("done", "10.0.0.2", phase: "Succeeded", restartPolicy: "OnFailure"),
            Pod("failed", "10.0.0.3", phase: "Failed", restartPolicy: "Never"),
            Pod("noip", ""),
            Pod("failed-but-restarts", "10.0.0.4", phase: "Failed", restartPolicy: "Always", ready: false));
        var subset = Assert.Single(s);
        Assert.Null(subset!["addresses"]);
        Assert.Equal(["10.0.0.4"], Ips(subset, "notReadyAddresses"));
    }

    [Fact]
    public void NamedTargetPort_IsResolvedPerPod_AndPodsWithoutItAreSkipped()
    {
        var svc = Service("""[{"name":"http","port":80,"protocol":"TCP","targetPort":"web"}]""");
        var s = Subsets(svc,
            Pod("a", "10.0.0.1", containerPorts: """[{"name":"web","containerPort":8080,"protocol":"TCP"}]"""),
            Pod("b", "10.0.0.2", containerPorts: """[{"name":"web","containerPort":9090,"protocol":"TCP"}]"""),
            Pod("c", "10.0.0.3", containerPorts: """[{"name":"web","containerPort":8080,"protocol":"UDP"}]"""),
            Pod("d", "10.0.0.4"));
        Assert.Equal(2, s.Count);
        Assert.Equal(["10.0.0.1"], Ips(s[0], "addresses"));
        Assert.Equal(8080, s[0]!["ports"]![0]!["port"]!.GetValue<int>());
        Assert.Equal(["10.0.0.2"], Ips(s[1], "addresses"));
        Assert.Equal(9090, s[1]!["ports"]![0]!["port"]!.GetValue<int>());
    }

    [Fact]
    public void SeveralPorts_OfferedByTheSamePods_AreOneSubset()
    {
        var svc = Service("""[{"name":"http","port":80,"protocol":"TCP","targetPort":8080},{"name":"https","port":443,"protocol":"TCP","targetPort":8443,"appProtocol":"https"}]""");
        var s = Subsets(svc, Pod("a", "10.0.0.1"), Pod("b", "10.0.0.2"));
        var subset = Assert.Single(s);
        Assert.Equal("""[{"name":"http","port":8080,"protocol":"TCP"},{"name":"https","port":8443,"protocol":"TCP","appProtocol":"https"}]""", subset!["ports"]!.ToJsonString());
    }

    [Fact]
    public void HeadlessServiceWithoutPorts_ListsAddressesWithoutPorts_OtherServicesWithoutPortsGetNothing()
    {
        var headless = Subsets(Service("[]", clusterIp: "None"), Pod("a", "10.0.0.1"));
        var subset = Assert.Single(headless);
        Assert.Equal(["10.0.0.1"], Ips(subset, "addresses"));
        Assert.Null(subset!["ports"]);
        Assert.Empty(Subsets(Service("[]"), Pod("a", "10.0.0.1")));
    }

    [Fact]
    public void Hostname_IsSetOnlyWhenThePodsSubdomainIsTheService()
    {
        var s = Subsets(Service(), Pod("a", "10.0.0.1", hostname: "a", subdomain: "web"), Pod("b", "10.0.0.2", hostname: "b", subdomain: "other"));
        var addresses = s[0]!["addresses"]!.AsArray();
        Assert.Equal("a", addresses[0]!["hostname"]!.GetValue<string>());
        Assert.Null(addresses[1]!["hostname"]);
    }

    [Fact]
    public void PodsOfAnotherFamily_AreLeftOut()
    {
        var svc = Service();
        svc["spec"]!["ipFamilies"] = new JsonArray("IPv6");
        Assert.Empty(Subsets(svc, Pod("a", "10.0.0.1")));
    }

    private static JsonArray Addresses(int ready, int notReady, int from = 0)
    {
        JsonArray List(int n, int offset) => new([.. Enumerable.Range(offset, n).Select(i => (JsonNode)new JsonObject { ["ip"] = $"10.{i / 65536}.{i / 256 % 256}.{i % 256}" })]);
        var subset = new JsonObject();
        if (ready > 0) subset["addresses"] = List(ready, from);
        if (notReady > 0) subset["notReadyAddresses"] = List(notReady, from + ready);
        return [subset];
    }

    // TestTruncateEndpoints' cases: (ready, notReady) per subset → what is kept.
    [Theory]
    [InlineData(new[] { 500, 500 }, new[] { 0, 0 }, false, new[] { 500, 500 }, new[] { 0, 0 })]
    [InlineData(new[] { 500, 501 }, new[] { 0, 0 }, true, new[] { 500, 500 }, new[] { 0, 0 })]
    [InlineData(new[] { 1001 }, new[] { 0 }, true, new[] { 1000 }, new[] { 0 })]
    [InlineData(new[] { 5 }, new[] { 1000 }, true, new[] { 5 }, new[] { 995 })]
    [InlineData(new[] { 800, 300 }, new[] { 200, 100 }, true, new[] { 728, 272 }, new[] { 0, 0 })]
    [InlineData(new[] { 200, 300 }, new[] { 800, 100 }, true, new[] { 200, 300 }, new[] { 445, 55 })]
    public void Truncate_KeepsAThousandAddresses_ProportionallyPerSubset(int[] ready, int[] notReady, bool truncated, int[] keptReady, int[] keptNotReady)
    {
        var subsets = new JsonArray();
        var from = 0;
        for (var i = 0; i < ready.Length; i++)
        {
            subsets.Add(Addresses(ready[i], notReady[i], from)[0]!.DeepClone());
            from += ready[i] + notReady[i];
        }
        Assert.Equal(truncated, EndpointsBuilder.Truncate(subsets));
        for (var i = 0; i < ready.Length; i++)
        {
            Assert.Equal(keptReady[i], (subsets[i]!["addresses"] as JsonArray)?.Count ?? 0);
            Assert.Equal(keptNotReady[i], (subsets[i]!["notReadyAddresses"] as JsonArray)?.Count ?? 0);
        }
        Assert.True(EndpointsBuilder.Count(subsets) <= EndpointsBuilder.MaxCapacity);
    }

    [Fact]
    public void TriggerTime_IsTheEarliestNewChange_AndNothingWhenNothingChanged()
    {
        var tracker = new TriggerTimeTracker();
        var svc = Service();
        var pod = Pod("a", "10.0.0.1");
        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:00:00Z"), tracker.Compute(svc, [pod]));
        Assert.Null(tracker.Compute(svc, [pod]));
        pod["status"]!["conditions"]![0]!["lastTransitionTime"] = "2026-01-01T00:01:00Z";
        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:01:00Z"), tracker.Compute(svc, [pod]));
        Assert.Equal("2026-01-01T00:01:00Z", ServiceEndpointFacts.Rfc3339Nano(DateTimeOffset.Parse("2026-01-01T00:01:00Z")));
        Assert.Equal("2026-01-01T00:01:00.5Z", ServiceEndpointFacts.Rfc3339Nano(DateTimeOffset.Parse("2026-01-01T00:01:00.5Z")));
    }
}
