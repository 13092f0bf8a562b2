using Microsoft.AspNetCore.Http;

namespace Portcullis.Server.Authentication;

/// <summary>Requests with no credential at all are system:anonymous in group system:unauthenticated.</summary>
public sealed class AnonymousAuthenticator : IAuthenticator
{
    private static readonly UserInfo AnonymousUser = new(UserInfo.Anonymous, "", [UserInfo.AllUnauthenticated], UserInfo.NoExtra);

    public ValueTask<AuthenticationResult> AuthenticateAsync(HttpContext context) =>
        ValueTask.FromResult(AuthenticationResult.Success(AnonymousUser));
}
