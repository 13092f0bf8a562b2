using System.Text.Json.Nodes;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Controllers.Scheduling;
using Portcullis.Server.Registry;
using Portcullis.Server.Tests.Authentication;

namespace Portcullis.Server.Tests.Controllers.Node;

/// <summary>
/// Pod IPs are allocated in memory by the node loop, which runs on one replica at a time (the
/// kube-controller-manager lease holder). A new term starts a fresh loop on another replica: it must take
/// no address the stored pods hold, since it rebuilds its allocator from them (docs/replicas.md).
/// </summary>
public sealed class PodIpHandoverTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private FaultyCluster _cluster = null!;

    public Task InitializeAsync()
    {
        _cluster = new FaultyCluster(_clock, _ => false);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private GenericStore Pods => _cluster.Client.Store("", "pods");

    private async Task CreatePodsAsync(string prefix, int count)
    {
        for (var i = 0; i < count; i++)
            await Pods.CreateAsync("default", new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = $"{prefix}{i}" },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }) },
            }, FaultyCluster.As);
    }

    /// <summary>One leader's term: a fresh scheduler and node loop (as the lease holder builds them), one pass each.</summary>
    private async Task TermAsync()
    {
        var node = new SimulatedNodeController(_cluster.Client, NodeIdentity.Create("node-1", "192.0.2.10", "10.244.0.0/16", 24, 110), _clock, "v1.33.0");
        await node.InitializeAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(11));
        await new DefaultScheduler(_cluster.Client, _clock).PassAsync(CancellationToken.None);
        await node.PassAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_new_terms_node_loop_takes_no_address_the_last_one_gave()
    {
        await CreatePodsAsync("first-", 5);
        await TermAsync();
        await CreatePodsAsync("second-", 5);
        await TermAsync();

        var ips = (await _cluster.Client.ListAsync(Pods, "default", CancellationToken.None))
            .Select(p => p["status"]?["podIP"]?.GetValue<string>()).ToList();
        Assert.Equal(10, ips.Count(ip => ip is not null));
        Assert.Equal(10, ips.Distinct().Count());
    }
}
