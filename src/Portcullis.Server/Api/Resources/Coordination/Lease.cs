using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Coordination;

/// <summary>coordination.k8s.io/v1 Lease: its definition and behaviour (upstream pkg/registry/coordination/lease).</summary>
internal sealed class LeaseKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "coordination.k8s.io", Version = "v1", Plural = "leases", Singular = "lease", Kind = "Lease", Namespaced = true,
        AllowUnconditionalUpdate = false, AllowCreateOnUpdate = true,
        Strategy = new LeaseKind(),
    };

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => DropDisabledFields(obj, ctx);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => DropDisabledFieldsOnUpdate(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ClusterValidation.Lease(obj, old);

    /// <summary>kubectl get's columns for leases.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Holder", "The identity currently holding the lease."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Str(At(o, "spec", "holderIdentity"))), Cell(Age(o, now))]);

    /// <summary>
    /// Lease (pkg/registry/coordination/lease/strategy.go): with CoordinatedLeaderElection off (beta, off by default
    /// in 1.33) spec.strategy and spec.preferredHolder are dropped on create, and on update unless the old lease
    /// already had them.
    /// </summary>
    private static void DropDisabledFields(JsonObject lease, StrategyContext _)
    {
        if (lease["spec"] is not JsonObject spec) return;
        spec.Remove("strategy");
        spec.Remove("preferredHolder");
    }

    private static void DropDisabledFieldsOnUpdate(JsonObject lease, JsonObject? old, StrategyContext _)
    {
        if (lease["spec"] is not JsonObject spec) return;
        if (old?["spec"]?["strategy"] is null) spec.Remove("strategy");
        if (old?["spec"]?["preferredHolder"] is null) spec.Remove("preferredHolder");
    }
}
