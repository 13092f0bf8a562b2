using System.Text.Json.Nodes;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>A bound object as recorded in a token: its name and uid (either may be empty, as upstream omits them).</summary>
public sealed record BoundObjectReference(string Name, string Uid);

/// <summary>What a token is bound to: a pod (with the node it runs on, if known), a secret, or a node.</summary>
public sealed record TokenBinding(BoundObjectReference? Pod = null, BoundObjectReference? Secret = null, BoundObjectReference? Node = null)
{
    public static readonly TokenBinding None = new();
}

/// <summary>A signed token and the times and ID in it.</summary>
public sealed record IssuedToken(string Token, string Jti, DateTimeOffset IssuedAt, DateTimeOffset Expiry);

/// <summary>
/// Mints bound service account tokens as upstream's JWTTokenGenerator with serviceaccount.Claims:
/// RS256 under <c>{"alg":"RS256","kid":…}</c>, claims in Go's sorted map order
/// (<c>aud exp iat iss jti kubernetes.io nbf sub</c>).
/// </summary>
public sealed class ServiceAccountTokenIssuer(ServiceAccountKeys keys, string issuer, TimeProvider time)
{
    /// <summary>The expiration kubelet asks for when it wants the extended, warn-only token (1 h 7 s).</summary>
    public const long WarnOnlyBoundTokenExpirationSeconds = 60 * 60 + 7;

    /// <summary>How long such a token is really valid: one year.</summary>
    public const long ExpirationExtensionSeconds = 24L * 365 * 60 * 60;

    public string Issuer => issuer;

    public ServiceAccountKeys Keys => keys;

    /// <summary>The <c>jti</c> of each token (a random UUID); replaceable for tests.</summary>
    public Func<string> NewJti { get; init; } = () => Guid.NewGuid().ToString();

    /// <summary>
    /// Mints a token for <paramref name="serviceAccount"/> valid for <paramref name="expirationSeconds"/>
    /// from now; a non-zero <paramref name="warnAfterSeconds"/> records when it should be considered stale.
    /// </summary>
    public IssuedToken Issue(JsonObject serviceAccount, TokenBinding binding, long expirationSeconds,
        IReadOnlyList<string> audiences, long warnAfterSeconds = 0)
    {
        if (binding.Secret is not null && (binding.Pod is not null || binding.Node is not null))
            throw new InvalidOperationException("internal error, token can only be bound to one object type");
        var ns = Meta.Namespace(serviceAccount);
        var name = Meta.Name(serviceAccount);
        var now = time.GetUtcNow();
        var iat = now.ToUnixTimeSeconds();
        var exp = now.AddSeconds(expirationSeconds).ToUnixTimeSeconds();
        var jti = NewJti();

        var k8s = new JsonObject();
        if (ns.Length > 0) k8s["namespace"] = ns;
        // Upstream records the node of a pod-bound token, or the node a token is bound to.
        if (binding.Node is not null && binding.Secret is null) k8s["node"] = Ref(binding.Node);
        if (binding.Pod is not null) k8s["pod"] = Ref(binding.Pod);
        if (binding.Secret is not null) k8s["secret"] = Ref(binding.Secret);
        k8s["serviceaccount"] = Ref(new BoundObjectReference(name, Meta.Uid(serviceAccount)));
        if (warnAfterSeconds != 0) k8s["warnafter"] = now.AddSeconds(warnAfterSeconds).ToUnixTimeSeconds();

        var claims = new JsonObject();
        if (audiences.Count > 0) claims["aud"] = new JsonArray(audiences.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());
        claims["exp"] = exp;
        claims["iat"] = iat;
        if (issuer.Length > 0) claims["iss"] = issuer;
        claims["jti"] = jti;
        claims["kubernetes.io"] = k8s;
        claims["nbf"] = iat;
        claims["sub"] = ServiceAccountUser.MakeUsername(ns, name);

        var token = Jwt.Sign(claims, keys.SigningKey, keys.SigningKeyId);
        return new IssuedToken(token, jti, DateTimeOffset.FromUnixTimeSeconds(iat), DateTimeOffset.FromUnixTimeSeconds(exp));
    }

    private static JsonObject Ref(BoundObjectReference r)
    {
        var o = new JsonObject();
        if (r.Name.Length > 0) o["name"] = r.Name;
        if (r.Uid.Length > 0) o["uid"] = r.Uid;
        return o;
    }
}

/// <summary>
/// Mints legacy (secret-based) tokens as upstream's LegacyClaims, for the tokens controller:
/// issuer <c>kubernetes/serviceaccount</c>, no audience, no expiry, valid while the secret holds it.
/// </summary>
public sealed class LegacyTokenIssuer(ServiceAccountKeys keys)
{
    public const string Issuer = "kubernetes/serviceaccount";
    public const string NamespaceClaim = "kubernetes.io/serviceaccount/namespace";
    public const string SecretNameClaim = "kubernetes.io/serviceaccount/secret.name";
    public const string ServiceAccountNameClaim = "kubernetes.io/serviceaccount/service-account.name";
    public const string ServiceAccountUidClaim = "kubernetes.io/serviceaccount/service-account.uid";

    public string Issue(JsonObject serviceAccount, JsonObject secret)
    {
        var ns = Meta.Namespace(serviceAccount);
        var name = Meta.Name(serviceAccount);
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            [NamespaceClaim] = ns,
            [SecretNameClaim] = Meta.Name(secret),
            [ServiceAccountNameClaim] = name,
            [ServiceAccountUidClaim] = Meta.Uid(serviceAccount),
            ["sub"] = ServiceAccountUser.MakeUsername(ns, name),
        };
        return Jwt.Sign(claims, keys.SigningKey, keys.SigningKeyId);
    }
}
