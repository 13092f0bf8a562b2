using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>Upstream's printers for PriorityClass and (1.24) PodSecurityPolicy.</summary>
internal static class AdmissionPrinters
{
    public static readonly TablePrinter PriorityClass = new(
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

    /// <summary>printPodSecurityPolicy of Kubernetes 1.24.</summary>
    public static readonly TablePrinter PodSecurityPolicy = new(
    [
        NameColumn,
        Col("Priv", "Whether a pod may request to run privileged."),
        Col("Caps", "Capabilities that may be added to containers."),
        Col("SELinux", "The SELinux strategy rule."),
        Col("RunAsUser", "The RunAsUser strategy rule."),
        Col("FsGroup", "The FSGroup strategy rule."),
        Col("SupGroup", "The SupplementalGroups strategy rule."),
        Col("ReadOnlyRootFs", "Whether containers must run with a read-only root file system."),
        Col("Volumes", "The volume types pods may use."),
    ], (o, _) =>
    {
        var spec = o["spec"];
        return
        [
            Cell(Name(o)),
            Cell(Bool(At(spec, "privileged")) ? "true" : "false"),
            Cell(string.Join(",", Strings(At(spec, "allowedCapabilities")))),
            Cell(Str(At(spec, "seLinux", "rule"))),
            Cell(Str(At(spec, "runAsUser", "rule"))),
            Cell(Str(At(spec, "fsGroup", "rule"))),
            Cell(Str(At(spec, "supplementalGroups", "rule"))),
            JsonValue.Create(Bool(At(spec, "readOnlyRootFilesystem"))),
            Cell(string.Join(",", Strings(At(spec, "volumes")))),
        ];
    });
}
