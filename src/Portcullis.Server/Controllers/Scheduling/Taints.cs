using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>A node taint: key, value, effect.</summary>
public readonly record struct Taint(string Key, string Value, string Effect)
{
    public static Taint From(JsonObject t) => new(JsonRead.StrOrEmpty(t, "key"), JsonRead.StrOrEmpty(t, "value"), JsonRead.StrOrEmpty(t, "effect"));
}

/// <summary>Tolerations against taints, as core/v1 Toleration.ToleratesTaint and component-helpers' taint helpers.</summary>
public static class Taints
{
    public const string UnschedulableTaintKey = "node.kubernetes.io/unschedulable";
    public const string NotReadyTaintKey = "node.kubernetes.io/not-ready";

    /// <summary>component-helpers' TolerationsTolerateTaint: some toleration tolerates the taint.</summary>
    public static bool ToleratesTaint(JsonArray? tolerations, string key, string value, string effect)
    {
        foreach (var t in tolerations ?? [])
            if (t is JsonObject o && Tolerates(o, key, value, effect)) return true;
        return false;
    }

    /// <summary>
    /// core/v1 Toleration.ToleratesTaint: an empty effect matches every effect, an empty key every key; operator
    /// Exists matches any value, Equal (or empty) the same value, any other operator nothing.
    /// </summary>
    public static bool Tolerates(JsonObject toleration, string key, string value, string effect)
    {
        var tEffect = JsonRead.StrOrEmpty(toleration, "effect");
        if (tEffect.Length > 0 && tEffect != effect) return false;
        var tKey = JsonRead.StrOrEmpty(toleration, "key");
        if (tKey.Length > 0 && tKey != key) return false;
        return JsonRead.StrOrEmpty(toleration, "operator") switch
        {
            "" or "Equal" => JsonRead.StrOrEmpty(toleration, "value") == value,
            "Exists" => true,
            _ => false,
        };
    }

    /// <summary>
    /// FindMatchingUntoleratedTaint with DoNotScheduleTaintsFilterFunc: the first NoSchedule or NoExecute taint no
    /// toleration tolerates, or null.
    /// </summary>
    public static Taint? FirstUntoleratedDoNotSchedule(IReadOnlyList<Taint> taints, JsonArray? tolerations)
    {
        foreach (var t in taints)
        {
            if (t.Effect is not ("NoSchedule" or "NoExecute")) continue;
            if (!ToleratesTaint(tolerations, t.Key, t.Value, t.Effect)) return t;
        }
        return null;
    }

    /// <summary>TaintToleration's Score input: how many PreferNoSchedule taints the pod does not tolerate.</summary>
    public static int CountIntolerablePreferNoSchedule(IReadOnlyList<Taint> taints, JsonArray? tolerations)
    {
        var n = 0;
        foreach (var t in taints)
            if (t.Effect == "PreferNoSchedule" && !PreferNoScheduleTolerated(tolerations, t)) n++;
        return n;
    }

    // getAllTolerationPreferNoSchedule: only tolerations with an empty or PreferNoSchedule effect count.
    private static bool PreferNoScheduleTolerated(JsonArray? tolerations, Taint t)
    {
        foreach (var x in tolerations ?? [])
            if (x is JsonObject o && JsonRead.StrOrEmpty(o, "effect") is "" or "PreferNoSchedule" && Tolerates(o, t.Key, t.Value, t.Effect)) return true;
        return false;
    }
}
