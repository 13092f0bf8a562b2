using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Policy;

/// <summary>policy/v1 PodDisruptionBudget: its definition and behaviour (upstream pkg/registry/policy/poddisruptionbudget).</summary>
internal sealed class PodDisruptionBudgetKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "policy", Version = "v1", Plural = "poddisruptionbudgets", Singular = "poddisruptionbudget", Kind = "PodDisruptionBudget", Namespaced = true,
        ShortNames = ["pdb"], Subresources = ["status"], TracksGeneration = true,
        // The PDB strategy validates no ObjectMeta itself: only BeforeCreate's path-segment name check applies.
        NameRule = NameRule.PathSegment,
        // Its strategy (and the status strategy that embeds it) refuses unconditional updates.
        AllowUnconditionalUpdate = false,
        Strategy = new PodDisruptionBudgetKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => PolicyValidation.PodDisruptionBudget(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => PolicyValidation.PodDisruptionBudgetUpdate(obj, old, subresource);

    public override TablePrinter Printer => MiscPrinters.PodDisruptionBudget;
}
