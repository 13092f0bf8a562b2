using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// Tokens a key has already verified, with what was read from them, so a token sent again is neither verified nor
/// decoded again: the signature, the header and the claims are a pure function of the token's bytes and the key.
/// Everything else (expiry, audiences, the ServiceAccount, pod, secret and node still existing) is checked on every
/// request as before, so a token stops working the moment its objects go, unlike kube-apiserver's 10-second cache of
/// whole authentications. A token is held as an HMAC of it under a key made at start (never the token itself); a hit
/// counts only while the key that verified it is still one of the keys its <c>kid</c> names. At most
/// <see cref="Capacity"/> tokens; then it starts afresh.
/// </summary>
internal sealed class VerifiedSignatures
{
    public const int Capacity = 10_000;

    /// <summary>
    /// A verified token: the key that verified it, the <c>kid</c> its header names, and its claims; and, made on first
    /// use, two more pure functions of the claims: the audiences accepted when the API's own are asked for, and the
    /// user a bound token authenticates as.
    /// </summary>
    public sealed record Entry(ServiceAccountPublicKey Key, string? Kid, string Issuer, TokenClaims Claims)
    {
        public IReadOnlyList<string>? AcceptedApiAudiences;
        public UserInfo? BoundUser;
    }

    private readonly byte[] _hmacKey = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<UInt128, Entry> _verified = new();
    /// <summary>One HMAC context per thread, reset after each use: OpenSSL's one-shot HMAC looks the algorithm up on every call.</summary>
    [ThreadStatic] private static (byte[] Key, IncrementalHash Hmac)? t_hmac;

    public int Count => _verified.Count;

    /// <summary>The token's cache key: the first 128 bits of its HMAC.</summary>
    public UInt128 Id(string token)
    {
        var hmac = t_hmac is { } h && ReferenceEquals(h.Key, _hmacKey) ? h.Hmac : NewHmac();
        Span<byte> mac = stackalloc byte[32];
        hmac.HashUtf8(token, mac);
        return new UInt128(BitConverter.ToUInt64(mac[..8]), BitConverter.ToUInt64(mac[8..16]));
    }

    private IncrementalHash NewHmac()
    {
        t_hmac?.Hmac.Dispose();
        var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _hmacKey);
        t_hmac = (_hmacKey, hmac);
        return hmac;
    }

    /// <summary>The token verified earlier, while the key that verified it is still one of the keys its kid names.</summary>
    public Entry? Known(UInt128 id, ServiceAccountKeys keys)
    {
        if (!_verified.TryGetValue(id, out var known)) return null;
        foreach (var k in keys.KeysFor(known.Kid))
            if (ReferenceEquals(k, known.Key)) return known;
        return null;
    }

    /// <summary>The candidate key that verifies <paramref name="signature"/> over the token's signing input, or null.</summary>
    public static ServiceAccountPublicKey? Verify(string signingInput, byte[] signature, IReadOnlyList<ServiceAccountPublicKey> candidates)
    {
        foreach (var k in candidates)
            if (Jwt.VerifyRs256(signingInput, signature, k.Key)) return k;
        return null;
    }

    /// <summary>Remembers a token whose signature and claims were good.</summary>
    public void Remember(UInt128 id, Entry entry)
    {
        if (_verified.Count >= Capacity) _verified.Clear();
        _verified[id] = entry;
    }
}
