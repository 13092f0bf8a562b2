using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

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

    /// <summary>kubectl get's columns for pod disruption budgets.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Min Available", "How many selected pods must stay available, as a number or percentage."),
        Col("Max Unavailable", "How many selected pods may be unavailable, as a number or percentage."),
        Col("Allowed Disruptions", "How many pods may be evicted right now.", type: "integer"),
        AgeColumn,
    ], (o, now) =>
    [
        Cell(Name(o)),
        Cell(IntOrString(At(o, "spec", "minAvailable")) ?? "N/A"),
        Cell(IntOrString(At(o, "spec", "maxUnavailable")) ?? "N/A"),
        Cell(Int(At(o, "status", "disruptionsAllowed"))),
        Cell(Age(o, now)),
    ]);
}
