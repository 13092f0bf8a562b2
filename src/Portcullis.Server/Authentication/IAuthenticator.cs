using Microsoft.AspNetCore.Http;

namespace Portcullis.Server.Authentication;

/// <summary>Who is calling (k8s.io/apiserver/pkg/authentication/user.Info).</summary>
public sealed record UserInfo(string Name, string Uid, IReadOnlyList<string> Groups, IReadOnlyDictionary<string, IReadOnlyList<string>> Extra)
{
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoExtra = new Dictionary<string, IReadOnlyList<string>>();
    public const string Anonymous = "system:anonymous";
    public const string AllUnauthenticated = "system:unauthenticated";
    public const string AllAuthenticated = "system:authenticated";
    public const string SystemMasters = "system:masters";
}

public enum AuthenticationOutcome
{
    /// <summary>The request carries no credential this authenticator understands.</summary>
    NotMine,
    /// <summary>The credential is valid: <see cref="AuthenticationResult.User"/> is set.</summary>
    Authenticated,
    /// <summary>The credential is this authenticator's kind but invalid: the request fails with 401.</summary>
    Failed,
}

/// <summary>An authenticator's answer; the default value is <see cref="AuthenticationOutcome.NotMine"/>.</summary>
public readonly record struct AuthenticationResult(AuthenticationOutcome Outcome, UserInfo? User, string? Error)
{
    public static AuthenticationResult NotMine => default;
    public static AuthenticationResult Success(UserInfo u) => new(AuthenticationOutcome.Authenticated, u, null);
    /// <summary>A failure; <paramref name="error"/> is for the server log and must never contain the credential.</summary>
    public static AuthenticationResult Fail(string error) => new(AuthenticationOutcome.Failed, null, error);
}

/// <summary>
/// Decides who made a request from its credentials. Returns NotMine when the request has no
/// credential of this kind, Failed when it has one that does not verify (never a fall-through
/// to anonymous), Authenticated otherwise.
/// </summary>
public interface IAuthenticator
{
    ValueTask<AuthenticationResult> AuthenticateAsync(HttpContext context);
}
