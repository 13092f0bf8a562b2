using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// A set of completion indexes as ordered, disjoint, non-adjacent intervals: upstream's orderedIntervals
/// (pkg/controller/job/indexed_job_utils.go), the form of <c>status.completedIndexes</c> and
/// <c>status.failedIndexes</c> ("1,3-5").
/// </summary>
public sealed class OrderedIntervals
{
    private readonly List<(int First, int Last)> _items;

    private OrderedIntervals(List<(int First, int Last)> items) => _items = items;

    public static OrderedIntervals Empty => new([]);

    public IReadOnlyList<(int First, int Last)> Items => _items;

    /// <summary>parseIndexesFromString: "a" or "a-b" items, comma-separated; invalid items are skipped, indexes at or past <paramref name="completions"/> dropped.</summary>
    public static OrderedIntervals Parse(string? s, int completions)
    {
        var result = new List<(int, int)>();
        if (string.IsNullOrEmpty(s)) return new(result);
        (int First, int Last)? last = null;
        foreach (var item in s.Split(','))
        {
            var limits = item.Split('-');
            if (!int.TryParse(limits[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)) continue;
            if (first >= completions) break;
            var end = first;
            if (limits.Length > 1)
            {
                if (!int.TryParse(limits[1], NumberStyles.None, CultureInfo.InvariantCulture, out end)) continue;
                if (end >= completions) end = completions - 1;
            }
            if (last is { } l && l.Last + 1 >= first)
            {
                last = (l.First, Math.Max(l.Last, end));
                result[^1] = last.Value;
            }
            else
            {
                last = (first, end);
                result.Add(last.Value);
            }
        }
        return new(result);
    }

    /// <summary>withOrderedIndexes: these intervals with the (sorted) indexes added, adjacent intervals merged.</summary>
    public OrderedIntervals With(IEnumerable<int> sortedIndexes)
    {
        var points = new SortedSet<int>(sortedIndexes);
        var merged = new List<(int First, int Last)>();
        void Add((int First, int Last) iv)
        {
            if (merged.Count > 0 && merged[^1].Last + 1 >= iv.First)
                merged[^1] = (merged[^1].First, Math.Max(merged[^1].Last, iv.Last));
            else merged.Add(iv);
        }
        var all = _items.Concat(points.Select(p => (p, p))).OrderBy(iv => iv.Item1).ThenBy(iv => iv.Item2);
        foreach (var iv in all) Add(iv);
        return new(merged);
    }

    public int Total => _items.Sum(iv => iv.Last - iv.First + 1);

    public bool Has(int ix)
    {
        foreach (var (first, last) in _items)
        {
            if (ix < first) return false;
            if (ix <= last) return true;
        }
        return false;
    }

    /// <summary>String(): "a" for one index, "a,b" for two adjacent ones, "a-b" for longer runs.</summary>
    public override string ToString()
    {
        var b = new StringBuilder();
        foreach (var (first, last) in _items)
        {
            if (b.Length > 0) b.Append(',');
            b.Append(first.ToString(CultureInfo.InvariantCulture));
            if (last > first)
            {
                b.Append(last == first + 1 ? ',' : '-');
                b.Append(last.ToString(CultureInfo.InvariantCulture));
            }
        }
        return b.ToString();
    }
}

/// <summary>Indexed Jobs' pod facts and pod template changes (pkg/controller/job/indexed_job_utils.go).</summary>
public static class JobIndexes
{
    public const int Unknown = -1;
    public const string CompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index";
    public const string IndexFailureCountAnnotation = "batch.kubernetes.io/job-index-failure-count";
    public const string IndexIgnoredFailureCountAnnotation = "batch.kubernetes.io/job-index-ignored-failure-count";
    public const string CompletionIndexEnv = "JOB_COMPLETION_INDEX";
    /// <summary>names.MaxGeneratedNameLength: 63 less the 5 random characters.</summary>
    private const int MaxGeneratedNameLength = 58;

    /// <summary>getCompletionIndex: the pod's completion index annotation, or <see cref="Unknown"/>.</summary>
    public static int Of(JsonObject pod) => IntAnnotation(pod, CompletionIndexAnnotation) is { } i && i >= 0 ? i : Unknown;

    public static int FailureCount(JsonObject pod) => IntAnnotation(pod, IndexFailureCountAnnotation) is { } i && i >= 0 ? i : 0;

    public static int IgnoredFailureCount(JsonObject pod) => IntAnnotation(pod, IndexIgnoredFailureCountAnnotation) is { } i && i >= 0 ? i : 0;

    /// <summary>getIndexAbsoluteFailureCount: counted and ignored failures of the index so far.</summary>
    public static int AbsoluteFailureCount(JsonObject pod) => FailureCount(pod) + IgnoredFailureCount(pod);

    private static int? IntAnnotation(JsonObject pod, string key) =>
        Meta.Of(pod)["annotations"] is JsonObject a && JsonRead.Str(a, key) is { } s
            && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : null;

    /// <summary>podGenerateNameWithIndex: "&lt;job&gt;-&lt;index&gt;-", the job name cut to fit.</summary>
    public static string GenerateName(string jobName, int index)
    {
        var append = "-" + index.ToString(CultureInfo.InvariantCulture) + "-";
        var prefix = jobName + append;
        if (prefix.Length > MaxGeneratedNameLength) prefix = jobName[..(MaxGeneratedNameLength - append.Length)] + append;
        return prefix;
    }

    /// <summary>addCompletionIndexEnvVariables: JOB_COMPLETION_INDEX from the annotation, in every container and init container that lacks it.</summary>
    public static void AddEnv(JsonObject podSpec)
    {
        foreach (var list in new[] { "initContainers", "containers" })
            foreach (var c in podSpec[list] as JsonArray ?? [])
            {
                if (c is not JsonObject container) continue;
                var env = container["env"] as JsonArray ?? (JsonArray)(container["env"] = new JsonArray());
                if (env.OfType<JsonObject>().Any(e => JsonRead.Str(e, "name") == CompletionIndexEnv)) continue;
                env.Add((JsonNode)new JsonObject
                {
                    ["name"] = CompletionIndexEnv,
                    ["valueFrom"] = new JsonObject
                    {
                        ["fieldRef"] = new JsonObject { ["apiVersion"] = "v1", ["fieldPath"] = $"metadata.annotations['{CompletionIndexAnnotation}']" },
                    },
                });
            }
    }

    /// <summary>The pod's completion index as annotation and label (PodIndexLabel, GA), and its hostname "&lt;job&gt;-&lt;index&gt;".</summary>
    public static void Stamp(JsonObject pod, string jobName, int index)
    {
        var meta = Meta.Of(pod);
        var text = index.ToString(CultureInfo.InvariantCulture);
        var annotations = meta["annotations"] as JsonObject ?? (JsonObject)(meta["annotations"] = new JsonObject());
        annotations[CompletionIndexAnnotation] = text;
        var labels = meta["labels"] as JsonObject ?? (JsonObject)(meta["labels"] = new JsonObject());
        labels[CompletionIndexAnnotation] = text;
        var spec = pod["spec"] as JsonObject ?? (JsonObject)(pod["spec"] = new JsonObject());
        spec["hostname"] = $"{jobName}-{text}";
    }

    /// <summary>
    /// appendDuplicatedIndexPodsForRemoval: pods without a valid index, past the completions, or repeating an
    /// index (all but the best of each index, by <see cref="ActivePodOrder"/>) go to <c>rm</c>; the rest stay.
    /// </summary>
    public static (List<JsonObject> Remove, List<JsonObject> Left) SplitDuplicates(IEnumerable<JsonObject> pods, int completions)
    {
        var rm = new List<JsonObject>();
        var left = new List<JsonObject>();
        foreach (var group in pods.GroupBy(Of).OrderBy(g => g.Key))
        {
            if (group.Key == Unknown || group.Key >= completions) { rm.AddRange(group); continue; }
            var sorted = group.ToList();
            if (sorted.Count == 1) { left.Add(sorted[0]); continue; }
            sorted.Sort(ActivePodOrder.Compare);
            rm.AddRange(sorted.Take(sorted.Count - 1));
            left.Add(sorted[^1]);
        }
        return (rm, left);
    }
}

/// <summary>
/// controller.ActivePods' order (pkg/controller/controller_utils.go): the pods to delete first come first:
/// unscheduled before scheduled, Pending before Unknown before Running, not ready before ready, ready for a
/// shorter time first, more restarts first, newer first.
/// </summary>
public static class ActivePodOrder
{
    public static int Compare(JsonObject a, JsonObject b)
    {
        var na = JsonRead.StrOrEmpty(a["spec"], "nodeName");
        var nb = JsonRead.StrOrEmpty(b["spec"], "nodeName");
        if ((na.Length == 0) != (nb.Length == 0)) return na.Length == 0 ? -1 : 1;
        var pa = PhaseRank(PodFacts.Phase(a));
        var pb = PhaseRank(PodFacts.Phase(b));
        if (pa != pb) return pa.CompareTo(pb);
        var ra = PodFacts.IsReady(a);
        var rb = PodFacts.IsReady(b);
        if (ra != rb) return ra ? 1 : -1;
        if (ra && rb)
        {
            var ta = PodFacts.Time(PodFacts.Condition(a, "Ready")?["lastTransitionTime"]);
            var tb = PodFacts.Time(PodFacts.Condition(b, "Ready")?["lastTransitionTime"]);
            if (ta != tb)
            {
                if (ta is null) return -1;
                if (tb is null) return 1;
                return -ta.Value.CompareTo(tb.Value);
            }
        }
        var ca = Restarts(a);
        var cb = Restarts(b);
        if (ca != cb) return ca > cb ? -1 : 1;
        var cta = PodFacts.Time(Meta.Of(a)["creationTimestamp"]);
        var ctb = PodFacts.Time(Meta.Of(b)["creationTimestamp"]);
        if (cta != ctb)
        {
            if (cta is null) return -1;
            if (ctb is null) return 1;
            return -cta.Value.CompareTo(ctb.Value);
        }
        return 0;
    }

    private static int PhaseRank(string phase) => phase switch { "Pending" => 0, "Unknown" => 1, "Running" => 2, _ => 0 };

    private static long Restarts(JsonObject pod) =>
        (pod["status"]?["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>().Select(c => JsonRead.Long(c, "restartCount") ?? 0).DefaultIfEmpty(0).Max();
}
