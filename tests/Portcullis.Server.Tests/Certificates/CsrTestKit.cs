using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Pki;

namespace Portcullis.Server.Tests.Certificates;

/// <summary>PKCS#10 requests and CSR objects built the way openssl and the docs build them.</summary>
internal static class CsrTestKit
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    public static readonly X509Certificate2 Ca = CertificateFactory.CreateCa("test-ca", Start.AddDays(-1));
    public static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static string RequestPem(string subject, Action<CertificateRequest>? extend = null, AsymmetricAlgorithm? key = null)
    {
        var req = (key ?? Key) switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("key"),
        };
        extend?.Invoke(req);
        return req.CreateSigningRequestPem();
    }

    public static string B64(string s) => Convert.ToBase64String(Encoding.ASCII.GetBytes(s));

    public static JsonObject Csr(string name, string requestPem, string signer = "kubernetes.io/kube-apiserver-client",
        string[]? usages = null, long? expirationSeconds = null)
    {
        var spec = new JsonObject
        {
            ["request"] = B64(requestPem),
            ["signerName"] = signer,
            ["usages"] = new JsonArray([.. (usages ?? ["client auth"]).Select(u => (JsonNode)JsonValue.Create(u))]),
        };
        if (expirationSeconds is { } e) spec["expirationSeconds"] = e;
        return new JsonObject
        {
            ["apiVersion"] = "certificates.k8s.io/v1",
            ["kind"] = "CertificateSigningRequest",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = spec,
        };
    }

    public static JsonObject Condition(string type, string reason = "") => new()
    {
        ["type"] = type, ["status"] = "True", ["reason"] = reason, ["lastUpdateTime"] = "2026-03-01T12:00:00Z",
    };

    public static JsonObject WithConditions(JsonObject csr, params JsonObject[] conditions)
    {
        var c = (JsonObject)csr.DeepClone();
        c["status"] = new JsonObject { ["conditions"] = new JsonArray([.. conditions.Select(x => (JsonNode)x.DeepClone())]) };
        return c;
    }

    public static X509Certificate2 Parse(string pem) => X509Certificate2.CreateFromPem(pem);
}
