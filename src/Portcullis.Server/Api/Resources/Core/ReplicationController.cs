using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

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

    public override void Default(JsonObject obj) => CoreDefaults.ReplicationController(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ReplicationControllerValidation.Validate(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("status.replicas", o => FieldLabel.At("status", "replicas")(o) ?? "0"));

    public override TablePrinter Printer => WorkloadPrinters.ReplicationController;
}
