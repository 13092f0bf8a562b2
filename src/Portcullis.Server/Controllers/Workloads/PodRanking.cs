using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// Which pods a ReplicaSet deletes first when it scales down: pkg/controller/controller_utils.go's
/// ActivePodsWithRanks ordering at 1.33 (PodDeletionCost and LogarithmicScaleDown enabled, as by default).
/// </summary>
public static class PodRanking
{
    /// <summary>getPodsToDelete: the first <paramref name="count"/> pods of the ranking (all of them when count covers them).</summary>
    public static List<JsonObject> ToDelete(List<JsonObject> pods, List<JsonObject> related, int count, DateTimeOffset now)
    {
        if (count >= pods.Count) return [.. pods];
        // getPodsRankedByRelatedPodsOnSameNode: a pod's rank is how many active related pods share its node.
        var onNode = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in related)
            if (PodFacts.IsActive(p)) onNode[NodeName(p)] = onNode.GetValueOrDefault(NodeName(p)) + 1;
        var ranked = pods.Select(p => (Pod: p, Rank: onNode.GetValueOrDefault(NodeName(p)))).ToList();
        ranked.Sort((a, b) => Less(a, b, now) ? -1 : Less(b, a, now) ? 1 : 0);
        return ranked.Take(count).Select(r => r.Pod).ToList();
    }

    private static string NodeName(JsonObject pod) => JsonRead.StrOrEmpty(pod["spec"] as JsonObject, "nodeName");

    private static int PhaseOrdinal(JsonObject pod) => PodFacts.Phase(pod) switch { "Pending" => 0, "Unknown" => 1, "Running" => 2, _ => 0 };

    /// <summary>ActivePodsWithRanks.Less: true when <paramref name="a"/> is to be deleted before <paramref name="b"/>.</summary>
    public static bool Less((JsonObject Pod, int Rank) a, (JsonObject Pod, int Rank) b, DateTimeOffset now)
    {
        var (pi, pj) = (a.Pod, b.Pod);
        // 1. Unassigned < assigned.
        var (ni, nj) = (NodeName(pi), NodeName(pj));
        if (ni != nj && (ni.Length == 0 || nj.Length == 0)) return ni.Length == 0;
        // 2. Pending < Unknown < Running.
        if (PhaseOrdinal(pi) != PhaseOrdinal(pj)) return PhaseOrdinal(pi) < PhaseOrdinal(pj);
        // 3. Not ready < ready.
        var (ri, rj) = (PodFacts.IsReady(pi), PodFacts.IsReady(pj));
        if (ri != rj) return !ri;
        // 4. Lower controller.kubernetes.io/pod-deletion-cost first.
        var (ci, cj) = (DeletionCost(pi), DeletionCost(pj));
        if (ci != cj) return ci < cj;
        // 5. Doubled up (more related pods on the node) first.
        if (a.Rank != b.Rank) return a.Rank > b.Rank;
        // 6. Ready for less time first, by logarithmic buckets.
        if (ri && rj)
        {
            var (ti, tj) = (ReadyTime(pi), ReadyTime(pj));
            if (ti != tj)
            {
                if (ti is null || tj is null) return ti is null;
                var diff = LogarithmicRankDiff(ti.Value, tj.Value, now);
                if (diff == 0) return string.CompareOrdinal(Meta.Uid(pi), Meta.Uid(pj)) < 0;
                return diff < 0;
            }
        }
        // 7. More container restarts first (regular containers, then restartable init containers).
        var (regI, sideI) = MaxRestarts(pi);
        var (regJ, sideJ) = MaxRestarts(pj);
        if (regI != regJ) return regI > regJ;
        if (sideI != sideJ) return sideI > sideJ;
        // 8. No creation time < newer < older, by logarithmic buckets.
        var (ki, kj) = (PodFacts.Time(Meta.Of(pi)["creationTimestamp"]), PodFacts.Time(Meta.Of(pj)["creationTimestamp"]));
        if (ki != kj)
        {
            if (ki is null || kj is null) return ki is null;
            var diff = LogarithmicRankDiff(ki.Value, kj.Value, now);
            if (diff == 0) return string.CompareOrdinal(Meta.Uid(pi), Meta.Uid(pj)) < 0;
            return diff < 0;
        }
        return false;
    }

    /// <summary>logarithmicRankDiff: the difference of log2 of the nanoseconds since each time (-1 for a time not in the past).</summary>
    public static int LogarithmicRankDiff(DateTimeOffset t1, DateTimeOffset t2, DateTimeOffset now)
    {
        static int Rank(TimeSpan d) => d > TimeSpan.Zero ? (int)Math.Log2(d.Ticks * 100.0) : -1;
        return Rank(now - t1) - Rank(now - t2);
    }

    /// <summary>controller.kubernetes.io/pod-deletion-cost (an int32; absent or invalid is 0).</summary>
    private static int DeletionCost(JsonObject pod) =>
        Meta.StringMap(Meta.Of(pod)["annotations"]).TryGetValue("controller.kubernetes.io/pod-deletion-cost", out var s)
            && int.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static DateTimeOffset? ReadyTime(JsonObject pod) =>
        PodFacts.Condition(pod, "Ready") is { } c && JsonRead.Str(c, "status") == "True" ? PodFacts.Time(c["lastTransitionTime"]) : null;

    private static (int Regular, int Sidecar) MaxRestarts(JsonObject pod)
    {
        static int Count(JsonNode? s) => (int)(JsonRead.Long(s, "restartCount") ?? 0);
        var regular = (pod["status"]?["containerStatuses"] as JsonArray ?? []).Select(Count).DefaultIfEmpty(0).Max();
        var sidecars = (pod["spec"]?["initContainers"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(c => JsonRead.Str(c, "restartPolicy") == "Always").Select(c => JsonRead.StrOrEmpty(c, "name")).ToHashSet();
        var sidecar = (pod["status"]?["initContainerStatuses"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(s => sidecars.Contains(JsonRead.StrOrEmpty(s, "name"))).Select(Count).DefaultIfEmpty(0).Max();
        return (regular, sidecar);
    }
}
