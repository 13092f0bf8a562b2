using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Node: its definition and behaviour (upstream pkg/registry/core/node).</summary>
internal sealed class NodeKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "nodes", Singular = "node", Kind = "Node", Namespaced = false,
        ShortNames = ["no"], Subresources = ["status"], StoragePrefix = "minions",
        Strategy = new NodeKind(),
    };

    public override void Default(JsonObject obj) => CoreDefaults.Node(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ClusterValidation.Node(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("spec.unschedulable", o => FieldLabel.At("spec", "unschedulable")(o) ?? "false"));

    public override TablePrinter Printer => CorePrinters.Node;
}
