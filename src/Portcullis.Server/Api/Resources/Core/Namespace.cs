using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Namespace: its definition and behaviour (upstream pkg/registry/core/namespace).</summary>
internal sealed class NamespaceKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "namespaces", Singular = "namespace", Kind = "Namespace", Namespaced = false,
        ShortNames = ["ns"], Subresources = ["status", "finalize"], NameRule = NameRule.Dns1123Label, ReturnDeletedObject = true,
        HasSpecFinalizers = true,
        Verbs = ["create", "delete", "get", "list", "patch", "update", "watch"],
        Strategy = new NamespaceKind(),
    };

    public override void Default(JsonObject obj) => CoreDefaults.Namespace(obj);

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => Strategies.NamespaceCreate(obj, ctx);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => Strategies.NamespaceUpdate(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ConfigValidation.Namespace(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => ConfigValidation.NamespaceUpdate(obj, old, subresource);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("status.phase", FieldLabel.At("status", "phase")));

    public override void OnDeletionMarked(JsonObject obj) => Strategies.NamespaceMarked(obj);

    public override TablePrinter Printer => CorePrinters.Namespace;
}
