using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 ReplicationController: its definition and behaviour (upstream pkg/registry/core/replicationcontroller).</summary>
internal sealed class ReplicationControllerKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "replicationcontrollers", Singular = "replicationcontroller", Kind = "ReplicationController", Namespaced = true,
        ShortNames = ["rc"], Categories = ["all"], Subresources = ["scale", "status"], SubresourceKinds = ResourceDefinition.ScaleSubresourceKind, TracksGeneration = true,
        StoragePrefix = "controllers",
        Strategy = new ReplicationControllerKind(),
    };

    /// <summary>SetDefaults_ReplicationController: selector and labels from the template, one replica.</summary>
    public override void Default(JsonObject obj)
    {
        if (J.Ensure(obj, "spec") is not { } spec) return;
        var template = J.Obj(spec, "template");
        if (J.Obj(J.Obj(template, "metadata"), "labels") is { } labels)
        {
            if (J.IsEmptyCollection(spec, "selector")) spec["selector"] = labels.DeepClone();
            if (J.Ensure(obj, "metadata") is { } metadata && J.IsEmptyCollection(metadata, "labels"))
                metadata["labels"] = labels.DeepClone();
        }
        J.DefaultPointer(spec, "replicas", 1);
        PodDefaults.Template(template);
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ReplicationControllerValidation.Validate(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("status.replicas", FieldLabel.AtOr("0", "status", "replicas")));

    /// <summary>kubectl get's columns for replication controllers (the selector is a plain label map, printed as labels).</summary>
    public override TablePrinter Printer { get; } = WorkloadColumns.Replicas("replication controller", LabelFormatting.FormatLabels);
}
