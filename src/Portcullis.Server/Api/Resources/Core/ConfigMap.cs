using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 ConfigMap: its definition and behaviour (upstream pkg/registry/core/configmap).</summary>
internal sealed class ConfigMapKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "configmaps", Singular = "configmap", Kind = "ConfigMap", Namespaced = true,
        ShortNames = ["cm"],
        Strategy = new ConfigMapKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ConfigValidation.ConfigMap(obj, old);

    /// <summary>kubectl get's columns for config maps.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Data", "How many keys the config map holds, text and binary together."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Count(o["data"]) + Count(o["binaryData"])), Cell(Age(o, now))]);
}
