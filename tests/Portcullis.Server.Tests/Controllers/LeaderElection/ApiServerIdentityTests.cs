using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Tests.Controllers.LeaderElection;

/// <summary>Identity leases (name, labels, renewal, garbage collection) and the kubernetes Service's endpoints built from them.</summary>
public sealed class ApiServerIdentityTests : IAsyncLifetime
{
    private readonly LeaseWorld _w = new();
    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    public void LeaseName_IsUpstreamsHash_WithThePortAsAThirdField()
    {
        // Upstream's: base32(sha256(len16 "myhost", len16 "kube-apiserver"))[:16 bytes], lower case (computed independently).
        Assert.Equal("apiserver-eqwsatu4lrpqig5wtp5dvzxufm", ApiServerIdentity.LeaseNameFor("myhost", null));
        Assert.Equal("apiserver-tt72xdbzyybusvpmhjghqs77pq", ApiServerIdentity.LeaseNameFor("myhost", 6443));
        Assert.NotEqual(ApiServerIdentity.LeaseNameFor("myhost", 6443), ApiServerIdentity.LeaseNameFor("myhost", 6444));
        var id = ApiServerIdentity.Create("myhost", "10.0.0.5", 6443);
        Assert.StartsWith(id.LeaseName + "_", id.HolderIdentity);
        Assert.Equal("10.0.0.5:6443", id.PeerAddress);
        Assert.Equal("[fd00::5]:6443", ApiServerIdentity.Create("h", "fd00::5", 6443).PeerAddress);
    }

    [Fact]
    public async Task IdentityLease_IsCreatedLabelledAndRenewed()
    {
        var id = ApiServerIdentity.Create("myhost", "10.0.0.5", 6443);
        var controller = new ApiServerIdentityLeaseController(_w.Client, id, _w.Clock);
        await controller.InitializeAsync(default);
        var lease = await _w.LeaseAsync(id.LeaseName);
        Assert.Equal(id.HolderIdentity, (string)lease["spec"]!["holderIdentity"]!);
        Assert.Equal(3600L, (long)lease["spec"]!["leaseDurationSeconds"]!);
        Assert.Equal("2026-03-01T12:00:00.000000Z", (string)lease["spec"]!["renewTime"]!);
        Assert.Null(lease["spec"]!["acquireTime"]);
        Assert.Equal("kube-apiserver", Meta.Labels(lease)["apiserver.kubernetes.io/identity"]);
        Assert.Equal("myhost", Meta.Labels(lease)["kubernetes.io/hostname"]);
        Assert.Equal("10.0.0.5:6443", Meta.StringMap(Meta.Of(lease)["annotations"])["kubernetes.io/peer-advertise-address"]);

        _w.Clock.Advance(TimeSpan.FromSeconds(10));
        await controller.SyncAsync(default);
        Assert.Equal("2026-03-01T12:00:10.000000Z", (string)(await _w.LeaseAsync(id.LeaseName))["spec"]!["renewTime"]!);

        // A restart of the same replica (same host and port) renews the lease it finds, holder and all, as upstream's.
        var again = ApiServerIdentity.Create("myhost", "10.0.0.5", 6443);
        _w.Clock.Advance(TimeSpan.FromSeconds(10));
        await new ApiServerIdentityLeaseController(_w.Client, again, _w.Clock).SyncAsync(default);
        lease = await _w.LeaseAsync(id.LeaseName);
        Assert.Equal(id.HolderIdentity, (string)lease["spec"]!["holderIdentity"]!);
        Assert.Equal("2026-03-01T12:00:20.000000Z", (string)lease["spec"]!["renewTime"]!);

        // A clean shutdown deletes it.
        await controller.StopAsync(default);
        Assert.Null(await _w.Client.TryGetAsync(_w.Leases, "kube-system", id.LeaseName, default));
    }

    [Fact]
    public async Task GarbageCollector_DeletesOnlyExpiredIdentityLeases()
    {
        await Identity("apiserver-old", "10.0.0.1:6443", _w.Clock.GetUtcNow().AddSeconds(-3601));
        await Identity("apiserver-fresh", "10.0.0.2:6443", _w.Clock.GetUtcNow().AddSeconds(-3599));
        // Not an identity lease: never touched, however old.
        await _w.Leases.CreateAsync("kube-system", new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1", ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = "other" },
            ["spec"] = new JsonObject { ["leaseDurationSeconds"] = 1, ["renewTime"] = "2020-01-01T00:00:00.000000Z" },
        }, new WriteOptions(SystemClient.Controller));

        var deleted = await new ApiServerIdentityLeaseGC(_w.Client, _w.Clock).CollectAsync(default);

        Assert.Equal(["apiserver-old"], deleted);
        var left = (await _w.Client.ListAsync(_w.Leases, "kube-system", default)).Select(Meta.Name).Order();
        Assert.Equal(["apiserver-fresh", "other"], left);
    }

    [Fact]
    public async Task KubernetesEndpoints_ReplicasOnOneHost_OneSubsetAndSlicePerPort()
    {
        var self = ApiServerIdentity.Create("host", "192.0.2.2", 6443);
        await Identity("apiserver-b", "192.0.2.2:6444", _w.Clock.GetUtcNow().AddSeconds(-5));
        await Identity("apiserver-c", "192.0.2.2:6445", _w.Clock.GetUtcNow().AddSeconds(-5));
        await Identity("apiserver-dead", "192.0.2.2:6446", _w.Clock.GetUtcNow().AddSeconds(-16));   // missed its renewals

        await new KubernetesServiceController(_w.Client, self, _w.Clock).ReconcileAsync(default);

        var ep = await _w.Client.Store("", "endpoints").GetAsync("default", "kubernetes");
        Assert.Equal(
            """[{"addresses":[{"ip":"192.0.2.2"}],"ports":[{"name":"https","port":6443,"protocol":"TCP"}]},{"addresses":[{"ip":"192.0.2.2"}],"ports":[{"name":"https","port":6444,"protocol":"TCP"}]},{"addresses":[{"ip":"192.0.2.2"}],"ports":[{"name":"https","port":6445,"protocol":"TCP"}]}]""",
            ep["subsets"]!.ToJsonString());
        var slices = await Slices();
        Assert.Equal(["kubernetes", "kubernetes-6444", "kubernetes-6445"], slices.Keys.Order());
        Assert.Equal(6444L, (long)slices["kubernetes-6444"]["ports"]![0]!["port"]!);
        Assert.Equal("192.0.2.2", (string)slices["kubernetes-6444"]["endpoints"]![0]!["addresses"]![0]!);
        Assert.Equal("kubernetes", Meta.Labels(slices["kubernetes-6445"])["kubernetes.io/service-name"]);

        // c goes away (its lease deleted at shutdown): its subset and slice go too.
        await _w.Leases.DeleteAsync("kube-system", "apiserver-c", new DeleteOptions(SystemClient.Controller));
        await new KubernetesServiceController(_w.Client, self, _w.Clock).ReconcileAsync(default);
        ep = await _w.Client.Store("", "endpoints").GetAsync("default", "kubernetes");
        Assert.Equal(2, ep["subsets"]!.AsArray().Count);
        Assert.Equal(["kubernetes", "kubernetes-6444"], (await Slices()).Keys.Order());
    }

    [Fact]
    public async Task KubernetesEndpoints_ReplicasWithOnePort_UpstreamsShape()
    {
        var self = ApiServerIdentity.Create("host-b", "10.0.0.20", 6443);
        await Identity("apiserver-a", "10.0.0.3:6443", _w.Clock.GetUtcNow());
        await Identity("apiserver-c", "10.0.0.100:6443", _w.Clock.GetUtcNow());
        var controller = new KubernetesServiceController(_w.Client, self, _w.Clock);

        await controller.ReconcileAsync(default);

        var ep = await _w.Client.Store("", "endpoints").GetAsync("default", "kubernetes");
        Assert.Equal("""[{"addresses":[{"ip":"10.0.0.3"},{"ip":"10.0.0.20"},{"ip":"10.0.0.100"}],"ports":[{"name":"https","port":6443,"protocol":"TCP"}]}]""",
            ep["subsets"]!.ToJsonString());
        var slice = Assert.Single(await Slices()).Value;
        Assert.Equal("IPv4", (string)slice["addressType"]!);
        Assert.Equal(["10.0.0.3", "10.0.0.20", "10.0.0.100"], slice["endpoints"]!.AsArray().Select(e => (string)e!["addresses"]![0]!));
        var rv = Meta.ResourceVersion(ep);

        // Nothing changed: nothing written.
        await controller.ReconcileAsync(default);
        Assert.Equal(rv, Meta.ResourceVersion(await _w.Client.Store("", "endpoints").GetAsync("default", "kubernetes")));

        // This replica stops cleanly: it leaves the endpoints, the others remain.
        await controller.StopAsync(default);
        ep = await _w.Client.Store("", "endpoints").GetAsync("default", "kubernetes");
        Assert.Equal("""[{"addresses":[{"ip":"10.0.0.3"},{"ip":"10.0.0.100"}],"ports":[{"name":"https","port":6443,"protocol":"TCP"}]}]""", ep["subsets"]!.ToJsonString());
    }

    [Fact]
    public async Task KubernetesEndpoints_TheLastReplicaToStop_RemovesItself()
    {
        var self = ApiServerIdentity.Create("host", "10.0.0.20", 6443);
        await Identity("apiserver-gone", "10.0.0.3:6444", _w.Clock.GetUtcNow().AddMinutes(-5));   // long dead
        var controller = new KubernetesServiceController(_w.Client, self, _w.Clock);
        await controller.ReconcileAsync(default);
        Assert.Single((await _w.Client.Store("", "endpoints").GetAsync("default", "kubernetes"))["subsets"]!.AsArray());

        await controller.StopAsync(default);

        var ep = await _w.Client.Store("", "endpoints").GetAsync("default", "kubernetes");
        Assert.True(ep["subsets"] is null || ep["subsets"]!.AsArray().Count == 0, ep.ToJsonString());
        var slice = Assert.Single(await Slices()).Value;
        Assert.True(slice["endpoints"] is null || slice["endpoints"]!.AsArray().Count == 0, slice.ToJsonString());
        Assert.Null(slice["ports"]);
    }

    private async Task Identity(string name, string peer, DateTimeOffset renewed) =>
        await _w.Leases.CreateAsync("kube-system", new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1", ["kind"] = "Lease",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["labels"] = new JsonObject { ["apiserver.kubernetes.io/identity"] = "kube-apiserver", ["kubernetes.io/hostname"] = "h" },
                ["annotations"] = new JsonObject { ["kubernetes.io/peer-advertise-address"] = peer },
            },
            ["spec"] = new JsonObject { ["holderIdentity"] = name + "_x", ["leaseDurationSeconds"] = 3600, ["renewTime"] = ObjectShaper.FormatMicroTime(renewed) },
        }, new WriteOptions(SystemClient.Controller));

    private async Task<Dictionary<string, JsonObject>> Slices() =>
        (await _w.Client.ListAsync(_w.Client.Store("discovery.k8s.io", "endpointslices"), "default", default)).ToDictionary(Meta.Name);
}
