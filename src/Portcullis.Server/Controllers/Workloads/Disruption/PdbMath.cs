using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads.Disruption;

/// <summary>
/// The arithmetic of a PodDisruptionBudget's status (pkg/controller/disruption/disruption.go
/// getExpectedPodCount, countHealthyPods, updatePdbStatus; k8s.io/apimachinery intstr
/// GetScaledValueFromIntOrPercent; pkg/apis/policy/helper UpdateDisruptionAllowedCondition).
/// </summary>
public static class PdbMath
{
    /// <summary>DeletionTimeout: a pod in status.disruptedPods longer than this is assumed not to be deleted after all.</summary>
    public static readonly TimeSpan DeletionTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// GetScaledValueFromIntOrPercent: an integer as is; "N%" of <paramref name="total"/>, rounded up or down.
    /// A string that is no percentage fails with upstream's message.
    /// </summary>
    public static int Scaled(JsonNode? intOrPercent, int total, bool roundUp)
    {
        switch (JsonRead.IntOrString(intOrPercent))
        {
            case { IsInt: true } i: return (int)i.Int;
            case { IsInt: false } s:
                if (!s.Str.EndsWith('%')) throw new InvalidOperationException("invalid value for IntOrString: invalid type: string is not a percentage");
                if (!int.TryParse(s.Str.AsSpan(0, s.Str.Length - 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var percent))
                    throw new InvalidOperationException($"invalid value \"{s.Str}\": strconv.Atoi: parsing \"{s.Str[..^1]}\": invalid syntax");
                var v = (double)percent * total / 100;
                return roundUp ? (int)Math.Ceiling(v) : (int)Math.Floor(v);
            default: throw new InvalidOperationException("nil value for IntOrString");
        }
    }

    /// <summary>Whether the budget is counted against its pods' controllers' scale (maxUnavailable, or a percentage minAvailable).</summary>
    public static bool NeedsScale(JsonObject spec) => spec["maxUnavailable"] is not null || spec["minAvailable"] is { } m && !IsInt(m);

    /// <summary>Whether the value is an integer (not a percentage).</summary>
    public static bool IsInt(JsonNode? intOrPercent) => JsonRead.IntOrString(intOrPercent) is { IsInt: true };

    /// <summary>
    /// getExpectedPodCount: (expectedPods, desiredHealthy). With maxUnavailable, and with a percentage minAvailable,
    /// the expected count is the sum of the pods' controllers' scales (<paramref name="expectedScale"/>); with an
    /// integer minAvailable it is the number of selected pods.
    /// </summary>
    public static (int Expected, int DesiredHealthy) Expected(JsonObject spec, int podCount, int expectedScale)
    {
        if (spec["maxUnavailable"] is { } maxUnavailable)
        {
            var expected = expectedScale;
            var desired = expected - Scaled(maxUnavailable, expected, roundUp: true);
            return (expected, Math.Max(desired, 0));
        }
        if (spec["minAvailable"] is { } minAvailable)
        {
            if (IsInt(minAvailable)) return (podCount, Scaled(minAvailable, podCount, true));
            var expected = expectedScale;
            return (expected, Scaled(minAvailable, expected, roundUp: true));
        }
        return (0, 0);
    }

    /// <summary>
    /// countHealthyPods: ready pods, not being deleted, and not recorded as disrupted within <see cref="DeletionTimeout"/>.
    /// </summary>
    public static int CurrentHealthy(IEnumerable<JsonObject> pods, IReadOnlyDictionary<string, DateTimeOffset> disrupted, DateTimeOffset now) =>
        pods.Count(p => !Meta.IsDeleting(p)
            && !(disrupted.TryGetValue(Meta.Name(p), out var t) && t + DeletionTimeout > now)
            && PodFacts.IsReady(p));

    /// <summary>updatePdbStatus: healthy minus desired, never negative, and zero while no pod is expected.</summary>
    public static int DisruptionsAllowed(int currentHealthy, int desiredHealthy, int expected)
    {
        var allowed = currentHealthy - desiredHealthy;
        return expected <= 0 || allowed <= 0 ? 0 : allowed;
    }

    /// <summary>
    /// buildDisruptedPodMap: the recorded disruptions still pending (the pod exists, is not being deleted, and was
    /// recorded less than <see cref="DeletionTimeout"/> ago), and when to look again (the earliest expiry), if any.
    /// </summary>
    public static (Dictionary<string, DateTimeOffset> Pending, DateTimeOffset? Recheck) Disrupted(JsonObject? recorded, IEnumerable<JsonObject> pods, DateTimeOffset now)
    {
        var pending = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        DateTimeOffset? recheck = null;
        if (recorded is null || recorded.Count == 0) return (pending, null);
        foreach (var pod in pods)
        {
            if (Meta.IsDeleting(pod)) continue;
            if (PodFacts.Time(recorded[Meta.Name(pod)]) is not { } t) continue;
            var expires = t + DeletionTimeout;
            if (expires < now) continue; // "Pod was expected to be deleted but it wasn't"
            pending[Meta.Name(pod)] = t;
            if (recheck is null || expires < recheck) recheck = expires;
        }
        return (pending, recheck);
    }

    /// <summary>
    /// UpdateDisruptionAllowedCondition / SetStatusCondition: DisruptionAllowed True (SufficientPods) when
    /// disruptions are allowed, else False (InsufficientPods); the transition time changes only with the status.
    /// </summary>
    public static void SetCondition(JsonObject status, string conditionStatus, string reason, string message, long observedGeneration, DateTimeOffset now)
    {
        var conditions = status["conditions"] as JsonArray ?? new JsonArray();
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => JsonRead.Str(c, "type") == "DisruptionAllowed");
        var transition = existing is not null && JsonRead.Str(existing, "status") == conditionStatus
            ? existing["lastTransitionTime"]?.DeepClone()
            : Api.Schema.ObjectShaper.FormatTime(now);
        var condition = new JsonObject
        {
            ["type"] = "DisruptionAllowed",
            ["status"] = conditionStatus,
            ["observedGeneration"] = observedGeneration,
            ["lastTransitionTime"] = transition,
            ["reason"] = reason,
            ["message"] = message,
        };
        if (existing is not null) conditions[conditions.IndexOf(existing)] = condition;
        else conditions.Add((JsonNode)condition);
        status["conditions"] = conditions;
    }

    /// <summary>
    /// ConditionsAreUpToDate: the condition exists, the status observed the object's generation, and the condition
    /// agrees with disruptionsAllowed (True/SufficientPods or False/InsufficientPods).
    /// </summary>
    public static bool ConditionUpToDate(JsonObject pdb)
    {
        var status = pdb["status"] as JsonObject;
        var c = (status?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(x => JsonRead.Str(x, "type") == "DisruptionAllowed");
        if (c is null || (JsonRead.Long(status, "observedGeneration") ?? 0) != (JsonRead.Long(Meta.Of(pdb), "generation") ?? 0)) return false;
        return (JsonRead.Long(status, "disruptionsAllowed") ?? 0) > 0
            ? JsonRead.Str(c, "status") == "True" && JsonRead.Str(c, "reason") == "SufficientPods"
            : JsonRead.Str(c, "status") == "False" && JsonRead.Str(c, "reason") == "InsufficientPods";
    }
}
