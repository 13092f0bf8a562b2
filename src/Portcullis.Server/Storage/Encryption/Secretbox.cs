using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// NaCl's <c>crypto_secretbox</c> (XSalsa20 and Poly1305) as golang.org/x/crypto/nacl/secretbox lays it out: the 16-byte
/// tag, then the ciphertext. .NET has no XSalsa20, and neither Geralt nor NSec (the libsodium wrappers on the package
/// list) offer secretbox's XSalsa20-Poly1305, so it is written here from the NaCl specification (Bernstein, "Cryptography
/// in NaCl"; "Extending the Salsa20 nonce"; poly1305-donna's 26-bit limbs). Tested against bytes made by Go's package.
/// </summary>
public static class Secretbox
{
    public const int Overhead = 16;

    /// <summary>Seals <paramref name="message"/> into <paramref name="output"/> (tag, then ciphertext: Overhead + length bytes).</summary>
    public static void Seal(Span<byte> output, ReadOnlySpan<byte> message, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        Span<byte> polyKey = stackalloc byte[32];
        var cipher = output.Slice(Overhead, message.Length);
        XSalsa20(cipher, message, nonce, key, polyKey);
        Poly1305.Mac(output[..Overhead], cipher, polyKey);
        CryptographicOperations.ZeroMemory(polyKey);
    }

    /// <summary>Opens a box (tag, then ciphertext), or null when the tag does not match.</summary>
    public static byte[]? Open(ReadOnlySpan<byte> box, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        if (box.Length < Overhead) return null;
        var cipher = box[Overhead..];
        Span<byte> polyKey = stackalloc byte[32];
        Span<byte> firstBlock = stackalloc byte[64];
        Span<byte> subKey = stackalloc byte[32];
        HSalsa20(subKey, key, nonce[..16]);
        Salsa20Block(firstBlock, subKey, nonce[16..24], 0);
        firstBlock[..32].CopyTo(polyKey);
        Span<byte> tag = stackalloc byte[16];
        Poly1305.Mac(tag, cipher, polyKey);
        var ok = CryptographicOperations.FixedTimeEquals(tag, box[..Overhead]);
        CryptographicOperations.ZeroMemory(polyKey);
        if (!ok) { CryptographicOperations.ZeroMemory(subKey); return null; }
        var plain = new byte[cipher.Length];
        XSalsa20(plain, cipher, nonce, key, null);
        CryptographicOperations.ZeroMemory(subKey);
        return plain;
    }

    /// <summary>
    /// XORs <paramref name="input"/> with the XSalsa20 stream from byte 32 on (the first 32 bytes are Poly1305's one-time
    /// key, written to <paramref name="polyKey"/> when given), as secretbox does.
    /// </summary>
    private static void XSalsa20(Span<byte> output, ReadOnlySpan<byte> input, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key, Span<byte> polyKey)
    {
        Span<byte> subKey = stackalloc byte[32];
        Span<byte> block = stackalloc byte[64];
        HSalsa20(subKey, key, nonce[..16]);
        var n = nonce[16..24];
        ulong counter = 0;
        Salsa20Block(block, subKey, n, counter++);
        if (!polyKey.IsEmpty) block[..32].CopyTo(polyKey);
        // The first block's last 32 bytes, then whole blocks (vectorized XOR).
        var done = 0;
        var offset = 32;
        while (done < input.Length)
        {
            if (offset == 64)
            {
                Salsa20Block(block, subKey, n, counter++);
                offset = 0;
            }
            var take = Math.Min(64 - offset, input.Length - done);
            Xor(input.Slice(done, take), block.Slice(offset, take), output.Slice(done, take));
            done += take;
            offset += take;
        }
        CryptographicOperations.ZeroMemory(block);
        CryptographicOperations.ZeroMemory(subKey);
    }

    private static void Xor(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> destination)
    {
        var i = 0;
        for (; i + 16 <= a.Length; i += 16)
            (Vector128.Create(a.Slice(i, 16)) ^ Vector128.Create(b.Slice(i, 16))).CopyTo(destination[i..]);
        for (; i < a.Length; i++) destination[i] = (byte)(a[i] ^ b[i]);
    }

    private const uint Sigma0 = 0x61707865, Sigma1 = 0x3320646e, Sigma2 = 0x79622d32, Sigma3 = 0x6b206574;

    /// <summary>HSalsa20: the Salsa20 rounds over key and a 16-byte nonce, words 0, 5, 10, 15, 6, 7, 8, 9 without the final addition.</summary>
    internal static void HSalsa20(Span<byte> output, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce16)
    {
        Span<uint> x = stackalloc uint[16];
        x[0] = Sigma0; x[5] = Sigma1; x[10] = Sigma2; x[15] = Sigma3;
        for (var i = 0; i < 4; i++)
        {
            x[1 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
            x[11 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(16 + 4 * i)..]);
            x[6 + i] = BinaryPrimitives.ReadUInt32LittleEndian(nonce16[(4 * i)..]);
        }
        Rounds(x);
        ReadOnlySpan<int> words = [0, 5, 10, 15, 6, 7, 8, 9];
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteUInt32LittleEndian(output[(4 * i)..], x[words[i]]);
        x.Clear();
    }

    /// <summary>One 64-byte Salsa20 block for a 32-byte key, an 8-byte nonce and a block counter.</summary>
    internal static void Salsa20Block(Span<byte> output, ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce8, ulong counter)
    {
        Span<uint> input = stackalloc uint[16];
        input[0] = Sigma0; input[5] = Sigma1; input[10] = Sigma2; input[15] = Sigma3;
        for (var i = 0; i < 4; i++)
        {
            input[1 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
            input[11 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(16 + 4 * i)..]);
        }
        input[6] = BinaryPrimitives.ReadUInt32LittleEndian(nonce8);
        input[7] = BinaryPrimitives.ReadUInt32LittleEndian(nonce8[4..]);
        input[8] = (uint)counter;
        input[9] = (uint)(counter >> 32);
        Span<uint> x = stackalloc uint[16];
        input.CopyTo(x);
        Rounds(x);
        for (var i = 0; i < 16; i++) BinaryPrimitives.WriteUInt32LittleEndian(output[(4 * i)..], x[i] + input[i]);
        x.Clear();
        input.Clear();
    }

    /// <summary>Salsa20's 20 rounds (ten double rounds: a column round, then a row round), on locals (no bounds checks).</summary>
    private static void Rounds(Span<uint> x)
    {
        uint x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
        uint x8 = x[8], x9 = x[9], x10 = x[10], x11 = x[11], x12 = x[12], x13 = x[13], x14 = x[14], x15 = x[15];
        for (var i = 0; i < 10; i++)
        {
            // Columns.
            x4 ^= BitOperations.RotateLeft(x0 + x12, 7); x8 ^= BitOperations.RotateLeft(x4 + x0, 9);
            x12 ^= BitOperations.RotateLeft(x8 + x4, 13); x0 ^= BitOperations.RotateLeft(x12 + x8, 18);
            x9 ^= BitOperations.RotateLeft(x5 + x1, 7); x13 ^= BitOperations.RotateLeft(x9 + x5, 9);
            x1 ^= BitOperations.RotateLeft(x13 + x9, 13); x5 ^= BitOperations.RotateLeft(x1 + x13, 18);
            x14 ^= BitOperations.RotateLeft(x10 + x6, 7); x2 ^= BitOperations.RotateLeft(x14 + x10, 9);
            x6 ^= BitOperations.RotateLeft(x2 + x14, 13); x10 ^= BitOperations.RotateLeft(x6 + x2, 18);
            x3 ^= BitOperations.RotateLeft(x15 + x11, 7); x7 ^= BitOperations.RotateLeft(x3 + x15, 9);
            x11 ^= BitOperations.RotateLeft(x7 + x3, 13); x15 ^= BitOperations.RotateLeft(x11 + x7, 18);
            // Rows.
            x1 ^= BitOperations.RotateLeft(x0 + x3, 7); x2 ^= BitOperations.RotateLeft(x1 + x0, 9);
            x3 ^= BitOperations.RotateLeft(x2 + x1, 13); x0 ^= BitOperations.RotateLeft(x3 + x2, 18);
            x6 ^= BitOperations.RotateLeft(x5 + x4, 7); x7 ^= BitOperations.RotateLeft(x6 + x5, 9);
            x4 ^= BitOperations.RotateLeft(x7 + x6, 13); x5 ^= BitOperations.RotateLeft(x4 + x7, 18);
            x11 ^= BitOperations.RotateLeft(x10 + x9, 7); x8 ^= BitOperations.RotateLeft(x11 + x10, 9);
            x9 ^= BitOperations.RotateLeft(x8 + x11, 13); x10 ^= BitOperations.RotateLeft(x9 + x8, 18);
            x12 ^= BitOperations.RotateLeft(x15 + x14, 7); x13 ^= BitOperations.RotateLeft(x12 + x15, 9);
            x14 ^= BitOperations.RotateLeft(x13 + x12, 13); x15 ^= BitOperations.RotateLeft(x14 + x13, 18);
        }
        x[0] = x0; x[1] = x1; x[2] = x2; x[3] = x3; x[4] = x4; x[5] = x5; x[6] = x6; x[7] = x7;
        x[8] = x8; x[9] = x9; x[10] = x10; x[11] = x11; x[12] = x12; x[13] = x13; x[14] = x14; x[15] = x15;
    }
}

/// <summary>The Poly1305 one-time authenticator (RFC 8439 §2.5), with poly1305-donna's five 26-bit limbs.</summary>
public static class Poly1305
{
    public static void Mac(Span<byte> tag, ReadOnlySpan<byte> message, ReadOnlySpan<byte> key)
    {
        const uint mask = 0x3ffffff;
        uint r0 = BinaryPrimitives.ReadUInt32LittleEndian(key) & 0x3ffffff;
        uint r1 = (BinaryPrimitives.ReadUInt32LittleEndian(key[3..]) >> 2) & 0x3ffff03;
        uint r2 = (BinaryPrimitives.ReadUInt32LittleEndian(key[6..]) >> 4) & 0x3ffc0ff;
        uint r3 = (BinaryPrimitives.ReadUInt32LittleEndian(key[9..]) >> 6) & 0x3f03fff;
        uint r4 = (BinaryPrimitives.ReadUInt32LittleEndian(key[12..]) >> 8) & 0x00fffff;
        uint s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
        uint h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0;
        Span<byte> last = stackalloc byte[16];
        var m = message;
        while (m.Length > 0)
        {
            scoped ReadOnlySpan<byte> b;
            uint hibit;
            if (m.Length >= 16) { b = m[..16]; hibit = 1u << 24; m = m[16..]; }
            else
            {
                last.Clear();
                m.CopyTo(last);
                last[m.Length] = 1;
                b = last;
                hibit = 0;
                m = default;
            }
            h0 += BinaryPrimitives.ReadUInt32LittleEndian(b) & mask;
            h1 += (BinaryPrimitives.ReadUInt32LittleEndian(b[3..]) >> 2) & mask;
            h2 += (BinaryPrimitives.ReadUInt32LittleEndian(b[6..]) >> 4) & mask;
            h3 += (BinaryPrimitives.ReadUInt32LittleEndian(b[9..]) >> 6) & mask;
            h4 += (BinaryPrimitives.ReadUInt32LittleEndian(b[12..]) >> 8) | hibit;

            ulong d0 = (ulong)h0 * r0 + (ulong)h1 * s4 + (ulong)h2 * s3 + (ulong)h3 * s2 + (ulong)h4 * s1;
            ulong d1 = (ulong)h0 * r1 + (ulong)h1 * r0 + (ulong)h2 * s4 + (ulong)h3 * s3 + (ulong)h4 * s2;
            ulong d2 = (ulong)h0 * r2 + (ulong)h1 * r1 + (ulong)h2 * r0 + (ulong)h3 * s4 + (ulong)h4 * s3;
            ulong d3 = (ulong)h0 * r3 + (ulong)h1 * r2 + (ulong)h2 * r1 + (ulong)h3 * r0 + (ulong)h4 * s4;
            ulong d4 = (ulong)h0 * r4 + (ulong)h1 * r3 + (ulong)h2 * r2 + (ulong)h3 * r1 + (ulong)h4 * r0;

            ulong c = d0 >> 26; h0 = (uint)d0 & mask;
            d1 += c; c = d1 >> 26; h1 = (uint)d1 & mask;
            d2 += c; c = d2 >> 26; h2 = (uint)d2 & mask;
            d3 += c; c = d3 >> 26; h3 = (uint)d3 & mask;
            d4 += c; c = d4 >> 26; h4 = (uint)d4 & mask;
            h0 += (uint)c * 5; h1 += h0 >> 26; h0 &= mask;
        }
        last.Clear();

        // Full carry, then h - p selected in constant time when h >= p.
        uint cc = h1 >> 26; h1 &= mask;
        h2 += cc; cc = h2 >> 26; h2 &= mask;
        h3 += cc; cc = h3 >> 26; h3 &= mask;
        h4 += cc; cc = h4 >> 26; h4 &= mask;
        h0 += cc * 5; cc = h0 >> 26; h0 &= mask;
        h1 += cc;

        uint g0 = h0 + 5; cc = g0 >> 26; g0 &= mask;
        uint g1 = h1 + cc; cc = g1 >> 26; g1 &= mask;
        uint g2 = h2 + cc; cc = g2 >> 26; g2 &= mask;
        uint g3 = h3 + cc; cc = g3 >> 26; g3 &= mask;
        uint g4 = h4 + cc - (1u << 26);

        uint select = (g4 >> 31) - 1; // all ones when h >= p (no borrow)
        g0 &= select; g1 &= select; g2 &= select; g3 &= select; g4 &= select;
        select = ~select;
        h0 = (h0 & select) | g0;
        h1 = (h1 & select) | g1;
        h2 = (h2 & select) | g2;
        h3 = (h3 & select) | g3;
        h4 = (h4 & select) | g4;

        h0 = h0 | (h1 << 26);
        h1 = (h1 >> 6) | (h2 << 20);
        h2 = (h2 >> 12) | (h3 << 14);
        h3 = (h3 >> 18) | (h4 << 8);

        ulong f = (ulong)h0 + BinaryPrimitives.ReadUInt32LittleEndian(key[16..]); h0 = (uint)f;
        f = (ulong)h1 + BinaryPrimitives.ReadUInt32LittleEndian(key[20..]) + (f >> 32); h1 = (uint)f;
        f = (ulong)h2 + BinaryPrimitives.ReadUInt32LittleEndian(key[24..]) + (f >> 32); h2 = (uint)f;
        f = (ulong)h3 + BinaryPrimitives.ReadUInt32LittleEndian(key[28..]) + (f >> 32); h3 = (uint)f;

        BinaryPrimitives.WriteUInt32LittleEndian(tag, h0);
        BinaryPrimitives.WriteUInt32LittleEndian(tag[4..], h1);
        BinaryPrimitives.WriteUInt32LittleEndian(tag[8..], h2);
        BinaryPrimitives.WriteUInt32LittleEndian(tag[12..], h3);
    }
}
