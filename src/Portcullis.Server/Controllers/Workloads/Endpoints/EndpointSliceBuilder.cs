using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;
using F = Portcullis.Server.Controllers.Workloads.Endpoints.ServiceEndpointFacts;

namespace Portcullis.Server.Controllers.Workloads.Endpoints;

/// <summary>
/// The endpoints of a Service's EndpointSlices (k8s.io/endpointslice reconciler.go and utils.go podToEndpoint):
/// every selected pod with an IP, terminating ones included, as an endpoint with its address, the conditions
/// ready (ready and not terminating, or <c>publishNotReadyAddresses</c>), serving and terminating, its
/// hostname when its subdomain is the Service, targetRef, nodeName and zone (the node's
/// <c>topology.kubernetes.io/zone</c>), grouped by the ports the pod resolves, at most 100 per slice.
/// </summary>
public static class EndpointSliceBuilder
{
    /// <summary>The endpointslice-controller's default --max-endpoints-per-slice.</summary>
    public const int MaxEndpointsPerSlice = 100;
    public const string ServiceNameLabel = "kubernetes.io/service-name";
    public const string ManagedByLabel = "endpointslice.kubernetes.io/managed-by";
    public const string ControllerName = "endpointslice-controller.k8s.io";
    public const string ZoneLabel = "topology.kubernetes.io/zone";

    /// <summary>A slice's worth of content: its ports (canonical key and list) and endpoints.</summary>
    public sealed record Chunk(string PortsKey, JsonArray Ports, List<JsonObject> Endpoints);

    /// <summary>
    /// The desired chunks: endpoints grouped by port set (in the pods' name order), each group cut into slices of
    /// <paramref name="maxPerSlice"/>. No endpoint at all gives no chunk (the caller keeps a placeholder slice).
    /// </summary>
    public static List<Chunk> Chunks(JsonObject service, IEnumerable<JsonObject> pods, Func<string, JsonObject?> node, int maxPerSlice = MaxEndpointsPerSlice)
    {
        var publishNotReady = JsonRead.Bool(service["spec"], "publishNotReadyAddresses") ?? false;
        var family = F.IpFamily(service);
        var servicePorts = (service["spec"]?["ports"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var groups = new Dictionary<string, (JsonArray Ports, List<JsonObject> Endpoints)>(StringComparer.Ordinal);
        foreach (var pod in pods.OrderBy(Meta.Name, StringComparer.Ordinal))
        {
            if (!F.ShouldPodBeInEndpoints(pod, includeTerminating: true)) continue;
            if (F.PodIp(pod, family) is not { } ip) continue;
            var ports = new List<JsonObject>();
            foreach (var sp in servicePorts)
                if (F.FindPort(pod, sp) is { } n) ports.Add(SlicePort(sp, n));
            ports.Sort((a, b) => string.CompareOrdinal(PortKey(a), PortKey(b)));
            var key = string.Join(";", ports.Select(PortKey));
            if (!groups.TryGetValue(key, out var g)) groups[key] = g = (new JsonArray([.. ports]), []);
            g.Endpoints.Add(Endpoint(pod, service, ip, publishNotReady, node));
        }
        var chunks = new List<Chunk>();
        foreach (var (key, (ports, endpoints)) in groups.OrderBy(g => g.Key, StringComparer.Ordinal))
            for (var i = 0; i < endpoints.Count; i += maxPerSlice)
                chunks.Add(new Chunk(key, ports, endpoints.GetRange(i, Math.Min(maxPerSlice, endpoints.Count - i))));
        return chunks;
    }

    /// <summary>podToEndpoint.</summary>
    public static JsonObject Endpoint(JsonObject pod, JsonObject service, string ip, bool publishNotReady, Func<string, JsonObject?> node)
    {
        var serving = publishNotReady || PodFacts.IsReady(pod);
        var terminating = Meta.IsDeleting(pod);
        // For compatibility, "ready" is never true for a terminating pod unless publishNotReadyAddresses is set.
        var ready = publishNotReady || (serving && !terminating);
        var ep = new JsonObject
        {
            ["addresses"] = new JsonArray(ip),
            ["conditions"] = new JsonObject { ["ready"] = ready, ["serving"] = serving, ["terminating"] = terminating },
        };
        if (F.ShouldSetHostname(pod, service)) ep["hostname"] = JsonRead.Str(pod["spec"], "hostname");
        ep["targetRef"] = F.TargetRef(pod);
        var nodeName = JsonRead.StrOrEmpty(pod["spec"], "nodeName");
        ep["nodeName"] = nodeName;
        if (nodeName.Length > 0 && node(nodeName) is { } n && Meta.Labels(n).TryGetValue(ZoneLabel, out var zone) && zone.Length > 0) ep["zone"] = zone;
        return ep;
    }

    /// <summary>An EndpointSlice port: name (always present, "" when unnamed), protocol, port, appProtocol.</summary>
    private static JsonObject SlicePort(JsonObject servicePort, int port)
    {
        var p = new JsonObject
        {
            ["name"] = JsonRead.StrOrEmpty(servicePort, "name"),
            ["protocol"] = JsonRead.Str(servicePort, "protocol") ?? "TCP",
            ["port"] = port,
        };
        if (JsonRead.Str(servicePort, "appProtocol") is { } ap) p["appProtocol"] = ap;
        return p;
    }

    /// <summary>A canonical text for a slice port, for grouping and comparing.</summary>
    public static string PortKey(JsonObject p) =>
        $"{JsonRead.StrOrEmpty(p, "name")}/{JsonRead.Long(p, "port")}/{JsonRead.Str(p, "protocol") ?? "TCP"}/{JsonRead.StrOrEmpty(p, "appProtocol")}";

    /// <summary>The canonical port key of an existing slice.</summary>
    public static string PortsKeyOf(JsonObject slice) =>
        string.Join(";", (slice["ports"] as JsonArray ?? []).OfType<JsonObject>().Select(PortKey).OrderBy(k => k, StringComparer.Ordinal));

    /// <summary>
    /// setEndpointSliceLabels: the Service's labels (but the two the controller owns, and the headless label),
    /// <c>kubernetes.io/service-name</c>, <c>endpointslice.kubernetes.io/managed-by</c>, and
    /// <c>service.kubernetes.io/headless</c> without a cluster IP.
    /// </summary>
    public static JsonObject Labels(JsonObject service)
    {
        var labels = new JsonObject();
        foreach (var (k, v) in Meta.Labels(service))
            if (k is not (ServiceNameLabel or ManagedByLabel or F.HeadlessLabel)) labels[k] = v;
        if (!F.HasClusterIp(service)) labels[F.HeadlessLabel] = "";
        labels[ServiceNameLabel] = Meta.Name(service);
        labels[ManagedByLabel] = ControllerName;
        return labels;
    }

    /// <summary>getEndpointSlicePrefix: the Service's name and a dash (a Service name always makes a valid prefix).</summary>
    public static string GenerateName(string service) => service + "-";
}
