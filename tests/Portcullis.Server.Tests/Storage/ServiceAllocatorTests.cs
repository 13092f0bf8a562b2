using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// Cluster IPs and node ports come from bitmaps in storage (/registry/ranges/serviceips and
/// /registry/ranges/servicenodeports) changed by compare-and-swap, so two replicas (here two allocators
/// and two stores over one backend) never hand out one address or port twice; deletes release, and the
/// repair pass frees leaks after upstream's three sightings.
/// </summary>
public sealed class ServiceAllocatorTests : TempSqliteTest
{
    private static readonly ResourceDefinition Services = BuiltinResources.All.First(d => d.Kind == "Service");
    private static readonly WriteOptions As = new(SystemClient.Controller);

    private static JsonObject Lb(string etp, long nodePort = 0) => JsonNode.Parse($$$"""
        {"metadata":{"name":"s","namespace":"default"},
         "spec":{"type":"LoadBalancer","externalTrafficPolicy":"{{{etp}}}","ports":[{"protocol":"TCP","port":80,"nodePort":{{{nodePort}}}}]}}
        """)!.AsObject();

    private static JsonObject NodePort(string name, long nodePort = 0) => JsonNode.Parse($$$"""
        {"metadata":{"name":"{{{name}}}"},"spec":{"type":"NodePort","ports":[{"protocol":"TCP","port":80,"nodePort":{{{nodePort}}}}]}}
        """)!.AsObject();

    /// <summary>One replica's view: its own allocator over the shared backend, and a Service store using it.</summary>
    private (ServiceAllocator Allocator, GenericStore Store) Replica()
    {
        GenericStore? store = null;
        var allocator = new ServiceAllocator(Kv, async ct =>
            (await store!.ListAsync("", new ListOptions(), ct))["items"]!.AsArray().Select(i => (JsonObject)i!));
        store = new GenericStore(Services, Kv, TimeProvider.System, new AdmissionChain([]), allocator);
        return (allocator, store);
    }

    private static string Ip(JsonObject svc) => (string)svc["spec"]!["clusterIP"]!;
    private static long Port(JsonObject svc) => (long)svc["spec"]!["ports"]![0]!["nodePort"]!;

    // Audit (issue 13): upstream's service storage allocates a health-check node port (allocHealthCheckNodePort)
    // before validation for a LoadBalancer with externalTrafficPolicy Local; it is never left at 0.
    [Fact]
    public async Task LocalLoadBalancer_GetsAHealthCheckNodePort_OutsideUsedNodePorts()
    {
        var existing = Lb("Local", 30000);
        existing["spec"]!["healthCheckNodePort"] = 30001;
        var allocator = new ServiceAllocator(Kv, _ => Task.FromResult<IEnumerable<JsonObject>>([existing]));
        var svc = Lb("Local");
        await allocator.AllocateAsync(svc, false, CancellationToken.None);
        Assert.Equal(30002, (long)svc["spec"]!["ports"]![0]!["nodePort"]!);
        Assert.Equal(30003, (long)svc["spec"]!["healthCheckNodePort"]!);

        var cluster = Lb("Cluster");
        await allocator.AllocateAsync(cluster, false, CancellationToken.None);
        Assert.Null(cluster["spec"]!["healthCheckNodePort"]);
    }

    [Fact]
    public async Task Two_replicas_creating_at_once_never_share_an_IP_or_a_node_port()
    {
        var a = Replica();
        var b = Replica();
        var creates = Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            (i % 2 == 0 ? a : b).Store.CreateAsync("default", NodePort($"s{i}"), As))).ToList();
        var created = await Task.WhenAll(creates);
        Assert.Equal(40, created.Select(Ip).Distinct().Count());
        Assert.Equal(40, created.Select(Port).Distinct().Count());
        Assert.DoesNotContain("10.96.0.1", created.Select(Ip));
    }

    [Fact]
    public async Task A_node_port_taken_on_one_replica_is_refused_on_the_other_and_free_again_after_the_delete()
    {
        var a = Replica();
        var b = Replica();
        await a.Store.CreateAsync("default", NodePort("first", 30080), As);
        var e = await Assert.ThrowsAsync<ApiException>(() => b.Store.CreateAsync("default", NodePort("second", 30080), As));
        Assert.Equal(422, e.Code);
        Assert.Contains("spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated", e.Message);

        await a.Store.DeleteAsync("default", "first", new DeleteOptions(SystemClient.Controller), CancellationToken.None);
        var second = await b.Store.CreateAsync("default", NodePort("second", 30080), As);
        Assert.Equal(30080, Port(second));
    }

    [Fact]
    public async Task A_failed_create_gives_back_what_it_allocated()
    {
        var a = Replica();
        var first = await a.Store.CreateAsync("default", NodePort("same"), As);
        await Assert.ThrowsAsync<ApiException>(() => a.Store.CreateAsync("default", NodePort("same"), As));
        var (ips, _) = await new StoredRange(Kv, ServiceAllocator.ServiceIpsKey, "", 1 << 20, _ => Task.FromResult<IEnumerable<int>>([])).ReadAsync(default);
        // Only the stored Service's address is marked (offset 1 is 10.96.0.2).
        Assert.Equal([1], ips.Marked());
        Assert.Equal("10.96.0.2", Ip(first));
    }

    [Fact]
    public async Task A_dry_run_records_nothing()
    {
        var a = Replica();
        var dry = await a.Store.CreateAsync("default", NodePort("dry"), As with { DryRun = true });
        var real = await a.Store.CreateAsync("default", NodePort("real"), As);
        Assert.Equal(Ip(dry), Ip(real));
        Assert.Equal(Port(dry), Port(real));
    }

    [Fact]
    public async Task Repair_frees_a_leak_on_its_third_sighting_and_keeps_what_services_hold()
    {
        var a = Replica();
        var held = await a.Store.CreateAsync("default", NodePort("held"), As);
        // A leak: an address and a port marked with no Service (a crash between the bitmap and the create).
        var leaked = NodePort("leaked");
        await a.Allocator.AllocateAsync(leaked, false, CancellationToken.None);

        await a.Allocator.RepairAsync(default);
        await a.Allocator.RepairAsync(default);
        var again = NodePort("probe");
        await a.Allocator.AllocateAsync(again, true, CancellationToken.None);
        Assert.NotEqual(Ip(leaked), Ip(again)); // two sightings: still held (it may be a create in flight)

        await a.Allocator.RepairAsync(default);
        again = NodePort("probe");
        await a.Allocator.AllocateAsync(again, true, CancellationToken.None);
        Assert.Equal(Ip(leaked), Ip(again));
        Assert.Equal(Port(leaked), Port(again));
        Assert.NotEqual(Ip(held), Ip(again));
    }

    [Fact]
    public void The_bitmap_is_Gos_big_Int_bytes()
    {
        var bits = new RangeBits(20);
        bits.Set(0);
        Assert.Equal([0x01], bits.ToBigEndian());
        bits.Set(9);
        Assert.Equal([0x02, 0x01], bits.ToBigEndian());
        var back = new RangeBits(20);
        back.LoadBigEndian([0x02, 0x01]);
        Assert.Equal([0, 9], back.Marked());
        Assert.Equal(1, new RangeBits(20).FirstFree(1) );
    }
}
