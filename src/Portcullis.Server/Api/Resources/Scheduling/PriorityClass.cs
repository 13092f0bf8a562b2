using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Scheduling;

/// <summary>scheduling.k8s.io/v1 PriorityClass: its definition and behaviour (upstream pkg/registry/scheduling/priorityclass).</summary>
internal sealed class PriorityClassKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "scheduling.k8s.io", Version = "v1", Plural = "priorityclasses", Singular = "priorityclass", Kind = "PriorityClass", Namespaced = false,
        ShortNames = ["pc"],
        Strategy = new PriorityClassKind(),
    };

    public override void Default(JsonObject obj) => AdmissionDefaults.PriorityClass(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => SchedulingValidation.PriorityClass(obj, old);

    public override TablePrinter Printer => AdmissionPrinters.PriorityClass;
}
