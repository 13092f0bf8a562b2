namespace Portcullis.Server.Errors;

/// <summary>
/// Factories for API errors, with upstream's codes, reasons and message texts
/// (k8s.io/apimachinery/pkg/api/errors). Scripts grep these messages: keep them exact.
/// </summary>
public static class ApiErrors
{
    /// <summary>"pods" or "deployments.apps": how upstream names a resource in messages.</summary>
    public static string Qualified(string resource, string group) => new Api.GroupResource(group, resource).ToString();

    public static ApiException NotFound(string resource, string group, string name) =>
        new(404, "NotFound", $"{Qualified(resource, group)} \"{name}\" not found")
        { DetailName = name, DetailGroup = group, DetailKind = resource };

    /// <summary>An unknown path or resource.</summary>
    public static ApiException PathNotFound() =>
        new(404, "NotFound", "the server could not find the requested resource");

    public static ApiException AlreadyExists(string resource, string group, string name) =>
        new(409, "AlreadyExists", $"{Qualified(resource, group)} \"{name}\" already exists")
        { DetailName = name, DetailGroup = group, DetailKind = resource };

    /// <summary>upstream's NewGenerateNameConflict: a generated name was taken on every try.</summary>
    public static ApiException GenerateNameConflict(string resource, string group, string name) =>
        new(409, "AlreadyExists", $"{Qualified(resource, group)} \"{name}\" already exists, the server was not able to generate a unique name for the object")
        { DetailName = name, DetailGroup = group, DetailKind = resource, RetryAfterSeconds = 1 };

    public static ApiException Conflict(string resource, string group, string name, string why) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {Qualified(resource, group)} \"{name}\": {why}")
        { DetailName = name, DetailGroup = group, DetailKind = resource };

    public const string OptimisticLockMessage =
        "the object has been modified; please apply your changes to the latest version and try again";

    public static ApiException Invalid(string kind, string group, string name, IReadOnlyList<FieldError> errors)
    {
        // field.ErrorList.ToAggregate: identical messages collapse; brackets only for several.
        var texts = errors.Select(e => e.ToString()).Distinct().ToList();
        var message = texts.Count switch
        {
            0 => $"{Qualified(kind, group)} \"{name}\" is invalid",
            1 => $"{Qualified(kind, group)} \"{name}\" is invalid: {texts[0]}",
            _ => $"{Qualified(kind, group)} \"{name}\" is invalid: [{string.Join(", ", texts)}]",
        };
        return new ApiException(422, "Invalid", message)
        {
            DetailName = name,
            DetailGroup = group,
            DetailKind = kind,
            Causes = errors.Select(e => new StatusCause(e.CauseReason, e.CauseMessage, e.Field)).ToList(),
        };
    }

    public static ApiException Forbidden(string resource, string group, string name, string reason)
    {
        var msg = resource.Length == 0 && group.Length == 0 ? $"forbidden: {reason}"
            : name.Length == 0 ? $"{Qualified(resource, group)} is forbidden: {reason}"
            : $"{Qualified(resource, group)} \"{name}\" is forbidden: {reason}";
        return new ApiException(403, "Forbidden", msg) { DetailName = name, DetailGroup = group, DetailKind = resource };
    }

    public static ApiException Unauthorized(string message = "Unauthorized") => new(401, "Unauthorized", message) { HasDetails = false };

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message) { HasDetails = false };

    public static ApiException MethodNotSupported(string resource, string group, string action) =>
        new(405, "MethodNotAllowed", $"{action} is not supported on resources of kind \"{Qualified(resource, group)}\"")
        { DetailGroup = group, DetailKind = resource };

    public static ApiException MethodNotAllowed() =>
        new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource") { };

    public static ApiException NotAcceptable(string message) => new(406, "NotAcceptable", message) { HasDetails = false };

    public static ApiException UnsupportedMediaType(string contentType, IEnumerable<string> supported) =>
        new(415, "UnsupportedMediaType",
            $"the body of the request was in an unknown format - accepted media types include: {string.Join(", ", supported)}")
        { HasDetails = false };

    public static ApiException Gone(string message) => new(410, "Expired", message) { HasDetails = false };

    public static ApiException ResourceExpired(string message) => new(410, "Expired", message) { HasDetails = false };

    public static ApiException RequestEntityTooLarge(string message) => new(413, "RequestEntityTooLarge", message) { HasDetails = false };

    public static ApiException Internal(string message) =>
        new(500, "InternalError", $"Internal error occurred: {message}")
        { Causes = [new StatusCause("", message, "")] };

    public static ApiException ServiceUnavailable(string message) => new(503, "ServiceUnavailable", message) { HasDetails = false };

    public static ApiException Timeout(string message) => new(504, "Timeout", message) { HasDetails = false };
}
