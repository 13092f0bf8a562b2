using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

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
         ("involvedObject.kind", FieldLabel.At("involvedObject", "kind")), ("involvedObject.namespace", FieldLabel.At("involvedObject", "namespace")), ("involvedObject.name", FieldLabel.At("involvedObject", "name")), ("involvedObject.uid", FieldLabel.At("involvedObject", "uid")), ("involvedObject.apiVersion", FieldLabel.At("involvedObject", "apiVersion")), ("involvedObject.resourceVersion", FieldLabel.At("involvedObject", "resourceVersion")), ("involvedObject.fieldPath", FieldLabel.At("involvedObject", "fieldPath")), ("reason", FieldLabel.At("reason")), ("reportingComponent", FieldLabel.At("reportingComponent")), ("source", FieldLabel.At("source", "component")), ("type", FieldLabel.At("type")));

    public override TablePrinter Printer => EventPrinters.Core;
}
