using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Node;

/// <summary>
/// The built-in scheduler's filters for its one node, in kube-scheduler 1.33's default order (the first
/// failing filter decides the node's reason): NodeUnschedulable, TaintToleration, NodeAffinity (the pod's
/// nodeSelector), NodeResourcesFit (the pod count); and the FailedScheduling message the scheduler writes,
/// with the DefaultPreemption post-filter's verdict.
/// </summary>
public static class SchedulerFilter
{
    /// <summary>Why the node was filtered out; <paramref name="Unresolvable"/> when preemption cannot help (UnschedulableAndUnresolvable).</summary>
    public readonly record struct Failure(string Reason, bool Unresolvable);

    public const string UnschedulableTaintKey = "node.kubernetes.io/unschedulable";

    /// <summary>The first filter the pod fails on the node, or null when it fits.</summary>
    /// <param name="nodeSpec">The live Node's spec (unschedulable, taints); null when it cannot be read.</param>
    public static Failure? Filter(JsonObject pod, JsonObject? nodeSpec, JsonObject nodeLabels, int assigned, int maxPods)
    {
        var tolerations = pod["spec"]?["tolerations"] as JsonArray;
        // NodeUnschedulable: a cordoned node, unless the pod tolerates its taint {node.kubernetes.io/unschedulable, NoSchedule}.
        if (nodeSpec?["unschedulable"] is JsonValue u && u.TryGetValue<bool>(out var cordoned) && cordoned
            && !ToleratesTaint(tolerations, UnschedulableTaintKey, "", "NoSchedule"))
            return new("node(s) were unschedulable", true);
        // TaintToleration: the first NoSchedule or NoExecute taint no toleration matches.
        foreach (var taint in (nodeSpec?["taints"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var effect = JsonRead.StrOrEmpty(taint, "effect");
            if (effect is not ("NoSchedule" or "NoExecute")) continue;
            var key = JsonRead.StrOrEmpty(taint, "key");
            var value = JsonRead.StrOrEmpty(taint, "value");
            if (!ToleratesTaint(tolerations, key, value, effect))
                return new($"node(s) had untolerated taint {{{key}: {value}}}", true);
        }
        // NodeAffinity: the nodeSelector.
        if (pod["spec"]?["nodeSelector"] is JsonObject selector)
            foreach (var (k, v) in selector)
                if (nodeLabels[k]?.GetValue<string>() != v?.GetValue<string>())
                    return new("node(s) didn't match Pod's node affinity/selector", true);
        // NodeResourcesFit: allocatable pods.
        if (assigned + 1 > maxPods) return new("Too many pods", false);
        return null;
    }

    /// <summary>
    /// The FitError message with the post-filter's: preemptionPolicy=Never makes the pod ineligible whatever the
    /// reason; an unresolvable node leaves preemption nothing to try; otherwise preemption (not simulated) finds no victims.
    /// </summary>
    public static string Message(JsonObject pod, Failure failure)
    {
        var preemption = pod["spec"]?["preemptionPolicy"]?.GetValue<string>() == "Never" ? "not eligible due to preemptionPolicy=Never."
            : failure.Unresolvable ? "0/1 nodes are available: 1 Preemption is not helpful for scheduling."
            : "0/1 nodes are available: 1 No preemption victims found for incoming pod.";
        return $"0/1 nodes are available: 1 {failure.Reason}. preemption: {preemption}.";
    }

    /// <summary>component-helpers' TolerationsTolerateTaint: some toleration tolerates the taint.</summary>
    public static bool ToleratesTaint(JsonArray? tolerations, string key, string value, string effect) =>
        (tolerations ?? []).OfType<JsonObject>().Any(t => Tolerates(t, key, value, effect));

    /// <summary>
    /// core/v1 Toleration.ToleratesTaint: an empty effect matches every effect, an empty key every key; operator
    /// Exists matches any value, Equal (or empty) the same value, any other operator nothing.
    /// </summary>
    public static bool Tolerates(JsonObject toleration, string key, string value, string effect)
    {
        var tEffect = JsonRead.StrOrEmpty(toleration, "effect");
        if (tEffect.Length > 0 && tEffect != effect) return false;
        var tKey = JsonRead.StrOrEmpty(toleration, "key");
        if (tKey.Length > 0 && tKey != key) return false;
        return JsonRead.StrOrEmpty(toleration, "operator") switch
        {
            "" or "Equal" => JsonRead.StrOrEmpty(toleration, "value") == value,
            "Exists" => true,
            _ => false,
        };
    }

}
