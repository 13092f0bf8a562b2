using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// Tokens whose RS256 signature a key has already verified, so a token sent again is not verified
/// again: only the signature, a pure function of the token's bytes and the key. Everything else
/// (expiry, audiences, the ServiceAccount, pod, secret and node still existing) is checked on every
/// request as before, so a token stops working the moment its objects go, unlike kube-apiserver's
/// 10-second cache of whole authentications. A token is held as an HMAC of it under a key made at
/// start (never the token itself); a hit counts only while the key that verified it is still one of
/// the token's candidate keys. At most <see cref="Capacity"/> tokens; then it starts afresh.
/// </summary>
internal sealed class VerifiedSignatures
{
    public const int Capacity = 10_000;

    private readonly byte[] _hmacKey = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<UInt128, ServiceAccountPublicKey> _verified = new();

    public int Count => _verified.Count;

    /// <summary>The candidate key that verifies <paramref name="signature"/> over the token's signing input, or null.</summary>
    public ServiceAccountPublicKey? Verify(string token, string signingInput, byte[] signature, IReadOnlyList<ServiceAccountPublicKey> candidates)
    {
        var id = Id(token);
        if (_verified.TryGetValue(id, out var known))
            foreach (var k in candidates)
                if (ReferenceEquals(k, known)) return k;
        foreach (var k in candidates)
        {
            if (!Jwt.VerifyRs256(signingInput, signature, k.Key)) continue;
            if (_verified.Count >= Capacity) _verified.Clear();
            _verified[id] = k;
            return k;
        }
        return null;
    }

    private UInt128 Id(string token)
    {
        Span<byte> mac = stackalloc byte[32];
        var bytes = Encoding.UTF8.GetBytes(token);
        HMACSHA256.HashData(_hmacKey, bytes, mac);
        return new UInt128(BitConverter.ToUInt64(mac[..8]), BitConverter.ToUInt64(mac[8..16]));
    }
}
