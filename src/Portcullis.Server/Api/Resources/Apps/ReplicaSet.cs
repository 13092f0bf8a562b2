using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Apps;

/// <summary>apps/v1 ReplicaSet: its definition and behaviour (upstream pkg/registry/apps/replicaset).</summary>
internal sealed class ReplicaSetKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "apps", Version = "v1", Plural = "replicasets", Singular = "replicaset", Kind = "ReplicaSet", Namespaced = true,
        ShortNames = ["rs"], Categories = ["all"], Subresources = ["scale", "status"], SubresourceKinds = ResourceDefinition.ScaleSubresourceKind, TracksGeneration = true,
        Strategy = new ReplicaSetKind(),
    };

    /// <summary>apps/v1 SetDefaults_ReplicaSet, then the pod template defaults of its template.</summary>
    public override void Default(JsonObject obj)
    {
        if (J.Ensure(obj, "spec") is not { } spec) return;
        J.DefaultPointer(spec, "replicas", 1);
        PodDefaults.Template(J.Ensure(spec, "template"));
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => WorkloadValidation.ReplicaSet(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("status.replicas", FieldLabel.AtOr("0", "status", "replicas")));

    /// <summary>kubectl get's columns for replica sets (the selector printed as a label selector).</summary>
    public override TablePrinter Printer { get; } = WorkloadColumns.Replicas("replica set", LabelFormatting.FormatLabelSelector);
}
