using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Portcullis.Server.Authentication;

/// <summary>
/// Hashing a credential's UTF-8 bytes on the request path with a hash context kept per thread: OpenSSL's one-shot
/// hash and HMAC calls set a context up on every call, which showed in the profile of every token-authenticated request.
/// </summary>
internal static class Utf8Hashing
{
    /// <summary>Hashes <paramref name="text"/>'s UTF-8 bytes into <paramref name="digest"/> and resets <paramref name="hash"/> for the next use.</summary>
    public static void HashUtf8(this IncrementalHash hash, string text, Span<byte> digest)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = max > 2048 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> bytes = rented ?? stackalloc byte[2048];
        hash.AppendData(bytes[..Encoding.UTF8.GetBytes(text, bytes)]);
        hash.GetHashAndReset(digest);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }
}
