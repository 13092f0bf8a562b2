using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Api.Resources;

/// <summary>Per-kind strategy hooks (upstream's PrepareForCreate / PrepareForUpdate) that are not defaults.</summary>
internal static class Strategies
{
    public const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    /// <summary>A new namespace is Active, carries the kubernetes finalizer and its name label.</summary>
    public static void NamespaceCreate(JsonObject ns, StrategyContext _)
    {
        var spec = ns["spec"] as JsonObject ?? new JsonObject();
        var fins = spec["finalizers"] as JsonArray ?? new JsonArray();
        if (!fins.Any(f => f?.GetValue<string>() == "kubernetes")) fins.Add((JsonNode)"kubernetes");
        spec["finalizers"] = fins;
        ns["spec"] = spec;
        ns["status"] = new JsonObject { ["phase"] = "Active" };
        EnsureNameLabel(ns);
    }

    /// <summary>spec.finalizers change only through /finalize; the name label stays.</summary>
    public static void NamespaceUpdate(JsonObject ns, JsonObject? old, StrategyContext _)
    {
        EnsureNameLabel(ns);
    }

    /// <summary>
    /// The Service strategy's dropTypeDependentFields (pkg/registry/core/service/strategy.go): when an
    /// update switches to a type that no longer uses a field and the user left that field as it was,
    /// the field is wiped (and later released) instead of failing validation.
    /// </summary>
    public static void ServiceUpdate(JsonObject svc, JsonObject? old, StrategyContext ctx)
    {
        if (old is null || ctx.Subresource.Length > 0) return;
        if (svc["spec"] is not JsonObject spec || old["spec"] is not JsonObject oldSpec) return;
        static string Str(JsonObject o, string k) => o[k] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        static string? StrN(JsonObject o, string k) => o[k] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        static long Num(JsonObject o, string k) => Validation.J.L(o, k) ?? 0;
        static bool Same(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(a, b);
        var type = Str(spec, "type");
        var oldType = Str(oldSpec, "type");
        if (oldType != "ExternalName" && type == "ExternalName")
        {
            if (Str(oldSpec, "clusterIP") == Str(spec, "clusterIP") && Same(oldSpec["clusterIPs"], spec["clusterIPs"]))
            {
                spec.Remove("clusterIP");
                spec.Remove("clusterIPs");
            }
            if (Same(oldSpec["ipFamilies"], spec["ipFamilies"])) spec.Remove("ipFamilies");
            if (Str(oldSpec, "ipFamilyPolicy") == Str(spec, "ipFamilyPolicy")) spec.Remove("ipFamilyPolicy");
        }
        static bool NeedsNodePort(string t) => t is "NodePort" or "LoadBalancer";
        static HashSet<long> NodePorts(JsonObject s) =>
            (s["ports"] as JsonArray ?? []).OfType<JsonObject>().Select(p => Num(p, "nodePort")).Where(n => n != 0).ToHashSet();
        if (NeedsNodePort(oldType) && !NeedsNodePort(type) && NodePorts(oldSpec).IsSupersetOf(NodePorts(spec)))
            foreach (var p in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>()) p.Remove("nodePort");
        static bool NeedsHc(JsonObject s) => Str(s, "type") == "LoadBalancer" && Str(s, "externalTrafficPolicy") == "Local";
        if (NeedsHc(oldSpec) && !NeedsHc(spec) && Num(oldSpec, "healthCheckNodePort") == Num(spec, "healthCheckNodePort"))
            spec.Remove("healthCheckNodePort");
        if (oldType == "LoadBalancer" && type != "LoadBalancer")
        {
            if (spec["allocateLoadBalancerNodePorts"] is JsonValue a && oldSpec["allocateLoadBalancerNodePorts"] is JsonValue b
                && a.TryGetValue<bool>(out var av) && b.TryGetValue<bool>(out var bv) && av == bv)
                spec.Remove("allocateLoadBalancerNodePorts");
            if (StrN(oldSpec, "loadBalancerClass") == StrN(spec, "loadBalancerClass")) spec.Remove("loadBalancerClass");
        }
        if (NeedsNodePort(oldType) && !NeedsNodePort(type) && Str(oldSpec, "externalTrafficPolicy") == Str(spec, "externalTrafficPolicy"))
            spec.Remove("externalTrafficPolicy");
        if (type != "LoadBalancer" && svc["status"] is JsonObject status) status["loadBalancer"] = new JsonObject();
    }

    private static void EnsureNameLabel(JsonObject obj)
    {
        var labels = Meta.Of(obj)["labels"] as JsonObject ?? new JsonObject();
        labels[NamespaceNameLabel] = Meta.Name(obj);
        Meta.Set(obj, "labels", labels);
    }

    public static List<string> SpecFinalizers(JsonObject obj) =>
        obj["spec"]?["finalizers"] is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? "").ToList() : [];

    /// <summary>A namespace marked for deletion is Terminating.</summary>
    public static void NamespaceMarked(JsonObject ns)
    {
        var status = ns["status"] as JsonObject ?? new JsonObject();
        status["phase"] = "Terminating";
        ns["status"] = status;
    }

    /// <summary>
    /// Lease (pkg/registry/coordination/lease/strategy.go): with CoordinatedLeaderElection off (beta, off by default
    /// in 1.33) spec.strategy and spec.preferredHolder are dropped on create, and on update unless the old lease
    /// already had them.
    /// </summary>
    public static void LeaseCreate(JsonObject lease, StrategyContext _)
    {
        if (lease["spec"] is not JsonObject spec) return;
        spec.Remove("strategy");
        spec.Remove("preferredHolder");
    }

    public static void LeaseUpdate(JsonObject lease, JsonObject? old, StrategyContext _)
    {
        if (lease["spec"] is not JsonObject spec) return;
        if (old?["spec"]?["strategy"] is null) spec.Remove("strategy");
        if (old?["spec"]?["preferredHolder"] is null) spec.Remove("preferredHolder");
    }

    /// <summary>A new pod is Pending with its QoS class; the rest of status is the node's to write.</summary>
    public static void PodCreate(JsonObject pod, StrategyContext _)
    {
        pod["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = QosClass(pod) };
    }

    /// <summary>
    /// upstream's pod CheckGracefulDelete: an unscheduled or finished pod goes at once; otherwise
    /// the requested period, else spec.terminationGracePeriodSeconds, else 30.
    /// </summary>
    public static long PodGracePeriod(JsonObject pod, long? requested)
    {
        if (string.IsNullOrEmpty(pod["spec"]?["nodeName"]?.GetValue<string>())) return 0;
        if (pod["status"]?["phase"]?.GetValue<string>() is "Succeeded" or "Failed") return 0;
        var period = requested ?? (pod["spec"]?["terminationGracePeriodSeconds"] is JsonValue v && ObjectShaper.TryInt(v, out var t) ? t : 30);
        // A negative period (from the request or the spec) means 1 s on the delete path.
        return period < 0 ? 1 : period;
    }

    /// <summary>upstream's qos.GetPodQOS.</summary>
    public static string QosClass(JsonObject pod)
    {
        var requests = new Dictionary<string, Quantity>();
        var limits = new Dictionary<string, Quantity>();
        var isGuaranteed = true;
        var containers = (pod["spec"]?["containers"] as JsonArray ?? []).Concat(pod["spec"]?["initContainers"] as JsonArray ?? []);
        foreach (var c in containers)
        {
            var res = c?["resources"];
            var req = Quantities(res?["requests"]);
            var lim = Quantities(res?["limits"]);
            foreach (var (k, q) in req)
                if (k is "cpu" or "memory" && q.Nanos > 0) requests[k] = q;
            var qualified = 0;
            foreach (var (k, q) in lim)
                if (k is "cpu" or "memory" && q.Nanos > 0) { limits[k] = q; qualified++; }
            if (qualified != 2) isGuaranteed = false;
        }
        if (requests.Count == 0 && limits.Count == 0) return "BestEffort";
        if (isGuaranteed)
        {
            foreach (var c in containers)
            {
                var req = Quantities(c?["resources"]?["requests"]);
                var lim = Quantities(c?["resources"]?["limits"]);
                foreach (var k in new[] { "cpu", "memory" })
                    if (req.TryGetValue(k, out var r) && lim.TryGetValue(k, out var l) && r.Nanos != l.Nanos) isGuaranteed = false;
            }
        }
        return isGuaranteed ? "Guaranteed" : "Burstable";
    }

    private static Dictionary<string, Quantity> Quantities(JsonNode? n)
    {
        var d = new Dictionary<string, Quantity>();
        if (n is JsonObject o)
            foreach (var (k, v) in o)
                if (v is JsonValue jv && Quantity.TryParse(jv.ToString(), out var q)) d[k] = q;
        return d;
    }
}
