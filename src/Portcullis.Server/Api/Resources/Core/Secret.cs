using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Secret: its definition and behaviour (upstream pkg/registry/core/secret).</summary>
internal sealed class SecretKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "secrets", Singular = "secret", Kind = "Secret", Namespaced = true,
        Strategy = new SecretKind(),
    };

    /// <summary>SetDefaults_Secret (type Opaque), after stringData is merged into data as the v1 conversion does.</summary>
    public override void Default(JsonObject obj)
    {
        Conversions.SecretStringData(obj);
        J.DefaultString(obj, "type", "Opaque");
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ConfigValidation.Secret(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("type", FieldLabel.At("type")));

    /// <summary>kubectl get's columns for secrets.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Type", "The secret's type, which says what its data holds."),
        Col("Data", "How many keys the secret's data holds."),
        AgeColumn,
    ], (o, now) =>
    {
        var type = Str(o["type"]);
        return [Cell(Name(o)), Cell(type.Length > 0 ? type : "Opaque"), Cell(Count(o["data"])), Cell(Age(o, now))];
    });
}
