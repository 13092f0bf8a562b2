using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Api.Views;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// A required or preferred (anti-)affinity term, as framework.AffinityTerm: the label selector, the namespaces it
/// looks in (the pod's own when neither namespaces nor namespaceSelector is given), the namespace selector, and the
/// topology key. An invalid selector matches nothing.
/// </summary>
internal sealed record AffinityTerm(Portcullis.Server.Controllers.MetaLabelSelector.Matcher Selector, HashSet<string> Namespaces,
    Portcullis.Server.Controllers.MetaLabelSelector.Matcher? NamespaceSelector, string TopologyKey, int Weight)
{
    /// <summary>AffinityTerm.Matches: the pod is in one of the namespaces (or its namespace's labels match) and its labels match.</summary>
    public bool Matches(SchedulingPod pod, IReadOnlyDictionary<string, string>? namespaceLabels) =>
        (Namespaces.Contains(pod.Namespace) || (NamespaceSelector is not null && namespaceLabels is not null && NamespaceSelector.Matches(namespaceLabels)))
        && Selector.Matches(pod.Labels);

    public static List<AffinityTerm> Read(JsonArray? terms, string podNamespace, bool weighted)
    {
        var result = new List<AffinityTerm>();
        foreach (var item in terms?.OfType<JsonObject>() ?? [])
        {
            var term = weighted ? item["podAffinityTerm"] as JsonObject : item;
            if (term is null) continue;
            var weight = weighted ? (int)(JsonRead.Long(item, "weight") ?? 0) : 1;
            var selector = term["labelSelector"] is JsonObject ls ? MetaLabelSelector.Convert(ls) ?? MetaLabelSelector.Nothing : MetaLabelSelector.Nothing;
            var namespaces = ((term["namespaces"] as JsonArray) ?? []).Select(JsonRead.StrOrEmpty).ToHashSet(StringComparer.Ordinal);
            var nsSelector = term["namespaceSelector"] is JsonObject nss ? MetaLabelSelector.Convert(nss) ?? MetaLabelSelector.Nothing : null;
            if (namespaces.Count == 0 && nsSelector is null) namespaces.Add(podNamespace);
            result.Add(new AffinityTerm(selector, namespaces, nsSelector, JsonRead.StrOrEmpty(term, "topologyKey"), weight));
        }
        return result;
    }
}

/// <summary>A topologySpreadConstraint as the PodTopologySpread plugin reads it (defaults applied).</summary>
internal sealed record SpreadConstraint(int MaxSkew, string TopologyKey, bool DoNotSchedule,
    Portcullis.Server.Controllers.MetaLabelSelector.Matcher Selector, int MinDomains, bool HonorNodeAffinity, bool HonorNodeTaints);

/// <summary>
/// What the scheduler keeps of a pod, read once per stored revision: identity, labels, placement, its effective
/// requests (component-helpers' PodRequests: containers summed, init containers' peak, overhead) and the non-zero
/// requests scoring uses (100m CPU and 200Mi memory for a container that requests none), host ports, and its
/// scheduling constraints.
/// </summary>
internal sealed record SchedulingPod
{
    public required string Key { get; init; }
    public required string Uid { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required Dictionary<string, string> Labels { get; init; }
    public required string NodeName { get; init; }
    public required string SchedulerName { get; init; }
    public required bool Deleting { get; init; }
    public required bool Terminal { get; init; }
    public required bool Gated { get; init; }
    public required ResourceSet Requests { get; init; }
    public required ResourceSet NonZero { get; init; }
    public required List<(string Protocol, string HostIp, int Port)> HostPorts { get; init; }
    public JsonArray? Tolerations { get; init; }
    public JsonObject? NodeSelector { get; init; }
    public JsonArray? RequiredNodeTerms { get; init; }
    public JsonArray? PreferredNodeTerms { get; init; }
    public required List<AffinityTerm> Affinity { get; init; }
    public required List<AffinityTerm> AntiAffinity { get; init; }
    public required List<AffinityTerm> PreferredAffinity { get; init; }
    public required List<AffinityTerm> PreferredAntiAffinity { get; init; }
    public required List<SpreadConstraint> Spread { get; init; }
    public required int Priority { get; init; }
    public required bool PreemptNever { get; init; }
    public string? ControllerUid { get; init; }
    /// <summary>The PodScheduled=False condition's message, so that the same verdict is not written twice.</summary>
    public string? UnschedulableMessage { get; init; }

    /// <summary>Counts against its node: bound and not finished (the scheduler's pod informer leaves out Succeeded and Failed pods).</summary>
    public bool OnNode => NodeName.Length > 0 && !Terminal;

    /// <summary>Waits for the default scheduler: unbound, not finished, not being deleted.</summary>
    public bool Pending => NodeName.Length == 0 && !Terminal && !Deleting && SchedulerName == "default-scheduler";

    public bool HasRequiredAntiAffinity => AntiAffinity.Count > 0;

    private static readonly List<AffinityTerm> NoTerms = [];
    private static readonly List<SpreadConstraint> NoSpread = [];
    private static readonly List<(string, string, int)> NoPorts = [];

    /// <summary>
    /// The facts of a decoded pod. Nothing of the pod's tree is kept: values are detached copies, shared through
    /// <paramref name="intern"/> (a fresh one when none is given), so the decoded pod can be collected.
    /// </summary>
    public static SchedulingPod Read(string key, JsonObject pod, FactInterner? intern = null)
    {
        intern ??= new FactInterner();
        var view = new PodView(pod);
        var spec = view.Spec;
        var ns = Meta.Namespace(pod);
        var affinity = spec?["affinity"] as JsonObject;
        var nodeAffinity = affinity?["nodeAffinity"] as JsonObject;
        var podAffinity = affinity?["podAffinity"] as JsonObject;
        var podAnti = affinity?["podAntiAffinity"] as JsonObject;
        var labels = intern.Labels(Meta.Labels(pod));
        var hostPorts = NoPorts;
        foreach (var c in view.Containers)
            foreach (var p in (c["ports"] as JsonArray)?.OfType<JsonObject>() ?? [])
                if (JsonRead.Long(p, "hostPort") is > 0 and var port)
                    (hostPorts = hostPorts == NoPorts ? [] : hostPorts).Add((JsonRead.Str(p, "protocol") ?? "TCP", JsonRead.StrOrEmpty(p, "hostIP"), (int)port));
        string? controller = null;
        foreach (var o in (Meta.Of(pod)["ownerReferences"] as JsonArray)?.OfType<JsonObject>() ?? [])
            if (JsonRead.Bool(o, "controller") == true) controller = JsonRead.Str(o, "uid");
        string? unschedulable = null;
        foreach (var c in (view.Status?["conditions"] as JsonArray)?.OfType<JsonObject>() ?? [])
            if (JsonRead.Str(c, "type") == "PodScheduled" && JsonRead.Str(c, "status") == "False") unschedulable = JsonRead.Str(c, "message");
        return new SchedulingPod
        {
            Key = key,
            Uid = Meta.Uid(pod),
            Namespace = ns,
            Name = Meta.Name(pod),
            Labels = labels,
            NodeName = view.NodeName,
            SchedulerName = JsonRead.Str(spec, "schedulerName") ?? "default-scheduler",
            Deleting = Meta.IsDeleting(pod),
            Terminal = view.IsTerminal,
            Gated = spec?["schedulingGates"] is JsonArray { Count: > 0 },
            Requests = intern.Resources(ResourceSet.From(PodResources.Requests(pod))),
            NonZero = intern.Resources(NonZeroRequests(pod)),
            HostPorts = hostPorts,
            Tolerations = intern.Json(spec?["tolerations"] as JsonArray),
            NodeSelector = intern.Json(spec?["nodeSelector"] as JsonObject),
            RequiredNodeTerms = intern.Json(nodeAffinity?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"] as JsonArray),
            PreferredNodeTerms = intern.Json(nodeAffinity?["preferredDuringSchedulingIgnoredDuringExecution"] as JsonArray),
            Affinity = Terms(podAffinity?["requiredDuringSchedulingIgnoredDuringExecution"] as JsonArray, ns, weighted: false),
            AntiAffinity = Terms(podAnti?["requiredDuringSchedulingIgnoredDuringExecution"] as JsonArray, ns, weighted: false),
            PreferredAffinity = Terms(podAffinity?["preferredDuringSchedulingIgnoredDuringExecution"] as JsonArray, ns, weighted: true),
            PreferredAntiAffinity = Terms(podAnti?["preferredDuringSchedulingIgnoredDuringExecution"] as JsonArray, ns, weighted: true),
            Spread = spec?["topologySpreadConstraints"] is JsonArray { Count: > 0 } spread ? ReadSpread(spread, labels) : NoSpread,
            Priority = (int)(JsonRead.Long(spec, "priority") ?? 0),
            PreemptNever = JsonRead.Str(spec, "preemptionPolicy") == "Never",
            ControllerUid = controller,
            UnschedulableMessage = unschedulable,
        };
    }

    private static List<AffinityTerm> Terms(JsonArray? terms, string ns, bool weighted) =>
        terms is { Count: > 0 } ? AffinityTerm.Read(terms, ns, weighted) : NoTerms;

    /// <summary>
    /// The constraints with upstream's defaults: minDomains 1, nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore;
    /// matchLabelKeys merged into the selector as key=value of the pod's own labels (MatchLabelKeysInPodTopologySpread).
    /// </summary>
    private static List<SpreadConstraint> ReadSpread(JsonArray? constraints, Dictionary<string, string> podLabels)
    {
        var result = new List<SpreadConstraint>();
        foreach (var c in constraints?.OfType<JsonObject>() ?? [])
        {
            var selectorJson = c["labelSelector"]?.DeepClone() as JsonObject;
            var keys = (c["matchLabelKeys"] as JsonArray)?.Select(JsonRead.StrOrEmpty).ToList() ?? [];
            if (selectorJson is not null && keys.Count > 0)
            {
                var exprs = selectorJson["matchExpressions"] as JsonArray ?? new JsonArray();
                foreach (var k in keys)
                    if (podLabels.TryGetValue(k, out var v))
                        exprs.Add((JsonNode)new JsonObject { ["key"] = k, ["operator"] = "In", ["values"] = new JsonArray(v) });
                selectorJson["matchExpressions"] = exprs;
            }
            var selector = selectorJson is null ? MetaLabelSelector.Nothing : MetaLabelSelector.Convert(selectorJson) ?? MetaLabelSelector.Nothing;
            result.Add(new SpreadConstraint(
                (int)(JsonRead.Long(c, "maxSkew") ?? 1), JsonRead.StrOrEmpty(c, "topologyKey"),
                JsonRead.Str(c, "whenUnsatisfiable") != "ScheduleAnyway", selector,
                (int)(JsonRead.Long(c, "minDomains") ?? 1),
                JsonRead.Str(c, "nodeAffinityPolicy") != "Ignore", JsonRead.Str(c, "nodeTaintsPolicy") == "Honor"));
        }
        return result;
    }

    // schedutil.GetNonzeroRequests: a container that requests no CPU counts 100m, no memory 200Mi (for scoring only).
    private const long DefaultMilliCpu = 100;
    private const long DefaultMemory = 200 * 1024 * 1024;

    private static ResourceSet NonZeroRequests(JsonObject pod)
    {
        var r = new ResourceSet();
        foreach (var c in new PodView(pod).Containers)
        {
            var own = ResourceSet.From(PodResources.ContainerRequests(c));
            r.MilliCpu += own.MilliCpu == 0 ? DefaultMilliCpu : own.MilliCpu;
            r.Memory += own.Memory == 0 ? DefaultMemory : own.Memory;
        }
        var overhead = ResourceSet.FromJson(pod["spec"]?["overhead"]);
        r.MilliCpu += overhead.MilliCpu;
        r.Memory += overhead.Memory;
        return r;
    }
}
