using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// core/v1 NodeSelector matching as component-helpers' nodeaffinity package does it: a pod's nodeSelector ANDed
/// with its required node affinity (nodeSelectorTerms ORed; in a term, matchExpressions over labels and matchFields
/// over <c>metadata.name</c> ANDed; an empty term matches nothing), and preferred terms' weights. Operators In,
/// NotIn, Exists, DoesNotExist, Gt and Lt; an invalid requirement makes its term match nothing, as upstream ignores
/// terms that fail to parse.
/// </summary>
internal static class NodeSelectors
{
    /// <summary>GetRequiredNodeAffinity(pod).Match(node): the nodeSelector and the required terms.</summary>
    public static bool MatchesRequired(JsonObject? nodeSelector, JsonArray? requiredTerms, SchedulingNode node) =>
        MatchesRequired(nodeSelector, requiredTerms, node.Labels, node.Name);

    /// <summary>The same over a node's labels and name (the DaemonSet controller's NodeShouldRunDaemonPod uses it too).</summary>
    public static bool MatchesRequired(JsonObject? nodeSelector, JsonArray? requiredTerms, IReadOnlyDictionary<string, string> labels, string name)
    {
        if (nodeSelector is not null)
            foreach (var (k, v) in nodeSelector)
                if (!labels.TryGetValue(k, out var have) || have != JsonRead.Str(v)) return false;
        if (requiredTerms is null) return true;
        foreach (var term in requiredTerms.OfType<JsonObject>())
            if (TermMatches(term, labels, name)) return true;
        return false;
    }

    /// <summary>One NodeSelectorTerm: all its requirements hold; a term without requirements matches nothing.</summary>
    public static bool TermMatches(JsonObject term, SchedulingNode node) => TermMatches(term, node.Labels, node.Name);

    private static bool TermMatches(JsonObject term, IReadOnlyDictionary<string, string> labels, string name)
    {
        var exprs = term["matchExpressions"] as JsonArray;
        var fields = term["matchFields"] as JsonArray;
        if ((exprs is null || exprs.Count == 0) && (fields is null || fields.Count == 0)) return false;
        foreach (var e in exprs?.OfType<JsonObject>() ?? [])
        {
            var key = JsonRead.StrOrEmpty(e, "key");
            if (!Requirement(JsonRead.StrOrEmpty(e, "operator"), labels.TryGetValue(key, out var v) ? v : null, e["values"] as JsonArray))
                return false;
        }
        foreach (var f in fields?.OfType<JsonObject>() ?? [])
        {
            // Only metadata.name is a node field selector key (NodeSelectorRequirementsAsFieldSelector), with In or NotIn and one value.
            if (JsonRead.StrOrEmpty(f, "key") != "metadata.name") return false;
            var op = JsonRead.StrOrEmpty(f, "operator");
            if (op is not ("In" or "NotIn") || f["values"] is not JsonArray { Count: 1 } values) return false;
            var same = JsonRead.Str(values[0]) == name;
            if (op == "In" ? !same : same) return false;
        }
        return true;
    }

    private static bool Requirement(string op, string? value, JsonArray? values)
    {
        var list = values?.Select(JsonRead.Str).ToList() ?? [];
        switch (op)
        {
            case "In": return list.Count > 0 && value is not null && list.Contains(value);
            case "NotIn": return list.Count > 0 && (value is null || !list.Contains(value));
            case "Exists": return list.Count == 0 && value is not null;
            case "DoesNotExist": return list.Count == 0 && value is null;
            case "Gt" or "Lt":
                if (list.Count != 1 || !long.TryParse(list[0], out var bound)) return false;
                if (value is null || !long.TryParse(value, out var have)) return false;
                return op == "Gt" ? have > bound : have < bound;
            default: return false;
        }
    }

    /// <summary>
    /// NodeAffinity's PreFilter: when every required term names nodes with a <c>metadata.name In</c> field requirement,
    /// only those nodes are worth filtering (the DaemonSet controller pins its pods this way). Null when any node
    /// may do; an empty set when the terms conflict.
    /// </summary>
    public static HashSet<string>? NodeNames(JsonArray? requiredTerms)
    {
        if (requiredTerms is null || requiredTerms.Count == 0) return null;
        HashSet<string>? names = null;
        foreach (var term in requiredTerms.OfType<JsonObject>())
        {
            HashSet<string>? termNames = null;
            foreach (var f in (term["matchFields"] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                if (JsonRead.StrOrEmpty(f, "key") != "metadata.name" || JsonRead.StrOrEmpty(f, "operator") != "In") continue;
                var set = ((f["values"] as JsonArray) ?? []).Select(JsonRead.StrOrEmpty).ToHashSet(StringComparer.Ordinal);
                if (termNames is null) termNames = set;
                else termNames.IntersectWith(set);
            }
            if (termNames is null) return null;
            (names ??= new HashSet<string>(StringComparer.Ordinal)).UnionWith(termNames);
        }
        return names;
    }

    /// <summary>The sum of the weights of the preferred terms the node matches (NodeAffinity's Score).</summary>
    public static long PreferredScore(JsonArray? preferred, SchedulingNode node)
    {
        long score = 0;
        foreach (var p in preferred?.OfType<JsonObject>() ?? [])
        {
            var weight = JsonRead.Long(p, "weight") ?? 0;
            if (weight != 0 && p["preference"] is JsonObject term && TermMatches(term, node)) score += weight;
        }
        return score;
    }
}
