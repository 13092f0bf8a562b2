using System.Buffers.Binary;
using System.Text;

namespace Portcullis.Server.Http.Streaming.Spdy;

/// <summary>SPDY/3 control frame types (moby/spdystream spdy/types.go).</summary>
internal enum SpdyControlType : ushort
{
    SynStream = 1,
    SynReply = 2,
    RstStream = 3,
    Settings = 4,
    Ping = 6,
    GoAway = 7,
    Headers = 8,
    WindowUpdate = 9,
}

/// <summary>RST_STREAM status codes (spdy/types.go RstStreamStatus).</summary>
internal enum SpdyRstStatus : uint
{
    ProtocolError = 1,
    InvalidStream = 2,
    RefusedStream = 3,
    UnsupportedVersion = 4,
    Cancel = 5,
    InternalError = 6,
    FlowControlError = 7,
    StreamInUse = 8,
    StreamAlreadyClosed = 9,
}

/// <summary>
/// One SPDY/3 frame as read off the wire: a control frame (<see cref="Type"/>, its payload after the
/// 8-byte header) or a data frame (<see cref="StreamId"/>, its bytes). <see cref="Flags"/> bit 0 is FIN.
/// </summary>
internal readonly record struct SpdyFrame(bool IsControl, SpdyControlType Type, uint StreamId, byte Flags, byte[] Payload)
{
    public const byte FlagFin = 0x01;
    public bool Fin => (Flags & FlagFin) != 0;
}

/// <summary>
/// SPDY/3.1 framing as client-go's and the kubelet's moby/spdystream speak it (spdy/read.go,
/// spdy/write.go): frame headers, the stream frames' fixed fields, and name/value header blocks
/// (32-bit counts and lengths, lower-case names, several values joined by NUL).
/// </summary>
internal static class SpdyFrames
{
    public const ushort Version = 3;
    /// <summary>A frame's length field has 24 bits.</summary>
    public const int MaxLength = (1 << 24) - 1;
    /// <summary>Data written by the server goes out in frames of at most this many bytes.</summary>
    public const int MaxDataChunk = 32 * 1024;

    /// <summary>Reads the next frame; null at a clean end of the stream between frames.</summary>
    public static async Task<SpdyFrame?> ReadAsync(Stream s, int maxPayload, CancellationToken ct)
    {
        var head = new byte[8];
        var got = await ReadFullAsync(s, head, ct);
        if (got == 0) return null;
        if (got < 8) throw new EndOfStreamException("spdy: truncated frame header");
        var first = BinaryPrimitives.ReadUInt32BigEndian(head);
        var flags = head[4];
        var length = (int)(BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(4)) & 0xffffff);
        if (length > maxPayload) throw new InvalidDataException($"spdy: frame of {length} bytes is too large");
        var payload = new byte[length];
        if (await ReadFullAsync(s, payload, ct) < length) throw new EndOfStreamException("spdy: truncated frame");
        if ((first & 0x80000000) != 0)
        {
            var version = (ushort)((first >> 16) & 0x7fff);
            if (version != Version) throw new InvalidDataException($"spdy: unsupported version {version}");
            return new SpdyFrame(true, (SpdyControlType)(first & 0xffff), 0, flags, payload);
        }
        return new SpdyFrame(false, 0, first & 0x7fffffff, flags, payload);
    }

    private static async Task<int> ReadFullAsync(Stream s, byte[] buf, CancellationToken ct)
    {
        var total = 0;
        while (total < buf.Length)
        {
            var n = await s.ReadAsync(buf.AsMemory(total), ct);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    public static byte[] Control(SpdyControlType type, byte flags, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, 0x80000000u | ((uint)Version << 16) | (ushort)type);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), ((uint)flags << 24) | (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(8));
        return frame;
    }

    public static byte[] Data(uint streamId, byte flags, ReadOnlySpan<byte> data)
    {
        var frame = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, streamId & 0x7fffffff);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), ((uint)flags << 24) | (uint)data.Length);
        data.CopyTo(frame.AsSpan(8));
        return frame;
    }

    /// <summary>SYN_REPLY: the stream id, then the compressed header block.</summary>
    public static byte[] SynReply(uint streamId, byte flags, ReadOnlySpan<byte> compressedHeaders)
    {
        var payload = new byte[4 + compressedHeaders.Length];
        BinaryPrimitives.WriteUInt32BigEndian(payload, streamId & 0x7fffffff);
        compressedHeaders.CopyTo(payload.AsSpan(4));
        return Control(SpdyControlType.SynReply, flags, payload);
    }

    public static byte[] RstStream(uint streamId, SpdyRstStatus status)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(payload, streamId & 0x7fffffff);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], (uint)status);
        return Control(SpdyControlType.RstStream, 0, payload);
    }

    public static byte[] GoAway(uint lastGoodStreamId, uint status)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(payload, lastGoodStreamId & 0x7fffffff);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], status);
        return Control(SpdyControlType.GoAway, 0, payload);
    }

    /// <summary>A SYN_STREAM's fixed fields: its id (the compressed header block starts at byte 10).</summary>
    public static uint SynStreamId(byte[] payload) =>
        payload.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7fffffff
            : throw new InvalidDataException("spdy: SYN_STREAM too short");

    /// <summary>The stream id that starts RST_STREAM, WINDOW_UPDATE, HEADERS and SYN_REPLY payloads.</summary>
    public static uint LeadingStreamId(byte[] payload) =>
        payload.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7fffffff
            : throw new InvalidDataException("spdy: control frame too short");

    /// <summary>Encodes a name/value header block (names lower-cased, as spdystream writes them).</summary>
    public static byte[] EncodeHeaders(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var ms = new MemoryStream();
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(n, (uint)headers.Count);
        ms.Write(n);
        foreach (var (name, value) in headers)
        {
            foreach (var part in new[] { Encoding.UTF8.GetBytes(name.ToLowerInvariant()), Encoding.UTF8.GetBytes(value) })
            {
                BinaryPrimitives.WriteUInt32BigEndian(n, (uint)part.Length);
                ms.Write(n);
                ms.Write(part);
            }
        }
        return ms.ToArray();
    }

    /// <summary>
    /// Decodes a name/value header block (spdy/read.go parseHeaderValueBlock): names lower-cased,
    /// NUL-separated values split. <see cref="InvalidDataException"/> when the block is malformed.
    /// </summary>
    public static Dictionary<string, List<string>> DecodeHeaders(ReadOnlySpan<byte> block)
    {
        var headers = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var count = ReadLength(ref block);
        for (var i = 0u; i < count; i++)
        {
            var name = Encoding.UTF8.GetString(ReadBytes(ref block)).ToLowerInvariant();
            var value = Encoding.UTF8.GetString(ReadBytes(ref block));
            if (!headers.TryGetValue(name, out var list)) headers[name] = list = [];
            list.AddRange(value.Split('\0'));
        }
        return headers;
    }

    private static uint ReadLength(ref ReadOnlySpan<byte> block)
    {
        if (block.Length < 4) throw new InvalidDataException("spdy: truncated header block");
        var v = BinaryPrimitives.ReadUInt32BigEndian(block);
        block = block[4..];
        return v;
    }

    private static ReadOnlySpan<byte> ReadBytes(ref ReadOnlySpan<byte> block)
    {
        var len = ReadLength(ref block);
        if (len > block.Length) throw new InvalidDataException("spdy: truncated header block");
        var bytes = block[..(int)len];
        block = block[(int)len..];
        return bytes;
    }
}
