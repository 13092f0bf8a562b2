namespace Portcullis.Server.Authorization;

/// <summary>
/// Asks authorizers in order until one answers Allow or Deny (upstream's union authorizer).
/// When all have no opinion, the request is denied.
/// </summary>
public sealed class AuthorizerChain(IReadOnlyList<IAuthorizer> members) : IAuthorizer
{
    public async ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes a, CancellationToken ct = default)
    {
        var reasons = new List<string>();
        foreach (var m in members)
        {
            var r = await m.AuthorizeAsync(a, ct);
            if (r.Decision != Decision.NoOpinion) return r;
            if (r.Reason.Length > 0) reasons.Add(r.Reason);
        }
        return AuthorizationResult.Denied(string.Join(", ", reasons)) with { NoAuthorizerHadOpinion = true };
    }
}
