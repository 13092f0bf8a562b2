using System.Security.Cryptography;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// AES-GCM under a key derived per value from a 32-byte seed (value/encrypt/aes/aes_extended_nonce.go, KMS v2's
/// <c>HKDF_SHA256_XNONCE_AES_GCM_SEED</c>): a random 32-byte info, the DEK = the first 32 bytes of HKDF-Expand(SHA-256,
/// seed, info), and the stored bytes = info, then <see cref="AesGcmTransformer"/>'s nonce, ciphertext and tag. A random
/// info per write spreads the nonces over 2^256 keys, so one seed can encrypt without a nonce limit.
/// </summary>
public sealed class ExtendedNonceGcmTransformer : SyncTransformer
{
    public const int SeedSize = 32;
    public const int InfoSize = 32;
    private readonly byte[] _seed;

    // Derived read keys by info: a list of many values under one seed derives each once (upstream caches for 10 minutes).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AesGcmTransformer> _readKeys = new(StringComparer.Ordinal);
    private const int MaxCachedReadKeys = 4096;

    public ExtendedNonceGcmTransformer(byte[] seed)
    {
        if (seed.Length < SeedSize) throw new TransformException($"invalid seed length {seed.Length} used for key generation");
        _seed = seed;
    }

    public override TransformResult FromStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData)
    {
        if (data.Length < InfoSize) throw new TransformException("the stored data was shorter than the required size");
        var info = data[..InfoSize];
        var cacheKey = Convert.ToBase64String(info);
        if (!_readKeys.TryGetValue(cacheKey, out var gcm))
        {
            gcm = new AesGcmTransformer(Derive(info));
            if (_readKeys.Count >= MaxCachedReadKeys) _readKeys.Clear();
            _readKeys[cacheKey] = gcm;
        }
        return gcm.FromStorage(data[InfoSize..], authenticatedData);
    }

    public override byte[] ToStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData)
    {
        Span<byte> info = stackalloc byte[InfoSize];
        RandomNumberGenerator.Fill(info);
        var key = Derive(info);
        using var gcm = new AesGcmTransformer(key);
        CryptographicOperations.ZeroMemory(key);
        var sealedBytes = gcm.ToStorage(data, authenticatedData);
        var result = new byte[InfoSize + sealedBytes.Length];
        info.CopyTo(result);
        sealedBytes.CopyTo(result, InfoSize);
        return result;
    }

    /// <summary>The DEK for one info: HKDF-Expand only (the seed is already uniformly random), as upstream.</summary>
    internal byte[] Derive(ReadOnlySpan<byte> info) => HKDF.Expand(HashAlgorithmName.SHA256, _seed, 32, info.ToArray());
}
