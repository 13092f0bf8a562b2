using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>Upstream's printers for apps/v1 and batch/v1 kinds.</summary>
internal static class WorkloadPrinters
{
    private static readonly TableColumn Containers = Col("Containers", "The names of the containers in the pod template.", 1);
    private static readonly TableColumn Images = Col("Images", "The images of the containers in the pod template.", 1);

    private static TableColumn Selector(string what) => Col("Selector", $"The label selector that picks the {what}'s pods.", 1);

    public static readonly TablePrinter Deployment = new(
    [
        NameColumn,
        Col("Ready", "Ready pods out of the desired replicas."),
        Col("Up-to-date", "How many pods already run the latest pod template."),
        Col("Available", "How many pods have been ready long enough to count as available."),
        AgeColumn, Containers, Images, Selector("deployment"),
    ], (o, now) =>
    {
        var (names, images) = ContainerCells(At(o, "spec", "template", "spec", "containers"));
        return
        [
            Cell(Name(o)),
            Cell(I(Int(At(o, "status", "readyReplicas"))) + "/" + I(DesiredReplicas(o))),
            Cell(Int(At(o, "status", "updatedReplicas"))),
            Cell(Int(At(o, "status", "availableReplicas"))),
            Cell(Age(o, now)),
            Cell(names), Cell(images),
            Cell(LabelFormatting.SelectorString(At(o, "spec", "selector")) ?? "<invalid>"),
        ];
    });

    public static readonly TablePrinter ReplicaSet = Replicas("replica set", LabelFormatting.FormatLabelSelector);

    /// <summary>A ReplicationController's selector is a plain label map, printed as labels.</summary>
    public static readonly TablePrinter ReplicationController = Replicas("replication controller", LabelFormatting.FormatLabels);

    /// <summary>The columns ReplicaSets and ReplicationControllers share upstream; only the selector's form differs.</summary>
    private static TablePrinter Replicas(string noun, Func<JsonNode?, string> selector) => new(
    [
        NameColumn,
        Col("Desired", $"How many pods the {noun} wants.", type: "integer"),
        Col("Current", $"How many pods the {noun} currently has.", type: "integer"),
        Col("Ready", "How many of those pods are ready.", type: "integer"),
        AgeColumn, Containers, Images, Selector(noun),
    ], (o, now) =>
    {
        var (names, images) = ContainerCells(At(o, "spec", "template", "spec", "containers"));
        return
        [
            Cell(Name(o)),
            Cell(DesiredReplicas(o)),
            Cell(Int(At(o, "status", "replicas"))),
            Cell(Int(At(o, "status", "readyReplicas"))),
            Cell(Age(o, now)),
            Cell(names), Cell(images),
            Cell(selector(At(o, "spec", "selector"))),
        ];
    });

    /// <summary>autoscaling/v1 Scale (kubectl get --subresource=scale); upstream's Name column has no "name" format.</summary>
    public static readonly TablePrinter Scale = new(
    [
        new TableColumn("Name", "string", "", NameColumn.Description),
        Col("Desired", "The desired number of replicas.", type: "integer"),
        Col("Available", "The observed number of replicas.", type: "integer"),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Int(At(o, "spec", "replicas"))), Cell(Int(At(o, "status", "replicas"))), Cell(Age(o, now))]);

    public static readonly TablePrinter StatefulSet = new(
    [
        NameColumn,
        Col("Ready", "Ready pods out of the desired replicas."),
        AgeColumn, Containers, Images,
    ], (o, now) =>
    {
        var (names, images) = ContainerCells(At(o, "spec", "template", "spec", "containers"));
        return
        [
            Cell(Name(o)),
            Cell(I(Int(At(o, "status", "readyReplicas"))) + "/" + I(DesiredReplicas(o))),
            Cell(Age(o, now)),
            Cell(names), Cell(images),
        ];
    });

    public static readonly TablePrinter DaemonSet = new(
    [
        NameColumn,
        Col("Desired", "How many nodes should run the daemon pod.", type: "integer"),
        Col("Current", "How many nodes run at least one daemon pod.", type: "integer"),
        Col("Ready", "How many nodes run a ready daemon pod.", type: "integer"),
        Col("Up-to-date", "How many nodes run the latest pod template.", type: "integer"),
        Col("Available", "How many nodes run an available daemon pod.", type: "integer"),
        Col("Node Selector", "The node labels the daemon pods are restricted to."),
        AgeColumn, Containers, Images, Selector("daemon set"),
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

    public static readonly TablePrinter Job = new(
    [
        NameColumn,
        Col("Status", "Whether the job is Running, Complete, Failed, Suspended or Terminating."),
        Col("Completions", "Succeeded pods out of the completions the job needs."),
        Col("Duration", "How long the job ran, or has been running so far."),
        AgeColumn, Containers, Images, Selector("job"),
    ], (o, now) =>
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
    });

    public static readonly TablePrinter CronJob = new(
    [
        NameColumn,
        Col("Schedule", "The cron expression jobs are created on."),
        Col("Timezone", "The time zone the schedule is read in."),
        Col("Suspend", "Whether new runs are held back.", type: "boolean"),
        Col("Active", "How many of the cron job's jobs are running.", type: "integer"),
        Col("Last Schedule", "How long ago a job was last scheduled."),
        AgeColumn, Containers, Images, Selector("job template"),
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

    /// <summary>spec.replicas, which v1 defaults to 1 when unset.</summary>
    private static long DesiredReplicas(JsonObject o) => IntOrNull(At(o, "spec", "replicas")) ?? 1;

    /// <summary>hasJobCondition: the first condition of the type decides.</summary>
    private static bool HasCondition(List<JsonObject> conditions, string type)
    {
        foreach (var c in conditions)
            if (Str(c["type"]) == type) return Str(c["status"]) == "True";
        return false;
    }
}
