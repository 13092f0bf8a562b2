using Microsoft.AspNetCore.Http;

namespace Portcullis.Server.Authentication;

/// <summary>
/// Credential authenticators first; anonymous only when the request carried no credential at all
/// (upstream's <c>union.NewFailOnError(credentials, anonymous)</c>): a failed credential stays a 401.
/// </summary>
internal sealed class WithAnonymous(IAuthenticator credentials, IAuthenticator anonymous) : IAuthenticator
{
    public async ValueTask<AuthenticationResult> AuthenticateAsync(HttpContext context)
    {
        var r = await credentials.AuthenticateAsync(context);
        if (r.Outcome != AuthenticationOutcome.NotMine) return r;
        return await anonymous.AuthenticateAsync(context);
    }
}
