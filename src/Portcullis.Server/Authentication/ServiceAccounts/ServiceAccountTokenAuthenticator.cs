using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authentication.Tokens;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// What the service account token authenticator accepts: tokens from <paramref name="Issuers"/>
/// (<c>--service-account-issuer</c>, all of them), for an audience among <paramref name="ApiAudiences"/>
/// (<c>--api-audiences</c>; empty = no audience check), and legacy secret-based tokens unless turned off.
/// </summary>
public sealed record ServiceAccountAuthenticatorOptions(IReadOnlyList<string> Issuers, IReadOnlyList<string> ApiAudiences)
{
    public bool LegacyTokens { get; init; } = true;

    /// <summary>
    /// Told of each successful use of a legacy token's secret (its namespace and name), to keep its
    /// <c>kubernetes.io/legacy-token-last-used</c> label current; failures are ignored.
    /// </summary>
    public Func<TokenObject, CancellationToken, Task>? LegacyTokenUsed { get; init; }
}

/// <summary>The outcome of authenticating one token, and the audiences it was accepted for (TokenReview's status.audiences).</summary>
public sealed record TokenAuthentication(AuthenticationResult Result, IReadOnlyList<string> Audiences);

/// <summary>
/// Service account bearer tokens, as upstream's JWT token authenticator with its bound-token and
/// legacy validators. A bearer token that is not a compact JWS, or whose (unverified) issuer is not
/// ours, is NotMine so other authenticators may try it. Anything else must verify strictly: RS256
/// only, no key material in the header, a signature by the key its <c>kid</c> names (every key when
/// it names none), an accepted issuer and audience, the time claims within 60 s of leeway, and the
/// service account and bound objects still existing with the same uids.
/// </summary>
public sealed partial class ServiceAccountTokenAuthenticator : IAuthenticator
{
    /// <summary>Longer tokens are refused without being decoded; ours are a few hundred bytes.</summary>
    public const int MaxTokenLength = 64 * 1024;

    /// <summary>go-jose's jwt.DefaultLeeway, which upstream applies to exp, nbf, iat and deletions.</summary>
    public static readonly TimeSpan Leeway = TimeSpan.FromMinutes(1);

    private static readonly string[] ForbiddenHeaders = ["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64", "zip", "enc"];

    private readonly ServiceAccountKeys _keys;
    private readonly ServiceAccountAuthenticatorOptions _options;
    private readonly TokenObjectLookups _objects;
    private readonly TimeProvider _time;
    private readonly HashSet<string> _boundIssuers;
    private readonly VerifiedSignatures _signatures = new();

    /// <summary>How many tokens' signatures are remembered as verified (tests).</summary>
    internal int VerifiedCount => _signatures.Count;

    /// <summary>An authenticator that reads the objects a token names through <paramref name="objects"/>.</summary>
    public ServiceAccountTokenAuthenticator(ServiceAccountKeys keys, ServiceAccountAuthenticatorOptions options,
        TokenObjectLookups objects, TimeProvider time)
    {
        _keys = keys;
        _options = options;
        _objects = objects;
        _time = time;
        _boundIssuers = new HashSet<string>(options.Issuers, StringComparer.Ordinal);
    }

    /// <summary>An authenticator that decodes the objects <paramref name="getters"/> return on every check.</summary>
    public ServiceAccountTokenAuthenticator(ServiceAccountKeys keys, ServiceAccountAuthenticatorOptions options,
        ServiceAccountObjectGetters getters, TimeProvider time)
        : this(keys, options, TokenObjectLookups.Decoding(getters), time)
    {
    }

    public async ValueTask<AuthenticationResult> AuthenticateAsync(HttpContext context)
    {
        var token = BearerToken.From(context);
        if (token is null) return AuthenticationResult.NotMine;
        return (await AuthenticateTokenAsync(token, null, context.RequestAborted)).Result;
    }

    /// <summary>
    /// Authenticates a raw token (also TokenReview's entry point) for <paramref name="requestedAudiences"/>
    /// (TokenReview's spec.audiences), or for the API audiences when null or empty.
    /// </summary>
    public async Task<TokenAuthentication> AuthenticateTokenAsync(string token, IReadOnlyList<string>? requestedAudiences = null,
        CancellationToken ct = default)
    {
        if (token.Length > MaxTokenLength) return Failed("service account token exceeds the maximum length");
        var id = _signatures.Id(token);
        var known = _signatures.Known(id, _keys);
        if (known is null)
        {
            var outcome = Decode(token, out var read);
            if (read is null) return outcome!;
            _signatures.Remember(id, read);
            known = read;
        }
        var claims = known.Claims;
        var issuer = known.Issuer;
        var legacy = _options.LegacyTokens && issuer == LegacyTokenIssuer.Issuer;

        var apiAudiences = _options.ApiAudiences;
        var accepted = requestedAudiences is { Count: > 0 }
            ? Accepted(claims, requestedAudiences)
            : known.AcceptedApiAudiences ??= Accepted(claims, apiAudiences);
        if (accepted.Count == 0 && apiAudiences.Count > 0)
            return Failed("service account token audiences are invalid for the target audiences");

        AuthenticationResult result;
        try
        {
            result = legacy
                ? await ValidateLegacyAsync(token, claims, ct)
                : await ValidateBoundAsync(known, ct);
            if (legacy && result.Outcome == AuthenticationOutcome.Failed && _boundIssuers.Contains(issuer))
                result = await ValidateBoundAsync(known, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return Failed($"service account token validation could not read its objects ({e.GetType().Name})");
        }
        return new TokenAuthentication(result, result.Outcome == AuthenticationOutcome.Authenticated ? accepted : []);
    }

    /// <summary>
    /// Decodes a token not seen before and verifies its signature: the verified token in <paramref name="verified"/>
    /// (and null returned), or why it is not accepted (and <paramref name="verified"/> null). Only the issuer routes the
    /// token before the signature checks; no other claim is trusted before.
    /// </summary>
    private TokenAuthentication? Decode(string token, out VerifiedSignatures.Entry? verified)
    {
        verified = null;
        if (!Jwt.TrySplit(token, out var headerB64, out var payloadB64, out var signatureB64)) return NotMine;
        if (!Jwt.TryBase64UrlDecode(payloadB64, out var payloadBytes)) return NotMine;
        using var payload = Jwt.TryParseObject(payloadBytes);
        if (payload is null) return NotMine;
        var root = payload.RootElement;
        // Unverified: only routes the token. Nothing below trusts a claim before the signature checks.
        if (!root.TryGetProperty("iss", out var issElement) || issElement.ValueKind != JsonValueKind.String) return NotMine;
        var issuer = issElement.GetString()!;
        var legacy = _options.LegacyTokens && issuer == LegacyTokenIssuer.Issuer;
        if (!legacy && !_boundIssuers.Contains(issuer)) return NotMine;

        // A token that cannot be parsed as a JWS is passed on, as upstream does.
        if (!Jwt.TryBase64UrlDecode(headerB64, out var headerBytes) || !Jwt.TryBase64UrlDecode(signatureB64, out var signature))
            return NotMine;
        using var header = Jwt.TryParseObject(headerBytes);
        if (header is null) return NotMine;

        if (!header.RootElement.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String || alg.GetString() != Jwt.Rs256)
            return Failed("service account token is not signed with RS256");
        foreach (var h in ForbiddenHeaders)
            if (header.RootElement.TryGetProperty(h, out _)) return Failed($"service account token header carries the unsupported \"{h}\" parameter");
        string? kid = null;
        if (header.RootElement.TryGetProperty("kid", out var kidElement))
        {
            if (kidElement.ValueKind != JsonValueKind.String) return Failed("service account token has an invalid key ID");
            kid = kidElement.GetString();
        }
        var candidates = _keys.KeysFor(kid);
        if (candidates.Count == 0) return Failed("invalid signature, no keys found");
        var signingInput = headerB64 + "." + payloadB64;
        var key = VerifiedSignatures.Verify(signingInput, signature, candidates);
        if (key is null) return Failed("service account token signature is invalid");

        // Verified from here on.
        if (!TokenClaims.TryRead(root, out var claims)) return Failed("service account token claims could not be parsed");
        verified = new VerifiedSignatures.Entry(key, kid, issuer, claims);
        return null;
    }

    /// <summary>The audiences among <paramref name="requested"/> the token is for (the API's own when it names none).</summary>
    private IReadOnlyList<string> Accepted(TokenClaims claims, IReadOnlyList<string> requested)
    {
        var tokenAudiences = claims.Audiences.Count > 0 ? claims.Audiences : _options.ApiAudiences;
        var accepted = new List<string>();
        foreach (var a in requested)
            if (tokenAudiences.Contains(a)) accepted.Add(a);
        return accepted;
    }

    private static TokenAuthentication NotMine => new(AuthenticationResult.NotMine, []);

    private static TokenAuthentication Failed(string why) => new(AuthenticationResult.Fail(why), []);
}
