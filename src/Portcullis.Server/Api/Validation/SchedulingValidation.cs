using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

/// <summary>scheduling.k8s.io PriorityClass (pkg/apis/scheduling/validation).</summary>
internal static class SchedulingValidation
{
    public const string SystemPriorityClassPrefix = "system-";
    /// <summary>scheduling.HighestUserDefinablePriority.</summary>
    public const long HighestUserDefinablePriority = 1_000_000_000;
    public const long SystemCriticalPriority = 2 * HighestUserDefinablePriority;

    /// <summary>The system classes (name, value, globalDefault) the server creates at start.</summary>
    public static readonly (string Name, long Value, bool GlobalDefault)[] SystemPriorityClasses =
    [
        ("system-node-critical", SystemCriticalPriority + 1000, false),
        ("system-cluster-critical", SystemCriticalPriority, false),
    ];

    public static List<FieldError> PriorityClass(JsonObject pc, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, pc);
        var value = J.L(pc, "value") ?? 0;
        var policy = J.SN(pc, "preemptionPolicy");
        if (old is not null)
        {
            // ValidatePriorityClassUpdate: only the metadata rules, and value and preemptionPolicy are immutable.
            if (value != (J.L(old, "value") ?? 0)) errs.Add(Err.Forbidden("value", "may not be changed in an update."));
            var oldPolicy = J.SN(old, "preemptionPolicy");
            if (policy != oldPolicy)
                errs.Add(policy is null ? Err.InvalidRaw("preemptionPolicy", "null", Formats.ImmutableMsg) : Err.Invalid("preemptionPolicy", policy, Formats.ImmutableMsg));
            return errs;
        }
        var name = J.S(J.O(pc, "metadata"), "name");
        if (name.StartsWith(SystemPriorityClassPrefix, StringComparison.Ordinal))
        {
            if (KnownSystemClassError(name, value, J.True(pc, "globalDefault")) is { } e)
                errs.Add(Err.Forbidden("metadata.name", $"priority class names with '{SystemPriorityClassPrefix}' prefix are reserved for system use only. error: {e}"));
        }
        else if (value > HighestUserDefinablePriority)
            errs.Add(Err.Forbidden("value", $"maximum allowed value of a user defined priority is {HighestUserDefinablePriority}"));
        if (policy is not null)
        {
            if (policy.Length == 0) errs.Add(Err.Required("preemptionPolicy"));
            else if (policy is not ("PreemptLowerPriority" or "Never"))
                errs.Add(Err.NotSupported("preemptionPolicy", policy, "PreemptLowerPriority", "Never"));
        }
        return errs;
    }

    /// <summary>IsKnownSystemPriorityClass: null when it is one, else why not.</summary>
    private static string? KnownSystemClassError(string name, long value, bool globalDefault)
    {
        foreach (var (n, v, g) in SystemPriorityClasses)
        {
            if (n != name) continue;
            if (v != value) return $"value of {n} PriorityClass must be {v}";
            if (g != globalDefault) return $"globalDefault of {n} PriorityClass must be {(g ? "true" : "false")}";
            return null;
        }
        return $"{name} is not a known system priority class";
    }
}
