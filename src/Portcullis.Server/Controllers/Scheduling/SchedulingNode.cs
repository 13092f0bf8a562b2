using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// The scheduler's NodeInfo: the Node's labels, taints, cordon and allocatable, and the pods bound to it with their
/// summed requests (exact and non-zero), host ports in use and per-controller counts — kept up to date as pods come
/// and go, so that a scheduling attempt reads sums, not lists.
/// </summary>
internal sealed class SchedulingNode
{
    public required string Name { get; init; }
    public required Dictionary<string, string> Labels { get; init; }
    public required List<Taint> Taints { get; init; }
    public required bool Unschedulable { get; init; }
    public required ResourceSet Allocatable { get; init; }

    public ResourceSet Requested { get; } = new();
    public ResourceSet NonZeroRequested { get; } = new();
    public Dictionary<string, SchedulingPod> Pods { get; } = new(StringComparer.Ordinal);
    public List<(string Protocol, string HostIp, int Port)> UsedPorts { get; } = [];
    /// <summary>Pods per controller (ownerReference uid): the system default spreading's count.</summary>
    public Dictionary<string, int> ByController { get; } = new(StringComparer.Ordinal);
    /// <summary>Pods with required anti-affinity terms bound here (InterPodAffinity's existing anti-affinity).</summary>
    public int WithRequiredAntiAffinity { get; private set; }

    /// <summary>
    /// Reads a Node. A node whose Ready condition is not True carries the taint the node lifecycle controller adds
    /// (TaintNodesByCondition: node.kubernetes.io/not-ready:NoSchedule), so a Node created by hand without a kubelet
    /// behind it gets no pods.
    /// </summary>
    public static SchedulingNode Read(JsonObject node)
    {
        var taints = ((node["spec"]?["taints"] as JsonArray) ?? []).OfType<JsonObject>().Select(Taint.From).ToList();
        var ready = ((node["status"]?["conditions"] as JsonArray) ?? []).OfType<JsonObject>()
            .Any(c => JsonRead.Str(c, "type") == "Ready" && JsonRead.Str(c, "status") == "True");
        if (!ready && !taints.Any(t => t.Key == Scheduling.Taints.NotReadyTaintKey && t.Effect == "NoSchedule"))
            taints.Add(new Taint(Scheduling.Taints.NotReadyTaintKey, "", "NoSchedule"));
        return new SchedulingNode
        {
            Name = Meta.Name(node),
            Labels = Meta.Labels(node),
            Taints = taints,
            Unschedulable = JsonRead.Bool(node["spec"], "unschedulable") == true,
            Allocatable = ResourceSet.FromJson(node["status"]?["allocatable"]),
        };
    }

    /// <summary>Same scheduling facts (labels, taints, cordon, allocatable) — a heartbeat that changes none is no news.</summary>
    public bool SameFacts(SchedulingNode o) =>
        Unschedulable == o.Unschedulable && Labels.Count == o.Labels.Count && Labels.All(kv => o.Labels.TryGetValue(kv.Key, out var v) && v == kv.Value)
        && Taints.SequenceEqual(o.Taints) && Allocatable.MilliCpu == o.Allocatable.MilliCpu && Allocatable.Memory == o.Allocatable.Memory
        && Allocatable.EphemeralStorage == o.Allocatable.EphemeralStorage && Allocatable.AllowedPods == o.Allocatable.AllowedPods
        && (Allocatable.Scalar ?? []).Count == (o.Allocatable.Scalar ?? []).Count
        && (Allocatable.Scalar ?? []).All(kv => o.Allocatable.ScalarOf(kv.Key) == kv.Value);

    public void AddPod(SchedulingPod p)
    {
        if (!Pods.TryAdd(p.Key, p)) return;
        Requested.Add(p.Requests);
        NonZeroRequested.Add(p.NonZero);
        UsedPorts.AddRange(p.HostPorts);
        if (p.ControllerUid is { } c) ByController[c] = ByController.GetValueOrDefault(c) + 1;
        if (p.HasRequiredAntiAffinity) WithRequiredAntiAffinity++;
    }

    public void RemovePod(SchedulingPod p)
    {
        if (!Pods.Remove(p.Key)) return;
        Requested.Add(p.Requests, -1);
        NonZeroRequested.Add(p.NonZero, -1);
        foreach (var port in p.HostPorts) UsedPorts.Remove(port);
        if (p.ControllerUid is { } c && ByController.TryGetValue(c, out var n))
        {
            if (n <= 1) ByController.Remove(c);
            else ByController[c] = n - 1;
        }
        if (p.HasRequiredAntiAffinity) WithRequiredAntiAffinity--;
    }

    /// <summary>Moves another node object's pods and sums onto this one (a Node update keeps its pods).</summary>
    public void TakePodsFrom(SchedulingNode old)
    {
        foreach (var p in old.Pods.Values) AddPod(p);
    }
}
