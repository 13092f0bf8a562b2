using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Portcullis.Server.Pki;

/// <summary>The certificates and keys Portcullis needs, generated once into the data dir and reused.</summary>
public sealed class PkiFiles
{
    public required string CaCert { get; init; }
    public required string CaKey { get; init; }
    public required string ServingCert { get; init; }
    public required string ServingKey { get; init; }
    public required string AdminCert { get; init; }
    public required string AdminKey { get; init; }
    public required string AdminKubeconfig { get; init; }

    public static PkiFiles In(string dataDir) => new()
    {
        CaCert = Path.Combine(dataDir, "ca.crt"),
        CaKey = Path.Combine(dataDir, "ca.key"),
        ServingCert = Path.Combine(dataDir, "apiserver.crt"),
        ServingKey = Path.Combine(dataDir, "apiserver.key"),
        AdminCert = Path.Combine(dataDir, "admin.crt"),
        AdminKey = Path.Combine(dataDir, "admin.key"),
        AdminKubeconfig = Path.Combine(dataDir, "admin.kubeconfig"),
    };
}

/// <summary>
/// Generates the cluster CA, the serving certificate and the admin client certificate.
/// Keys are ECDSA P-256: instant to generate (start-up stays fast) and accepted by every client.
/// </summary>
public static class CertificateFactory
{
    public static readonly string[] ServingDnsNames =
        ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"];

    public static readonly IPAddress[] ServingIps = [IPAddress.Loopback, IPAddress.Parse("10.96.0.1"), IPAddress.IPv6Loopback];

    public static X509Certificate2 CreateCa(string commonName, DateTimeOffset now)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest(new X500DistinguishedName($"CN={commonName}"), key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        return req.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
    }

    public static X509Certificate2 CreateServing(X509Certificate2 ca, IEnumerable<string> dnsNames, IEnumerable<IPAddress> ips, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest(new X500DistinguishedName("CN=kube-apiserver"), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var d in dnsNames) san.AddDnsName(d);
        foreach (var ip in ips) san.AddIpAddress(ip);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        return Sign(req, ca, key, now, TimeSpan.FromDays(365));
    }

    public static X509Certificate2 CreateClient(X509Certificate2 ca, string user, IEnumerable<string> groups, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var dn = new StringBuilder();
        foreach (var g in groups) dn.Append($"O={g}, ");
        dn.Append($"CN={user}");
        var req = new CertificateRequest(new X500DistinguishedName(dn.ToString()), key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        return Sign(req, ca, key, now, TimeSpan.FromDays(365));
    }

    private static X509Certificate2 Sign(CertificateRequest req, X509Certificate2 ca, ECDsa key, DateTimeOffset now, TimeSpan life)
    {
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var signed = req.Create(ca, now.AddMinutes(-5), now + life, serial);
        return signed.CopyWithPrivateKey(key);
    }

    public static string CertPem(X509Certificate2 c) => c.ExportCertificatePem() + "\n";

    public static string KeyPem(X509Certificate2 c) =>
        (c.GetECDsaPrivateKey()?.ExportECPrivateKeyPem() ?? c.GetRSAPrivateKey()!.ExportRSAPrivateKeyPem()) + "\n";
}
