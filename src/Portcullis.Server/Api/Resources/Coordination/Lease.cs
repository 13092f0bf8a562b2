using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

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

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => Strategies.LeaseCreate(obj, ctx);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => Strategies.LeaseUpdate(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ClusterValidation.Lease(obj, old);

    public override TablePrinter Printer => MiscPrinters.Lease;
}
