using Microsoft.AspNetCore.Http;

namespace Portcullis.Server.Authentication;

/// <summary>
/// Tries authenticators in order: the first success wins; if none succeeds and any failed, the
/// request fails (401); if none recognised a credential, the result is NotMine (then anonymous).
/// </summary>
public sealed class UnionAuthenticator(IReadOnlyList<IAuthenticator> members) : IAuthenticator
{
    public async ValueTask<AuthenticationResult> AuthenticateAsync(HttpContext context)
    {
        AuthenticationResult? failure = null;
        foreach (var a in members)
        {
            var r = await a.AuthenticateAsync(context);
            if (r.Outcome == AuthenticationOutcome.Authenticated) return r;
            if (r.Outcome == AuthenticationOutcome.Failed) failure ??= r;
        }
        return failure ?? AuthenticationResult.NotMine;
    }
}
