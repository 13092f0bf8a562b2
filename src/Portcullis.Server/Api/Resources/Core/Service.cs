using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

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

    public override void Default(JsonObject obj) => ServiceDefaults.Service(obj);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => DropTypeDependentFields(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ServiceValidation.Service(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("spec.clusterIP", FieldLabel.At("spec", "clusterIP")), ("spec.type", FieldLabel.At("spec", "type")));

    public override TablePrinter Printer => CorePrinters.Service;

    /// <summary>
    /// The Service strategy's dropTypeDependentFields (pkg/registry/core/service/strategy.go): when an
    /// update switches to a type that no longer uses a field and the user left that field as it was,
    /// the field is wiped (and later released) instead of failing validation.
    /// </summary>
    public static void DropTypeDependentFields(JsonObject svc, JsonObject? old, StrategyContext ctx)
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
}
