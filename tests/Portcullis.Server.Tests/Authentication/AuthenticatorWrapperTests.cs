using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.Tokens;

namespace Portcullis.Server.Tests.Authentication;

/// <summary>
/// The two wrappers the server puts around its credential authenticators: upstream's bearertoken authenticator
/// (an unrecognised bearer token is a 401) and union.NewFailOnError with anonymous (anonymous only without a credential).
/// </summary>
public sealed class AuthenticatorWrapperTests
{
    private static readonly UserInfo Alice = new("alice", "", [UserInfo.AllAuthenticated], UserInfo.NoExtra);

    private sealed class Fixed(AuthenticationResult result) : IAuthenticator
    {
        public int Calls { get; private set; }
        public ValueTask<AuthenticationResult> AuthenticateAsync(HttpContext context)
        {
            Calls++;
            return ValueTask.FromResult(result);
        }
    }

    private static DefaultHttpContext Request(string? authorization = null)
    {
        var c = new DefaultHttpContext();
        if (authorization is not null) c.Request.Headers.Authorization = authorization;
        return c;
    }

    [Fact]
    public async Task BearerTokenGate_UnrecognisedBearerToken_FailsAsInvalidBearerToken()
    {
        var r = await new BearerTokenGate(new Fixed(AuthenticationResult.NotMine)).AuthenticateAsync(Request("Bearer nobody-knows-me"));
        Assert.Equal(AuthenticationOutcome.Failed, r.Outcome);
        Assert.Equal("invalid bearer token", r.Error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Basic YWxpY2U6cGFzcw==")]
    [InlineData("Bearer")]
    public async Task BearerTokenGate_NoBearerToken_IsNotMine(string? authorization)
    {
        var r = await new BearerTokenGate(new Fixed(AuthenticationResult.NotMine)).AuthenticateAsync(Request(authorization));
        Assert.Equal(AuthenticationOutcome.NotMine, r.Outcome);
    }

    [Fact]
    public async Task BearerTokenGate_SpaceBeforeToken_WarnsAndIsNotMine()
    {
        var context = Request("Bearer  token");
        var r = await new BearerTokenGate(new Fixed(AuthenticationResult.NotMine)).AuthenticateAsync(context);
        Assert.Equal(AuthenticationOutcome.NotMine, r.Outcome);
        Assert.Equal("299 - \"the provided Authorization header contains extra space before the bearer token, and is ignored\"",
            context.Response.Headers["Warning"].ToString());
    }

    [Fact]
    public async Task BearerTokenGate_KeepsTheMembersAnswer()
    {
        var ok = await new BearerTokenGate(new Fixed(AuthenticationResult.Success(Alice))).AuthenticateAsync(Request("Bearer t"));
        Assert.Same(Alice, ok.User);
        var failed = await new BearerTokenGate(new Fixed(AuthenticationResult.Fail("token expired"))).AuthenticateAsync(Request("Bearer t"));
        Assert.Equal("token expired", failed.Error);
    }

    [Fact]
    public async Task WithAnonymous_NoCredential_IsAnonymous()
    {
        var r = await new WithAnonymous(new Fixed(AuthenticationResult.NotMine), new AnonymousAuthenticator()).AuthenticateAsync(Request());
        Assert.Equal(AuthenticationOutcome.Authenticated, r.Outcome);
        Assert.Equal(UserInfo.Anonymous, r.User!.Name);
        Assert.Equal([UserInfo.AllUnauthenticated], r.User.Groups);
    }

    [Fact]
    public async Task WithAnonymous_FailedCredential_StaysFailedWithoutAskingAnonymous()
    {
        var anonymous = new Fixed(AuthenticationResult.Success(Alice));
        var r = await new WithAnonymous(new Fixed(AuthenticationResult.Fail("invalid bearer token")), anonymous).AuthenticateAsync(Request("Bearer x"));
        Assert.Equal(AuthenticationOutcome.Failed, r.Outcome);
        Assert.Equal(0, anonymous.Calls);
    }

    [Fact]
    public async Task WithAnonymous_Authenticated_KeepsTheUser()
    {
        var r = await new WithAnonymous(new Fixed(AuthenticationResult.Success(Alice)), new AnonymousAuthenticator()).AuthenticateAsync(Request());
        Assert.Same(Alice, r.User);
    }
}
