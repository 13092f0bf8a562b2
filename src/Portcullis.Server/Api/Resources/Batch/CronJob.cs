using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Batch;

/// <summary>batch/v1 CronJob: its definition and behaviour (upstream pkg/registry/batch/cronjob).</summary>
internal sealed class CronJobKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "batch", Version = "v1", Plural = "cronjobs", Singular = "cronjob", Kind = "CronJob", Namespaced = true,
        ShortNames = ["cj"], Categories = ["all"], Subresources = ["status"], TracksGeneration = true,
        Strategy = new CronJobKind(),
    };

    /// <summary>batch/v1 SetDefaults_CronJob, then the pod template defaults of its job template.</summary>
    public override void Default(JsonObject obj)
    {
        if (J.Ensure(obj, "spec") is not { } spec) return;
        J.DefaultString(spec, "concurrencyPolicy", "Allow");
        J.DefaultPointer(spec, "suspend", false);
        J.DefaultPointer(spec, "successfulJobsHistoryLimit", 3);
        J.DefaultPointer(spec, "failedJobsHistoryLimit", 1);
        // In 1.33.0 the job template's onPodConditions status is not defaulted (SetDefaults_Job defaults it
        // for Jobs only; kubernetes/kubernetes#131525 moved it to a per-pattern defaulter after v1.33.0),
        // so a pattern without status is refused by validation.
        if (J.Ensure(spec, "jobTemplate") is { } jobTemplate && J.Ensure(jobTemplate, "spec") is { } jobSpec)
            PodDefaults.Template(J.Ensure(jobSpec, "template"));
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => BatchValidation.CronJob(obj, old);

    /// <summary>kubectl get's columns for cron jobs.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Schedule", "The cron expression jobs are created on."),
        Col("Timezone", "The time zone the schedule is read in."),
        Col("Suspend", "Whether new runs are held back.", type: "boolean"),
        Col("Active", "How many of the cron job's jobs are running.", type: "integer"),
        Col("Last Schedule", "How long ago a job was last scheduled."),
        AgeColumn, WorkloadColumns.Containers, WorkloadColumns.Images, WorkloadColumns.Selector("job template"),
    ], (o, now) =>
    {
        var spec = o["spec"];
        var timeZone = At(spec, "timeZone") is JsonValue ? Str(At(spec, "timeZone")) : "<none>";
        // v1 defaults suspend to false, so an unset value prints as upstream's stored default would.
        var suspend = Bool(At(spec, "suspend")) ? "True" : "False";
        var lastSchedule = Time(At(o, "status", "lastScheduleTime")) is { } t ? HumanDuration.Since(t, now) : "<none>";
        var (names, images) = ContainerCells(At(spec, "jobTemplate", "spec", "template", "spec", "containers"));
        return
        [
            Cell(Name(o)), Cell(Str(At(spec, "schedule"))), Cell(timeZone), Cell(suspend),
            Cell(Count(At(o, "status", "active"))), Cell(lastSchedule), Cell(Age(o, now)),
            Cell(names), Cell(images),
            Cell(LabelFormatting.FormatLabelSelector(At(spec, "jobTemplate", "spec", "selector"))),
        ];
    });
}
