using Portcullis.Server.Authentication;

namespace Portcullis.Server.Authorization;

/// <summary>Members of system:masters may do everything, before any other authorizer (as upstream's privileged group).</summary>
public sealed class SystemMastersAuthorizer : IAuthorizer
{
    public ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes a, CancellationToken ct = default) =>
        ValueTask.FromResult(a.User.Groups.Contains(UserInfo.SystemMasters)
            ? AuthorizationResult.Allowed()
            : AuthorizationResult.NoOpinion());
}
