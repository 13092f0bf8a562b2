using System.Buffers.Binary;
using System.IO.Compression;

namespace Portcullis.Server.Http.Streaming.Spdy;

/// <summary>
/// The receiving half of SPDY/3 header compression: one zlib stream per direction and connection,
/// started with the <see cref="SpdyDictionary"/> as its preset dictionary, each frame's header
/// block ending on a sync flush (moby/spdystream's Framer flushes its zlib writer after every block).
/// </summary>
/// <remarks>
/// .NET's <see cref="ZLibStream"/> takes no preset dictionary, so the inflater does without one:
/// each frame's deflate blocks are inflated by a fresh <see cref="DeflateStream"/> behind a
/// <em>stored</em> block holding the window so far (the dictionary, then what earlier frames
/// decoded, at most 32 KiB — all a back-reference can reach), and before a final empty stored
/// block. The inflater outputs the window again, then the frame's bytes; the window part is
/// skipped. Because a sync flush ends every frame on a byte boundary with no block left open, the
/// frames can be cut apart this way. The Adler-32 trailer is never reached (the stream has no end).
/// </remarks>
internal sealed class SpdyHeaderInflater
{
    private const int Window = 32 * 1024;
    /// <summary>A header block larger than this when inflated is refused (a compression bomb).</summary>
    public const int MaxBlock = 1 << 20;

    private byte[] _history = [];
    private bool _started;

    /// <summary>Inflates one frame's compressed header block; <see cref="InvalidDataException"/> for anything malformed.</summary>
    public byte[] Inflate(ReadOnlySpan<byte> compressed)
    {
        if (!_started)
        {
            if (compressed.Length < 2) throw new InvalidDataException("zlib: invalid header");
            byte cmf = compressed[0], flg = compressed[1];
            if ((cmf & 0x0f) != 8 || ((cmf << 8) | flg) % 31 != 0) throw new InvalidDataException("zlib: invalid header");
            compressed = compressed[2..];
            if ((flg & 0x20) != 0)
            {
                if (compressed.Length < 4) throw new InvalidDataException("zlib: invalid header");
                if (BinaryPrimitives.ReadUInt32BigEndian(compressed) != SpdyDictionary.Adler32) throw new InvalidDataException("zlib: invalid dictionary");
                compressed = compressed[4..];
                _history = SpdyDictionary.Bytes;
            }
            _started = true;
        }
        var raw = new byte[5 + _history.Length + compressed.Length + 5];
        raw[0] = 0x00; // BFINAL=0, BTYPE=00 (stored), padded to the byte
        BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(1), (ushort)_history.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(3), (ushort)~_history.Length);
        _history.CopyTo(raw, 5);
        compressed.CopyTo(raw.AsSpan(5 + _history.Length));
        // BFINAL=1 stored block of length 0: the end.
        ((ReadOnlySpan<byte>)[0x01, 0x00, 0x00, 0xff, 0xff]).CopyTo(raw.AsSpan(raw.Length - 5));

        using var inflater = new DeflateStream(new MemoryStream(raw), CompressionMode.Decompress);
        var output = new MemoryStream();
        var buf = new byte[16 * 1024];
        int n;
        while ((n = inflater.Read(buf)) > 0)
        {
            output.Write(buf, 0, n);
            if (output.Length > _history.Length + MaxBlock) throw new InvalidDataException("spdy: header block too large");
        }
        var all = output.GetBuffer().AsSpan(0, (int)output.Length);
        if (all.Length < _history.Length) throw new InvalidDataException("zlib: truncated");
        var block = all[_history.Length..].ToArray();
        var keep = all.Length > Window ? all[^Window..] : all;
        _history = keep.ToArray();
        return block;
    }
}

/// <summary>
/// The sending half: a zlib stream (header <c>78 01</c>, no preset dictionary — a reader given one
/// uses it only when the header's FDICT bit asks) whose every frame is one or more non-final
/// <em>stored</em> blocks followed by the empty stored block of a sync flush. Go's zlib reader (compress/zlib with flate) and every inflater accept
/// it; header blocks of port-forward replies are a few bytes, so compressing them buys nothing.
/// </summary>
internal sealed class SpdyHeaderDeflater
{
    private bool _started;

    public byte[] Deflate(ReadOnlySpan<byte> block)
    {
        var output = new MemoryStream();
        if (!_started)
        {
            output.Write([0x78, 0x01]);
            _started = true;
        }
        Span<byte> head = stackalloc byte[5];
        do
        {
            var n = Math.Min(block.Length, ushort.MaxValue);
            head[0] = 0x00;
            BinaryPrimitives.WriteUInt16LittleEndian(head[1..], (ushort)n);
            BinaryPrimitives.WriteUInt16LittleEndian(head[3..], (ushort)~n);
            output.Write(head);
            output.Write(block[..n]);
            block = block[n..];
        } while (block.Length > 0);
        // Then an empty stored block, as a sync flush ends: Go's flate reader hands a stored block's bytes
        // to its caller only when the next block starts, so without it the reader would read past the frame.
        output.Write([0x00, 0x00, 0x00, 0xff, 0xff]);
        return output.ToArray();
    }
}
