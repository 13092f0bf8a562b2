using System.Security.Cryptography;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// AES-GCM with a random 12-byte nonce: nonce, then ciphertext and 16-byte tag; the storage key is the authenticated data
/// (value/encrypt/aes/aes.go's <c>gcm</c>). Bytes as upstream's, so either side reads the other's values.
/// </summary>
public sealed class AesGcmTransformer(byte[] key) : SyncTransformer, IDisposable
{
    public const int NonceSize = 12;
    public const int TagSize = 16;
    // One native context per instance: AesGcm is not safe for concurrent use.
    private readonly AesGcm _aead = new(key, TagSize);
    private readonly Lock _lock = new();

    public override TransformResult FromStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData)
    {
        if (data.Length < NonceSize) throw new TransformException("the stored data was shorter than the required size");
        // Go's Open needs the tag too; shorter input fails authentication there as here.
        if (data.Length < NonceSize + TagSize) throw new TransformException("cipher: message authentication failed");
        var cipherLength = data.Length - NonceSize - TagSize;
        var plain = new byte[cipherLength];
        try
        {
            lock (_lock) _aead.Decrypt(data[..NonceSize], data.Slice(NonceSize, cipherLength), data[(NonceSize + cipherLength)..], plain, authenticatedData);
        }
        catch (CryptographicException e) { throw new TransformException("cipher: message authentication failed", e); }
        return new TransformResult(plain, false);
    }

    public override byte[] ToStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData)
    {
        var result = new byte[NonceSize + data.Length + TagSize];
        RandomNumberGenerator.Fill(result.AsSpan(0, NonceSize));
        lock (_lock) _aead.Encrypt(result.AsSpan(0, NonceSize), data, result.AsSpan(NonceSize, data.Length), result.AsSpan(NonceSize + data.Length), authenticatedData);
        return result;
    }

    public void Dispose() => _aead.Dispose();
}

/// <summary>
/// AES-CBC with PKCS#7 padding: a random 16-byte IV, then the ciphertext (aes.go's <c>cbc</c>). Not authenticated, so the
/// padding is checked by hand with upstream's errors.
/// </summary>
public sealed class AesCbcTransformer(byte[] key) : SyncTransformer, IDisposable
{
    public const int BlockSize = 16;
    private readonly Aes _aes = CreateAes(key);
    private readonly Lock _lock = new();

    private static Aes CreateAes(byte[] key)
    {
        var aes = Aes.Create();
        aes.Key = key;
        return aes;
    }

    public override TransformResult FromStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData)
    {
        if (data.Length < BlockSize) throw new TransformException("the stored data was shorter than the required size");
        var iv = data[..BlockSize];
        var body = data[BlockSize..];
        if (body.Length % BlockSize != 0) throw new TransformException("the stored data is not a multiple of the block size");
        // An IV alone decrypts to nothing: upstream then fails on the padding check of an empty result.
        if (body.Length == 0) throw new TransformException("invalid PKCS7 data (empty or not padded)");
        var result = new byte[body.Length];
        lock (_lock) _aes.DecryptCbc(body, iv, result, PaddingMode.None);
        var c = result[^1];
        int paddingSize = c, size = result.Length - paddingSize;
        if (paddingSize == 0 || paddingSize > result.Length) throw new TransformException("invalid PKCS7 data (empty or not padded)");
        for (var i = 0; i < paddingSize; i++)
            if (result[size + i] != c) throw new TransformException("invalid padding on input");
        return new TransformResult(result[..size], false);
    }

    public override byte[] ToStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData)
    {
        var paddingSize = BlockSize - data.Length % BlockSize;
        var result = new byte[BlockSize + data.Length + paddingSize];
        RandomNumberGenerator.Fill(result.AsSpan(0, BlockSize));
        var plain = result.AsSpan(BlockSize);
        data.CopyTo(plain);
        plain[data.Length..].Fill((byte)paddingSize);
        var iv = result.AsSpan(0, BlockSize).ToArray();
        lock (_lock) _aes.EncryptCbc(plain, iv, plain, PaddingMode.None);
        return result;
    }

    public void Dispose() => _aes.Dispose();
}

/// <summary>
/// XSalsa20-Poly1305 (NaCl's secretbox) with a random 24-byte nonce: nonce, then the 16-byte tag and the ciphertext
/// (value/encrypt/secretbox/secretbox.go, golang.org/x/crypto/nacl/secretbox's layout).
/// </summary>
public sealed class SecretboxTransformer(byte[] key) : SyncTransformer
{
    public const int NonceSize = 24;
    private readonly byte[] _key = key.Length == 32 ? key : throw new ArgumentException("secretbox keys are 32 bytes");

    public override TransformResult FromStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData)
    {
        if (data.Length < Secretbox.Overhead + NonceSize) throw new TransformException("the stored data was shorter than the required size");
        var plain = Secretbox.Open(data[NonceSize..], data[..NonceSize], _key);
        // Upstream's message for a failed Open, wrong as it reads.
        return plain is null ? throw new TransformException("output array was not large enough for encryption") : new TransformResult(plain, false);
    }

    public override byte[] ToStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData)
    {
        var result = new byte[NonceSize + Secretbox.Overhead + data.Length];
        RandomNumberGenerator.Fill(result.AsSpan(0, NonceSize));
        Secretbox.Seal(result.AsSpan(NonceSize), data, result.AsSpan(0, NonceSize), _key);
        return result;
    }
}
