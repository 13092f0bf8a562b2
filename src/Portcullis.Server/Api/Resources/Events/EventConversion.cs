using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Api.Resources.Events;

/// <summary>
/// core/v1 Event ⇄ events.k8s.io/v1 Event (upstream's pkg/apis/events/v1 conversion). Both APIs
/// serve one storage, as upstream: events are stored as core/v1 Events under /registry/events/,
/// so an event written through either API is listed by both (kubectl get events and kubectl
/// describe read core/v1; the new event recorders write events.k8s.io/v1).
/// </summary>
public static class EventConversion
{
    /// <summary>core/v1 field name → events.k8s.io/v1 field name, for the fields that differ.</summary>
    private static readonly (string Core, string EventsV1)[] Renamed =
    [
        ("involvedObject", "regarding"), ("message", "note"), ("source", "deprecatedSource"),
        ("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp"),
        ("count", "deprecatedCount"), ("reportingComponent", "reportingController"),
    ];

    private static StructSchema CoreSchema => SchemaRegistry.Default.Get("core/v1.Event");
    private static StructSchema EventsV1Schema => SchemaRegistry.Default.Get("events/v1.Event");

    public static JsonObject ToCore(JsonObject ev) => Convert(ev, "v1", CoreSchema, toCore: true);

    public static JsonObject ToEventsV1(JsonObject core) => Convert(core, "events.k8s.io/v1", EventsV1Schema, toCore: false);

    private static JsonObject Convert(JsonObject from, string apiVersion, StructSchema schema, bool toCore)
    {
        var result = new JsonObject { ["kind"] = "Event", ["apiVersion"] = apiVersion };
        foreach (var (key, value) in from)
        {
            if (key is "kind" or "apiVersion") continue;
            var name = key;
            foreach (var (core, v1) in Renamed)
                if (toCore ? key == v1 : key == core) name = toCore ? core : v1;
            result[name] = value?.DeepClone();
        }
        return ObjectShaper.Shape(result, schema);
    }
}
