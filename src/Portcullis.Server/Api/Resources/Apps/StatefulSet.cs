using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Apps;

/// <summary>apps/v1 StatefulSet: its definition and behaviour (upstream pkg/registry/apps/statefulset).</summary>
internal sealed class StatefulSetKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "apps", Version = "v1", Plural = "statefulsets", Singular = "statefulset", Kind = "StatefulSet", Namespaced = true,
        ShortNames = ["sts"], Categories = ["all"], Subresources = ["scale", "status"], SubresourceKinds = ResourceDefinition.ScaleSubresourceKind, TracksGeneration = true,
        Strategy = new StatefulSetKind(),
    };

    public override void Default(JsonObject obj) => WorkloadDefaults.StatefulSet(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => WorkloadValidation.StatefulSet(obj, old);

    /// <summary>kubectl get's columns for stateful sets.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Ready", "Ready pods out of the desired replicas."),
        AgeColumn, WorkloadColumns.Containers, WorkloadColumns.Images,
    ], (o, now) =>
    {
        var (names, images) = ContainerCells(At(o, "spec", "template", "spec", "containers"));
        return
        [
            Cell(Name(o)),
            Cell(I(Int(At(o, "status", "readyReplicas"))) + "/" + I(WorkloadColumns.DesiredReplicas(o))),
            Cell(Age(o, now)),
            Cell(names), Cell(images),
        ];
    });
}
