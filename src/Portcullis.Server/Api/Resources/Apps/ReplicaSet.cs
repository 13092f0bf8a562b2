using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

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

    public override void Default(JsonObject obj) => WorkloadDefaults.ReplicaSet(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => WorkloadValidation.ReplicaSet(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("status.replicas", o => FieldLabel.At("status", "replicas")(o) ?? "0"));

    public override TablePrinter Printer => WorkloadPrinters.ReplicaSet;
}
