using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

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
        Group = "policy", Version = "v1beta1", Plural = "podsecuritypolicies", Singular = "podsecuritypolicy",
        Kind = "PodSecurityPolicy", Namespaced = false, ShortNames = ["psp"],
        Strategy = new PodSecurityPolicyKind(),
    };

    public override void Default(JsonObject obj) => AdmissionDefaults.PodSecurityPolicy(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => PodSecurityPolicyValidation.Validate(obj, old);

    public override TablePrinter Printer => AdmissionPrinters.PodSecurityPolicy;
}
