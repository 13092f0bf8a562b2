using System.Net;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers;

/// <summary>
/// Keeps the <c>default/kubernetes</c> Service (cluster IP 10.96.0.1, port 443 → the secure port) and its Endpoints and
/// EndpointSlice listing the live replicas, as kube-apiserver's bootstrap controller with
/// <c>--endpoint-reconciler-type=lease</c> (pkg/controlplane/reconcilers/lease.go) does: every replica, every 10 s,
/// rewrites them from the set of replicas that have renewed within the last 15 s (DefaultEndpointReconcilerTTL), itself
/// included. Upstream keeps that set as <c>/masterleases/&lt;ip&gt;</c> keys with an etcd TTL; here it is the
/// apiserver identity leases (<see cref="ApiServerIdentityLeaseController"/>), whose
/// <c>kubernetes.io/peer-advertise-address</c> annotation gives each replica's address and port, and whose renewTime
/// says it is alive. Someone deleting the objects sees them recreated.
/// <para>
/// The shape: when the replicas share one port, upstream's (one subset, addresses sorted, port "https"; one slice
/// "kubernetes"). Replicas on one host differ by port, which one subset cannot say, so then there is one subset per
/// port (ascending) and one slice per subset: "kubernetes" for the first, "kubernetes-&lt;port&gt;" for the others.
/// </para>
/// </summary>
public sealed class KubernetesServiceController(SystemClient client, ApiServerIdentity self, TimeProvider time,
    Microsoft.Extensions.Logging.ILogger? log = null) : IController
{
    public const string ServiceIp = "10.96.0.1";
    /// <summary>DefaultEndpointReconcilerTTL: how recently a replica must have renewed to be listed.</summary>
    public static readonly TimeSpan EndpointTtl = TimeSpan.FromSeconds(15);
    /// <summary>The reconcile interval (kube-apiserver's EndpointReconcilerConfig.Interval, 10 s).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private const string SlicePrefix = "kubernetes-";
    private volatile bool _stopping;

    public string Name => "kubernetes-service";

    public Task InitializeAsync(CancellationToken ct) => ReconcileAsync(ct);

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(ct)) await PerObject.TryAsync(log, Name, "reconcile", () => ReconcileAsync(ct), ct);
    }

    /// <summary>At a clean shutdown: the endpoints without this replica (RemoveEndpoints), its identity lease being gone.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        _stopping = true;
        await PerObject.TryAsync(log, Name, "remove endpoints", () => ReconcileEndpointsAsync(ct), ct);
    }

    public async Task ReconcileAsync(CancellationToken ct)
    {
        var labels = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" };
        await client.EnsureAsync(client.Store("", "services"), "default", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Service",
            ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["labels"] = labels },
            ["spec"] = new JsonObject
            {
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["protocol"] = "TCP", ["port"] = 443, ["targetPort"] = self.Port }),
                ["clusterIP"] = ServiceIp,
                ["type"] = "ClusterIP",
                ["sessionAffinity"] = "None",
            },
        }, ct, "kube-apiserver");
        await ReconcileEndpointsAsync(ct);
    }

    /// <summary>The live replicas as (address, port), sorted: fresh identity leases, and this replica unless it is stopping.</summary>
    public async Task<List<(string Ip, int Port)>> LiveAsync(CancellationToken ct)
    {
        var list = await client.Store("coordination.k8s.io", "leases").ListAsync("kube-system", new ListOptions
        {
            Labels = Selectors.LabelSelector.Parse($"{ApiServerIdentity.ComponentLabel}={ApiServerIdentity.Component}"),
        }, ct);
        var now = time.GetUtcNow();
        var live = new HashSet<(string, int)>();
        foreach (var lease in list["items"]!.AsArray().OfType<JsonObject>())
        {
            if (Meta.Name(lease) == self.LeaseName) continue;
            var renew = LeaderElection.LeaderElectionRecord.Time(lease["spec"] as JsonObject ?? [], "renewTime");
            if (renew + EndpointTtl < now) continue;
            if (Meta.StringMap(Meta.Of(lease)["annotations"]).GetValueOrDefault(ApiServerIdentity.PeerAdvertiseAddressAnnotation) is { } peer
                && IPEndPoint.TryParse(peer, out var ep) && ep.Port > 0)
                live.Add((ep.Address.ToString(), ep.Port));
        }
        if (!_stopping) live.Add((self.AdvertiseAddress, self.Port));
        return live.OrderBy(a => a.Item2).ThenBy(a => IPAddress.Parse(a.Item1).GetAddressBytes(), ByteOrder.Instance).ToList();
    }

    private async Task ReconcileEndpointsAsync(CancellationToken ct)
    {
        var live = await LiveAsync(ct);
        // lease.go's doReconcile: "no API server IP addresses were listed in storage, refusing to erase all endpoints
        // for the kubernetes Service", unless this is the last replica removing itself at shutdown (then the
        // Endpoints keep no subset and the slice no endpoint, as RepackSubsets and endpointSliceFromEndpoints leave them).
        if (live.Count == 0 && !_stopping)
            throw new InvalidOperationException("no API server IP addresses were listed in storage, refusing to erase all endpoints for the kubernetes Service");
        // One subset per port, ascending; the addresses of each in IP order (as upstream sorts them).
        var byPort = live.GroupBy(a => a.Port).Select(g => (Port: g.Key, Ips: g.Select(a => a.Ip).ToList())).ToList();
        var subsets = new JsonArray();
        foreach (var (port, ips) in byPort)
            subsets.Add((JsonNode)new JsonObject
            {
                ["addresses"] = new JsonArray(ips.Select(ip => (JsonNode)new JsonObject { ["ip"] = ip }).ToArray()),
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = port, ["protocol"] = "TCP" }),
            });
        var endpoints = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Endpoints",
            ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["labels"] = new JsonObject { ["endpointslice.kubernetes.io/skip-mirror"] = "true" } },
        };
        endpoints["subsets"] = subsets;
        await EnsureMatchingAsync(client.Store("", "endpoints"), endpoints, ["subsets"], ct);

        var slices = client.Store("discovery.k8s.io", "endpointslices");
        var wanted = new HashSet<string>();
        if (byPort.Count == 0)
        {
            wanted.Add("kubernetes");
            await EnsureMatchingAsync(slices, new JsonObject
            {
                ["apiVersion"] = "discovery.k8s.io/v1",
                ["kind"] = "EndpointSlice",
                ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = "kubernetes" } },
                ["addressType"] = "IPv4",
                ["endpoints"] = new JsonArray(),
            }, ["endpoints", "ports", "addressType"], ct);
        }
        for (var i = 0; i < byPort.Count; i++)
        {
            var (port, ips) = byPort[i];
            var name = i == 0 ? "kubernetes" : SlicePrefix + port;
            wanted.Add(name);
            var v6 = ips.All(ip => IPAddress.Parse(ip).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
            await EnsureMatchingAsync(slices, new JsonObject
            {
                ["apiVersion"] = "discovery.k8s.io/v1",
                ["kind"] = "EndpointSlice",
                ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = "kubernetes" } },
                ["addressType"] = v6 ? "IPv6" : "IPv4",
                ["endpoints"] = new JsonArray(ips.Select(ip => (JsonNode)new JsonObject
                {
                    ["addresses"] = new JsonArray(ip),
                    ["conditions"] = new JsonObject { ["ready"] = true },
                }).ToArray()),
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["protocol"] = "TCP", ["port"] = port }),
            }, ["endpoints", "ports", "addressType"], ct);
        }
        // Slices of ports no replica serves any more.
        foreach (var s in await client.ListAsync(slices, "default", ct))
        {
            var name = Meta.Name(s);
            if (!name.StartsWith(SlicePrefix, StringComparison.Ordinal) || wanted.Contains(name)
                || Meta.Labels(s).GetValueOrDefault("kubernetes.io/service-name") != "kubernetes" || Meta.Labels(s).ContainsKey("endpointslice.kubernetes.io/managed-by")) continue;
            try { await slices.DeleteAsync("default", name, new DeleteOptions(SystemClient.Controller), ct); }
            catch (ApiException e) when (e.Code == 404) { }
        }
    }

    /// <summary>Creates the object, or rewrites <paramref name="fields"/> when they differ from the desired ones.</summary>
    private async Task EnsureMatchingAsync(GenericStore store, JsonObject desired, string[] fields, CancellationToken ct)
    {
        var name = Meta.Name(desired);
        if (await client.EnsureAsync(store, "default", (JsonObject)desired.DeepClone(), ct, "kube-apiserver")) return;
        var current = await client.TryGetAsync(store, "default", name, ct);
        if (current is null) return;
        if (fields.All(f => JsonNode.DeepEquals(current[f], desired[f]))) return;
        try
        {
            await store.UpdateAsync("default", name, "", c =>
            {
                foreach (var f in fields)
                {
                    if (desired[f] is { } v) c[f] = v.DeepClone();
                    else c.Remove(f);
                }
                Meta.Remove(c, "resourceVersion");
                return c;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-apiserver" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y)
        {
            var c = x!.Length.CompareTo(y!.Length);
            if (c != 0) return c;
            for (var i = 0; i < x.Length; i++) if ((c = x[i].CompareTo(y[i])) != 0) return c;
            return 0;
        }
    }
}
