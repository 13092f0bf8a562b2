using Portcullis.Server.Authentication;

namespace Portcullis.Server.Authorization;

/// <summary>
/// The answer of an authorizer. The zero value is <see cref="Deny"/>, so an uninitialised
/// decision fails closed.
/// </summary>
public enum Decision { Deny = 0, Allow = 1, NoOpinion = 2 }

/// <summary>The request as authorization sees it (authorizer.Attributes).</summary>
public sealed record AuthorizationAttributes(
    UserInfo User,
    Verb Verb,
    bool IsResourceRequest,
    string Path = "",
    string Namespace = "",
    string ApiGroup = "",
    string ApiVersion = "",
    string Resource = "",
    string Subresource = "",
    string Name = "");

/// <summary>A decision with its reason (for audit and for the Forbidden message).</summary>
public readonly record struct AuthorizationResult(Decision Decision, string Reason)
{
    /// <summary>
    /// A denial because no authorizer had an opinion (upstream's union authorizer returns NoOpinion, which the filter
    /// refuses): the <c>no-opinion</c> result of authorization_attempts_total.
    /// </summary>
    public bool NoAuthorizerHadOpinion { get; init; }

    public static AuthorizationResult Allowed(string reason = "") => new(Decision.Allow, reason);
    public static AuthorizationResult NoOpinion(string reason = "") => new(Decision.NoOpinion, reason);
    public static AuthorizationResult Denied(string reason = "") => new(Decision.Deny, reason);
}

/// <summary>Decides whether a user may do something: Allow, Deny, or NoOpinion (ask the next one).</summary>
public interface IAuthorizer
{
    ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes attributes, CancellationToken ct = default);
}
