using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Pod: its definition and behaviour (upstream pkg/registry/core/pod).</summary>
internal sealed class PodKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "pods", Singular = "pod", Kind = "Pod", Namespaced = true,
        ShortNames = ["po"], Categories = ["all"], Subresources = ["attach", "binding", "exec", "log", "status"], ReturnDeletedObject = true,
        SubresourceVerbs = new Dictionary<string, string[]> { ["attach"] = ["create", "get"], ["binding"] = ["create"], ["exec"] = ["create", "get"], ["log"] = ["get"] },
        SubresourceKinds = new Dictionary<string, (string, string, string)> { ["attach"] = ("", "v1", "PodAttachOptions"), ["binding"] = ("", "v1", "Binding"), ["exec"] = ("", "v1", "PodExecOptions") },
        Strategy = new PodKind(),
    };

    public override void Default(JsonObject obj) => PodDefaults.Pod(obj);

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => Create(obj, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => PodValidation.Validate(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
         ("spec.nodeName", FieldLabel.At("spec", "nodeName")), ("spec.restartPolicy", FieldLabel.At("spec", "restartPolicy")), ("spec.schedulerName", FieldLabel.At("spec", "schedulerName")), ("spec.serviceAccountName", FieldLabel.At("spec", "serviceAccountName")), ("spec.hostNetwork", o => FieldLabel.At("spec", "hostNetwork")(o) ?? "false"), ("status.phase", FieldLabel.At("status", "phase")), ("status.podIP", FieldLabel.At("status", "podIP")), ("status.nominatedNodeName", FieldLabel.At("status", "nominatedNodeName")));

    public override long GracePeriod(JsonObject obj, long? requested) => GracefulPeriod(obj, requested);

    public override TablePrinter Printer => PodPrinter.Printer;

    /// <summary>A new pod is Pending with its QoS class; the rest of status is the node's to write.</summary>
    private static void Create(JsonObject pod, StrategyContext _)
    {
        pod["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = QosClass(pod) };
    }

    /// <summary>
    /// upstream's pod CheckGracefulDelete: an unscheduled or finished pod goes at once; otherwise
    /// the requested period, else spec.terminationGracePeriodSeconds, else 30.
    /// </summary>
    private static long GracefulPeriod(JsonObject pod, long? requested)
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
