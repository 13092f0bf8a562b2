using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// A pod's effective requests and limits as upstream computes them (component-helpers resource
/// PodRequests/PodLimits, with in-place resize status considered as InPlacePodVerticalScaling is
/// on by default in 1.33, pod-level resources off), and its QoS class.
/// </summary>
internal static class PodResources
{
    public static IEnumerable<JsonObject> Containers(JsonObject pod) => new PodView(pod).Containers;

    public static IEnumerable<JsonObject> InitContainers(JsonObject pod) => new PodView(pod).InitContainers;

    public static Dictionary<string, Qty> ContainerRequests(JsonObject c) => ResourceLists.Read(c["resources"]?["requests"]);

    public static Dictionary<string, Qty> ContainerLimits(JsonObject c) => ResourceLists.Read(c["resources"]?["limits"]);

    public static bool IsRestartable(JsonObject c) => JsonRead.StrOrEmpty(c["restartPolicy"]) == "Always";

    /// <summary>PodRequests: containers summed, init containers as a peak (sidecars included), plus overhead.</summary>
    public static Dictionary<string, Qty> Requests(JsonObject pod, bool useStatus = true, bool overhead = true)
    {
        var reqs = Aggregate(pod, c => EffectiveRequests(pod, c, useStatus));
        if (overhead) ResourceLists.AddInto(reqs, ResourceLists.Read(pod["spec"]?["overhead"]));
        return reqs;
    }

    /// <summary>PodLimits: like requests; overhead is added only to limits that are set and non-zero.</summary>
    public static Dictionary<string, Qty> Limits(JsonObject pod, bool useStatus = true, bool overhead = true)
    {
        var limits = Aggregate(pod, c => EffectiveLimits(pod, c, useStatus));
        if (overhead)
            foreach (var (k, v) in ResourceLists.Read(pod["spec"]?["overhead"]))
                if (limits.TryGetValue(k, out var cur) && !cur.IsZero) limits[k] = cur.Add(v);
        return limits;
    }

    private static Dictionary<string, Qty> Aggregate(JsonObject pod, Func<(JsonObject Container, bool Init), Dictionary<string, Qty>> of)
    {
        var result = new Dictionary<string, Qty>(StringComparer.Ordinal);
        foreach (var c in Containers(pod)) ResourceLists.AddInto(result, of((c, false)));
        var sidecars = new Dictionary<string, Qty>(StringComparer.Ordinal);
        var initPeak = new Dictionary<string, Qty>(StringComparer.Ordinal);
        foreach (var c in InitContainers(pod))
        {
            var own = of((c, true));
            Dictionary<string, Qty> use;
            if (IsRestartable(c))
            {
                ResourceLists.AddInto(result, own);
                ResourceLists.AddInto(sidecars, own);
                use = sidecars;
            }
            else
            {
                use = new Dictionary<string, Qty>(StringComparer.Ordinal);
                ResourceLists.AddInto(use, own);
                ResourceLists.AddInto(use, sidecars);
            }
            ResourceLists.MaxInto(initPeak, use);
        }
        ResourceLists.MaxInto(result, initPeak);
        return result;
    }

    private static Dictionary<string, Qty> EffectiveRequests(JsonObject pod, (JsonObject C, bool Init) x, bool useStatus)
    {
        var spec = ContainerRequests(x.C);
        if (!useStatus || (x.Init && !IsRestartable(x.C))) return spec;
        var cs = FindStatus(pod, JsonRead.StrOrEmpty(x.C["name"]), x.Init);
        if (cs?["resources"] is not JsonObject actual) return spec;
        var statusReqs = ResourceLists.Read(actual["requests"]);
        var allocated = ResourceLists.Read(cs["allocatedResources"]);
        return ResizeInfeasible(pod) ? ResourceLists.Max(statusReqs, allocated) : ResourceLists.Max(spec, statusReqs, allocated);
    }

    private static Dictionary<string, Qty> EffectiveLimits(JsonObject pod, (JsonObject C, bool Init) x, bool useStatus)
    {
        var spec = ContainerLimits(x.C);
        if (!useStatus || (x.Init && !IsRestartable(x.C))) return spec;
        var cs = FindStatus(pod, JsonRead.StrOrEmpty(x.C["name"]), x.Init);
        if (cs?["resources"] is not JsonObject actual) return spec;
        var statusLimits = ResourceLists.Read(actual["limits"]);
        return ResizeInfeasible(pod) ? statusLimits : ResourceLists.Max(spec, statusLimits);
    }

    private static JsonObject? FindStatus(JsonObject pod, string name, bool init) =>
        (pod["status"]?[init ? "initContainerStatuses" : "containerStatuses"] as JsonArray)?.OfType<JsonObject>()
            .FirstOrDefault(s => JsonRead.StrOrEmpty(s["name"]) == name);

    private static bool ResizeInfeasible(JsonObject pod)
    {
        foreach (var c in (pod["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>() ?? [])
            if (JsonRead.StrOrEmpty(c["type"]) == "PodResizePending") return JsonRead.StrOrEmpty(c["reason"]) == "Infeasible";
        return false;
    }

    /// <summary>qos.GetPodQOS is BestEffort: the recorded class, else no positive cpu or memory request or limit anywhere.</summary>
    public static bool IsBestEffort(JsonObject pod)
    {
        var recorded = JsonRead.StrOrEmpty(pod["status"]?["qosClass"]);
        if (recorded.Length > 0) return recorded == "BestEffort";
        foreach (var c in Containers(pod).Concat(InitContainers(pod)))
        {
            foreach (var list in new[] { ContainerRequests(c), ContainerLimits(c) })
                foreach (var (k, v) in list)
                    if (k is "cpu" or "memory" && v.Sign > 0) return false;
        }
        return true;
    }
}
