using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

internal static partial class AdmissionRegistrationValidation
{
    public static partial List<FieldError> WebhookConfiguration(JsonObject obj, JsonObject? old, bool mutating) => [];
}
