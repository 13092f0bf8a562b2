namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// InterPodAffinity (pkg/scheduler/framework/plugins/interpodaffinity/filtering.go) and PodTopologySpread
/// (podtopologyspread/filtering.go): their PreFilter counts per topology pair over the pods bound to nodes, and
/// their Filter against one node.
/// </summary>
internal sealed partial class SchedulingCycle
{
    private Dictionary<(string, string), int>? _existingAnti;
    private Dictionary<(string, string), int>? _affinityCounts;
    private Dictionary<(string, string), int>? _antiCounts;

    private IReadOnlyDictionary<string, string>? NsLabels(string ns) => _namespaceLabels(ns);

    private static void Bump(Dictionary<(string, string), int> map, SchedulingNode node, string key)
    {
        if (node.Labels.TryGetValue(key, out var value)) map[(key, value)] = map.GetValueOrDefault((key, value)) + 1;
    }

    private void PreFilterInterPodAffinity()
    {
        var pod = _pod;
        var incomingNsLabels = (IReadOnlyDictionary<string, string>?)null;
        var nsRead = false;
        // Existing pods' required anti-affinity terms that the incoming pod matches.
        foreach (var node in _nodes)
        {
            if (node.WithRequiredAntiAffinity == 0) continue;
            foreach (var existing in node.Pods.Values)
            {
                if (!existing.HasRequiredAntiAffinity) continue;
                foreach (var term in existing.AntiAffinity)
                {
                    if (term.NamespaceSelector is not null && !nsRead) { incomingNsLabels = NsLabels(pod.Namespace); nsRead = true; }
                    if (term.Matches(pod, incomingNsLabels)) Bump(_existingAnti ??= [], node, term.TopologyKey);
                }
            }
        }
        if (pod.Affinity.Count == 0 && pod.AntiAffinity.Count == 0) return;
        _affinityCounts = [];
        _antiCounts = [];
        foreach (var node in _nodes)
            foreach (var existing in node.Pods.Values)
            {
                IReadOnlyDictionary<string, string>? existingNs = null;
                if (pod.Affinity.Count > 0 || pod.AntiAffinity.Count > 0)
                    if (pod.Affinity.Concat(pod.AntiAffinity).Any(t => t.NamespaceSelector is not null)) existingNs = NsLabels(existing.Namespace);
                if (pod.Affinity.Count > 0 && pod.Affinity.All(t => t.Matches(existing, existingNs)))
                    foreach (var t in pod.Affinity) Bump(_affinityCounts, node, t.TopologyKey);
                foreach (var t in pod.AntiAffinity)
                    if (t.Matches(existing, existingNs)) Bump(_antiCounts, node, t.TopologyKey);
            }
    }

    private FilterFailure? FilterInterPodAffinity(SchedulingNode node)
    {
        var pod = _pod;
        if (pod.Affinity.Count > 0 && !SatisfiesAffinity(node)) return FilterFailure.UnschedulableAndUnresolvable(ErrAffinity);
        foreach (var t in pod.AntiAffinity)
            if (node.Labels.TryGetValue(t.TopologyKey, out var v) && _antiCounts!.GetValueOrDefault((t.TopologyKey, v)) > 0)
                return FilterFailure.Unschedulable(ErrAntiAffinity);
        if (_existingAnti is not null)
            foreach (var (k, v) in node.Labels)
                if (_existingAnti.GetValueOrDefault((k, v)) > 0) return FilterFailure.Unschedulable(ErrExistingAntiAffinity);
        return null;
    }

    /// <summary>
    /// satisfyPodAffinity: every term's topology label on the node, with matching pods in that domain — or, for the
    /// first pod of a group that selects itself, no matching pod anywhere.
    /// </summary>
    private bool SatisfiesAffinity(SchedulingNode node)
    {
        var podsExist = true;
        foreach (var t in _pod.Affinity)
        {
            if (!node.Labels.TryGetValue(t.TopologyKey, out var v)) return false;
            if (_affinityCounts!.GetValueOrDefault((t.TopologyKey, v)) <= 0) podsExist = false;
        }
        if (podsExist) return true;
        var ownNs = _pod.Affinity.Any(t => t.NamespaceSelector is not null) ? NsLabels(_pod.Namespace) : null;
        return _affinityCounts!.Count == 0 && _pod.Affinity.All(t => t.Matches(_pod, ownNs));
    }

    // PodTopologySpread's PreFilter state: matching pods per (topology key, value) of each DoNotSchedule constraint,
    // and each constraint's global minimum.
    private List<SpreadConstraint>? _hard;
    private Dictionary<(string, string), int>? _spreadCounts;
    private int[]? _spreadMin;

    private bool SpreadEligible(SpreadConstraint c, SchedulingNode node) =>
        (!c.HonorNodeAffinity || NodeSelectors.MatchesRequired(_pod.NodeSelector, _pod.RequiredNodeTerms, node))
        && (!c.HonorNodeTaints || Taints.FirstUntoleratedDoNotSchedule(node.Taints, _pod.Tolerations) is null);

    /// <summary>Pods counted by a constraint: same namespace, matching selector, not being deleted (countPodsMatchSelector).</summary>
    private int CountMatching(SchedulingNode node, SpreadConstraint c)
    {
        var n = 0;
        foreach (var p in node.Pods.Values)
            if (!p.Deleting && p.Namespace == _pod.Namespace && c.Selector.Matches(p.Labels)) n++;
        return n;
    }

    private void PreFilterSpread()
    {
        var hard = _pod.Spread.Where(c => c.DoNotSchedule).ToList();
        if (hard.Count == 0) return;
        _hard = hard;
        _spreadCounts = [];
        foreach (var node in _nodes)
        {
            // nodeLabelsMatchSpreadConstraints: a node without every constraint's key counts for none.
            if (!hard.All(c => node.Labels.ContainsKey(c.TopologyKey))) continue;
            foreach (var c in hard)
            {
                if (!SpreadEligible(c, node)) continue;
                var pair = (c.TopologyKey, node.Labels[c.TopologyKey]);
                _spreadCounts[pair] = _spreadCounts.GetValueOrDefault(pair) + CountMatching(node, c);
            }
        }
        _spreadMin = new int[hard.Count];
        for (var i = 0; i < hard.Count; i++)
        {
            var key = hard[i].TopologyKey;
            var domains = _spreadCounts.Where(kv => kv.Key.Item1 == key).Select(kv => kv.Value).ToList();
            // Fewer eligible domains than minDomains: the global minimum is 0.
            _spreadMin[i] = domains.Count < hard[i].MinDomains || domains.Count == 0 ? 0 : domains.Min();
        }
    }

    private FilterFailure? FilterSpread(SchedulingNode node)
    {
        if (_hard is null) return null;
        for (var i = 0; i < _hard.Count; i++)
        {
            var c = _hard[i];
            if (!node.Labels.TryGetValue(c.TopologyKey, out var value)) return FilterFailure.UnschedulableAndUnresolvable(ErrSpreadLabel);
            var self = c.Selector.Matches(_pod.Labels) ? 1 : 0;
            var skew = _spreadCounts!.GetValueOrDefault((c.TopologyKey, value)) + self - _spreadMin![i];
            if (skew > c.MaxSkew) return FilterFailure.Unschedulable(ErrSpread);
        }
        return null;
    }
}
