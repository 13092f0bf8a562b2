using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Portcullis.Server.Certificates;

/// <summary>Why a CSR's <c>spec.request</c> is unusable, with upstream's (Go's) error text.</summary>
public sealed class CsrFormatException(string message) : Exception(message);

/// <summary>
/// A parsed PKCS#10 request as upstream's <c>certificates.ParseCSR</c> sees it: the first PEM
/// block of <c>spec.request</c> must be a <c>CERTIFICATE REQUEST</c>, its DER must parse and
/// (for <see cref="Parse"/>) its self-signature must verify.
/// </summary>
public sealed class CsrRequest
{
    private const string SanOid = "2.5.29.17";

    public required CertificateRequest Request { get; init; }
    public required string CommonName { get; init; }
    public required IReadOnlyList<string> Organizations { get; init; }
    public required IReadOnlyList<string> DnsNames { get; init; }
    public required IReadOnlyList<string> EmailAddresses { get; init; }
    public required IReadOnlyList<IPAddress> IpAddresses { get; init; }
    public required IReadOnlyList<string> Uris { get; init; }
    /// <summary>The subjectAltName extension as requested (forwarded into the certificate, as upstream's signer does).</summary>
    public X509Extension? SubjectAltName { get; init; }

    /// <summary>Parses and checks the signature; throws <see cref="CsrFormatException"/> with Go's messages.</summary>
    public static CsrRequest Parse(ReadOnlySpan<byte> pem)
    {
        var der = FirstPemBlock(pem, out var label);
        if (der is null || label != "CERTIFICATE REQUEST") throw new CsrFormatException("PEM block type must be CERTIFICATE REQUEST");
        CertificateRequest parsed;
        try
        {
            parsed = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256,
                CertificateRequestLoadOptions.SkipSignatureValidation | CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or NotSupportedException)
        {
            throw new CsrFormatException("x509: malformed certificate request");
        }
        try
        {
            CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        }
        // A signature algorithm .NET does not know is NotSupportedException; Go parses such a request
        // (SignatureAlgorithm unknown) and fails CheckSignature with ErrUnsupportedAlgorithm.
        catch (NotSupportedException)
        {
            throw new CsrFormatException("x509: cannot verify signature: algorithm unimplemented");
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new CsrFormatException(parsed.PublicKey.Oid.Value switch
            {
                "1.2.840.10045.2.1" => "x509: ECDSA verification failure",
                "1.2.840.113549.1.1.1" => "crypto/rsa: verification error",
                "1.3.101.112" => "x509: Ed25519 verification failure",
                _ => "x509: cannot verify signature: algorithm unimplemented",
            });
        }
        var san = parsed.CertificateExtensions.FirstOrDefault(x => x.Oid?.Value == SanOid);
        var (dns, emails, ips, uris) = san is null ? ([], [], [], []) : ReadSan(san.RawData);
        return new CsrRequest
        {
            Request = parsed,
            CommonName = Attributes(parsed.SubjectName, "2.5.4.3").LastOrDefault() ?? "",
            Organizations = Attributes(parsed.SubjectName, "2.5.4.10").ToList(),
            DnsNames = dns, EmailAddresses = emails, IpAddresses = ips, Uris = uris,
            SubjectAltName = san,
        };
    }

    private static IEnumerable<string> Attributes(X500DistinguishedName name, string oid)
    {
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == oid && rdn.GetSingleElementValue() is { } v)
                yield return v;
    }

    private static (List<string>, List<string>, List<IPAddress>, List<string>) ReadSan(byte[] raw)
    {
        List<string> dns = [], emails = [], uris = [];
        List<IPAddress> ips = [];
        try
        {
            var seq = new AsnReader(raw, AsnEncodingRules.DER).ReadSequence();
            while (seq.HasData)
            {
                var tag = seq.PeekTag();
                if (tag.TagClass != TagClass.ContextSpecific) { seq.ReadEncodedValue(); continue; }
                switch (tag.TagValue)
                {
                    case 1: emails.Add(seq.ReadCharacterString(UniversalTagNumber.IA5String, tag)); break;
                    case 2: dns.Add(seq.ReadCharacterString(UniversalTagNumber.IA5String, tag)); break;
                    case 6: uris.Add(seq.ReadCharacterString(UniversalTagNumber.IA5String, tag)); break;
                    case 7: ips.Add(new IPAddress(seq.ReadOctetString(tag))); break;
                    default: seq.ReadEncodedValue(); break;
                }
            }
        }
        catch (Exception e) when (e is AsnContentException or ArgumentException or CryptographicException)
        {
            throw new CsrFormatException("x509: malformed certificate request");
        }
        return (dns, emails, ips, uris);
    }

    /// <summary>Go's pem.Decode: the first well-formed block anywhere in the data, and its type.</summary>
    internal static byte[]? FirstPemBlock(ReadOnlySpan<byte> data, out string label) => FirstPemBlock(data, out label, out _);

    /// <summary>As <see cref="FirstPemBlock(ReadOnlySpan{byte}, out string)"/>, telling whether the block carried headers.</summary>
    internal static byte[]? FirstPemBlock(ReadOnlySpan<byte> data, out string label, out bool hasHeaders)
    {
        label = "";
        hasHeaders = false;
        var text = Encoding.ASCII.GetString(data);
        var at = 0;
        while (true)
        {
            var begin = text.IndexOf("-----BEGIN ", at, StringComparison.Ordinal);
            if (begin < 0) return null;
            // A BEGIN line must start a line.
            if (begin > 0 && text[begin - 1] != '\n') { at = begin + 11; continue; }
            var labelEnd = text.IndexOf("-----", begin + 11, StringComparison.Ordinal);
            var lineEnd = text.IndexOf('\n', begin);
            if (labelEnd < 0 || (lineEnd >= 0 && labelEnd > lineEnd)) { at = begin + 11; continue; }
            var type = text[(begin + 11)..labelEnd];
            var end = text.IndexOf("\n-----END " + type + "-----", labelEnd, StringComparison.Ordinal);
            if (end < 0) { at = begin + 11; continue; }
            var body = text[(labelEnd + 5)..end];
            // Headers ("Key: value" lines before a blank line) are allowed and skipped.
            var headers = false;
            if (body.Contains(':'))
            {
                var blank = body.IndexOf("\n\n", StringComparison.Ordinal);
                if (blank >= 0) { body = body[(blank + 2)..]; headers = true; }
            }
            try
            {
                label = type;
                hasHeaders = headers;
                return Convert.FromBase64String(new string(body.Where(c => !char.IsWhiteSpace(c)).ToArray()));
            }
            catch (FormatException) { at = begin + 11; }
        }
    }
}
