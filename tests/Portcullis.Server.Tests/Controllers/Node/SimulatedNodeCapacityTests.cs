using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Controllers.Scheduling;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;
using Portcullis.Server.Tests.Authentication;

namespace Portcullis.Server.Tests.Controllers.Node;

/// <summary>The built-in node's pod IPs (from its pod CIDR), its pod limit, and per-pod failure isolation.</summary>
public sealed class SimulatedNodeCapacityTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private FaultyCluster _cluster = null!;
    private SqliteBackend _kv = null!;
    private SystemClient _client = null!;
    private static readonly WriteOptions As = FaultyCluster.As;


    public Task InitializeAsync()
    {
        // Writes to a pod or object named "boom" fail with an unexpected (non-API) exception.
        _cluster = new FaultyCluster(_clock, r => r.Resource.Plural == "pods" && r.Name == "boom" && r.Subresource == "status", Operation.Update);
        _kv = _cluster.Kv;
        _client = _cluster.Client;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private GenericStore Pods => _client.Store("", "pods");

    private SimulatedNodeController Node(string clusterCidr, int mask, int maxPods) =>
        new(_client, NodeIdentity.Create("node-1", "192.0.2.10", clusterCidr, mask, maxPods), _clock, "v1.33.0");

    /// <summary>A registered node with the scheduler beside it; each pass schedules, then runs what was bound.</summary>
    private async Task<Func<Task>> ClusterAsync(string clusterCidr, int mask, int maxPods)
    {
        var node = Node(clusterCidr, mask, maxPods);
        await node.InitializeAsync(CancellationToken.None);
        var scheduler = new DefaultScheduler(_client, _clock);
        return async () =>
        {
            // Past any back-off: a pod waiting for room is tried again once the cluster changed.
            _clock.Advance(TimeSpan.FromSeconds(11));
            await scheduler.PassAsync(CancellationToken.None);
            await node.PassAsync(CancellationToken.None);
        };
    }

    private async Task CreatePodsAsync(int count, string prefix = "p")
    {
        for (var i = 0; i < count; i++)
            await Pods.CreateAsync("default", new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = $"{prefix}{i:D4}" },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }) },
            }, As);
    }

    private async Task<List<JsonObject>> AllPodsAsync() => await _client.ListAsync(Pods, "", CancellationToken.None);

    private async Task<List<JsonObject>> EventsAsync(string reason) =>
        (await _client.ListAsync(_client.Store("", "events"), "", CancellationToken.None)).Where(e => e["reason"]?.GetValue<string>() == reason).ToList();

    private static string? Phase(JsonObject p) => p["status"]?["phase"]?.GetValue<string>();

    private static JsonObject? Scheduled(JsonObject p) =>
        (p["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == "PodScheduled");

    [Fact]
    public void Allocator_HandsOutTheRangeWithoutNetworkGatewayOrBroadcast_ThenNothing()
    {
        var a = new PodIpAllocator(Ipv4Cidr.Parse("10.244.0.0/24"));
        Assert.Equal(253UL, a.Capacity);
        var ips = Enumerable.Range(0, 253).Select(_ => a.Allocate()).ToList();
        Assert.Equal("10.244.0.2", ips[0]);
        Assert.Equal("10.244.0.254", ips[^1]);
        Assert.Equal(253, ips.Distinct().Count());
        Assert.Null(a.Allocate());
        // Freed addresses are reused; the next one after the last given comes first.
        a.Reset(ips.Where(ip => ip is not ("10.244.0.7" or "10.244.0.3")));
        Assert.Equal("10.244.0.3", a.Allocate());
        Assert.Equal("10.244.0.7", a.Allocate());
        Assert.Equal("10.244.0.1-10.244.0.254", a.RangeSet);
    }

    [Fact]
    public void NodeIdentity_TakesTheFirstSubnetOfTheMaskSize()
    {
        Assert.Equal("10.244.0.0/24", NodeIdentity.Create("n", "127.0.0.1", "10.244.0.0/16", 24, 110).PodCidr);
        Assert.Equal("10.244.0.0/14", NodeIdentity.Create("n", "127.0.0.1", "10.244.0.0/14").PodCidr);
        Assert.True(NodeIdentity.Create("n", "127.0.0.1", "10.244.0.0/14").NewIpAllocator().Capacity >= 150_000);
        Assert.True(NodeIdentity.DefaultMaxPods >= 150_000);
        Assert.Throws<ArgumentException>(() => NodeIdentity.Create("n", "127.0.0.1", "10.244.0.0/16", 8, 110));
        Assert.Equal("250000", NodeIdentity.Create("n", "127.0.0.1", "10.244.0.0/14").ToNode(DateTimeOffset.UnixEpoch, "v1.33.0")["status"]!["allocatable"]!["pods"]!.GetValue<string>());
    }

    [Fact]
    public async Task MorePodsThanTheRangeHolds_TheRestWaitWithAnEvent_AndTheLoopGoesOn()
    {
        await CreatePodsAsync(300);
        var pass = await ClusterAsync("10.244.0.0/16", 24, 1000);
        await pass();
        await pass();

        var pods = await AllPodsAsync();
        var running = pods.Where(p => Phase(p) == "Running").ToList();
        Assert.Equal(253, running.Count);
        Assert.Equal(253, running.Select(p => p["status"]!["podIP"]!.GetValue<string>()).Distinct().Count());
        Assert.All(running, p => Assert.StartsWith("10.244.0.", p["status"]!["podIP"]!.GetValue<string>()));
        Assert.Equal(47, pods.Count(p => Phase(p) == "Pending"));
        var failed = await EventsAsync("FailedCreatePodSandBox");
        Assert.Equal(47, failed.Count); // once per pod, not once per pass
        Assert.EndsWith("no IP addresses available in range set: 10.244.0.1-10.244.0.254", failed[0]["message"]!.GetValue<string>());

        // A deleted pod frees its address for a waiting one.
        await Pods.DeleteAsync("default", running[0]["metadata"]!["name"]!.GetValue<string>(), new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 0));
        await pass();
        Assert.Equal(253, (await AllPodsAsync()).Count(p => Phase(p) == "Running"));
    }

    [Fact]
    public async Task NoMoreThanMaxPods_TheSchedulerSaysTooManyPods_AndSchedulesAgainWhenRoomIsMade()
    {
        await CreatePodsAsync(5);
        var pass = await ClusterAsync("10.244.0.0/16", 24, 3);
        await pass();
        await pass();

        var pods = await AllPodsAsync();
        Assert.Equal(3, pods.Count(p => !string.IsNullOrEmpty(p["spec"]?["nodeName"]?.GetValue<string>())));
        var waiting = pods.Where(p => string.IsNullOrEmpty(p["spec"]?["nodeName"]?.GetValue<string>())).ToList();
        Assert.Equal(2, waiting.Count);
        const string message = "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..";
        foreach (var p in waiting)
        {
            var c = Scheduled(p)!;
            Assert.Equal("False", c["status"]!.GetValue<string>());
            Assert.Equal("Unschedulable", c["reason"]!.GetValue<string>());
            Assert.Equal(message, c["message"]!.GetValue<string>());
        }
        var events = (await _client.ListAsync(_client.Store("events.k8s.io", "events"), "", CancellationToken.None))
            .Where(e => e["reason"]?.GetValue<string>() == "FailedScheduling").ToList();
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(message, e["note"]!.GetValue<string>()));

        var bound = pods.First(p => !string.IsNullOrEmpty(p["spec"]?["nodeName"]?.GetValue<string>()));
        await Pods.DeleteAsync("default", bound["metadata"]!["name"]!.GetValue<string>(), new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 0));
        await pass();
        pods = await AllPodsAsync();
        Assert.Equal(3, pods.Count(p => !string.IsNullOrEmpty(p["spec"]?["nodeName"]?.GetValue<string>())));
        Assert.Single(pods, p => string.IsNullOrEmpty(p["spec"]?["nodeName"]?.GetValue<string>()));
    }

    [Fact]
    public async Task OnePodFailingUnexpectedly_IsReportedOnThatPod_AndTheOthersRun()
    {
        // Bound from the start (as by a DaemonSet or by hand): the kubelet's failure path, not the scheduler's.
        foreach (var name in new[] { "boom0000", "boom" })
            await Pods.CreateAsync("default", new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = name },
                ["spec"] = new JsonObject { ["nodeName"] = "node-1", ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }) },
            }, As);
        var node = Node("10.244.0.0/16", 24, 110);
        await node.PassAsync(CancellationToken.None);
        await node.PassAsync(CancellationToken.None);

        var pods = await AllPodsAsync();
        Assert.Equal("Running", Phase(pods.Single(p => p["metadata"]!["name"]!.GetValue<string>() == "boom0000")));
        Assert.Equal("Pending", Phase(pods.Single(p => p["metadata"]!["name"]!.GetValue<string>() == "boom")));
        var failed = await EventsAsync("FailedSync");
        var single = Assert.Single(failed);
        Assert.Equal("boom", single["involvedObject"]!["name"]!.GetValue<string>());
        Assert.Contains("injected failure", single["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task PodsBoundDirectlyPastMaxPods_AreRejectedByTheKubelet()
    {
        for (var i = 0; i < 3; i++)
            await Pods.CreateAsync("default", new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = $"bound{i}" },
                ["spec"] = new JsonObject { ["nodeName"] = "node-1", ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }) },
            }, As);
        var node = Node("10.244.0.0/16", 24, 2);
        await node.PassAsync(CancellationToken.None);

        var pods = await AllPodsAsync();
        Assert.Equal(2, pods.Count(p => Phase(p) == "Running"));
        var rejected = Assert.Single(pods, p => Phase(p) == "Failed");
        Assert.Equal("OutOfpods", rejected["status"]!["reason"]!.GetValue<string>());
        Assert.Equal("Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2", rejected["status"]!["message"]!.GetValue<string>());
        Assert.Single(await EventsAsync("OutOfpods"));
    }
}
