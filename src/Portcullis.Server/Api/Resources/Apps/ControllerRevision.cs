using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Apps;

/// <summary>
/// apps/v1 ControllerRevision: an immutable snapshot of a StatefulSet's or DaemonSet's template, the history
/// <c>kubectl rollout history|undo</c> reads (upstream pkg/registry/apps/controllerrevision).
/// </summary>
internal sealed class ControllerRevisionKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "apps", Version = "v1", Plural = "controllerrevisions", Singular = "controllerrevision", Kind = "ControllerRevision",
        Namespaced = true,
        Strategy = new ControllerRevisionKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => VolumeValidation.ControllerRevision(obj, old);

    /// <summary>kubectl get's columns for controller revisions (printControllerRevision).</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Controller", "Controller of the object"),
        Col("Revision", "Revision indicates the revision of the state represented by Data."),
        AgeColumn,
    ], (o, now) =>
    {
        var controller = "<none>";
        foreach (var r in Objects(At(o, "metadata", "ownerReferences")))
        {
            if (!Bool(r["controller"])) continue;
            // formatResourceName(GroupKind, name, withKind): the lower-cased "Kind.group/name".
            var apiVersion = Str(r["apiVersion"]);
            var slash = apiVersion.IndexOf('/');
            var group = slash < 0 ? "" : apiVersion[..slash];
            var kind = Str(r["kind"]) + (group.Length > 0 ? "." + group : "");
            controller = kind.Length > 0 ? kind.ToLowerInvariant() + "/" + Str(r["name"]) : Str(r["name"]);
            break;
        }
        return [Cell(Name(o)), Cell(controller), Cell(Int(o["revision"])), Cell(Age(o, now))];
    });
}
