using System.Security.Cryptography;
using System.Text;
using Portcullis.Server.Storage.Encryption;

namespace Portcullis.Server.Tests.Storage.Encryption;

/// <summary>
/// Each provider's bytes: round trips, and values made by Go (golang.org/x/crypto/nacl/secretbox, crypto/aes and
/// crypto/cipher laid out as k8s.io/apiserver/pkg/storage/value/encrypt/aes/aes.go does, x/crypto/hkdf) read back, so a
/// store written by kube-apiserver reads here and the other way round.
/// </summary>
public sealed class ProviderTests
{
    private static byte[] Seq(int n, int start, int step = 1) => Enumerable.Range(0, n).Select(i => (byte)(start + i * step)).ToArray();
    private static readonly byte[] Key32 = Seq(32, 1);
    private static readonly byte[] Aad = "/registry/secrets/default/s1"u8.ToArray();
    private static readonly byte[] Msg = """{"kind":"Secret"}"""u8.ToArray();

    [Theory]
    [InlineData("", "abfd22090e17877a2f1aed5b4bb81653")]
    [InlineData("68656c6c6f", "80eef511f37e46292c5c577548cebf7c3c3359e8bc")]
    [InlineData("7b226b696e64223a22536563726574222c2261706956657273696f6e223a227631222c2264617461223a7b2270617373776f7264223a226332566a636d5630227d7d",
        "cb2cd8aff568cc6319a9cc156dd449aa2f745eedbda77e301cd947280a41558b0ce39fb801882dc35496b386f419643c577a82e132828f3ad19ae979fd50f2b575779be82556dcaa8808f8d9ee4fea28ea5e")]
    public void Secretbox_MatchesGoNaCl(string messageHex, string boxHex)
    {
        var nonce = Seq(24, 100);
        var message = Convert.FromHexString(messageHex);
        var box = new byte[Secretbox.Overhead + message.Length];
        Secretbox.Seal(box, message, nonce, Key32);
        Assert.Equal(boxHex, Convert.ToHexStringLower(box));
        Assert.Equal(message, Secretbox.Open(Convert.FromHexString(boxHex), nonce, Key32));
    }

    [Fact]
    public void Secretbox_MultiBlockMessage_MatchesGoNaCl()
    {
        // 200 zero bytes: the stream crosses several 64-byte Salsa20 blocks after the Poly1305 key's 32 bytes.
        const string box = "cac9d9159caeba0f3d739358c6afdd5d54563584d3c35c0a3e8a224b782421a920c1fec868de48b127ffdce8d623464a6658aec356e3fb5bf3a0925b8d3181c60218e98c076cfec9ba5e92ba8319da0a9723555ba56a8c014177d110db6a9bfc917fc802adc68f60bd3e4f7cba6e0d9ecd4c065e6dbd12ee700ab9a4a86fa9f91697a77adb97157903ba93162cf909c0f371b2df74f551296c92a55c51e1a82dfda296ce76bedaf732924717de01b86be194f7315f6c5f87db3ad20935d2a2dc4b18485f47432539fdf33cdb52d746ab5522f08e692f233c";
        var output = new byte[Secretbox.Overhead + 200];
        Secretbox.Seal(output, new byte[200], Seq(24, 100), Key32);
        Assert.Equal(box, Convert.ToHexStringLower(output));
    }

    [Fact]
    public void Poly1305_Rfc8439Vector()
    {
        var key = Convert.FromHexString("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
        var tag = new byte[16];
        Poly1305.Mac(tag, "Cryptographic Forum Research Group"u8, key);
        Assert.Equal("a8061dc1305136c6c22b8baf0c0127a9", Convert.ToHexStringLower(tag));
    }

    [Fact]
    public void Secretbox_TamperedBox_IsRefusedWithUpstreamsError()
    {
        var t = new SecretboxTransformer(Key32);
        var stored = t.ToStorage(Msg, Aad);
        stored[^1] ^= 1;
        var e = Assert.Throws<TransformException>(() => t.FromStorage(stored, Aad));
        Assert.Equal("output array was not large enough for encryption", e.Message);
        Assert.Equal("the stored data was shorter than the required size", Assert.Throws<TransformException>(() => t.FromStorage(new byte[39], Aad)).Message);
    }

    [Fact]
    public void AesGcm_ReadsGoBytes_AndRefusesAnotherKeysValue()
    {
        var stored = Convert.FromHexString("32333435363738393a3b3c3d02e1c5bb2962f9409f525bfd422ff9849692b5e1c460031a3d6bebfe34f6c754fe");
        var t = new AesGcmTransformer(Key32);
        Assert.Equal(Msg, t.FromStorage(stored, Aad).Data);
        // The key is authenticated: the same bytes under another key name do not open.
        var e = Assert.Throws<TransformException>(() => t.FromStorage(stored, "/registry/secrets/default/s2"u8));
        Assert.Equal("cipher: message authentication failed", e.Message);
        Assert.Equal(Msg, t.FromStorage(t.ToStorage(Msg, Aad), Aad).Data);
    }

    [Fact]
    public void AesCbc_ReadsGoBytes_AndChecksPadding()
    {
        var stored = Convert.FromHexString("464748494a4b4c4d4e4f50515253545571db6afed6f86222b1c6b8a66cc64e9f79c38038349d7191a53faf2588b61236");
        var t = new AesCbcTransformer(Key32);
        Assert.Equal(Msg, t.FromStorage(stored, Aad).Data);
        Assert.Equal("the stored data is not a multiple of the block size", Assert.Throws<TransformException>(() => t.FromStorage(stored[..^1], Aad)).Message);
        Assert.Equal("the stored data was shorter than the required size", Assert.Throws<TransformException>(() => t.FromStorage(stored[..15], Aad)).Message);
        foreach (var size in new[] { 16, 24, 32 })
        {
            var k = new AesCbcTransformer(RandomNumberGenerator.GetBytes(size));
            foreach (var n in new[] { 0, 1, 15, 16, 17, 1000 })
            {
                var m = RandomNumberGenerator.GetBytes(n);
                var s = k.ToStorage(m, Aad);
                Assert.Equal(16 + (n / 16 + 1) * 16, s.Length);
                Assert.Equal(m, k.FromStorage(s, Aad).Data);
            }
        }
    }

    [Fact]
    public void ExtendedNonceGcm_ReadsGoBytes()
    {
        var seed = Seq(32, 200);
        var t = new ExtendedNonceGcmTransformer(seed);
        Assert.Equal("c90784ff26a6507455ca226a21a5721e13e99948a983360c3c75c5b7830a1df3", Convert.ToHexStringLower(t.Derive(Seq(32, 0, 3))));
        var stored = Convert.FromHexString("000306090c0f1215181b1e2124272a2d303336393c3f4245484b4e5154575a5d32333435363738393a3b3c3d1dcf8a308960496d3f8d73624654784cf5c6543b9214495cffda2b74d48c896bab");
        Assert.Equal(Msg, t.FromStorage(stored, Aad).Data);
        var written = t.ToStorage(Msg, Aad);
        Assert.Equal(32 + 12 + Msg.Length + 16, written.Length);
        Assert.Equal(Msg, t.FromStorage(written, Aad).Data);
    }

    [Fact]
    public async Task Prefixes_WriteWithFirst_ReadAny_StaleUnlessFirst()
    {
        var k1 = new PrefixTransformers([new("key1:", new AesCbcTransformer(Seq(32, 1))), new("key2:", new AesCbcTransformer(Seq(32, 2)))], "no matching key was found for the provided AES transformer");
        var cbc = new PrefixTransformer("k8s:enc:aescbc:v1:", k1);
        var t = new PrefixTransformers([cbc, new PrefixTransformer([], IdentityTransformer.Instance)], "no matching prefix found");
        var stored = await t.ToStorageAsync(Msg, Aad, default);
        Assert.StartsWith("k8s:enc:aescbc:v1:key1:", Encoding.ASCII.GetString(stored));
        var read = await t.FromStorageAsync(stored, Aad, default);
        Assert.Equal(Msg, read.Data);
        Assert.False(read.Stale);
        // Plain data: identity reads it, and it is stale (a write now would encrypt it).
        read = await t.FromStorageAsync(Msg, Aad, default);
        Assert.Equal(Msg, read.Data);
        Assert.True(read.Stale);
        // A value under the second key is stale too.
        var second = new PrefixTransformers([new("key2:", new AesCbcTransformer(Seq(32, 2)))], "x");
        var old = Encoding.ASCII.GetBytes("k8s:enc:aescbc:v1:").Concat(await second.ToStorageAsync(Msg, Aad, default)).ToArray();
        read = await t.FromStorageAsync(old, Aad, default);
        Assert.Equal(Msg, read.Data);
        Assert.True(read.Stale);
        // Another provider's value: identity refuses encrypted data, nothing else matches.
        var e = await Assert.ThrowsAsync<TransformException>(async () => await t.FromStorageAsync("k8s:enc:secretbox:v1:key1:xxxx"u8.ToArray(), Aad, default));
        Assert.Equal("no matching prefix found", e.Message);
        e = await Assert.ThrowsAsync<TransformException>(async () => await t.FromStorageAsync("k8s:enc:aescbc:v1:key3:0123456789abcdef"u8.ToArray(), Aad, default));
        Assert.Equal("no matching key was found for the provided AES transformer", e.Message);
    }

    [Fact]
    public async Task Identity_RefusesEncryptedData()
    {
        var e = await Assert.ThrowsAsync<TransformException>(async () => await IdentityTransformer.Instance.FromStorageAsync("k8s:enc:aesgcm:v1:k:abc"u8.ToArray(), Aad, default));
        Assert.Equal("identity transformer tried to read encrypted data", e.Message);
    }
}
