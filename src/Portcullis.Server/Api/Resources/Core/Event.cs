using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Event: its definition and behaviour (upstream pkg/registry/core/event).</summary>
internal sealed class EventKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "events", Singular = "event", Kind = "Event", Namespaced = true,
        ShortNames = ["ev"],
        Strategy = new EventKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ClusterValidation.CoreEvent(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("involvedObject.kind", FieldLabel.At("involvedObject", "kind")),
        ("involvedObject.namespace", FieldLabel.At("involvedObject", "namespace")),
        ("involvedObject.name", FieldLabel.At("involvedObject", "name")),
        ("involvedObject.uid", FieldLabel.At("involvedObject", "uid")),
        ("involvedObject.apiVersion", FieldLabel.At("involvedObject", "apiVersion")),
        ("involvedObject.resourceVersion", FieldLabel.At("involvedObject", "resourceVersion")),
        ("involvedObject.fieldPath", FieldLabel.At("involvedObject", "fieldPath")),
        ("reason", FieldLabel.At("reason")),
        ("reportingComponent", FieldLabel.At("reportingComponent")),
        ("source", FieldLabel.At("source", "component")),
        ("type", FieldLabel.At("type")));

    /// <summary>
    /// Upstream's event printer (columns and row shared with events.k8s.io/v1 events, <see cref="EventTable"/>).
    /// </summary>
    public override TablePrinter Printer { get; } = new(EventTable.Columns, (o, now) => EventTable.Cells(FromCore(o), now));

    private static EventTable.Fields FromCore(JsonObject o) => new(
        Name(o), Str(o["type"]), Str(o["reason"]), Str(o["message"]),
        o["involvedObject"], o["source"], Str(o["reportingComponent"]), Str(o["reportingInstance"]),
        o["firstTimestamp"], o["lastTimestamp"], o["eventTime"], o["series"], Int(o["count"]));
}
