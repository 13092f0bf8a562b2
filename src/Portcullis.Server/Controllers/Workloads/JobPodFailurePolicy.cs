using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>The action of the pod failure policy rule a failed pod matched.</summary>
public enum PodFailureAction { None, FailJob, FailIndex, Ignore, Count }

/// <summary>What a failed pod means under the Job's pod failure policy.</summary>
/// <param name="FailJobMessage">Set when a FailJob rule matched: the FailureTarget condition's message.</param>
/// <param name="CountFailed">Whether the failure counts toward backoffLimit (Ignore does not).</param>
/// <param name="Action">The matched rule's action, or None when no rule matched.</param>
public readonly record struct PodFailureMatch(string? FailJobMessage, bool CountFailed, PodFailureAction Action);

/// <summary>
/// matchPodFailurePolicy (pkg/controller/job/pod_failure_policy.go): the first rule whose onExitCodes (a
/// container, then an init container, terminated with a non-zero code In / NotIn the values, of the named
/// container if any) or onPodConditions (a condition of the type with the status) matches decides.
/// </summary>
public static class JobPodFailurePolicy
{
    public static PodFailureMatch Match(JsonObject? policy, JsonObject pod)
    {
        if (policy is null) return new(null, true, PodFailureAction.None);
        var rules = policy["rules"] as JsonArray ?? [];
        for (var index = 0; index < rules.Count; index++)
        {
            if (rules[index] is not JsonObject rule) continue;
            var action = JsonRead.StrOrEmpty(rule, "action");
            if (rule["onExitCodes"] is JsonObject onExitCodes)
            {
                if (MatchExitCodes(pod, onExitCodes) is not { } cs) continue;
                var code = JsonRead.Long(cs["state"]?["terminated"], "exitCode") ?? 0;
                if (Decide(action, () => $"Container {JsonRead.StrOrEmpty(cs, "name")} for pod {Meta.Namespace(pod)}/{Meta.Name(pod)} failed with exit code {code} matching {action} rule at index {index}") is { } m)
                    return m;
            }
            else if (rule["onPodConditions"] is JsonArray patterns)
            {
                if (MatchConditions(pod, patterns) is not { } cond) continue;
                if (Decide(action, () => $"Pod {Meta.Namespace(pod)}/{Meta.Name(pod)} has condition {JsonRead.StrOrEmpty(cond, "type")} matching {action} rule at index {index}") is { } m)
                    return m;
            }
        }
        return new(null, true, PodFailureAction.None);
    }

    private static PodFailureMatch? Decide(string action, Func<string> failJobMessage) => action switch
    {
        "Ignore" => new(null, false, PodFailureAction.Ignore),
        "FailIndex" => new(null, true, PodFailureAction.FailIndex),
        "Count" => new(null, true, PodFailureAction.Count),
        "FailJob" => new(failJobMessage(), true, PodFailureAction.FailJob),
        _ => null,
    };

    private static JsonObject? MatchExitCodes(JsonObject pod, JsonObject requirement) =>
        MatchingContainer(pod["status"]?["containerStatuses"] as JsonArray, requirement)
        ?? MatchingContainer(pod["status"]?["initContainerStatuses"] as JsonArray, requirement);

    private static JsonObject? MatchingContainer(JsonArray? statuses, JsonObject requirement)
    {
        var containerName = JsonRead.Str(requirement, "containerName");
        var op = JsonRead.StrOrEmpty(requirement, "operator");
        var values = (requirement["values"] as JsonArray ?? []).Select(v => JsonRead.Long(v)).ToHashSet();
        foreach (var cs in (statuses ?? []).OfType<JsonObject>())
        {
            if (cs["state"]?["terminated"] is not JsonObject terminated) continue;
            var code = JsonRead.Long(terminated, "exitCode") ?? 0;
            if (code == 0) continue;
            if (containerName is not null && containerName != JsonRead.Str(cs, "name")) continue;
            var contains = values.Contains(code);
            if (op == "In" ? contains : op == "NotIn" && !contains) return cs;
        }
        return null;
    }

    private static JsonObject? MatchConditions(JsonObject pod, JsonArray patterns)
    {
        foreach (var cond in (pod["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>())
            foreach (var p in patterns.OfType<JsonObject>())
                if (JsonRead.Str(cond, "type") == JsonRead.Str(p, "type") && JsonRead.Str(cond, "status") == (JsonRead.Str(p, "status") ?? "True"))
                    return cond;
        return null;
    }
}

/// <summary>
/// matchSuccessPolicy (pkg/controller/job/success_policy.go, JobSuccessPolicy GA in 1.33): the first rule
/// whose succeededIndexes all succeeded (or, with succeededCount, at least that many of them; or of all
/// indexes when only succeededCount is given) makes the Job meet its success criteria.
/// </summary>
public static class JobSuccessPolicy
{
    public static string? Match(JsonObject? policy, int completions, OrderedIntervals succeeded)
    {
        if (policy is null || succeeded.Total == 0) return null;
        var rules = policy["rules"] as JsonArray ?? [];
        for (var index = 0; index < rules.Count; index++)
        {
            if (rules[index] is not JsonObject rule) continue;
            var count = JsonRead.Long(rule, "succeededCount");
            if (JsonRead.Str(rule, "succeededIndexes") is { } indexes)
            {
                var required = OrderedIntervals.Parse(indexes, completions);
                // An unparsable succeededIndexes matches nothing.
                if (required.Total == 0) continue;
                var matched = 0;
                foreach (var (first, last) in required.Items)
                    for (var i = first; i <= last; i++)
                        if (succeeded.Has(i)) matched++;
                if (count is { } c ? matched >= c : matched == required.Total) return $"Matched rules at index {index}";
            }
            else if (count is { } c && succeeded.Total >= c) return $"Matched rules at index {index}";
        }
        return null;
    }
}
