using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>The wide columns and the desired-replicas reading that the workload kinds' printers share.</summary>
internal static class WorkloadColumns
{
    public static readonly TableColumn Containers = Col("Containers", "The names of the containers in the pod template.", 1);

    public static readonly TableColumn Images = Col("Images", "The images of the containers in the pod template.", 1);

    public static TableColumn Selector(string what) => Col("Selector", $"The label selector that picks the {what}'s pods.", 1);

    /// <summary>
    /// The table of a replica-counting controller (ReplicaSet, ReplicationController: upstream's
    /// printReplicaSet and printReplicationController): desired, current and ready replicas, age,
    /// and wide the containers, images and selector, printed by <paramref name="selector"/>.
    /// </summary>
    public static TablePrinter Replicas(string what, Func<JsonNode?, string> selector) => new(
    [
        NameColumn,
        Col("Desired", $"How many pods the {what} wants.", type: "integer"),
        Col("Current", $"How many pods the {what} currently has.", type: "integer"),
        Col("Ready", "How many of those pods are ready.", type: "integer"),
        AgeColumn, Containers, Images, Selector(what),
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

    /// <summary>spec.replicas, which v1 defaults to 1 when unset.</summary>
    public static long DesiredReplicas(JsonObject o) => IntOrNull(At(o, "spec", "replicas")) ?? 1;
}
