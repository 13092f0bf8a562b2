using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Batch;

/// <summary>batch/v1 Job: its definition and behaviour (upstream pkg/registry/batch/job).</summary>
internal sealed class JobKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "batch", Version = "v1", Plural = "jobs", Singular = "job", Kind = "Job", Namespaced = true,
        Categories = ["all"], Subresources = ["status"], TracksGeneration = true,
        Strategy = new JobKind(),
    };

    /// <summary>
    /// batch/v1 SetObjectDefaults_Job: SetDefaults_Job, then the pod template defaults of its template.
    /// JobPodReplacementPolicy is on in 1.33 (podReplacementPolicy is defaulted).
    /// </summary>
    public override void Default(JsonObject obj)
    {
        if (J.Ensure(obj, "spec") is not { } spec) return;
        JobSpec(obj, spec);
        PodFailurePolicy(spec);
        PodDefaults.Template(J.Ensure(spec, "template"));
    }

    /// <summary>SetDefaults_Job (only for Jobs: a CronJob's job template is not defaulted this way).</summary>
    private static void JobSpec(JsonObject job, JsonObject spec)
    {
        if (J.IsNull(spec, "completions") && J.IsNull(spec, "parallelism"))
        {
            spec["completions"] = J.Num(1);
            spec["parallelism"] = J.Num(1);
        }
        J.DefaultPointer(spec, "parallelism", 1);
        J.DefaultPointer(spec, "backoffLimit", J.IsNull(spec, "backoffLimitPerIndex") ? 6 : int.MaxValue);

        var templateLabels = J.Obj(J.Obj(J.Obj(spec, "template"), "metadata"), "labels");
        if (templateLabels is not null && J.Ensure(job, "metadata") is { } metadata && J.IsEmptyCollection(metadata, "labels"))
            metadata["labels"] = templateLabels.DeepClone();

        J.DefaultPointer(spec, "completionMode", "NonIndexed");
        J.DefaultPointer(spec, "suspend", false);
        J.DefaultPointer(spec, "podReplacementPolicy", J.IsNull(spec, "podFailurePolicy") ? "TerminatingOrFailed" : "Failed");
        J.DefaultPointer(spec, "manualSelector", false);
    }

    /// <summary>In SetDefaults_Job (1.33.0): a condition pattern's status is True unless set.</summary>
    private static void PodFailurePolicy(JsonObject jobSpec)
    {
        foreach (var rule in J.Items(J.Obj(jobSpec, "podFailurePolicy"), "rules"))
            foreach (var pattern in J.Items(rule, "onPodConditions"))
                J.DefaultString(pattern, "status", "True");
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => BatchValidation.Job(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("status.successful", FieldLabel.AtOr("0", "status", "succeeded")));

    /// <summary>kubectl get's columns for jobs.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Status", "Whether the job is Running, Complete, Failed, Suspended or Terminating."),
        Col("Completions", "Succeeded pods out of the completions the job needs."),
        Col("Duration", "How long the job ran, or has been running so far."),
        AgeColumn, WorkloadColumns.Containers, WorkloadColumns.Images, WorkloadColumns.Selector("job"),
    ], Cells);

    private static IReadOnlyList<JsonNode?> Cells(JsonObject o, DateTimeOffset now)
    {
        var spec = o["spec"];
        var succeeded = I(Int(At(o, "status", "succeeded")));
        string completions;
        if (IntOrNull(At(spec, "completions")) is { } c) completions = succeeded + "/" + I(c);
        else
        {
            var parallelism = IntOrNull(At(spec, "parallelism")) ?? 1;
            completions = parallelism > 1 ? succeeded + "/1 of " + I(parallelism) : succeeded + "/1";
        }

        var start = Time(At(o, "status", "startTime"));
        var completion = Time(At(o, "status", "completionTime"));
        var duration = start is null ? ""
            : HumanDuration.Format((completion ?? now) - start.Value);

        var conditions = Objects(At(o, "status", "conditions"));
        string status =
            HasCondition(conditions, "Complete") ? "Complete"
            : HasCondition(conditions, "Failed") ? "Failed"
            : Deleting(o) ? "Terminating"
            : HasCondition(conditions, "Suspended") ? "Suspended"
            : HasCondition(conditions, "FailureTarget") ? "FailureTarget"
            : "Running";

        var (names, images) = ContainerCells(At(spec, "template", "spec", "containers"));
        return
        [
            Cell(Name(o)), Cell(status), Cell(completions), Cell(duration), Cell(Age(o, now)),
            Cell(names), Cell(images),
            Cell(LabelFormatting.FormatLabelSelector(At(spec, "selector"))),
        ];
    }

    /// <summary>hasJobCondition: the first condition of the type decides.</summary>
    private static bool HasCondition(List<JsonObject> conditions, string type)
    {
        foreach (var c in conditions)
            if (Str(c["type"]) == type) return Str(c["status"]) == "True";
        return false;
    }
}
