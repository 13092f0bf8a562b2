using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads.Endpoints;

/// <summary>
/// What the Endpoints and EndpointSlice controllers share about Services and their pods
/// (pkg/controller/util/endpoint/controller_utils.go, k8s.io/endpointslice/util, pkg/api/v1/pod/util.go).
/// </summary>
public static class ServiceEndpointFacts
{
    /// <summary>v1.IsHeadlessService: the label both controllers put on a headless Service's objects.</summary>
    public const string HeadlessLabel = "service.kubernetes.io/headless";
    /// <summary>v1.EndpointsLastChangeTriggerTime.</summary>
    public const string TriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";

    /// <summary>The Service's selector, or null when it has none (such a Service's endpoints are left to their writer).</summary>
    public static Dictionary<string, string>? Selector(JsonObject service) =>
        service["spec"]?["selector"] is JsonObject s ? Meta.StringMap(s) : null;

    /// <summary>labels.SelectorFromValidatedSet(service.Spec.Selector).Matches(pod.Labels): an empty selector matches everything.</summary>
    public static bool Selects(Dictionary<string, string> selector, JsonObject pod)
    {
        var labels = Meta.Labels(pod);
        foreach (var (k, v) in selector)
            if (!labels.TryGetValue(k, out var have) || have != v) return false;
        return true;
    }

    /// <summary>The Service has a selector and is not of type ExternalName: the controllers give it endpoints.</summary>
    public static bool Managed(JsonObject service) =>
        JsonRead.Str(service["spec"], "type") != "ExternalName" && Selector(service) is not null;

    /// <summary>helper.IsServiceIPSet: a cluster IP that is neither empty nor "None".</summary>
    public static bool HasClusterIp(JsonObject service) => JsonRead.Str(service["spec"], "clusterIP") is { Length: > 0 } ip && ip != "None";

    /// <summary>
    /// ShouldPodBeInEndpoints: the pod has an IP, is not being deleted (unless <paramref name="includeTerminating"/>),
    /// and is not finished for good (restartPolicy Never: neither Failed nor Succeeded; OnFailure: not Succeeded).
    /// </summary>
    public static bool ShouldPodBeInEndpoints(JsonObject pod, bool includeTerminating)
    {
        var status = pod["status"] as JsonObject;
        if (JsonRead.StrOrEmpty(status, "podIP").Length == 0 && status?["podIPs"] is not JsonArray { Count: > 0 }) return false;
        if (!includeTerminating && Meta.IsDeleting(pod)) return false;
        var phase = JsonRead.StrOrEmpty(status, "phase");
        return JsonRead.Str(pod["spec"], "restartPolicy") switch
        {
            "Never" => phase is not ("Failed" or "Succeeded"),
            "OnFailure" => phase != "Succeeded",
            _ => true,
        };
    }

    /// <summary>ShouldSetHostname: the pod names a hostname and its subdomain is the Service, in the same namespace.</summary>
    public static bool ShouldSetHostname(JsonObject pod, JsonObject service) =>
        JsonRead.StrOrEmpty(pod["spec"], "hostname").Length > 0
        && JsonRead.Str(pod["spec"], "subdomain") == Meta.Name(service)
        && Meta.Namespace(pod) == Meta.Namespace(service);

    /// <summary>The Service's IP family (its first <c>ipFamilies</c> entry, else the cluster IP's, else IPv4).</summary>
    public static string IpFamily(JsonObject service)
    {
        if (service["spec"]?["ipFamilies"] is JsonArray { Count: > 0 } fams && JsonRead.Str(fams[0]) is { } f) return f;
        return JsonRead.Str(service["spec"], "clusterIP") is { } ip && ip.Contains(':') ? "IPv6" : "IPv4";
    }

    /// <summary>The pod's IP of the Service's family (podToEndpointAddressForService), or null.</summary>
    public static string? PodIp(JsonObject pod, string family)
    {
        var status = pod["status"] as JsonObject;
        var ips = (status?["podIPs"] as JsonArray ?? []).OfType<JsonObject>().Select(o => JsonRead.StrOrEmpty(o, "ip")).Where(s => s.Length > 0).ToList();
        if (ips.Count == 0 && JsonRead.Str(status, "podIP") is { Length: > 0 } one) ips.Add(one);
        return ips.FirstOrDefault(ip => ip.Contains(':') == (family == "IPv6"));
    }

    /// <summary>
    /// FindPort (pkg/api/v1/pod/util.go): a numeric targetPort is the port itself; a named one is the container
    /// port of that name and the Service port's protocol, in the containers and then the sidecar (restartable
    /// init) containers; null when the pod has none.
    /// </summary>
    public static int? FindPort(JsonObject pod, JsonObject servicePort)
    {
        var protocol = JsonRead.Str(servicePort, "protocol") ?? "TCP";
        switch (JsonRead.IntOrString(servicePort["targetPort"]))
        {
            case { IsInt: true } t: return (int)t.Int;
            case { IsInt: false } t:
                foreach (var c in Containers(pod))
                    foreach (var p in (c["ports"] as JsonArray ?? []).OfType<JsonObject>())
                        if (JsonRead.Str(p, "name") == t.Str && (JsonRead.Str(p, "protocol") ?? "TCP") == protocol
                            && JsonRead.Long(p, "containerPort") is { } n)
                            return (int)n;
                return null;
            default: return JsonRead.Long(servicePort, "port") is { } port ? (int)port : null;
        }
    }

    private static IEnumerable<JsonObject> Containers(JsonObject pod)
    {
        foreach (var c in (pod["spec"]?["containers"] as JsonArray ?? []).OfType<JsonObject>()) yield return c;
        foreach (var c in (pod["spec"]?["initContainers"] as JsonArray ?? []).OfType<JsonObject>())
            if (JsonRead.Str(c, "restartPolicy") == "Always") yield return c;
    }

    /// <summary>A Service port as the endpoint port it becomes (name, port, protocol, appProtocol).</summary>
    public static JsonObject EndpointPort(JsonObject servicePort, int port)
    {
        var p = new JsonObject();
        if (JsonRead.Str(servicePort, "name") is { Length: > 0 } name) p["name"] = name;
        p["port"] = port;
        p["protocol"] = JsonRead.Str(servicePort, "protocol") ?? "TCP";
        if (JsonRead.Str(servicePort, "appProtocol") is { } ap) p["appProtocol"] = ap;
        return p;
    }

    /// <summary>The pod reference an address or endpoint carries.</summary>
    public static JsonObject TargetRef(JsonObject pod) => new()
    {
        ["kind"] = "Pod",
        ["namespace"] = Meta.Namespace(pod),
        ["name"] = Meta.Name(pod),
        ["uid"] = Meta.Uid(pod),
    };

    /// <summary>Go's time.RFC3339Nano in UTC (fraction without trailing zeros).</summary>
    public static string Rfc3339Nano(DateTimeOffset t)
    {
        var s = t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture).TrimEnd('0').TrimEnd('.');
        return s + "Z";
    }

    /// <summary>Semantic equality of two JSON trees (object members in any order).</summary>
    public static bool Same(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(a, b);
}
