using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

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

    /// <summary>SetDefaults_PriorityClass: preemptionPolicy defaults to PreemptLowerPriority.</summary>
    public override void Default(JsonObject obj)
    {
        if (obj["preemptionPolicy"] is null) obj["preemptionPolicy"] = "PreemptLowerPriority";
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => SchedulingValidation.PriorityClass(obj, old);

    /// <summary>kubectl get's columns for priority classes.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Value", "The integer priority pods of this class receive.", type: "integer"),
        Col("Global-Default", "Whether pods without a priorityClassName get this class.", type: "boolean"),
        AgeColumn,
        Col("PreemptionPolicy", "Whether pods of this class may preempt pods of lower priority (PreemptLowerPriority or Never)."),
    ], (o, now) =>
    [
        Cell(Name(o)),
        JsonValue.Create(Int(o["value"])),
        JsonValue.Create(Bool(o["globalDefault"])),
        Cell(Age(o, now)),
        Cell(o["preemptionPolicy"] is null ? "PreemptLowerPriority" : Str(o["preemptionPolicy"])),
    ]);
}
