using Portcullis.Server.Admission;
using System.Text.Json.Nodes;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Registry;
using Portcullis.Server.Tests.Authentication;

namespace Portcullis.Server.Tests.Controllers.Node;

/// <summary>The scheduler's NodeUnschedulable and TaintToleration filters, and their FailedScheduling messages.</summary>
public sealed class SchedulerFilterTests : IAsyncLifetime
{
    private static readonly JsonObject NoLabels = [];

    private static JsonObject Pod(string? tolerations = null, string? preemptionPolicy = null)
    {
        var spec = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }) };
        if (tolerations is not null) spec["tolerations"] = JsonNode.Parse(tolerations);
        if (preemptionPolicy is not null) spec["preemptionPolicy"] = preemptionPolicy;
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = new JsonObject { ["name"] = "p" }, ["spec"] = spec };
    }

    private static JsonObject Spec(string json) => JsonNode.Parse(json)!.AsObject();

    private static string? Message(JsonObject pod, string nodeSpec, int assigned = 0, int maxPods = 110) =>
        SchedulerFilter.Filter(pod, Spec(nodeSpec), NoLabels, assigned, maxPods) is { } f ? SchedulerFilter.Message(pod, f) : null;

    [Fact]
    public void CordonedNode_IsUnschedulable_UnlessThePodToleratesTheUnschedulableTaint()
    {
        const string cordoned = """{"unschedulable":true}""";
        Assert.Equal("0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
            Message(Pod(), cordoned));
        Assert.Equal("0/1 nodes are available: 1 node(s) were unschedulable. preemption: not eligible due to preemptionPolicy=Never..",
            Message(Pod(preemptionPolicy: "Never"), cordoned));
        Assert.Null(Message(Pod("""[{"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoSchedule"}]"""), cordoned));
        Assert.Null(Message(Pod("""[{"operator":"Exists"}]"""), cordoned));
        Assert.Null(Message(Pod("""[{"key":"node.kubernetes.io/unschedulable","operator":"Exists"}]"""), cordoned));
        Assert.NotNull(Message(Pod("""[{"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoExecute"}]"""), cordoned));
        Assert.NotNull(Message(Pod("""[{"key":"node.kubernetes.io/unschedulable","value":"x","effect":"NoSchedule"}]"""), cordoned));
        Assert.Null(Message(Pod(), """{"unschedulable":false}"""));
        // NodeUnschedulable comes before TaintToleration and NodeResourcesFit.
        Assert.Equal("0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
            Message(Pod(), """{"unschedulable":true,"taints":[{"key":"a","value":"b","effect":"NoSchedule"}]}""", assigned: 110));
    }

    [Fact]
    public void UntoleratedNoScheduleOrNoExecuteTaint_FiltersTheNode_WithTheFirstSuchTaintInTheMessage()
    {
        const string tainted = """{"taints":[{"key":"soft","effect":"PreferNoSchedule"},{"key":"dedicated","value":"gpu","effect":"NoSchedule"},{"key":"gone","effect":"NoExecute"}]}""";
        Assert.Equal("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
            Message(Pod(), tainted));
        Assert.Equal("0/1 nodes are available: 1 node(s) had untolerated taint {gone: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
            Message(Pod("""[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]"""), tainted));
        // Equal is the default operator; Exists matches any value; an empty effect matches every effect.
        Assert.Null(Message(Pod("""[{"key":"dedicated","value":"gpu"},{"key":"gone","operator":"Exists","effect":"NoExecute"}]"""), tainted));
        Assert.Null(Message(Pod("""[{"key":"dedicated","operator":"Exists"},{"key":"gone","operator":"Exists"}]"""), tainted));
        Assert.Null(Message(Pod("""[{"operator":"Exists"}]"""), tainted));
        Assert.NotNull(Message(Pod("""[{"key":"dedicated","value":"cpu"},{"key":"gone","operator":"Exists"}]"""), tainted));
        Assert.NotNull(Message(Pod("""[{"key":"dedicated","value":"gpu","effect":"NoExecute"},{"key":"gone","operator":"Exists"}]"""), tainted));
        Assert.NotNull(Message(Pod("""[{"key":"dedicated","operator":"Lt","value":"gpu"},{"key":"gone","operator":"Exists"}]"""), tainted));
        // A PreferNoSchedule taint alone does not filter.
        Assert.Null(Message(Pod(), """{"taints":[{"key":"soft","effect":"PreferNoSchedule"}]}"""));
    }

    [Fact]
    public void ResolvableAndSelectorReasons_KeepTheirMessages()
    {
        Assert.Equal("0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..",
            Message(Pod(), "{}", assigned: 3, maxPods: 3));
        Assert.Equal("0/1 nodes are available: 1 Too many pods. preemption: not eligible due to preemptionPolicy=Never..",
            Message(Pod(preemptionPolicy: "Never"), "{}", assigned: 3, maxPods: 3));
        var selecting = Pod();
        selecting["spec"]!["nodeSelector"] = new JsonObject { ["disk"] = "ssd" };
        Assert.Equal("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
            Message(selecting, "{}"));
        Assert.Null(Message(Pod(), "{}"));
    }

    // The controller reads the live node: cordoned, the pod waits with the reason; uncordoned, it is bound.
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private FaultyCluster _cluster = null!;

    public Task InitializeAsync()
    {
        _cluster = new FaultyCluster(_clock, _ => false, Operation.Update);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task CordonedNode_PodWaitsWithTheReason_UncordonedItIsBound()
    {
        var client = _cluster.Client;
        var node = new SimulatedNodeController(client, NodeIdentity.Create("node-1", "192.0.2.10", "10.244.0.0/16", 24, 110), _clock, "v1.33.0");
        await node.InitializeAsync(CancellationToken.None);
        var nodes = client.Store("", "nodes");
        async Task SetUnschedulable(bool value) => await nodes.UpdateAsync("", "node-1", "", cur =>
        {
            ((JsonObject)(cur["spec"] ??= new JsonObject()))["unschedulable"] = value;
            Meta.Of(cur).Remove("resourceVersion");
            return cur;
        }, FaultyCluster.As, CancellationToken.None);
        await SetUnschedulable(true);
        var pods = client.Store("", "pods");
        await pods.CreateAsync("default", Pod(), FaultyCluster.As);
        await node.PassAsync(CancellationToken.None);
        await node.PassAsync(CancellationToken.None);

        var pod = (await client.ListAsync(pods, "", CancellationToken.None)).Single();
        Assert.Null(pod["spec"]?["nodeName"]);
        const string message = "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..";
        var condition = (pod["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Single(c => c["type"]?.GetValue<string>() == "PodScheduled");
        Assert.Equal(message, condition["message"]!.GetValue<string>());
        var events = (await client.ListAsync(client.Store("events.k8s.io", "events"), "", CancellationToken.None))
            .Where(e => e["reason"]?.GetValue<string>() == "FailedScheduling").ToList();
        Assert.Equal(message, Assert.Single(events)["note"]!.GetValue<string>());

        await SetUnschedulable(false);
        await node.PassAsync(CancellationToken.None);
        pod = (await client.ListAsync(pods, "", CancellationToken.None)).Single();
        Assert.Equal("node-1", pod["spec"]?["nodeName"]?.GetValue<string>());
    }
}
