using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;
using static Portcullis.Server.Tests.Certificates.CsrTestKit;

namespace Portcullis.Server.Tests.Certificates;

/// <summary>upstream's CertificateSigningRequest validation, message for message.</summary>
public sealed class CsrValidationTests
{
    private static readonly string Pem = RequestPem("CN=jane, O=devs");

    private static List<string> Create(JsonObject csr) => CertificateValidation.Create(csr, null).Select(e => e.ToString()).ToList();

    [Fact]
    public void Create_ValidRequest_HasNoErrors() => Assert.Empty(Create(Csr("jane", Pem, expirationSeconds: 600)));

    [Fact]
    public void Create_NotACertificateRequest_IsInvalidWithGoBytes()
    {
        var certPem = Ca.ExportCertificatePem();
        var errs = Create(Csr("jane", certPem));
        var e = Assert.Single(errs);
        Assert.StartsWith("spec.request: Invalid value: []byte{0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x42, 0x45, 0x47, 0x49, 0x4e, 0x20, 0x43,", e);
        Assert.EndsWith("}: PEM block type must be CERTIFICATE REQUEST", e);
    }

    [Fact]
    public void Create_MissingRequest_PrintsNilBytes()
    {
        var csr = Csr("jane", Pem);
        ((JsonObject)csr["spec"]!).Remove("request");
        Assert.Contains("spec.request: Invalid value: []byte(nil): PEM block type must be CERTIFICATE REQUEST", Create(csr));
    }

    [Fact]
    public void Create_TamperedSignature_FailsVerification()
    {
        var der = System.Security.Cryptography.PemEncoding.Find(Pem);
        var bytes = Convert.FromBase64String(Pem[der.Base64Data]);
        bytes[^3] ^= 0x01; // inside the ECDSA signature
        var tampered = System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE REQUEST", bytes);
        var e = Assert.Single(Create(Csr("jane", tampered)));
        Assert.EndsWith(": x509: ECDSA verification failure", e);
    }

    [Fact]
    public void Create_Usages_RequiredKnownUnique()
    {
        Assert.Contains("spec.usages: Required value", Create(Csr("jane", Pem, usages: [])));
        var errs = Create(Csr("jane", Pem, usages: ["client auth", "flying", "client auth"]));
        Assert.Contains(errs, e => e.StartsWith("spec.usages[1]: Unsupported value: \"flying\": supported values: \"any\", \"cert sign\", \"client auth\",", StringComparison.Ordinal));
        Assert.Contains("spec.usages[2]: Duplicate value: \"client auth\"", errs);
    }

    [Theory]
    [InlineData("kubernetes.io/legacy-unknown", "spec.signerName: Invalid value: \"kubernetes.io/legacy-unknown\": the legacy signerName is not allowed via this API version")]
    [InlineData("", "spec.signerName: Required value")]
    [InlineData("no-slash", "spec.signerName: Invalid value: \"no-slash\": must be a fully qualified domain and path of the form 'example.com/signer-name'")]
    [InlineData("example/signer", "spec.signerName: Invalid value: \"example\": should be a domain with at least two segments separated by dots")]
    public void Create_SignerName(string signer, string expected) => Assert.Contains(expected, Create(Csr("jane", Pem, signer: signer)));

    [Fact]
    public void Create_ExpirationBelowTenMinutes_IsInvalid() =>
        Assert.Contains("spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)",
            Create(Csr("jane", Pem, expirationSeconds: 599)));

    [Fact]
    public void Create_ApprovedAndDenied_AreMutuallyExclusive()
    {
        var errs = Create(WithConditions(Csr("jane", Pem), Condition("Approved"), Condition("Denied")));
        Assert.Contains("status.conditions[1].type: Invalid value: \"Denied\": Approved and Denied conditions are mutually exclusive", errs);
    }

    [Fact]
    public void Update_MainResource_MayNotAddApproval()
    {
        var old = Csr("jane", Pem);
        var errs = CertificateValidation.Update(WithConditions(old, Condition("Approved")), old, "").Select(e => e.ToString());
        Assert.Contains("status.conditions: Forbidden: updates may not add a condition of type \"Approved\"", errs);
    }

    [Fact]
    public void Update_Approval_MayAddApprovalButNotRemoveIt()
    {
        var old = Csr("jane", Pem);
        var approved = WithConditions(old, Condition("Approved"));
        Assert.Empty(CertificateValidation.Update(approved, old, "approval"));
        var errs = CertificateValidation.Update(old, approved, "approval").Select(e => e.ToString());
        Assert.Contains("status.conditions: Forbidden: updates may not remove a condition of type \"Approved\"", errs);
    }

    [Fact]
    public void Update_Certificate_SetOnceThroughStatusOnly()
    {
        var old = WithConditions(Csr("jane", Pem), Condition("Approved"));
        var signed = (JsonObject)old.DeepClone();
        signed["status"]!["certificate"] = B64(Ca.ExportCertificatePem());
        Assert.Empty(CertificateValidation.Update(signed, old, "status"));
        Assert.Contains("status.certificate: Forbidden: updates may not set certificate content",
            CertificateValidation.Update(signed, old, "approval").Select(e => e.ToString()));
        var resigned = (JsonObject)signed.DeepClone();
        using var other = Portcullis.Server.Pki.CertificateFactory.CreateCa("other", Start);
        resigned["status"]!["certificate"] = B64(other.ExportCertificatePem());
        Assert.Contains("status.certificate: Forbidden: updates may not modify existing certificate content",
            CertificateValidation.Update(resigned, signed, "status").Select(e => e.ToString()));
    }

    [Fact]
    public void Update_CertificateMustBePemCertificates()
    {
        var old = WithConditions(Csr("jane", Pem), Condition("Approved"));
        var bad = (JsonObject)old.DeepClone();
        bad["status"]!["certificate"] = B64(Pem);
        Assert.Contains("status.certificate: Invalid value: \"<certificate data>\": only CERTIFICATE PEM blocks are allowed, found \"CERTIFICATE REQUEST\"",
            CertificateValidation.Update(bad, old, "status").Select(e => e.ToString()));
    }

    [Fact]
    public void Update_CertificateBlocks_MayNotCarryHeaders_NorBeEmpty()
    {
        // validateCertificate: "no PEM block headers are permitted"; a block that parses to no certificates
        // (x509.ParseCertificates of no bytes) is "found CERTIFICATE PEM block containing 0 certificates".
        var old = WithConditions(Csr("jane", Pem), Condition("Approved"));
        var certPem = Ca.ExportCertificatePem();
        var withHeaders = (JsonObject)old.DeepClone();
        withHeaders["status"]!["certificate"] = B64(certPem.Replace("-----BEGIN CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n"));
        Assert.Contains("status.certificate: Invalid value: \"<certificate data>\": no PEM block headers are permitted",
            CertificateValidation.Update(withHeaders, old, "status").Select(e => e.ToString()));
        var empty = (JsonObject)old.DeepClone();
        empty["status"]!["certificate"] = B64("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
        Assert.Contains("status.certificate: Invalid value: \"<certificate data>\": found CERTIFICATE PEM block containing 0 certificates",
            CertificateValidation.Update(empty, old, "status").Select(e => e.ToString()));
    }
}
