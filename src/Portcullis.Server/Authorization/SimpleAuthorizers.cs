namespace Portcullis.Server.Authorization;

/// <summary>--authorization-mode=AlwaysAllow: for tests.</summary>
public sealed class AlwaysAllowAuthorizer : IAuthorizer
{
    public ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes a, CancellationToken ct = default) =>
        ValueTask.FromResult(AuthorizationResult.Allowed());
}

/// <summary>--authorization-mode=AlwaysDeny: for tests.</summary>
public sealed class AlwaysDenyAuthorizer : IAuthorizer
{
    public ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes a, CancellationToken ct = default) =>
        ValueTask.FromResult(AuthorizationResult.Denied("Everything is forbidden."));
}
