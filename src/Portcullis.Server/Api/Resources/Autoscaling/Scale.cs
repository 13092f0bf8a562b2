using Portcullis.Server.Api.Printing;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Autoscaling;

/// <summary>
/// autoscaling/v1 Scale, the body of the scale subresource (Http/Handlers/ScaleHandler.cs): never
/// stored, a view of its parent; as a kind it has only its table columns (kubectl get --subresource=scale).
/// </summary>
internal sealed class ScaleKind : KindStrategy
{
    public static ResourceDefinition View { get; } = new()
    {
        Group = "autoscaling", Version = "v1", Plural = "scales", Singular = "scale", Kind = "Scale", Namespaced = true, Virtual = true,
        Strategy = new ScaleKind(),
    };

    /// <summary>autoscaling/v1 Scale (kubectl get --subresource=scale); upstream's Name column has no "name" format.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        new TableColumn("Name", "string", "", NameColumn.Description),
        Col("Desired", "The desired number of replicas.", type: "integer"),
        Col("Available", "The observed number of replicas.", type: "integer"),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Int(At(o, "spec", "replicas"))), Cell(Int(At(o, "status", "replicas"))), Cell(Age(o, now))]);
}
