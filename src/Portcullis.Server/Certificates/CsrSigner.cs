using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portcullis.Server.Certificates;

/// <summary>
/// Signs requests with the cluster CA as kube-controller-manager's local signer does
/// (authority.PermissiveSigningPolicy): the request's subject and subjectAltNames, the usages
/// asked for, no other extensions, not a CA; NotBefore backdated 5 minutes; NotAfter now + TTL
/// (minus the backdate for certificates of 8 hours or more), never past the CA's own NotAfter.
/// </summary>
public sealed class CsrSigner(X509Certificate2 ca, TimeSpan maxDuration, TimeProvider time)
{
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Short = TimeSpan.FromHours(8);
    private static readonly TimeSpan MinDuration = TimeSpan.FromMinutes(10);

    /// <summary>--cluster-signing-duration: the longest certificate it issues.</summary>
    public TimeSpan MaxDuration => maxDuration;

    /// <summary>upstream's signer.duration: the request's expirationSeconds, capped by the max, at least 10 minutes.</summary>
    public TimeSpan Duration(long? expirationSeconds)
    {
        if (expirationSeconds is not { } s) return maxDuration;
        // Compared in seconds first: any int64 is an answer, never an overflow.
        if (s >= (long)maxDuration.TotalSeconds) return maxDuration;
        if (s <= (long)MinDuration.TotalSeconds) return MinDuration;
        var requested = TimeSpan.FromSeconds(s);
        return requested > maxDuration ? maxDuration : requested;
    }

    /// <summary>The certificate as PEM; throws <see cref="CsrFormatException"/> when the request cannot be signed.</summary>
    public string Sign(CsrRequest csr, IReadOnlyList<string> usages, long? expirationSeconds)
    {
        var now = time.GetUtcNow();
        var ttl = Duration(expirationSeconds);
        var (keyUsage, ext) = KeyUsages.Translate(usages);
        var notBefore = now - Backdate;
        var notAfter = ttl < Short ? now + ttl : now + ttl - Backdate;
        var caNotAfter = new DateTimeOffset(ca.NotAfter.ToUniversalTime());
        if (notAfter >= caNotAfter) notAfter = caNotAfter;
        if (notBefore >= caNotAfter) throw new CsrFormatException($"the signer has expired: NotAfter={caNotAfter:yyyy-MM-dd HH:mm:ss} +0000 UTC");
        if (now >= caNotAfter) throw new CsrFormatException($"refusing to sign a certificate that expired in the past: NotAfter={caNotAfter:yyyy-MM-dd HH:mm:ss} +0000 UTC");

        var req = new CertificateRequest(csr.Request.SubjectName, csr.Request.PublicKey, HashAlgorithmName.SHA256,
            csr.Request.PublicKey.Oid.Value == "1.2.840.113549.1.1.1" ? RSASignaturePadding.Pkcs1 : null);
        if (keyUsage != X509KeyUsageFlags.None) req.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage, true));
        if (ext.Count > 0) req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(ext, false));
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        if (csr.SubjectAltName is { } san) req.CertificateExtensions.Add(new X509Extension(san.Oid!, san.RawData, false));

        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        var generator = ca.GetECDsaPrivateKey() is { } ec ? X509SignatureGenerator.CreateForECDsa(ec)
            : X509SignatureGenerator.CreateForRSA(ca.GetRSAPrivateKey() ?? throw new InvalidOperationException("the CA has no private key"), RSASignaturePadding.Pkcs1);
        using var cert = req.Create(ca.SubjectName, generator, notBefore, notAfter, serial);
        return cert.ExportCertificatePem() + "\n";
    }
}
