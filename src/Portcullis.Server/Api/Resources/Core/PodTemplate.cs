using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 PodTemplate: its definition and behaviour (upstream pkg/registry/core/podtemplate).</summary>
internal sealed class PodTemplateKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "podtemplates", Singular = "podtemplate", Kind = "PodTemplate", Namespaced = true,
        TracksGeneration = true,
        Strategy = new PodTemplateKind(),
    };

    public override void Default(JsonObject obj) => CoreDefaults.PodTemplate(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => HpaValidation.PodTemplate(obj, old);

    public override TablePrinter Printer => AutoscalingPrinters.PodTemplate;
}
