using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// admissionregistration.k8s.io (pkg/apis/admissionregistration/validation/validation.go): the webhook
/// configurations' rules are in <c>AdmissionRegistrationValidation.Webhooks.cs</c>, the policies' in
/// <c>AdmissionRegistrationValidation.Policies.cs</c>.
/// </summary>
internal static partial class AdmissionRegistrationValidation
{
    // Filled by the webhook and policy parts of issue 19.
    public static partial List<FieldError> WebhookConfiguration(JsonObject obj, JsonObject? old, bool mutating);
    public static partial List<FieldError> Policy(JsonObject obj, JsonObject? old);
    public static partial List<FieldError> PolicyStatus(JsonObject obj, JsonObject old);
    public static partial List<FieldError> PolicyBinding(JsonObject obj, JsonObject? old);
}
