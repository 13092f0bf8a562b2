using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

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

    /// <summary>
    /// apps/v1 SetDefaults_StatefulSet, then the pod template and claim template defaults. Feature
    /// gates as in 1.33: MaxUnavailableStatefulSet is off (no rollingUpdate.maxUnavailable default),
    /// StatefulSetAutoDeletePVC is GA (the claim retention policy is defaulted).
    /// </summary>
    public override void Default(JsonObject obj)
    {
        if (J.Ensure(obj, "spec") is not { } spec) return;
        J.DefaultString(spec, "podManagementPolicy", "OrderedReady");
        if (J.Ensure(spec, "updateStrategy") is { } strategy)
        {
            if (J.IsEmptyString(strategy, "type"))
            {
                strategy["type"] = "RollingUpdate";
                J.DefaultPointer(strategy, "rollingUpdate", new JsonObject());
            }
            if (J.Str(strategy, "type") == "RollingUpdate" && J.Obj(strategy, "rollingUpdate") is { } rolling)
                J.DefaultPointer(rolling, "partition", 0);
        }
        if (J.Ensure(spec, "persistentVolumeClaimRetentionPolicy") is { } retention)
        {
            J.DefaultString(retention, "whenDeleted", "Retain");
            J.DefaultString(retention, "whenScaled", "Retain");
        }
        J.DefaultPointer(spec, "replicas", 1);
        J.DefaultPointer(spec, "revisionHistoryLimit", 10);
        PodDefaults.Template(J.Ensure(spec, "template"));
        foreach (var claim in J.Items(spec, "volumeClaimTemplates"))
        {
            VolumeDefaults.Claim(claim);
            // apps/v1 conversion writes the claim templates' type meta on the way out.
            claim["apiVersion"] = "v1";
            claim["kind"] = "PersistentVolumeClaim";
        }
    }

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
