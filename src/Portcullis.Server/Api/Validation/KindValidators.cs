using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// Upstream's per-kind validation (ValidatePod, ValidateService, …) beyond object metadata, which
/// the generic store validates itself. Called with the old object on update (null on create).
/// </summary>
public static class KindValidators
{
    public static Func<JsonObject, JsonObject?, List<FieldError>>? For(string group, string kind) => (group, kind) switch
    {
        _ => null,
    };
}
