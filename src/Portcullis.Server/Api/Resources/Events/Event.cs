using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Events;

/// <summary>events.k8s.io/v1 Event: its definition and behaviour (upstream pkg/registry/events/event).</summary>
internal sealed class EventKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "events.k8s.io", Version = "v1", Plural = "events", Singular = "event", Kind = "Event", Namespaced = true,
        ShortNames = ["ev"], StoragePrefix = "events", ToStorage = EventConversion.ToCore, FromStorage = EventConversion.ToEventsV1,
        StorageVersion = ("", "v1", "Event"),
        Strategy = new EventKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ClusterValidation.EventsEvent(obj, old);

    /// <summary>
    /// Upstream's event printer, as for core/v1 events: upstream converts an events.k8s.io/v1 event to
    /// the internal core event first, so its fields map onto the same row (<see cref="EventTable"/>).
    /// </summary>
    public override TablePrinter Printer { get; } = new(EventTable.Columns, (o, now) => EventTable.Cells(FromEventsV1(o), now));

    private static EventTable.Fields FromEventsV1(JsonObject o) => new(
        Name(o), Str(o["type"]), Str(o["reason"]), Str(o["note"]),
        o["regarding"], o["deprecatedSource"], Str(o["reportingController"]), Str(o["reportingInstance"]),
        o["deprecatedFirstTimestamp"], o["deprecatedLastTimestamp"], o["eventTime"], o["series"], Int(o["deprecatedCount"]));
}
