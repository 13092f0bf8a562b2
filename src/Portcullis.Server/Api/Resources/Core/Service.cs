using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Service: its definition and behaviour (upstream pkg/registry/core/service).</summary>
internal sealed class ServiceKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "services", Singular = "service", Kind = "Service", Namespaced = true,
        ShortNames = ["svc"], Categories = ["all"], Subresources = ["status"], NameRule = NameRule.Dns1035Label,
        StoragePrefix = "services/specs", ReturnDeletedObject = true,
        Verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        Strategy = new ServiceKind(),
    };

    // v1.DefaultClientIPServiceAffinitySeconds: three hours.
    private const int ClientIpAffinitySeconds = 10800;

    /// <summary>
    /// SetDefaults_Service. Cluster IPs, IP families and the IP family policy are not defaults upstream:
    /// the service registry assigns them.
    /// </summary>
    public override void Default(JsonObject obj)
    {
        if (J.Ensure(obj, "spec") is not { } spec) return;

        J.DefaultString(spec, "sessionAffinity", "None");
        switch (J.Str(spec, "sessionAffinity"))
        {
            case "None":
                spec.Remove("sessionAffinityConfig");
                break;
            case "ClientIP":
                var clientIp = J.Obj(J.Obj(spec, "sessionAffinityConfig"), "clientIP");
                if (clientIp is null || J.IsNull(clientIp, "timeoutSeconds"))
                    spec["sessionAffinityConfig"] = new JsonObject
                    {
                        ["clientIP"] = new JsonObject { ["timeoutSeconds"] = J.Num(ClientIpAffinitySeconds) },
                    };
                break;
        }

        J.DefaultString(spec, "type", "ClusterIP");
        var type = J.Str(spec, "type");

        foreach (var port in J.Items(spec, "ports"))
        {
            J.DefaultString(port, "protocol", "TCP");
            if (J.IsZeroIntOrString(port, "targetPort"))
                port["targetPort"] = J.Num(J.Int(port, "port") ?? 0);
        }

        var externallyAccessible = type is "LoadBalancer" or "NodePort"
            || (type == "ClusterIP" && !J.IsEmptyCollection(spec, "externalIPs"));
        if (externallyAccessible) J.DefaultString(spec, "externalTrafficPolicy", "Cluster");

        if (type is "NodePort" or "LoadBalancer" or "ClusterIP")
            J.DefaultPointer(spec, "internalTrafficPolicy", "Cluster");

        if (type == "LoadBalancer")
        {
            J.DefaultPointer(spec, "allocateLoadBalancerNodePorts", true);
            // LoadBalancerIPMode is GA in 1.33: an ingress point with an IP is a VIP unless it says otherwise.
            foreach (var ingress in J.Items(J.Obj(J.Obj(obj, "status"), "loadBalancer"), "ingress"))
                if (!string.IsNullOrEmpty(J.Str(ingress, "ip")))
                    J.DefaultPointer(ingress, "ipMode", "VIP");
        }
    }

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => DropTypeDependentFields(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ServiceValidation.Service(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("spec.clusterIP", FieldLabel.At("spec", "clusterIP")),
        ("spec.type", FieldLabel.At("spec", "type")));

    /// <summary>kubectl get's columns for services.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Type", "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName."),
        Col("Cluster-IP", "The service's primary virtual IP inside the cluster."),
        Col("External-IP", "The addresses the service is reachable on from outside the cluster."),
        Col("Port(s)", "The ports the service exposes, with node ports where allocated."),
        AgeColumn,
        Col("Selector", "The pod labels that pick the service's backends.", 1),
    ], Cells);

    /// <summary>
    /// The Service strategy's dropTypeDependentFields (pkg/registry/core/service/strategy.go): when an
    /// update switches to a type that no longer uses a field and the user left that field as it was,
    /// the field is wiped (and later released) instead of failing validation.
    /// </summary>
    public static void DropTypeDependentFields(JsonObject svc, JsonObject? old, StrategyContext ctx)
    {
        if (old is null || ctx.Subresource.Length > 0) return;
        if (svc["spec"] is not JsonObject spec || old["spec"] is not JsonObject oldSpec) return;
        // Go's zero values: an absent or non-string field reads as "" (a *string as null), an absent number as 0.
        static bool Same(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(a, b);
        var type = JsonRead.StrOrEmpty(spec, "type");
        var oldType = JsonRead.StrOrEmpty(oldSpec, "type");
        if (oldType != "ExternalName" && type == "ExternalName")
        {
            if (JsonRead.StrOrEmpty(oldSpec, "clusterIP") == JsonRead.StrOrEmpty(spec, "clusterIP") && Same(oldSpec["clusterIPs"], spec["clusterIPs"]))
            {
                spec.Remove("clusterIP");
                spec.Remove("clusterIPs");
            }
            if (Same(oldSpec["ipFamilies"], spec["ipFamilies"])) spec.Remove("ipFamilies");
            if (JsonRead.StrOrEmpty(oldSpec, "ipFamilyPolicy") == JsonRead.StrOrEmpty(spec, "ipFamilyPolicy")) spec.Remove("ipFamilyPolicy");
        }
        static bool NeedsNodePort(string t) => t is "NodePort" or "LoadBalancer";
        static HashSet<long> NodePorts(JsonObject s) =>
            (s["ports"] as JsonArray ?? []).OfType<JsonObject>().Select(p => JsonRead.LongTruncated(p["nodePort"]) ?? 0).Where(n => n != 0).ToHashSet();
        if (NeedsNodePort(oldType) && !NeedsNodePort(type) && NodePorts(oldSpec).IsSupersetOf(NodePorts(spec)))
            foreach (var p in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>()) p.Remove("nodePort");
        static bool NeedsHc(JsonObject s) => JsonRead.StrOrEmpty(s, "type") == "LoadBalancer" && JsonRead.StrOrEmpty(s, "externalTrafficPolicy") == "Local";
        if (NeedsHc(oldSpec) && !NeedsHc(spec) && (JsonRead.LongTruncated(oldSpec["healthCheckNodePort"]) ?? 0) == (JsonRead.LongTruncated(spec["healthCheckNodePort"]) ?? 0))
            spec.Remove("healthCheckNodePort");
        if (oldType == "LoadBalancer" && type != "LoadBalancer")
        {
            if (spec["allocateLoadBalancerNodePorts"] is JsonValue a && oldSpec["allocateLoadBalancerNodePorts"] is JsonValue b
                && a.TryGetValue<bool>(out var av) && b.TryGetValue<bool>(out var bv) && av == bv)
                spec.Remove("allocateLoadBalancerNodePorts");
            if (JsonRead.Str(oldSpec, "loadBalancerClass") == JsonRead.Str(spec, "loadBalancerClass")) spec.Remove("loadBalancerClass");
        }
        if (NeedsNodePort(oldType) && !NeedsNodePort(type) && JsonRead.StrOrEmpty(oldSpec, "externalTrafficPolicy") == JsonRead.StrOrEmpty(spec, "externalTrafficPolicy"))
            spec.Remove("externalTrafficPolicy");
        if (type != "LoadBalancer" && svc["status"] is JsonObject status) status["loadBalancer"] = new JsonObject();
    }

    private static IReadOnlyList<JsonNode?> Cells(JsonObject o, DateTimeOffset now)
    {
        var spec = o["spec"] as JsonObject;
        var type = Str(spec?["type"]);
        if (type.Length == 0) type = "ClusterIP";
        // The legacy clusterIP field wins over clusterIPs[0], as in the v1 → internal conversion.
        var clusterIP = Str(spec?["clusterIP"]);
        if (clusterIP.Length == 0) clusterIP = Strings(spec?["clusterIPs"]).FirstOrDefault() ?? "";
        var ports = string.Join(",", Objects(spec?["ports"]).Select(p =>
        {
            var protocol = Str(p["protocol"]);
            if (protocol.Length == 0) protocol = "TCP";
            var nodePort = Int(p["nodePort"]);
            return nodePort > 0
                ? I(Int(p["port"])) + ":" + I(nodePort) + "/" + protocol
                : I(Int(p["port"])) + "/" + protocol;
        }));
        return
        [
            Cell(Name(o)),
            Cell(type),
            Cell(clusterIP.Length > 0 ? clusterIP : "<none>"),
            Cell(ServiceExternalIP(o, type)),
            Cell(ports.Length > 0 ? ports : "<none>"),
            Cell(Age(o, now)),
            Cell(LabelFormatting.FormatLabels(spec?["selector"])),
        ];
    }

    private static string ServiceExternalIP(JsonObject svc, string type)
    {
        var externalIPs = Strings(At(svc, "spec", "externalIPs"));
        switch (type)
        {
            case "ClusterIP":
            case "NodePort":
                return externalIPs.Count > 0 ? string.Join(",", externalIPs) : "<none>";
            case "LoadBalancer":
                // Server-side tables are always wide, so the ingress list is never clipped.
                var lb = string.Join(",", LoadBalancerAddresses.Of(At(svc, "status", "loadBalancer", "ingress")));
                if (externalIPs.Count > 0)
                {
                    var results = new List<string>();
                    if (lb.Length > 0) results.AddRange(lb.Split(','));
                    results.AddRange(externalIPs);
                    return string.Join(",", results);
                }
                return lb.Length > 0 ? lb : "<pending>";
            case "ExternalName":
                return Str(At(svc, "spec", "externalName"));
            default:
                return "<unknown>";
        }
    }
}
