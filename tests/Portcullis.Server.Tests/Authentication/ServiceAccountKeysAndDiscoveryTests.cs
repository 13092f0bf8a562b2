using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication.ServiceAccounts;

namespace Portcullis.Server.Tests.Authentication;

public sealed class ServiceAccountKeysAndDiscoveryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sa-keys-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact]
    public void CreatesKeyOnceInDataDir()
    {
        string kid;
        using (var keys = ServiceAccountKeys.LoadOrCreate(_dir))
        {
            kid = keys.SigningKeyId;
            Assert.Equal(2048, keys.SigningKey.KeySize);
        }
        var keyPath = Path.Combine(_dir, "sa.key");
        Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", File.ReadAllText(keyPath));
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", File.ReadAllText(Path.Combine(_dir, "sa.pub")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        using var again = ServiceAccountKeys.LoadOrCreate(_dir);
        Assert.Equal(kid, again.SigningKeyId);
    }

    [Fact]
    public void SigningKeyFileAndExtraKeyFiles()
    {
        Directory.CreateDirectory(_dir);
        var signing = Path.Combine(_dir, "signing.pem");
        File.WriteAllText(signing, SaWorld.SigningKey.ExportPkcs8PrivateKeyPem());
        // Several keys in one file: a public key, a PKCS#1 public key and a certificate.
        using var third = RSA.Create(2048);
        var cert = new CertificateRequest("CN=sa", third, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var extra = Path.Combine(_dir, "extra.pem");
        File.WriteAllText(extra, SaWorld.OtherKey.ExportSubjectPublicKeyInfoPem() + "\n" + SaWorld.SigningKey.ExportRSAPublicKeyPem() + "\n" + cert.ExportCertificatePem());

        using var keys = ServiceAccountKeys.LoadOrCreate(_dir, signing, [extra]);
        Assert.Equal(ServiceAccountKeys.KeyIdOf(SaWorld.SigningKey), keys.SigningKeyId);
        Assert.False(File.Exists(Path.Combine(_dir, "sa.key")));
        // The signing key listed again verifies once.
        Assert.Equal(3, keys.PublicKeys.Count);
        Assert.Equal(keys.SigningKeyId, keys.PublicKeys[0].KeyId);
        Assert.Single(keys.KeysFor(ServiceAccountKeys.KeyIdOf(third)));
        Assert.Empty(keys.KeysFor("unknown"));
        Assert.Equal(3, keys.KeysFor(null).Count);
    }

    [Fact]
    public void RejectsFilesWithoutRsaKeys()
    {
        Directory.CreateDirectory(_dir);
        var bad = Path.Combine(_dir, "bad.pem");
        File.WriteAllText(bad, "not a key");
        Assert.Throws<InvalidDataException>(() => ServiceAccountKeys.LoadOrCreate(_dir, null, [bad]));
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(bad, ec.ExportECPrivateKeyPem());
        var e = Assert.Throws<InvalidDataException>(() => ServiceAccountKeys.LoadOrCreate(_dir, bad));
        Assert.DoesNotContain("BEGIN", e.Message);
    }

    [Fact]
    public void DiscoveryDocumentsMatchUpstream()
    {
        var keys = ServiceAccountKeys.FromKeys(SaWorld.SigningKey); // shared key: not disposed
        var d = OidcDiscovery.Create("https://kubernetes.default.svc.cluster.local", null, "10.0.0.1:6443", keys);
        Assert.Equal(
            "{\"issuer\":\"https://kubernetes.default.svc.cluster.local\",\"jwks_uri\":\"https://10.0.0.1:6443/openid/v1/jwks\"," +
            "\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"],\"id_token_signing_alg_values_supported\":[\"RS256\"]}",
            Encoding.UTF8.GetString(d.ConfigJson));
        var jwks = JsonNode.Parse(d.JwksJson)!;
        var key = jwks["keys"]![0]!.AsObject();
        Assert.Equal(["use", "kty", "kid", "alg", "n", "e"], key.Select(p => p.Key));
        Assert.Equal("sig", key["use"]!.GetValue<string>());
        Assert.Equal(keys.SigningKeyId, key["kid"]!.GetValue<string>());
        Assert.Equal("AQAB", key["e"]!.GetValue<string>());
        var n = SaWorld.Unb64(key["n"]!.GetValue<string>());
        Assert.Equal(SaWorld.SigningKey.ExportParameters(false).Modulus, n);
        Assert.Equal("application/jwk-set+json", OidcDiscovery.JwksContentType);
        Assert.Equal("public, max-age=3600", OidcDiscovery.CacheControl);

        var explicitUri = OidcDiscovery.Create("https://issuer.example", "https://keys.example/jwks", null, keys);
        Assert.Contains("\"jwks_uri\":\"https://keys.example/jwks\"", Encoding.UTF8.GetString(explicitUri.ConfigJson));
    }

    [Theory]
    [InlineData("http://issuer.example", "issuer URL must use https scheme, got: http://issuer.example")]
    [InlineData("https://issuer.example?x=1", "issuer URL may not include a query, got: https://issuer.example?x=1")]
    [InlineData("https://issuer.example#f", "issuer URL may not include a fragment, got: https://issuer.example#f")]
    public void DiscoveryRefusesBadIssuers(string issuer, string message)
    {
        var keys = ServiceAccountKeys.FromKeys(SaWorld.SigningKey); // shared key: not disposed
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => OidcDiscovery.Create(issuer, null, "10.0.0.1:6443", keys)).Message);
    }
}
