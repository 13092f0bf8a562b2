using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

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

    public override TablePrinter Printer => EventPrinters.EventsV1;
}
