using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>The wide columns and the desired-replicas reading that the workload kinds' printers share.</summary>
internal static class WorkloadColumns
{
    public static readonly TableColumn Containers = Col("Containers", "The names of the containers in the pod template.", 1);

    public static readonly TableColumn Images = Col("Images", "The images of the containers in the pod template.", 1);

    public static TableColumn Selector(string what) => Col("Selector", $"The label selector that picks the {what}'s pods.", 1);

    /// <summary>spec.replicas, which v1 defaults to 1 when unset.</summary>
    public static long DesiredReplicas(JsonObject o) => IntOrNull(At(o, "spec", "replicas")) ?? 1;
}
