using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>
/// Upstream's event printer, shared by both event kinds. events.k8s.io/v1 events print through the
/// same columns: upstream converts them to the internal core event first, so each kind maps its
/// fields onto <see cref="Fields"/> (named as in the internal event) and the row is made here.
/// </summary>
internal static class EventTable
{
    public static readonly TableColumn[] Columns =
    [
        Col("Last Seen", "How long ago the event was last observed."),
        Col("Type", "Normal or Warning."),
        Col("Reason", "A short machine-readable cause for the event."),
        Col("Object", "The kind and name of the object the event is about."),
        Col("Subobject", "Which part of the object the event is about, such as a container.", 1),
        Col("Source", "The component (and host) that reported the event.", 1),
        Col("Message", "The event's human-readable description."),
        Col("First Seen", "How long ago the event was first observed.", 1),
        Col("Count", "How many times the event has occurred.", 1),
        new("Name", "string", "name", "The event object's own name.", 1),
    ];

    /// <summary>The fields the printer reads, named as in the internal event.</summary>
    public sealed record Fields(
        string Name, string Type, string Reason, string Message,
        JsonNode? InvolvedObject, JsonNode? Source, string ReportingController, string ReportingInstance,
        JsonNode? FirstTimestamp, JsonNode? LastTimestamp, JsonNode? EventTime, JsonNode? Series, long Count);

    public static IReadOnlyList<JsonNode?> Cells(Fields e, DateTimeOffset now)
    {
        var firstSeen = Time(e.FirstTimestamp) is { } first
            ? HumanDuration.Since(first, now)
            : HumanDuration.Since(Time(e.EventTime), now);
        var lastSeen = Time(e.LastTimestamp) is { } last ? HumanDuration.Since(last, now) : firstSeen;

        var count = e.Count;
        if (e.Series is JsonObject series)
        {
            lastSeen = HumanDuration.Since(Time(series["lastObservedTime"]), now);
            count = Int(series["count"]);
        }
        else if (count == 0)
        {
            // Events written through events.k8s.io without a series happened once.
            count = 1;
        }

        var kind = Str(At(e.InvolvedObject, "kind")).ToLowerInvariant();
        var name = Str(At(e.InvolvedObject, "name"));
        var target = name.Length > 0 ? kind + "/" + name : kind;

        return
        [
            Cell(lastSeen),
            Cell(e.Type),
            Cell(e.Reason),
            Cell(target),
            Cell(Str(At(e.InvolvedObject, "fieldPath"))),
            Cell(FormatSource(e)),
            Cell(e.Message.Trim()),
            Cell(firstSeen),
            Cell(count),
            Cell(e.Name),
        ];
    }

    /// <summary>"component, host", falling back to the reporting controller and instance; no host → just the component.</summary>
    private static string FormatSource(Fields e)
    {
        var component = FirstNonEmpty(Str(At(e.Source, "component")), e.ReportingController);
        var instance = FirstNonEmpty(Str(At(e.Source, "host")), e.ReportingInstance);
        return instance.Length == 0 ? component : component + ", " + instance;
    }

    private static string FirstNonEmpty(string a, string b) => a.Length > 0 ? a : b;
}
