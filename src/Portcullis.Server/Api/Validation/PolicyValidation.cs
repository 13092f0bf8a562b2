using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// policy/v1 PodDisruptionBudget (pkg/apis/policy/validation ValidatePodDisruptionBudget and
/// ValidatePodDisruptionBudgetStatusUpdate; pkg/registry/policy/poddisruptionbudget strategy).
/// Upstream's strategy validates no ObjectMeta of its own: names only need to be path segments.
/// </summary>
internal static class PolicyValidation
{
    private static readonly string[] UnhealthyPodEvictionPolicies = ["AlwaysAllow", "IfHealthyBudget"];

    public static List<FieldError> PodDisruptionBudget(JsonObject pdb, JsonObject? old)
    {
        var errs = new List<FieldError>();
        var spec = J.O(pdb, "spec") ?? new JsonObject();
        const string path = "spec";
        var min = spec["minAvailable"];
        var max = spec["maxUnavailable"];
        if (min is not null && max is not null)
            errs.Add(Err.InvalidRaw(path, GoRepr.Render(spec, "policy/v1.PodDisruptionBudgetSpec"), "minAvailable and maxUnavailable cannot be both set"));
        if (min is not null)
        {
            WorkloadValidation.PositiveIntOrPercent(errs, min, P.Child(path, "minAvailable"));
            WorkloadValidation.NotMoreThan100(errs, min, P.Child(path, "minAvailable"));
        }
        if (max is not null)
        {
            WorkloadValidation.PositiveIntOrPercent(errs, max, P.Child(path, "maxUnavailable"));
            WorkloadValidation.NotMoreThan100(errs, max, P.Child(path, "maxUnavailable"));
        }
        // On update, a selector that was already invalid may keep its invalid label values.
        var allowInvalid = false;
        if (old is not null && J.O(J.O(old, "spec"), "selector") is { } oldSel)
        {
            var probe = new List<FieldError>();
            Selectors.Validate(probe, oldSel, "");
            allowInvalid = probe.Count > 0;
        }
        Selectors.Validate(errs, J.O(spec, "selector"), P.Child(path, "selector"), allowInvalid);
        if (J.SN(spec, "unhealthyPodEvictionPolicy") is { } policy && Array.IndexOf(UnhealthyPodEvictionPolicies, policy) < 0)
            errs.Add(Err.NotSupported(P.Child(path, "unhealthyPodEvictionPolicy"), policy, UnhealthyPodEvictionPolicies));
        return errs;
    }

    /// <summary>The main resource runs the spec rules; /status runs only the status rules (conditions not yet checked).</summary>
    public static List<FieldError> PodDisruptionBudgetUpdate(JsonObject pdb, JsonObject old, string subresource)
    {
        if (subresource != "status") return PodDisruptionBudget(pdb, old);
        var errs = new List<FieldError>();
        var status = J.O(pdb, "status");
        foreach (var f in new[] { "disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods" })
            Formats.Nonnegative(errs, P.Child("status", f), J.L(status, f));
        return errs;
    }
}
