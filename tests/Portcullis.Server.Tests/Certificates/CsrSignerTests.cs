using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Server.Authentication;
using Portcullis.Server.Certificates;
using Portcullis.Server.Tests.Authentication;
using static Portcullis.Server.Tests.Certificates.CsrTestKit;

namespace Portcullis.Server.Tests.Certificates;

/// <summary>The local signer's policy (authority.PermissiveSigningPolicy) and the signers' rules.</summary>
public sealed class CsrSignerTests
{
    private readonly ManualClock _clock = new(Start);
    private CsrSigner Signer(TimeSpan? max = null) => new(Ca, max ?? TimeSpan.FromHours(8760), _clock);

    private static CsrRequest Request(string subject = "CN=jane, O=devs", Action<CertificateRequest>? extend = null) =>
        CsrRequest.Parse(System.Text.Encoding.ASCII.GetBytes(RequestPem(subject, extend)));

    [Theory]
    [InlineData(null, 8760 * 3600)]
    [InlineData(600L, 600)]
    [InlineData(7200L, 7200)]
    [InlineData(86400L * 400, 8760 * 3600)]
    public void Duration_HonoursExpirationSecondsCappedByMax(long? requested, long expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), Signer().Duration(requested));

    [Fact]
    public void Translate_UnrecognizedUsages_QuotedAsGoPercentQOfASlice()
    {
        // keyUsagesFromStrings: fmt.Errorf("unrecognized usage values: %q", unrecognized).
        var e = Assert.Throws<CsrFormatException>(() => KeyUsages.Translate(["digital signature", "x\"y", "z\n"]));
        Assert.Equal("unrecognized usage values: [\"x\\\"y\" \"z\\n\"]", e.Message);
    }

    [Fact]
    public void Sign_ShortLived_NotBackdatedAtTheEnd()
    {
        using var cert = Parse(Signer().Sign(Request(), ["client auth"], 7200));
        Assert.Equal(Start.AddMinutes(-5).UtcDateTime, cert.NotBefore.ToUniversalTime());
        Assert.Equal(Start.AddHours(2).UtcDateTime, cert.NotAfter.ToUniversalTime());
    }

    [Fact]
    public void Sign_LongLived_BackdatedAtBothEnds_AndCappedByTheCa()
    {
        using var day = Parse(Signer().Sign(Request(), ["client auth"], 86400));
        Assert.Equal(Start.AddHours(24).AddMinutes(-5).UtcDateTime, day.NotAfter.ToUniversalTime());
        using var forever = Parse(Signer(TimeSpan.FromDays(365 * 50)).Sign(Request(), ["client auth"], null));
        Assert.Equal(Ca.NotAfter.ToUniversalTime(), forever.NotAfter.ToUniversalTime());
    }

    [Fact]
    public void Sign_SubjectUsagesAndConstraints_AsRequested()
    {
        using var cert = Parse(Signer().Sign(Request(), ["digital signature", "key encipherment", "client auth"], null));
        Assert.Equal("jane", cert.GetNameInfo(X509NameType.SimpleName, false));
        Assert.Contains("O=devs", cert.Subject);
        Assert.Equal(Ca.Subject, cert.Issuer);
        var ku = cert.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.True(ku.Critical);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, ku.KeyUsages);
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], cert.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value));
        Assert.False(cert.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
    }

    [Fact]
    public void Sign_ForwardsSubjectAltNames()
    {
        var req = Request("CN=system:node:n1, O=system:nodes", r =>
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("n1.example.com");
            san.AddIpAddress(System.Net.IPAddress.Parse("10.0.0.7"));
            r.CertificateExtensions.Add(san.Build());
        });
        Assert.Equal(["n1.example.com"], req.DnsNames);
        using var cert = Parse(Signer().Sign(req, ["digital signature", "server auth"], null));
        var san = cert.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["n1.example.com"], san.EnumerateDnsNames());
        Assert.Equal([System.Net.IPAddress.Parse("10.0.0.7")], san.EnumerateIPAddresses());
    }

    [Fact]
    public void SignedCertificate_AuthenticatesAsCommonNameWithOrganizationsAsGroups()
    {
        using var cert = Parse(Signer().Sign(Request(), ["client auth"], 3600));
        var auth = new X509Authenticator(new X509Certificate2Collection { X509CertificateLoader.LoadCertificate(Ca.RawData) }, _clock);
        var r = auth.Verify(cert);
        Assert.Equal(AuthenticationOutcome.Authenticated, r.Outcome);
        Assert.Equal("jane", r.User!.Name);
        Assert.Equal(["devs", "system:authenticated"], r.User.Groups);
        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(AuthenticationOutcome.Failed, auth.Verify(cert).Outcome);
    }

    [Theory]
    [InlineData(new[] { "client auth" }, null)]
    [InlineData(new[] { "digital signature", "key encipherment", "client auth" }, null)]
    [InlineData(new[] { "client auth", "server auth" }, "invalid usage for client certificate: server auth")]
    [InlineData(new[] { "digital signature" }, "missing required usage for client certificate: client auth")]
    public void KubeApiServerClient_UsageRules(string[] usages, string? expected) =>
        Assert.Equal(expected, KeyUsages.SignerRulesError(KeyUsages.KubeApiServerClient, Request(), usages));

    [Fact]
    public void KubeletClient_Rules()
    {
        string[] usages = ["digital signature", "key encipherment", "client auth"];
        Assert.Null(KeyUsages.SignerRulesError(KeyUsages.KubeApiServerClientKubelet, Request("CN=system:node:n1, O=system:nodes"), usages));
        Assert.Equal("subject organization is not system:nodes", KeyUsages.SignerRulesError(KeyUsages.KubeApiServerClientKubelet, Request(), usages));
        Assert.Equal("subject common name does not begin with system:node:",
            KeyUsages.SignerRulesError(KeyUsages.KubeApiServerClientKubelet, Request("CN=jane, O=system:nodes"), usages));
        Assert.Equal("usages did not match [client auth digital signature key encipherment]",
            KeyUsages.SignerRulesError(KeyUsages.KubeApiServerClientKubelet, Request("CN=system:node:n1, O=system:nodes"), ["client auth"]));
    }

    [Fact]
    public void LegacyUnknown_IsNotSignedHere() => Assert.False(KeyUsages.IsSignedHere(KeyUsages.LegacyUnknown));
}

/// <summary>Requests signed with an unknown algorithm: Go parses them and fails the signature check.</summary>
public sealed class CsrRequestParseTests
{
    [Fact]
    public void UnknownSignatureAlgorithm_IsUnverifiable_NotACrash()
    {
        using var rsa = RSA.Create(2048);
        var der = Convert.FromBase64String(string.Concat(RequestPem("CN=jane", key: rsa).Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        // The signature algorithm sha256WithRSAEncryption (1.2.840.113549.1.1.11) → 1.2.840.114445.1.1.11, as
        // the fuzz test produced it (.NET throws NotSupportedException when verifying with it).
        byte[] rsaOid = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
        var at = der.AsSpan().IndexOf(rsaOid);
        Assert.True(at > 0);
        der[at + 6] = 0xFE; // 113549 = 86 F7 0D → 114445 = 86 FE 0D
        var pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + Convert.ToBase64String(der) + "\n-----END CERTIFICATE REQUEST-----\n";
        var e = Assert.Throws<CsrFormatException>(() => CsrRequest.Parse(System.Text.Encoding.ASCII.GetBytes(pem)));
        Assert.Equal("x509: cannot verify signature: algorithm unimplemented", e.Message);
    }
}
