using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Service: its definition and behaviour (upstream pkg/registry/core/service).</summary>
internal sealed class ServiceKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "services", Singular = "service", Kind = "Service", Namespaced = true,
        ShortNames = ["svc"], Categories = ["all"], Subresources = ["status"], NameRule = NameRule.Dns1035Label,
        StoragePrefix = "services/specs", ReturnDeletedObject = true,
        Verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        Strategy = new ServiceKind(),
    };

    public override void Default(JsonObject obj) => ServiceDefaults.Service(obj);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => Strategies.ServiceUpdate(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ServiceValidation.Service(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("spec.clusterIP", FieldLabel.At("spec", "clusterIP")), ("spec.type", FieldLabel.At("spec", "type")));

    public override TablePrinter Printer => CorePrinters.Service;
}
