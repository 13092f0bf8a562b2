using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Authentication.Tokens;
using Portcullis.Server.Controllers;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// Who is calling: client certificates, static tokens (--token-auth-file), ServiceAccount tokens; a bearer token none
/// of them recognises is a 401; anonymous last, only for a request with no credential (--anonymous-auth). Also the
/// ServiceAccount token machinery the API serves: the signing keys, TokenRequest and OIDC discovery.
/// </summary>
internal sealed class AuthenticationModule
{
    /// <summary>The request authenticator the pipeline runs.</summary>
    public required IAuthenticator Authenticator { get; init; }
    /// <summary>The ServiceAccount token authenticator alone (TokenReview asks it).</summary>
    public required ServiceAccountTokenAuthenticator ServiceAccountTokens { get; init; }
    /// <summary>--api-audiences, or the signing issuer.</summary>
    public required IReadOnlyList<string> Audiences { get; init; }
    public required ServiceAccountKeys Keys { get; init; }
    /// <summary>How TokenRequest and the node's projected tokens read the objects a token is bound to.</summary>
    public required ServiceAccountObjectGetters Getters { get; init; }
    public required TokenRequestLogic TokenRequests { get; init; }
    public required OidcDiscovery Oidc { get; init; }

    public static AuthenticationModule Build(ServerOptions o, ServingModule serving, StorageModule storage, TimeProvider time)
    {
        var keys = ServiceAccountKeys.LoadOrCreate(o.DataDir, o.ServiceAccountSigningKeyFile, o.ServiceAccountKeyFiles);
        var issuer = o.ServiceAccountIssuers[0];
        var audiences = o.ApiAudiences is { Count: > 0 } a ? a : [issuer];
        var getters = ObjectGetters(storage.Client);
        var authenticators = new List<IAuthenticator> { new X509Authenticator(serving.Pki.ClientCas, time) };
        if (o.TokenAuthFile is { } tokenFile) authenticators.Add(StaticTokenAuthenticator.FromFile(tokenFile, null));
        // Every request with a ServiceAccount token reads its objects: their facts are kept per stored revision.
        var serviceAccounts = new ServiceAccountTokenAuthenticator(keys, new ServiceAccountAuthenticatorOptions(o.ServiceAccountIssuers, audiences),
            TokenObjectLookups.Cached(storage.Client), time);
        authenticators.Add(serviceAccounts);
        IAuthenticator authn = new BearerTokenGate(new UnionAuthenticator(authenticators));
        if (o.AnonymousAuth) authn = new WithAnonymous(authn, new AnonymousAuthenticator());
        var tokenRequests = new TokenRequestLogic(new ServiceAccountTokenIssuer(keys, issuer, time),
            new TokenRequestSettings(audiences, (long)o.ServiceAccountMaxTokenExpiration.TotalSeconds), time);
        return new AuthenticationModule
        {
            Authenticator = authn, ServiceAccountTokens = serviceAccounts, Audiences = audiences, Keys = keys, Getters = getters,
            TokenRequests = tokenRequests, Oidc = OidcDiscovery.Create(issuer, null, serving.Url.Authority, keys),
        };
    }

    /// <summary>ServiceAccounts, pods, secrets and nodes read through the system client (a missing one is null).</summary>
    private static ServiceAccountObjectGetters ObjectGetters(SystemClient client)
    {
        Task<JsonObject?> Get(string plural, string ns, string name, CancellationToken ct) =>
            client.TryGetAsync(client.Store("", plural), ns, name, ct);
        return new ServiceAccountObjectGetters(
            (ns, n, c) => Get("serviceaccounts", ns, n, c), (ns, n, c) => Get("pods", ns, n, c),
            (ns, n, c) => Get("secrets", ns, n, c), (_, n, c) => Get("nodes", "", n, c));
    }
}
