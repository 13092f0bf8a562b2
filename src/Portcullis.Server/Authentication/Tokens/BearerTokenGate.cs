using Microsoft.AspNetCore.Http;

namespace Portcullis.Server.Authentication.Tokens;

/// <summary>
/// Upstream's bearertoken authenticator around the token authenticators: a bearer token none of them recognises is
/// "invalid bearer token" (401, never anonymous). An Authorization header that carries no bearer token (an empty one,
/// one of spaces, Basic or any other scheme) is no credential at all; an extra space before the token adds a warning.
/// </summary>
internal sealed class BearerTokenGate(IAuthenticator credentials) : IAuthenticator
{
    public async ValueTask<AuthenticationResult> AuthenticateAsync(HttpContext context)
    {
        var r = await credentials.AuthenticateAsync(context);
        if (r.Outcome != AuthenticationOutcome.NotMine) return r;
        var header = context.Request.Headers.Authorization;
        if (header.Count > 0 && BearerToken.HasSpaceBeforeToken(header[0]))
            context.Response.Headers.Append("Warning",
                "299 - \"the provided Authorization header contains extra space before the bearer token, and is ignored\"");
        return BearerToken.From(context) is null ? r : AuthenticationResult.Fail("invalid bearer token");
    }
}
