using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

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

    /// <summary>SetObjectDefaults_PodTemplate: the pod template defaults of its template.</summary>
    public override void Default(JsonObject obj) => PodDefaults.Template(J.Ensure(obj, "template"));

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => HpaValidation.PodTemplate(obj, old);

    /// <summary>kubectl get's columns for pod templates.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Containers", "Names of each container in the template."),
        Col("Images", "Images referenced by each container in the template."),
        Col("Pod Labels", "The labels for the pod template."),
    ], (o, now) =>
    {
        var (names, images) = ContainerCells(At(o, "template", "spec", "containers"));
        return [Cell(Name(o)), Cell(names), Cell(images), Cell(LabelFormatting.FormatLabels(At(o, "template", "metadata", "labels")))];
    });
}
