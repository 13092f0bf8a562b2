using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Policy;

/// <summary>
/// policy/v1beta1 PodSecurityPolicy (Kubernetes 1.24, removed upstream in 1.25; upstream
/// pkg/registry/policy/podsecuritypolicy at 1.24): served only while the PodSecurityPolicy admission
/// plugin is enabled (<see cref="OptionalResources"/>).
/// </summary>
internal sealed class PodSecurityPolicyKind : KindStrategy
{
    public static ResourceDefinition V1Beta1 { get; } = new()
    {
        Group = "policy", Version = "v1beta1", Plural = "podsecuritypolicies", Singular = "podsecuritypolicy", StoragePrefix = "podsecuritypolicy",
        Kind = "PodSecurityPolicy", Namespaced = false, ShortNames = ["psp"],
        Strategy = new PodSecurityPolicyKind(),
    };

    /// <summary>SetDefaults_PodSecurityPolicySpec: allowPrivilegeEscalation defaults to true.</summary>
    public override void Default(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec) obj["spec"] = spec = new JsonObject();
        if (spec["allowPrivilegeEscalation"] is null) spec["allowPrivilegeEscalation"] = true;
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => PodSecurityPolicyValidation.Validate(obj, old);

    /// <summary>printPodSecurityPolicy of Kubernetes 1.24.</summary>
    public override TablePrinter Printer { get; } = new(
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
