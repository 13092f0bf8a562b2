namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// One scheduling attempt of one pod over a snapshot of the nodes: the default plugins' PreFilter and Filter in
/// kube-scheduler 1.33's order (pkg/scheduler/apis/config/v1/default_plugins.go) — NodeUnschedulable, NodeName,
/// TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity — where the first
/// failing filter decides a node's reasons; then the scores of the feasible nodes (<see cref="Scoring"/>). The
/// reasons are upstream's texts (each plugin's ErrReason constants).
/// </summary>
internal sealed partial class SchedulingCycle
{
    public const string ErrUnschedulable = "node(s) were unschedulable";
    public const string ErrNodeName = "node(s) didn't match the requested node name";
    public const string ErrNodeAffinity = "node(s) didn't match Pod's node affinity/selector";
    public const string ErrNodePorts = "node(s) didn't have free ports for the requested pod ports";
    public const string ErrTooManyPods = "Too many pods";
    public const string ErrSpread = "node(s) didn't match pod topology spread constraints";
    public const string ErrSpreadLabel = ErrSpread + " (missing required label)";
    public const string ErrAffinity = "node(s) didn't match pod affinity rules";
    public const string ErrAntiAffinity = "node(s) didn't match pod anti-affinity rules";
    public const string ErrExistingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules";
    public const string ErrAffinityConflict = "pod affinity terms conflict";

    private readonly SchedulingPod _pod;
    private readonly IReadOnlyList<SchedulingNode> _nodes;
    private readonly Func<string, IReadOnlyDictionary<string, string>?> _namespaceLabels;

    public SchedulingCycle(SchedulingPod pod, IReadOnlyList<SchedulingNode> nodes, Func<string, IReadOnlyDictionary<string, string>?> namespaceLabels)
    {
        _pod = pod;
        _nodes = nodes;
        _namespaceLabels = namespaceLabels;
    }

    /// <summary>The outcome: the feasible nodes, or the message-worthy failures.</summary>
    public sealed record Result(List<SchedulingNode> Feasible, List<FilterFailure> Failures, FilterFailure? Absent, string? PreFilterMessage);

    public Result FindFeasible()
    {
        var feasible = new List<SchedulingNode>();
        var failures = new List<FilterFailure>();
        // NodeAffinity's PreFilter: pinned to named nodes (matchFields metadata.name In), the others are not filtered.
        var names = NodeSelectors.NodeNames(_pod.RequiredNodeTerms);
        if (names is { Count: 0 }) return new([], [], null, ErrAffinityConflict);
        PreFilterInterPodAffinity();
        PreFilterSpread();
        foreach (var node in _nodes)
        {
            if (names is not null && !names.Contains(node.Name)) continue;
            if (Filter(node) is { } f) failures.Add(f);
            else feasible.Add(node);
        }
        FilterFailure? absent = names is null ? null : FilterFailure.UnschedulableAndUnresolvable("node(s) didn't satisfy plugin(s) [NodeAffinity]");
        return new(feasible, failures, absent, null);
    }

    /// <summary>The first filter the pod fails on the node, or null when it fits.</summary>
    public FilterFailure? Filter(SchedulingNode node)
    {
        var pod = _pod;
        // NodeUnschedulable: a cordoned node, unless the pod tolerates its taint {node.kubernetes.io/unschedulable, NoSchedule}.
        if (node.Unschedulable && !Taints.ToleratesTaint(pod.Tolerations, Taints.UnschedulableTaintKey, "", "NoSchedule"))
            return FilterFailure.UnschedulableAndUnresolvable(ErrUnschedulable);
        // NodeName: the scheduler only sees unbound pods, so spec.nodeName never names another node here.
        // TaintToleration: the first NoSchedule or NoExecute taint no toleration matches.
        if (Taints.FirstUntoleratedDoNotSchedule(node.Taints, pod.Tolerations) is { } taint)
            return FilterFailure.UnschedulableAndUnresolvable($"node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}");
        // NodeAffinity: nodeSelector AND required node affinity.
        if (!NodeSelectors.MatchesRequired(pod.NodeSelector, pod.RequiredNodeTerms, node))
            return FilterFailure.UnschedulableAndUnresolvable(ErrNodeAffinity);
        // NodePorts.
        if (pod.HostPorts.Count > 0 && PortsConflict(pod.HostPorts, node.UsedPorts))
            return FilterFailure.Unschedulable(ErrNodePorts);
        // NodeResourcesFit: every insufficient resource is a reason of its own.
        if (Fit(pod.Requests, node) is { } fit) return fit;
        if (FilterSpread(node) is { } spread) return spread;
        if (FilterInterPodAffinity(node) is { } affinity) return affinity;
        return null;
    }

    /// <summary>NodePorts' fitsPorts: the same protocol and port, on the same host IP or either a wildcard.</summary>
    private static bool PortsConflict(List<(string Protocol, string HostIp, int Port)> wanted, List<(string Protocol, string HostIp, int Port)> used)
    {
        static bool Wildcard(string ip) => ip is "" or "0.0.0.0";
        foreach (var w in wanted)
            foreach (var u in used)
                if (w.Port == u.Port && w.Protocol == u.Protocol && (Wildcard(w.HostIp) || Wildcard(u.HostIp) || w.HostIp == u.HostIp))
                    return true;
        return false;
    }

    /// <summary>noderesources fitsRequest: the pod count, then cpu, memory, ephemeral-storage and scalar resources against allocatable minus requested.</summary>
    public static FilterFailure? Fit(ResourceSet request, SchedulingNode node)
    {
        List<string>? reasons = null;
        if (node.Pods.Count + 1 > node.Allocatable.AllowedPods) (reasons ??= []).Add(ErrTooManyPods);
        if (!request.IsZero)
        {
            var a = node.Allocatable;
            var r = node.Requested;
            if (request.MilliCpu > 0 && request.MilliCpu > a.MilliCpu - r.MilliCpu) (reasons ??= []).Add("Insufficient cpu");
            if (request.Memory > 0 && request.Memory > a.Memory - r.Memory) (reasons ??= []).Add("Insufficient memory");
            if (request.EphemeralStorage > 0 && request.EphemeralStorage > a.EphemeralStorage - r.EphemeralStorage)
                (reasons ??= []).Add("Insufficient ephemeral-storage");
            if (request.Scalar is not null)
                foreach (var (name, q) in request.Scalar.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    if (q != 0 && q > a.ScalarOf(name) - r.ScalarOf(name)) (reasons ??= []).Add($"Insufficient {name}");
        }
        return reasons is null ? null : FilterFailure.Unschedulable([.. reasons]);
    }
}
