using Portcullis.Server.Storage.Encryption;
using Portcullis.Server.Storage.Encryption.Kms;

namespace Portcullis.Server.Tests.Storage.Encryption;

/// <summary>KMS v2's hand-written protobuf: field numbers and wire types as api.proto, round trips, validation messages.</summary>
public sealed class KmsMessagesTests
{
    [Fact]
    public void EncryptedObject_WireBytes_AndRoundTrip()
    {
        var o = new EncryptedObject([1, 2], "k", [3], new Dictionary<string, byte[]> { ["a.example.com"] = [4] }, EncryptedObject.HkdfSha256XNonceAesGcmSeed);
        var bytes = o.Encode();
        // 1: bytes, 2: string, 3: bytes, 4: map entry {1: key, 2: value}, 5: varint enum.
        Assert.Equal("0a02010212016b1a010322120a0d612e6578616d706c652e636f6d120104" + "2801", Convert.ToHexStringLower(bytes));
        var back = EncryptedObject.Decode(bytes);
        Assert.Equal((o.KeyId, o.EncryptedDekSourceType), (back.KeyId, back.EncryptedDekSourceType));
        Assert.Equal(o.EncryptedData, back.EncryptedData);
        Assert.Equal(o.EncryptedDekSource, back.EncryptedDekSource);
        Assert.Equal([4], back.Annotations["a.example.com"]);
    }

    [Fact]
    public void EncryptedObject_Validate_UpstreamMessages()
    {
        static string Error(EncryptedObject o) => Assert.Throws<TransformException>(o.Validate).Message;
        var ok = new EncryptedObject([1], "k", [1], new Dictionary<string, byte[]>(), 1);
        ok.Validate();
        Assert.Equal("unknown encryptedDEKSourceType: 7", Error(ok with { EncryptedDekSourceType = 7 }));
        Assert.Equal("encrypted data is empty", Error(ok with { EncryptedData = [] }));
        Assert.Equal("failed to validate encrypted DEK source: encrypted DEK source is empty", Error(ok with { EncryptedDekSource = [] }));
        Assert.Equal("failed to validate key id: keyID is empty", Error(ok with { KeyId = "" }));
        Assert.Equal("failed to validate key id: keyID is 1025 bytes, which exceeds the max size of 1024", Error(ok with { KeyId = new string('k', 1025) }));
        Assert.StartsWith("proto: ", Assert.Throws<TransformException>(() => EncryptedObject.Decode([0x0a, 0x05, 0x01])).Message);
    }

    [Fact]
    public void ServiceMessages_RoundTrip()
    {
        var s = KmsMessages.DecodeStatusResponse(KmsMessages.Encode(new KmsMessages.StatusResponse("v2", "ok", "key-1")));
        Assert.Equal(("v2", "ok", "key-1"), (s.Version, s.Healthz, s.KeyId));
        var e = KmsMessages.DecodeEncryptRequest(KmsMessages.Encode(new KmsMessages.EncryptRequest([9, 9], "uid")));
        Assert.Equal(("uid", 2), (e.Uid, e.Plaintext.Length));
        var d = KmsMessages.DecodeDecryptRequest(KmsMessages.Encode(new KmsMessages.DecryptRequest([7], "u", "k", new Dictionary<string, byte[]> { ["x.io"] = [1] })));
        Assert.Equal(("u", "k", 1), (d.Uid, d.KeyId, d.Annotations["x.io"][0]));
        var r = KmsMessages.DecodeEncryptResponse(KmsMessages.Encode(new KmsMessages.EncryptResponse([5], "k2", new Dictionary<string, byte[]>())));
        Assert.Equal(("k2", 5), (r.KeyId, r.Ciphertext[0]));
    }

    [Fact]
    public void CacheKey_IsUpstreamsLayout()
    {
        // uint32 type, uint16-length-prefixed source and key id, then (with annotations) uint32 count and prefixed pairs.
        Assert.Equal("00000001" + "0001aa" + "00016b", Convert.ToHexStringLower(EncryptedObject.CacheKey(1, [0xaa], "k", null)));
        Assert.Equal("00000001" + "0001aa" + "00016b" + "00000001" + "000161" + "0001bb",
            Convert.ToHexStringLower(EncryptedObject.CacheKey(1, [0xaa], "k", new Dictionary<string, byte[]> { ["a"] = [0xbb] })));
    }

    [Fact]
    public void Endpoint_UnixPathOrAbstract()
    {
        Assert.Equal("/run/kms.sock", KmsV2Client.ParseEndpoint("unix:///run/kms.sock"));
        Assert.Equal("\0kms", KmsV2Client.ParseEndpoint("unix:///@kms"));
    }
}
