using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Controllers.Scheduling;
using Portcullis.Server.Registry;
using Portcullis.Server.Tests.Authentication;

namespace Portcullis.Server.Tests.Controllers.Scheduling;

/// <summary>The scheduler with several simulated nodes: spreading, the live node (cordon), retries, left-alone pods.</summary>
public sealed class DefaultSchedulerTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private FaultyCluster _cluster = null!;
    private SystemClient Client => _cluster.Client;
    private GenericStore Pods => Client.Store("", "pods");
    private SimulatedNodeController _nodes = null!;
    private DefaultScheduler _scheduler = null!;

    public async Task InitializeAsync()
    {
        _cluster = new FaultyCluster(_clock, _ => false, Operation.Update);
        var all = NodeIdentity.CreateAll("node-1", "192.0.2.10", "10.244.0.0/16", 0, 110, 3, []);
        _nodes = new SimulatedNodeController(Client, all, _clock, "v1.33.0");
        await _nodes.InitializeAsync(CancellationToken.None);
        _scheduler = new DefaultScheduler(Client, _clock);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task PassAsync()
    {
        _clock.Advance(TimeSpan.FromSeconds(11));
        await _scheduler.PassAsync(CancellationToken.None);
        await _nodes.PassAsync(CancellationToken.None);
    }

    private async Task CreateAsync(string name, string spec = "{}", JsonObject? meta = null)
    {
        var pod = SchedulingCycleTests.PodJson(spec, name);
        ((JsonObject)pod["metadata"]!).Remove("uid");
        foreach (var (k, v) in meta ?? []) pod["metadata"]![k] = v?.DeepClone();
        await Pods.CreateAsync("default", pod, FaultyCluster.As);
    }

    private async Task<List<JsonObject>> AllPodsAsync() => await Client.ListAsync(Pods, "", CancellationToken.None);

    private static string NodeOf(JsonObject p) => p["spec"]?["nodeName"]?.GetValue<string>() ?? "";

    private static string? ScheduledMessage(JsonObject p) =>
        (p["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == "PodScheduled")?["message"]?.GetValue<string>();

    [Fact]
    public async Task ThreeNodes_RegisteredWithTheirOwnRangesLabelsAndLeases()
    {
        var nodes = await Client.ListAsync(Client.Store("", "nodes"), "", CancellationToken.None);
        Assert.Equal(["node-1", "node-1-2", "node-1-3"], nodes.Select(Meta.Name).Order());
        // Three nodes split 10.244.0.0/16 in quarters (the smallest equal split that holds them).
        Assert.Equal(["10.244.0.0/18", "10.244.64.0/18", "10.244.128.0/18"], nodes.OrderBy(Meta.Name).Select(n => n["spec"]!["podCIDR"]!.GetValue<string>()));
        Assert.All(nodes, n => Assert.Equal(Meta.Name(n), n["metadata"]!["labels"]!["kubernetes.io/hostname"]!.GetValue<string>()));
        var leases = await Client.ListAsync(Client.Store("coordination.k8s.io", "leases"), "kube-node-lease", CancellationToken.None);
        Assert.Equal(["node-1", "node-1-2", "node-1-3"], leases.Select(Meta.Name).Order());
        var registered = (await Client.ListAsync(Client.Store("", "events"), "", CancellationToken.None))
            .Where(e => e["reason"]?.GetValue<string>() == "RegisteredNode").Select(e => e["involvedObject"]!["name"]!.GetValue<string>()).Order();
        Assert.Equal(["node-1", "node-1-2", "node-1-3"], registered);
    }

    [Fact]
    public async Task PodsOfAController_SpreadEvenly_AndRunWithIpsOfTheirNode()
    {
        var owner = new JsonObject
        {
            ["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet", ["name"] = "rs", ["uid"] = "rs-uid", ["controller"] = true }),
        };
        for (var i = 0; i < 9; i++) await CreateAsync($"p{i}", meta: owner);
        await PassAsync();
        await PassAsync();
        var pods = await AllPodsAsync();
        Assert.Equal([3, 3, 3], pods.GroupBy(NodeOf).Select(g => g.Count()));
        Assert.All(pods, p => Assert.Equal("Running", p["status"]!["phase"]!.GetValue<string>()));
        var ranges = new Dictionary<string, string> { ["node-1"] = "10.244.0.", ["node-1-2"] = "10.244.64.", ["node-1-3"] = "10.244.128." };
        Assert.All(pods, p => Assert.StartsWith(ranges[NodeOf(p)], p["status"]!["podIP"]!.GetValue<string>()));
        var scheduled = (await Client.ListAsync(Client.Store("events.k8s.io", "events"), "", CancellationToken.None))
            .Where(e => e["reason"]?.GetValue<string>() == "Scheduled").ToList();
        Assert.Equal(9, scheduled.Count);
        Assert.Contains(scheduled, e => e["note"]!.GetValue<string>() == "Successfully assigned default/p0 to " + NodeOf(pods.Single(p => Meta.Name(p) == "p0")));
    }

    [Fact]
    public async Task CordonedAndTaintedNodes_ThePodWaitsWithTheMessage_AndIsBoundWhenANodeAllowsIt()
    {
        var nodes = Client.Store("", "nodes");
        async Task Update(string name, Action<JsonObject> change) => await nodes.UpdateAsync("", name, "", cur =>
        {
            change((JsonObject)(cur["spec"] ??= new JsonObject()));
            Meta.Of(cur).Remove("resourceVersion");
            return cur;
        }, FaultyCluster.As, CancellationToken.None);
        await Update("node-1", s => s["unschedulable"] = true);
        await Update("node-1-2", s => s["taints"] = JsonNode.Parse("""[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]"""));
        await Update("node-1-3", s => s["taints"] = JsonNode.Parse("""[{"key":"dedicated","value":"gpu","effect":"NoExecute"}]"""));
        await CreateAsync("p");
        await PassAsync();
        await PassAsync();
        var pod = Assert.Single(await AllPodsAsync());
        Assert.Equal("", NodeOf(pod));
        const string message = "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had untolerated taint {dedicated: gpu}. " +
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..";
        Assert.Equal(message, ScheduledMessage(pod));
        var failed = (await Client.ListAsync(Client.Store("events.k8s.io", "events"), "", CancellationToken.None))
            .Where(e => e["reason"]?.GetValue<string>() == "FailedScheduling").ToList();
        Assert.Equal(message, Assert.Single(failed)["note"]!.GetValue<string>());

        await Update("node-1", s => s["unschedulable"] = false);
        await PassAsync();
        Assert.Equal("node-1", NodeOf(Assert.Single(await AllPodsAsync())));
    }

    [Fact]
    public async Task AnotherSchedulerName_OrSchedulingGates_AreLeftAlone()
    {
        await CreateAsync("other", """{"schedulerName":"my-scheduler"}""");
        await CreateAsync("gated", """{"schedulingGates":[{"name":"example.com/wait"}]}""");
        await PassAsync();
        Assert.All(await AllPodsAsync(), p => Assert.Equal("", NodeOf(p)));
        Assert.DoesNotContain(await AllPodsAsync(), p => ScheduledMessage(p)?.Contains("nodes are available") == true);
    }

    [Fact]
    public async Task RequestsOverAllocatable_Wait_UntilAPodIsDeleted()
    {
        var nodes = await Client.ListAsync(Client.Store("", "nodes"), "", CancellationToken.None);
        var cpu = Quantity(nodes[0]["status"]!["allocatable"]!["cpu"]!.GetValue<string>());
        // One pod per node takes most of its CPU; a fourth does not fit.
        for (var i = 0; i < 4; i++)
            await CreateAsync($"big{i}", "{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"" + (cpu * 600) + "m\"}}}]}");
        await PassAsync();
        var pods = await AllPodsAsync();
        Assert.Equal(3, pods.Count(p => NodeOf(p).Length > 0));
        Assert.Equal(3, pods.Where(p => NodeOf(p).Length > 0).Select(NodeOf).Distinct().Count());
        var waiting = Assert.Single(pods, p => NodeOf(p).Length == 0);
        Assert.Equal("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..",
            ScheduledMessage(waiting));
        await Pods.DeleteAsync("default", Meta.Name(pods.First(p => NodeOf(p).Length > 0)), new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 0));
        await PassAsync();
        await PassAsync();
        Assert.Equal(3, (await AllPodsAsync()).Count(p => NodeOf(p).Length > 0));
        Assert.Contains(await AllPodsAsync(), p => Meta.Name(p) == Meta.Name(waiting) && NodeOf(p).Length > 0);
    }

    private static int Quantity(string cpu) => int.Parse(cpu, System.Globalization.CultureInfo.InvariantCulture);
}
