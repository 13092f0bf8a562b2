using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// The service account issuer's OIDC discovery documents, pre-rendered as upstream's
/// openidmetadata.go renders them: <c>/.well-known/openid-configuration</c> and the JWKS at
/// <c>/openid/v1/jwks</c>, both served with <see cref="CacheControl"/>.
/// </summary>
public sealed class OidcDiscovery
{
    public const string ConfigPath = "/.well-known/openid-configuration";
    public const string JwksPath = "/openid/v1/jwks";
    public const string ConfigContentType = "application/json";
    public const string JwksContentType = "application/jwk-set+json";
    public const int MaxAgeSeconds = 3600;
    public const string CacheControl = "public, max-age=3600";

    private OidcDiscovery(string issuer, string jwksUri, byte[] config, byte[] jwks)
    {
        Issuer = issuer;
        JwksUri = jwksUri;
        ConfigJson = config;
        JwksJson = jwks;
    }

    public string Issuer { get; }
    public string JwksUri { get; }

    /// <summary>The body of <see cref="ConfigPath"/>.</summary>
    public byte[] ConfigJson { get; }

    /// <summary>The body of <see cref="JwksPath"/>.</summary>
    public byte[] JwksJson { get; }

    /// <summary>
    /// Builds the documents for <paramref name="issuer"/> (the first <c>--service-account-issuer</c>).
    /// The JWKS URI is <paramref name="jwksUri"/> (<c>--service-account-jwks-uri</c>) when set, else
    /// <c>https://EXTERNAL-ADDRESS/openid/v1/jwks</c>. Throws <see cref="ArgumentException"/> with
    /// upstream's message when they cannot be built; upstream then logs it and serves no discovery.
    /// </summary>
    public static OidcDiscovery Create(string issuer, string? jwksUri, string? externalAddress, ServiceAccountKeys keys)
    {
        if (string.IsNullOrEmpty(issuer)) throw new ArgumentException("empty issuer URL");
        if (string.IsNullOrEmpty(jwksUri) && string.IsNullOrEmpty(externalAddress))
            throw new ArgumentException("either the JWKS URI or the default external address, or both, must be set");
        if (!Uri.TryCreate(issuer, UriKind.Absolute, out var iss)) throw new ArgumentException($"parse \"{issuer}\": invalid URL");
        if (iss.Scheme != "https") throw new ArgumentException($"issuer URL must use https scheme, got: {issuer}");
        if (iss.Query.Length > 1) throw new ArgumentException($"issuer URL may not include a query, got: {issuer}");
        if (iss.Fragment.Length > 1) throw new ArgumentException($"issuer URL may not include a fragment, got: {issuer}");

        string uri;
        if (string.IsNullOrEmpty(jwksUri))
        {
            uri = "https://" + externalAddress + JwksPath;
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.AbsolutePath != JwksPath || parsed.Query.Length > 0 || parsed.Fragment.Length > 0)
                throw new ArgumentException($"attempted to build jwks_uri from external address {externalAddress}, but could not construct a valid URL.");
        }
        else
        {
            if (!Uri.TryCreate(jwksUri, UriKind.Absolute, out var parsed)) throw new ArgumentException($"parse \"{jwksUri}\": invalid URL");
            if (parsed.Scheme != "https") throw new ArgumentException($"jwksURI requires https scheme, parsed as: {jwksUri}");
            uri = jwksUri;
        }

        if (keys.PublicKeys.Count == 0) throw new ArgumentException("no keys provided for validating keyset");
        var jwks = new JsonArray();
        foreach (var k in keys.PublicKeys) jwks.Add((JsonNode)Jwk(k));
        var config = new JsonObject
        {
            ["issuer"] = issuer,
            ["jwks_uri"] = uri,
            ["response_types_supported"] = new JsonArray("id_token"),
            ["subject_types_supported"] = new JsonArray("public"),
            // The sorted set of the keys' algorithms: RSA keys only, so RS256.
            ["id_token_signing_alg_values_supported"] = new JsonArray(Jwt.Rs256),
        };
        return new OidcDiscovery(issuer, uri, GoJsonWriter.ToBytes(config), GoJsonWriter.ToBytes(new JsonObject { ["keys"] = jwks }));
    }

    /// <summary>A public key as go-jose writes a JWK: use, kty, kid, alg, n, e.</summary>
    private static JsonObject Jwk(ServiceAccountPublicKey key)
    {
        var p = key.Key.ExportParameters(false);
        return new JsonObject
        {
            ["use"] = "sig",
            ["kty"] = "RSA",
            ["kid"] = key.KeyId,
            ["alg"] = Jwt.Rs256,
            ["n"] = Jwt.Base64UrlEncode(Minimal(p.Modulus!)),
            ["e"] = Jwt.Base64UrlEncode(Minimal(p.Exponent!)),
        };
    }

    private static ReadOnlySpan<byte> Minimal(byte[] bigEndian)
    {
        var i = 0;
        while (i < bigEndian.Length - 1 && bigEndian[i] == 0) i++;
        return bigEndian.AsSpan(i);
    }
}
