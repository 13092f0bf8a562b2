using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

internal static partial class AdmissionRegistrationValidation
{
    public static partial List<FieldError> Policy(JsonObject obj, JsonObject? old) => [];
    public static partial List<FieldError> PolicyStatus(JsonObject obj, JsonObject old) => [];
    public static partial List<FieldError> PolicyBinding(JsonObject obj, JsonObject? old) => [];
}
