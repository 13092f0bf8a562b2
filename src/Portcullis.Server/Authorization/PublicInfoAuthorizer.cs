namespace Portcullis.Server.Authorization;

/// <summary>
/// The placeholder until RBAC: everyone may GET the health and version endpoints, as upstream's
/// system:public-info-viewer grants them; anything else gets no opinion (and so is denied).
/// </summary>
public sealed class PublicInfoAuthorizer : IAuthorizer
{
    private static readonly HashSet<string> PublicPaths = ["/healthz", "/livez", "/readyz", "/version", "/version/"];

    public ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes a, CancellationToken ct = default) =>
        ValueTask.FromResult(!a.IsResourceRequest && a.Verb == "get" && PublicPaths.Contains(a.Path)
            ? AuthorizationResult.Allowed("public info")
            : AuthorizationResult.NoOpinion());
}
