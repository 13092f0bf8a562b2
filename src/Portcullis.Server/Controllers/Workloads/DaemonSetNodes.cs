using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// Which nodes a DaemonSet runs on, and how its pods are pinned there (pkg/controller/daemon/util/daemonset_util.go,
/// daemon_controller.go NodeShouldRunDaemonPod): the tolerations every daemon pod gets, the required node affinity
/// <c>matchFields metadata.name In [node]</c> that replaces the template's required terms, and the predicates
/// (the template's nodeSelector and required node affinity, and the node's NoSchedule/NoExecute taints).
/// </summary>
public static class DaemonSetNodes
{
    /// <summary>AddOrUpdateDaemonPodTolerations: what a daemon pod tolerates beyond its template's tolerations.</summary>
    public static void AddTolerations(JsonObject podSpec)
    {
        var tolerations = podSpec["tolerations"] as JsonArray ?? new JsonArray();
        void Add(string key, string effect)
        {
            var exists = tolerations.OfType<JsonObject>().Any(t => JsonRead.Str(t, "key") == key && JsonRead.Str(t, "effect") == effect
                && JsonRead.Str(t, "operator") == "Exists");
            if (exists) return;
            // AddOrUpdateTolerationInPodSpec: a toleration with the same key and effect is replaced.
            for (var i = tolerations.Count - 1; i >= 0; i--)
                if (tolerations[i] is JsonObject t && JsonRead.Str(t, "key") == key && JsonRead.Str(t, "effect") == effect) tolerations.RemoveAt(i);
            tolerations.Add((JsonNode)new JsonObject { ["key"] = key, ["operator"] = "Exists", ["effect"] = effect });
        }
        Add("node.kubernetes.io/not-ready", "NoExecute");
        Add("node.kubernetes.io/unreachable", "NoExecute");
        Add("node.kubernetes.io/disk-pressure", "NoSchedule");
        Add("node.kubernetes.io/memory-pressure", "NoSchedule");
        Add("node.kubernetes.io/pid-pressure", "NoSchedule");
        Add("node.kubernetes.io/unschedulable", "NoSchedule");
        if (JsonRead.Bool(podSpec, "hostNetwork") == true) Add("node.kubernetes.io/network-unavailable", "NoSchedule");
        podSpec["tolerations"] = tolerations;
    }

    /// <summary>ReplaceDaemonSetPodNodeNameNodeAffinity: the pod's required node affinity becomes the one node.</summary>
    public static void PinToNode(JsonObject podSpec, string nodeName)
    {
        var terms = new JsonArray(new JsonObject
        {
            ["matchFields"] = new JsonArray(new JsonObject
            {
                ["key"] = "metadata.name", ["operator"] = "In", ["values"] = new JsonArray(JsonValue.Create(nodeName)),
            }),
        });
        var affinity = podSpec["affinity"] as JsonObject ?? new JsonObject();
        var nodeAffinity = affinity["nodeAffinity"] as JsonObject ?? new JsonObject();
        var required = nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"] as JsonObject ?? new JsonObject();
        required["nodeSelectorTerms"] = terms;
        nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"] = required;
        affinity["nodeAffinity"] = nodeAffinity;
        podSpec["affinity"] = affinity;
    }

    /// <summary>
    /// NodeShouldRunDaemonPod: (shouldRun, shouldContinueRunning). The pod must fit the node's labels and name; an
    /// untolerated NoSchedule taint keeps a new pod off, an untolerated NoExecute taint also evicts a running one.
    /// </summary>
    public static (bool ShouldRun, bool ShouldContinueRunning) ShouldRun(JsonObject node, JsonObject template)
    {
        var podSpec = (JsonObject)(template["spec"]?.DeepClone() ?? new JsonObject());
        AddTolerations(podSpec);
        if (!Fits(podSpec, node)) return (false, false);
        var tolerations = podSpec["tolerations"] as JsonArray;
        foreach (var taint in (node["spec"]?["taints"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var effect = JsonRead.StrOrEmpty(taint, "effect");
            if (effect is not ("NoSchedule" or "NoExecute")) continue;
            if (Scheduling.Taints.ToleratesTaint(tolerations, JsonRead.StrOrEmpty(taint, "key"), JsonRead.StrOrEmpty(taint, "value"), effect)) continue;
            return effect == "NoExecute" ? (false, false) : (false, true);
        }
        return (true, true);
    }

    /// <summary>GetRequiredNodeAffinity(pod).Match(node): the nodeSelector and any one of the required terms.</summary>
    public static bool Fits(JsonObject podSpec, JsonObject node) =>
        Scheduling.NodeSelectors.MatchesRequired(podSpec["nodeSelector"] as JsonObject,
            podSpec["affinity"]?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"] as JsonArray,
            Meta.Labels(node), Meta.Name(node));

    /// <summary>The node a daemon pod is for: its nodeName, or the node its required affinity pins it to.</summary>
    public static string NodeOf(JsonObject pod)
    {
        if (JsonRead.Str(pod["spec"] as JsonObject, "nodeName") is { Length: > 0 } n) return n;
        foreach (var term in (pod["spec"]?["affinity"]?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"] as JsonArray ?? []).OfType<JsonObject>())
            foreach (var f in (term["matchFields"] as JsonArray ?? []).OfType<JsonObject>())
                if (JsonRead.Str(f, "key") == "metadata.name" && JsonRead.Str(f, "operator") == "In" && f["values"] is JsonArray { Count: 1 } v)
                    return JsonRead.Str(v[0]) ?? "";
        return "";
    }
}
