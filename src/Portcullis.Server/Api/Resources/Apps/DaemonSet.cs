using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Apps;

/// <summary>apps/v1 DaemonSet: its definition and behaviour (upstream pkg/registry/apps/daemonset).</summary>
internal sealed class DaemonSetKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "apps", Version = "v1", Plural = "daemonsets", Singular = "daemonset", Kind = "DaemonSet", Namespaced = true,
        ShortNames = ["ds"], Categories = ["all"], Subresources = ["status"], TracksGeneration = true,
        Strategy = new DaemonSetKind(),
    };

    public override void Default(JsonObject obj) => WorkloadDefaults.DaemonSet(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => WorkloadValidation.DaemonSet(obj, old);

    public override TablePrinter Printer => WorkloadPrinters.DaemonSet;
}
