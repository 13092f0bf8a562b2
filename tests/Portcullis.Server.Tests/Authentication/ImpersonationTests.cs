using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;

namespace Portcullis.Server.Tests.Authentication;

/// <summary>The groups an impersonated user ends up with (upstream's impersonation filter).</summary>
public sealed class ImpersonationTests
{
    private static readonly UserInfo Admin = new("admin", "", [UserInfo.SystemMasters, UserInfo.AllAuthenticated], UserInfo.NoExtra);

    private static async Task<UserInfo> As(string user, params string[] groups)
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.Path = "/api/v1/pods";
        ctx.Request.Headers["Impersonate-User"] = user;
        if (groups.Length > 0) ctx.Request.Headers["Impersonate-Group"] = groups;
        return await Impersonation.ApplyAsync(ctx.Request, Admin, new AlwaysAllowAuthorizer(), CancellationToken.None);
    }

    [Fact]
    public async Task NamedUser_GetsSystemAuthenticated_WithOrWithoutGroups()
    {
        Assert.Equal([UserInfo.AllAuthenticated], (await As("jane")).Groups);
        Assert.Equal(["devs", UserInfo.AllAuthenticated], (await As("jane", "devs")).Groups);
        Assert.Equal([UserInfo.AllUnauthenticated], (await As("jane", UserInfo.AllUnauthenticated)).Groups);
    }

    [Fact]
    public async Task ServiceAccount_GetsItsGroupsOnlyWhenNoneAreAsked()
    {
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:ns", UserInfo.AllAuthenticated], (await As("system:serviceaccount:ns:sa")).Groups);
        Assert.Equal(["system:serviceaccounts", UserInfo.AllAuthenticated], (await As("system:serviceaccount:ns:sa", "system:serviceaccounts")).Groups);
    }

    [Fact]
    public async Task Anonymous_GetsSystemUnauthenticated() =>
        Assert.Equal([UserInfo.AllUnauthenticated], (await As(UserInfo.Anonymous)).Groups);
}
