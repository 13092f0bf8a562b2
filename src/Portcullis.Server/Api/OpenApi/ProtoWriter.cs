using System.Buffers.Binary;
using System.Text;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>
/// A minimal protobuf wire-format writer producing the same bytes as Go's proto.Marshal for
/// proto3 messages written field by field in field-number order: minimal varints, length-delimited
/// sub-messages (the length is back-patched after the body is written), little-endian doubles.
/// Callers decide presence (proto3 omits defaults; oneof members and set message fields are written
/// even when empty).
/// </summary>
internal sealed class ProtoWriter(int capacity = 4096)
{
    private const int WireVarint = 0, WireFixed64 = 1, WireLengthDelimited = 2;

    private byte[] _buf = new byte[Math.Max(16, capacity)];
    private int _pos;

    public int Length => _pos;

    public byte[] ToArray() => _buf.AsSpan(0, _pos).ToArray();

    /// <summary>A string field, omitted when empty (proto3 default).</summary>
    public void WriteString(int field, string value)
    {
        if (value.Length > 0) WriteStringAlways(field, value);
    }

    /// <summary>A string written even when empty (elements of repeated string fields).</summary>
    public void WriteStringAlways(int field, string value)
    {
        Tag(field, WireLengthDelimited);
        var n = Encoding.UTF8.GetByteCount(value);
        Varint((ulong)n);
        Ensure(n);
        Encoding.UTF8.GetBytes(value, _buf.AsSpan(_pos, n));
        _pos += n;
    }

    public void WriteBool(int field, bool value)
    {
        Tag(field, WireVarint);
        Ensure(1);
        _buf[_pos++] = value ? (byte)1 : (byte)0;
    }

    /// <summary>An int64 as a varint (negative values take ten bytes, as in Go).</summary>
    public void WriteInt64(int field, long value)
    {
        Tag(field, WireVarint);
        Varint(unchecked((ulong)value));
    }

    public void WriteDouble(int field, double value)
    {
        Tag(field, WireFixed64);
        Ensure(8);
        BinaryPrimitives.WriteDoubleLittleEndian(_buf.AsSpan(_pos, 8), value);
        _pos += 8;
    }

    /// <summary>A sub-message: tag, minimal varint length, then whatever <paramref name="body"/> writes.</summary>
    public void WriteMessage<T>(int field, T state, Action<ProtoWriter, T> body)
    {
        Tag(field, WireLengthDelimited);
        Ensure(1);
        var start = _pos++;
        body(this, state);
        var len = _pos - start - 1;
        var size = VarintSize((ulong)len);
        if (size > 1)
        {
            Ensure(size - 1);
            _buf.AsSpan(start + 1, len).CopyTo(_buf.AsSpan(start + size, len));
            _pos += size - 1;
        }
        var at = start;
        var v = (ulong)len;
        while (v >= 0x80)
        {
            _buf[at++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buf[at] = (byte)v;
    }

    private void Tag(int field, int wireType) => Varint(((ulong)(uint)field << 3) | (uint)wireType);

    private void Varint(ulong v)
    {
        Ensure(10);
        while (v >= 0x80)
        {
            _buf[_pos++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buf[_pos++] = (byte)v;
    }

    private static int VarintSize(ulong v)
    {
        var n = 1;
        while (v >= 0x80)
        {
            v >>= 7;
            n++;
        }
        return n;
    }

    private void Ensure(int extra)
    {
        if (_pos + extra <= _buf.Length) return;
        var size = _buf.Length;
        while (size < _pos + extra) size = checked(size * 2);
        Array.Resize(ref _buf, size);
    }
}
