using Google.Protobuf;

namespace Portcullis.Server.Storage.Encryption.Kms;

/// <summary>
/// The messages of KMS v2 (k8s.io/kms/apis/v2/api.proto, service <c>v2.KeyManagementService</c>) and the stored
/// <c>EncryptedObject</c> (apiserver's kmsv2/v2/api.proto), written by hand with Google.Protobuf's coded streams: seven
/// small messages do not need a code generator, and the bytes are the same (fields in number order, map entries sorted
/// by key as Go's deterministic marshalling writes them).
/// </summary>
public static class KmsMessages
{
    public sealed record StatusResponse(string Version, string Healthz, string KeyId);
    public sealed record EncryptRequest(byte[] Plaintext, string Uid);
    public sealed record EncryptResponse(byte[] Ciphertext, string KeyId, IReadOnlyDictionary<string, byte[]> Annotations);
    public sealed record DecryptRequest(byte[] Ciphertext, string Uid, string KeyId, IReadOnlyDictionary<string, byte[]> Annotations);
    public sealed record DecryptResponse(byte[] Plaintext);

    public static byte[] Encode(EncryptRequest m) => Write(o => { Bytes(o, 1, m.Plaintext); Str(o, 2, m.Uid); });
    public static byte[] Encode(DecryptRequest m) => Write(o => { Bytes(o, 1, m.Ciphertext); Str(o, 2, m.Uid); Str(o, 3, m.KeyId); Map(o, 4, m.Annotations); });
    public static byte[] Encode(StatusResponse m) => Write(o => { Str(o, 1, m.Version); Str(o, 2, m.Healthz); Str(o, 3, m.KeyId); });
    public static byte[] Encode(EncryptResponse m) => Write(o => { Bytes(o, 1, m.Ciphertext); Str(o, 2, m.KeyId); Map(o, 3, m.Annotations); });
    public static byte[] Encode(DecryptResponse m) => Write(o => Bytes(o, 1, m.Plaintext));

    public static StatusResponse DecodeStatusResponse(byte[] b)
    {
        string version = "", healthz = "", keyId = "";
        Read(b, (f, i) => { switch (f) { case 1: version = i.ReadString(); return true; case 2: healthz = i.ReadString(); return true; case 3: keyId = i.ReadString(); return true; default: return false; } });
        return new StatusResponse(version, healthz, keyId);
    }

    public static EncryptRequest DecodeEncryptRequest(byte[] b)
    {
        byte[] plain = []; var uid = "";
        Read(b, (f, i) => { switch (f) { case 1: plain = i.ReadBytes().ToByteArray(); return true; case 2: uid = i.ReadString(); return true; default: return false; } });
        return new EncryptRequest(plain, uid);
    }

    public static EncryptResponse DecodeEncryptResponse(byte[] b)
    {
        byte[] cipher = []; var keyId = ""; var ann = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        Read(b, (f, i) => { switch (f) { case 1: cipher = i.ReadBytes().ToByteArray(); return true; case 2: keyId = i.ReadString(); return true; case 3: ReadEntry(i, ann); return true; default: return false; } });
        return new EncryptResponse(cipher, keyId, ann);
    }

    public static DecryptRequest DecodeDecryptRequest(byte[] b)
    {
        byte[] cipher = []; string uid = "", keyId = ""; var ann = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        Read(b, (f, i) => { switch (f) { case 1: cipher = i.ReadBytes().ToByteArray(); return true; case 2: uid = i.ReadString(); return true; case 3: keyId = i.ReadString(); return true; case 4: ReadEntry(i, ann); return true; default: return false; } });
        return new DecryptRequest(cipher, uid, keyId, ann);
    }

    public static DecryptResponse DecodeDecryptResponse(byte[] b)
    {
        byte[] plain = [];
        Read(b, (f, i) => { if (f != 1) return false; plain = i.ReadBytes().ToByteArray(); return true; });
        return new DecryptResponse(plain);
    }

    internal static byte[] Write(Action<CodedOutputStream> write)
    {
        using var ms = new MemoryStream();
        using (var o = new CodedOutputStream(ms, leaveOpen: true)) write(o);
        return ms.ToArray();
    }

    /// <summary>Reads fields in turn; <paramref name="field"/> returns false for an unknown field, which is skipped.</summary>
    internal static void Read(byte[] b, Func<int, CodedInputStream, bool> field)
    {
        try
        {
            var i = new CodedInputStream(b);
            uint tag;
            while ((tag = i.ReadTag()) != 0)
                if (!field(WireFormat.GetTagFieldNumber(tag), i)) i.SkipLastField();
        }
        catch (InvalidProtocolBufferException e) { throw new TransformException("proto: " + e.Message, e); }
    }

    internal static void Bytes(CodedOutputStream o, int field, byte[] v)
    {
        if (v.Length == 0) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(v));
    }

    internal static void Str(CodedOutputStream o, int field, string v)
    {
        if (v.Length == 0) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(v);
    }

    internal static void Map(CodedOutputStream o, int field, IReadOnlyDictionary<string, byte[]>? map)
    {
        if (map is null) return;
        foreach (var (k, v) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var entry = Write(e => { Str(e, 1, k); Bytes(e, 2, v); });
            o.WriteTag(field, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(entry));
        }
    }

    internal static void ReadEntry(CodedInputStream i, IDictionary<string, byte[]> map)
    {
        var entry = i.ReadBytes().ToByteArray();
        var key = ""; byte[] value = [];
        Read(entry, (f, e) => { switch (f) { case 1: key = e.ReadString(); return true; case 2: value = e.ReadBytes().ToByteArray(); return true; default: return false; } });
        map[key] = value;
    }
}

/// <summary>What a KMS v2 value stores after its prefix (EncryptedObject in apiserver's kmsv2/v2/api.proto).</summary>
public sealed record EncryptedObject(byte[] EncryptedData, string KeyId, byte[] EncryptedDekSource,
    IReadOnlyDictionary<string, byte[]> Annotations, int EncryptedDekSourceType)
{
    /// <summary>The plaintext of EncryptedDEKSource is the DEK itself.</summary>
    public const int AesGcmKey = 0;

    /// <summary>The plaintext of EncryptedDEKSource is a seed; each value's DEK is HKDF-SHA256 of it and the value's first 32 bytes.</summary>
    public const int HkdfSha256XNonceAesGcmSeed = 1;

    public byte[] Encode() => KmsMessages.Write(o =>
    {
        KmsMessages.Bytes(o, 1, EncryptedData);
        KmsMessages.Str(o, 2, KeyId);
        KmsMessages.Bytes(o, 3, EncryptedDekSource);
        KmsMessages.Map(o, 4, Annotations);
        if (EncryptedDekSourceType != 0)
        {
            o.WriteTag(5, WireFormat.WireType.Varint);
            o.WriteEnum(EncryptedDekSourceType);
        }
    });

    public static EncryptedObject Decode(ReadOnlySpan<byte> data)
    {
        byte[] encrypted = [], source = []; var keyId = ""; var type = 0;
        var ann = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        KmsMessages.Read(data.ToArray(), (f, i) =>
        {
            switch (f)
            {
                case 1: encrypted = i.ReadBytes().ToByteArray(); return true;
                case 2: keyId = i.ReadString(); return true;
                case 3: source = i.ReadBytes().ToByteArray(); return true;
                case 4: KmsMessages.ReadEntry(i, ann); return true;
                case 5: type = i.ReadEnum(); return true;
                default: return false;
            }
        });
        return new EncryptedObject(encrypted, keyId, source, ann, type);
    }

    /// <summary>kmsv2/envelope.go's ValidateEncryptedObject, with its messages.</summary>
    public void Validate()
    {
        if (EncryptedDekSourceType is not (AesGcmKey or HkdfSha256XNonceAesGcmSeed))
            throw new TransformException($"unknown encryptedDEKSourceType: {EncryptedDekSourceType}");
        if (EncryptedData.Length == 0) throw new TransformException("encrypted data is empty");
        if (EncryptedDekSource.Length == 0) throw new TransformException("failed to validate encrypted DEK source: encrypted DEK source is empty");
        if (EncryptedDekSource.Length > 1024)
            throw new TransformException($"failed to validate encrypted DEK source: encrypted DEK source is {EncryptedDekSource.Length} bytes, which exceeds the max size of 1024");
        if (KmsV2.ValidateKeyId(KeyId) is { } keyError) throw new TransformException("failed to validate key id: " + keyError);
        long total = 0;
        foreach (var (k, v) in Annotations) total += k.Length + v.Length;
        if (total > 32 * 1024)
            throw new TransformException($"failed to validate annotations: total size of annotations is {total}, which exceeds the max size of {32 * 1024}");
    }

    /// <summary>kmsv2's generateCacheKey: type, then the DEK source, key id and sorted annotations, each length-prefixed.</summary>
    public static byte[] CacheKey(int type, byte[] source, string keyId, IReadOnlyDictionary<string, byte[]>? annotations)
    {
        using var ms = new MemoryStream();
        void U32(uint v) { Span<byte> b = stackalloc byte[4]; System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b, v); ms.Write(b); }
        void L16(ReadOnlySpan<byte> v) { Span<byte> b = stackalloc byte[2]; System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)v.Length); ms.Write(b); ms.Write(v); }
        U32((uint)type);
        L16(source);
        L16(System.Text.Encoding.UTF8.GetBytes(keyId));
        if (annotations is { Count: > 0 })
        {
            U32((uint)annotations.Count);
            foreach (var (k, v) in annotations.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                L16(System.Text.Encoding.UTF8.GetBytes(k));
                L16(v);
            }
        }
        return ms.ToArray();
    }
}
