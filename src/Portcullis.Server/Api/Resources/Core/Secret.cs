using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Secret: its definition and behaviour (upstream pkg/registry/core/secret).</summary>
internal sealed class SecretKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "secrets", Singular = "secret", Kind = "Secret", Namespaced = true,
        Strategy = new SecretKind(),
    };

    public override void Default(JsonObject obj) => CoreDefaults.Secret(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ConfigValidation.Secret(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("type", FieldLabel.At("type")));

    public override TablePrinter Printer => CorePrinters.Secret;
}
