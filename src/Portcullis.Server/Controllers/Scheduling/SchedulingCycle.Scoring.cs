namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// The default plugins' scores, normalized to 0–100 each and weighted as in 1.33's default profile: TaintToleration 3
/// (PreferNoSchedule taints the pod does not tolerate, fewer is better), NodeAffinity 2 (preferred terms' weights),
/// NodeResourcesFit 1 (LeastAllocated over cpu and memory with the non-zero requests), NodeResourcesBalancedAllocation 1,
/// PodTopologySpread 2 (ScheduleAnyway constraints; without constraints, the system default of spreading a
/// controller's pods over hostnames with maxSkew 3 and zones with maxSkew 5), InterPodAffinity 2 (the pod's preferred
/// terms). ImageLocality is left out (no images). Simplifications are written in docs/runtime.md.
/// </summary>
internal sealed partial class SchedulingCycle
{
    private const int MaxScore = 100;

    /// <summary>The feasible nodes' total scores, in their order.</summary>
    public long[] Score(List<SchedulingNode> feasible)
    {
        var n = feasible.Count;
        var total = new long[n];
        if (n <= 1) return total;
        var raw = new long[n];

        // TaintToleration: reverse-normalized count.
        for (var i = 0; i < n; i++) raw[i] = Taints.CountIntolerablePreferNoSchedule(feasible[i].Taints, _pod.Tolerations);
        AddNormalized(total, raw, 3, reverse: true);

        // NodeAffinity.
        if (_pod.PreferredNodeTerms is { Count: > 0 })
        {
            for (var i = 0; i < n; i++) raw[i] = NodeSelectors.PreferredScore(_pod.PreferredNodeTerms, feasible[i]);
            AddNormalized(total, raw, 2, reverse: false);
        }

        for (var i = 0; i < n; i++)
        {
            var node = feasible[i];
            total[i] += LeastAllocated(node) + Balanced(node);
        }

        SpreadScores(feasible, total);
        AffinityScores(feasible, total);
        return total;
    }

    /// <summary>helper.DefaultNormalizeScore: scaled to the highest; reversed, fewer is better.</summary>
    private static void AddNormalized(long[] total, long[] raw, int weight, bool reverse)
    {
        var max = raw.Length == 0 ? 0 : raw.Max();
        for (var i = 0; i < total.Length; i++)
        {
            long s = max == 0 ? (reverse ? MaxScore : 0) : raw[i] * MaxScore / max;
            if (reverse && max != 0) s = MaxScore - s;
            total[i] += weight * s;
        }
    }

    private static long Least(long requested, long capacity) =>
        capacity == 0 || requested > capacity ? 0 : (capacity - requested) * MaxScore / capacity;

    /// <summary>leastResourceScorer over cpu and memory (weight 1 each), with non-zero requests.</summary>
    private long LeastAllocated(SchedulingNode node) =>
        (Least(node.NonZeroRequested.MilliCpu + _pod.NonZero.MilliCpu, node.Allocatable.MilliCpu)
         + Least(node.NonZeroRequested.Memory + _pod.NonZero.Memory, node.Allocatable.Memory)) / 2;

    /// <summary>balancedResourceScorer: (1 - standard deviation of the cpu and memory fractions) × 100.</summary>
    private long Balanced(SchedulingNode node)
    {
        static double Fraction(long req, long cap) => cap == 0 ? 0 : Math.Min(1.0, (double)req / cap);
        var cpu = Fraction(node.Requested.MilliCpu + _pod.Requests.MilliCpu, node.Allocatable.MilliCpu);
        var mem = Fraction(node.Requested.Memory + _pod.Requests.Memory, node.Allocatable.Memory);
        var std = Math.Abs(cpu - mem) / 2;
        return (long)((1 - std) * MaxScore);
    }

    /// <summary>
    /// PodTopologySpread's Score: per node, the matching pods in its domain of each soft constraint, weighted by
    /// log(domains + 2), plus maxSkew − 1; normalized so that the fewest matching pods scores 100.
    /// </summary>
    private void SpreadScores(List<SchedulingNode> feasible, long[] total)
    {
        var soft = _pod.Spread.Where(c => !c.DoNotSchedule).ToList();
        var systemDefault = _pod.Spread.Count == 0;
        if (!systemDefault && soft.Count == 0) return;
        if (systemDefault && _pod.ControllerUid is null) return;
        // Each constraint: its key, maxSkew, and how one node's matching pods are counted.
        var constraints = systemDefault
            ? new List<(string Key, int MaxSkew, Func<SchedulingNode, int> Count)>
            {
                ("kubernetes.io/hostname", 3, n => n.ByController.GetValueOrDefault(_pod.ControllerUid!)),
                ("topology.kubernetes.io/zone", 5, n => n.ByController.GetValueOrDefault(_pod.ControllerUid!)),
            }
            : soft.Select(c => (c.TopologyKey, c.MaxSkew, (Func<SchedulingNode, int>)(n => CountMatching(n, c)))).ToList();
        var n = feasible.Count;
        var ignored = new bool[n];
        var scores = new double[n];
        foreach (var (key, maxSkew, count) in constraints)
        {
            // Domain sums over every node (not only the feasible ones); a system default over a key no node has is one domain.
            var domains = new Dictionary<string, int>(StringComparer.Ordinal);
            if (key != "kubernetes.io/hostname")
                foreach (var node in _nodes)
                    if (node.Labels.TryGetValue(key, out var v) || systemDefault)
                        domains[v ?? ""] = domains.GetValueOrDefault(v ?? "") + count(node);
            var domainCount = key == "kubernetes.io/hostname" ? feasible.Count : Math.Max(1, domains.Count);
            var weight = Math.Log(domainCount + 2);
            for (var i = 0; i < n; i++)
            {
                var node = feasible[i];
                if (!node.Labels.TryGetValue(key, out var value) && !systemDefault) { ignored[i] = true; continue; }
                var c = key == "kubernetes.io/hostname" ? count(node) : domains.GetValueOrDefault(value ?? "");
                scores[i] += c * weight + (maxSkew - 1);
            }
        }
        double min = double.MaxValue, max = 0;
        for (var i = 0; i < n; i++)
        {
            if (ignored[i]) continue;
            min = Math.Min(min, scores[i]);
            max = Math.Max(max, scores[i]);
        }
        for (var i = 0; i < n; i++)
        {
            long s = ignored[i] ? 0 : max == 0 ? MaxScore : (long)(MaxScore * (max + min - scores[i]) / max);
            total[i] += 2 * s;
        }
    }

    /// <summary>InterPodAffinity's Score: the pod's preferred terms, ± weight per matching pod in the node's domain, min–max normalized.</summary>
    private void AffinityScores(List<SchedulingNode> feasible, long[] total)
    {
        if (_pod.PreferredAffinity.Count == 0 && _pod.PreferredAntiAffinity.Count == 0) return;
        var byDomain = new Dictionary<(string, string), long>();
        foreach (var node in _nodes)
            foreach (var existing in node.Pods.Values)
            {
                IReadOnlyDictionary<string, string>? ns = null;
                foreach (var (terms, sign) in new[] { (_pod.PreferredAffinity, 1), (_pod.PreferredAntiAffinity, -1) })
                    foreach (var t in terms)
                    {
                        if (t.NamespaceSelector is not null) ns ??= NsLabels(existing.Namespace);
                        if (t.Matches(existing, ns) && node.Labels.TryGetValue(t.TopologyKey, out var v))
                            byDomain[(t.TopologyKey, v)] = byDomain.GetValueOrDefault((t.TopologyKey, v)) + sign * t.Weight;
                    }
            }
        var raw = new long[feasible.Count];
        for (var i = 0; i < feasible.Count; i++)
            foreach (var (k, v) in feasible[i].Labels)
                raw[i] += byDomain.GetValueOrDefault((k, v));
        long min = raw.Min(), max = raw.Max();
        for (var i = 0; i < raw.Length; i++)
            total[i] += 2 * (max > min ? MaxScore * (raw[i] - min) / (max - min) : 0);
    }
}
