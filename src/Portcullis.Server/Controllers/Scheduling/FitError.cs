namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// A filter plugin's verdict on one node (framework.Status): the reasons, and whether preemption could help
/// (Unschedulable) or not (UnschedulableAndUnresolvable).
/// </summary>
public readonly record struct FilterFailure(bool Unresolvable, params string[] Reasons)
{
    public static FilterFailure Unschedulable(params string[] reasons) => new(false, reasons);
    public static FilterFailure UnschedulableAndUnresolvable(params string[] reasons) => new(true, reasons);
}

/// <summary>
/// The FailedScheduling message, as kube-scheduler 1.33 writes it: framework.FitError.Error() (pkg/scheduler/framework/types.go)
/// — "0/N nodes are available:", then the PreFilter's message, or the histogram of every node's filter reasons
/// ("count reason" strings sorted as strings, joined with ", "), then the post-filter's message — with DefaultPreemption's
/// verdict as the post-filter (pkg/scheduler/framework/preemption/preemption.go): "preemption: not eligible due to
/// preemptionPolicy=Never.", or a FitError of its own where a node that failed with UnschedulableAndUnresolvable is
/// "Preemption is not helpful for scheduling" and every other node "No preemption victims found for incoming pod"
/// (Portcullis does not evict pods to make room).
/// </summary>
public static class FitError
{
    public const string NoNodeAvailable = "0/{0} nodes are available";
    public const string PreemptionNotHelpful = "Preemption is not helpful for scheduling";
    public const string NoVictims = "No preemption victims found for incoming pod";

    /// <param name="numAllNodes">Every node in the snapshot.</param>
    /// <param name="statuses">Each filtered node's failure (the nodes that were not filtered are absent).</param>
    /// <param name="absent">The failure of the nodes left out of <paramref name="statuses"/> (a PreFilter result's nodes only).</param>
    /// <param name="preFilterMessage">A PreFilter plugin's rejection of every node, or null.</param>
    public static string Message(int numAllNodes, IReadOnlyCollection<FilterFailure> statuses, FilterFailure? absent, string? preFilterMessage, bool preemptNever)
    {
        var message = Error(numAllNodes, statuses, absent, preFilterMessage);
        string post;
        if (preemptNever) post = "not eligible due to preemptionPolicy=Never.";
        else
        {
            // nodesWherePreemptionMightHelp: every node is in the map once, unresolvable ones are not helpful.
            var preemption = new List<FilterFailure>(numAllNodes);
            if (preFilterMessage is not null)
                for (var i = 0; i < numAllNodes; i++) preemption.Add(FilterFailure.UnschedulableAndUnresolvable(PreemptionNotHelpful));
            else
            {
                foreach (var s in statuses) preemption.Add(s.Unresolvable ? FilterFailure.UnschedulableAndUnresolvable(PreemptionNotHelpful) : FilterFailure.Unschedulable(NoVictims));
                var missing = numAllNodes - statuses.Count;
                for (var i = 0; i < missing; i++)
                    preemption.Add(absent is { Unresolvable: false } ? FilterFailure.Unschedulable(NoVictims) : FilterFailure.UnschedulableAndUnresolvable(PreemptionNotHelpful));
            }
            post = Error(numAllNodes, preemption, null, null);
        }
        return message + $" preemption: {post}.";
    }

    /// <summary>FitError.Error() without a post-filter message: ends with the period of its last part.</summary>
    public static string Error(int numAllNodes, IReadOnlyCollection<FilterFailure> statuses, FilterFailure? absent, string? preFilterMessage)
    {
        var reasonMsg = string.Format(System.Globalization.CultureInfo.InvariantCulture, NoNodeAvailable, numAllNodes) + ":";
        if (preFilterMessage is not null) return reasonMsg + $" {preFilterMessage}.";
        var histogram = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in statuses)
            foreach (var r in s.Reasons) histogram[r] = histogram.GetValueOrDefault(r) + 1;
        if (statuses.Count < numAllNodes && absent is { } a)
            foreach (var r in a.Reasons) histogram[r] = histogram.GetValueOrDefault(r) + numAllNodes - statuses.Count;
        var sorted = histogram.Select(kv => $"{kv.Value} {kv.Key}").ToList();
        sorted.Sort(StringComparer.Ordinal);
        if (sorted.Count > 0) reasonMsg += $" {string.Join(", ", sorted)}.";
        return reasonMsg;
    }
}
