using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Apps;

/// <summary>apps/v1 Deployment: its definition and behaviour (upstream pkg/registry/apps/deployment).</summary>
internal sealed class DeploymentKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "apps", Version = "v1", Plural = "deployments", Singular = "deployment", Kind = "Deployment", Namespaced = true,
        ShortNames = ["deploy"], Categories = ["all"], Subresources = ["scale", "status"], SubresourceKinds = ResourceDefinition.ScaleSubresourceKind, TracksGeneration = true,
        Strategy = new DeploymentKind(),
    };

    /// <summary>apps/v1 SetDefaults_Deployment, then the pod template defaults of its template.</summary>
    public override void Default(JsonObject obj)
    {
        if (J.Ensure(obj, "spec") is not { } spec) return;
        J.DefaultPointer(spec, "replicas", 1);
        if (J.Ensure(spec, "strategy") is { } strategy)
        {
            J.DefaultString(strategy, "type", "RollingUpdate");
            if (J.Str(strategy, "type") == "RollingUpdate" && J.Ensure(strategy, "rollingUpdate") is { } rolling)
            {
                J.DefaultPointer(rolling, "maxUnavailable", "25%");
                J.DefaultPointer(rolling, "maxSurge", "25%");
            }
        }
        J.DefaultPointer(spec, "revisionHistoryLimit", 10);
        J.DefaultPointer(spec, "progressDeadlineSeconds", 600);
        PodDefaults.Template(J.Ensure(spec, "template"));
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => WorkloadValidation.Deployment(obj, old);

    /// <summary>kubectl get's columns for deployments.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Ready", "Ready pods out of the desired replicas."),
        Col("Up-to-date", "How many pods already run the latest pod template."),
        Col("Available", "How many pods have been ready long enough to count as available."),
        AgeColumn, WorkloadColumns.Containers, WorkloadColumns.Images, WorkloadColumns.Selector("deployment"),
    ], (o, now) =>
    {
        var (names, images) = ContainerCells(At(o, "spec", "template", "spec", "containers"));
        return
        [
            Cell(Name(o)),
            Cell(I(Int(At(o, "status", "readyReplicas"))) + "/" + I(WorkloadColumns.DesiredReplicas(o))),
            Cell(Int(At(o, "status", "updatedReplicas"))),
            Cell(Int(At(o, "status", "availableReplicas"))),
            Cell(Age(o, now)),
            Cell(names), Cell(images),
            Cell(LabelFormatting.SelectorString(At(o, "spec", "selector")) ?? "<invalid>"),
        ];
    });
}
