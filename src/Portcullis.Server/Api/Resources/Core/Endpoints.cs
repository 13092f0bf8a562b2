using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Endpoints: its definition and behaviour (upstream pkg/registry/core/endpoint).</summary>
internal sealed class EndpointsKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "endpoints", Singular = "endpoints", Kind = "Endpoints", Namespaced = true,
        ShortNames = ["ep"], StoragePrefix = "services/endpoints", AllowCreateOnUpdate = true,
        Strategy = new EndpointsKind(),
    };

    public override void Default(JsonObject obj) => ServiceDefaults.Endpoints(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ServiceValidation.Endpoints(obj, old);

    public override TablePrinter Printer => CorePrinters.Endpoints;
}
