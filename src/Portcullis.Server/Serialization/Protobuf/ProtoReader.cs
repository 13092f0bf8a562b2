namespace Portcullis.Server.Serialization.Protobuf;

/// <summary>A malformed or truncated protobuf body.</summary>
public sealed class ProtobufFormatException(string message) : Exception(message);

/// <summary>Reads the protobuf wire format (varints, fixed widths, length-delimited fields).</summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public readonly bool End => _pos >= _data.Length;
    public readonly int Position => _pos;

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw new ProtobufFormatException("unexpected EOF");
            var b = _data[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new ProtobufFormatException("proto: integer overflow");
    }

    public (int Field, int WireType) ReadTag()
    {
        var tag = ReadVarint();
        var field = (int)(tag >> 3);
        if (field <= 0) throw new ProtobufFormatException($"proto: illegal tag {field} (wire type {tag & 7})");
        return (field, (int)(tag & 7));
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var len = ReadVarint();
        if (len > (ulong)(_data.Length - _pos)) throw new ProtobufFormatException("unexpected EOF");
        var s = _data.Slice(_pos, (int)len);
        _pos += (int)len;
        return s;
    }

    public ulong ReadFixed64()
    {
        if (_data.Length - _pos < 8) throw new ProtobufFormatException("unexpected EOF");
        var v = BitConverter.ToUInt64(_data.Slice(_pos, 8));
        _pos += 8;
        return v;
    }

    public uint ReadFixed32()
    {
        if (_data.Length - _pos < 4) throw new ProtobufFormatException("unexpected EOF");
        var v = BitConverter.ToUInt32(_data.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(); break;
            case 1: ReadFixed64(); break;
            case 2: ReadBytes(); break;
            case 5: ReadFixed32(); break;
            default: throw new ProtobufFormatException($"proto: illegal wireType {wireType}");
        }
    }
}
