using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Apps;

/// <summary>apps/v1 DaemonSet: its definition and behaviour (upstream pkg/registry/apps/daemonset).</summary>
internal sealed class DaemonSetKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "apps", Version = "v1", Plural = "daemonsets", Singular = "daemonset", Kind = "DaemonSet", Namespaced = true,
        ShortNames = ["ds"], Categories = ["all"], Subresources = ["status"], TracksGeneration = true,
        Strategy = new DaemonSetKind(),
    };

    /// <summary>apps/v1 SetDefaults_DaemonSet, then the pod template defaults of its template.</summary>
    public override void Default(JsonObject obj)
    {
        if (J.Ensure(obj, "spec") is not { } spec) return;
        if (J.Ensure(spec, "updateStrategy") is { } strategy)
        {
            J.DefaultString(strategy, "type", "RollingUpdate");
            if (J.Str(strategy, "type") == "RollingUpdate" && J.Ensure(strategy, "rollingUpdate") is { } rolling)
            {
                J.DefaultPointer(rolling, "maxUnavailable", 1);
                J.DefaultPointer(rolling, "maxSurge", 0);
            }
        }
        J.DefaultPointer(spec, "revisionHistoryLimit", 10);
        PodDefaults.Template(J.Ensure(spec, "template"));
        // The v1 form always carries the template generation (Convert_apps_DaemonSet_To_v1_DaemonSet writes it from
        // spec.templateGeneration, which a v1 object without the annotation decodes to 0): what managedFields see.
        var annotations = Registry.Meta.Of(obj)["annotations"] as JsonObject;
        if (annotations is null) Registry.Meta.Of(obj)["annotations"] = annotations = new JsonObject();
        annotations[TemplateGenerationAnnotation] = TemplateGeneration(obj).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>apps/v1 DeprecatedTemplateGeneration: the internal spec.templateGeneration in v1.</summary>
    public const string TemplateGenerationAnnotation = "deprecated.daemonset.template.generation";

    private static long TemplateGeneration(JsonObject obj) =>
        (Registry.Meta.Of(obj)["annotations"] as JsonObject)?[TemplateGenerationAnnotation] is JsonValue v && v.TryGetValue<string>(out var s)
        && long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var g) ? g : 0;

    private static void SetTemplateGeneration(JsonObject obj, long generation)
    {
        var meta = Registry.Meta.Of(obj);
        if (meta["annotations"] is not JsonObject annotations) meta["annotations"] = annotations = new JsonObject();
        annotations[TemplateGenerationAnnotation] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>daemonSetStrategy.PrepareForCreate: the template generation starts at 1.</summary>
    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => SetTemplateGeneration(obj, 1);

    /// <summary>daemonSetStrategy.PrepareForUpdate: clients do not set the template generation; a changed template
    /// increments it.</summary>
    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx)
    {
        var generation = TemplateGeneration(old);
        if (ctx.Subresource.Length == 0 && !JsonNode.DeepEquals(obj["spec"]?["template"], old["spec"]?["template"])) generation++;
        SetTemplateGeneration(obj, generation);
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => WorkloadValidation.DaemonSet(obj, old);

    /// <summary>kubectl get's columns for daemon sets.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Desired", "How many nodes should run the daemon pod.", type: "integer"),
        Col("Current", "How many nodes run at least one daemon pod.", type: "integer"),
        Col("Ready", "How many nodes run a ready daemon pod.", type: "integer"),
        Col("Up-to-date", "How many nodes run the latest pod template.", type: "integer"),
        Col("Available", "How many nodes run an available daemon pod.", type: "integer"),
        Col("Node Selector", "The node labels the daemon pods are restricted to."),
        AgeColumn, WorkloadColumns.Containers, WorkloadColumns.Images, WorkloadColumns.Selector("daemon set"),
    ], (o, now) =>
    {
        var (names, images) = ContainerCells(At(o, "spec", "template", "spec", "containers"));
        var status = o["status"];
        return
        [
            Cell(Name(o)),
            Cell(Int(At(status, "desiredNumberScheduled"))),
            Cell(Int(At(status, "currentNumberScheduled"))),
            Cell(Int(At(status, "numberReady"))),
            Cell(Int(At(status, "updatedNumberScheduled"))),
            Cell(Int(At(status, "numberAvailable"))),
            Cell(LabelFormatting.FormatLabels(At(o, "spec", "template", "spec", "nodeSelector"))),
            Cell(Age(o, now)),
            Cell(names), Cell(images),
            Cell(LabelFormatting.FormatLabelSelector(At(o, "spec", "selector"))),
        ];
    });
}
