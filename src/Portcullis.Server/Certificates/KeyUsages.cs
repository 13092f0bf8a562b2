using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portcullis.Server.Certificates;

/// <summary>certificates.k8s.io key usages and the well-known signer names (k8s.io/api/certificates/v1).</summary>
public static class KeyUsages
{
    public const string KubeApiServerClient = "kubernetes.io/kube-apiserver-client";
    public const string KubeApiServerClientKubelet = "kubernetes.io/kube-apiserver-client-kubelet";
    public const string KubeletServing = "kubernetes.io/kubelet-serving";
    public const string LegacyUnknown = "kubernetes.io/legacy-unknown";

    /// <summary>Usages that map to the keyUsage extension (upstream's keyUsageDict).</summary>
    private static readonly Dictionary<string, X509KeyUsageFlags> KeyUsageDict = new(StringComparer.Ordinal)
    {
        ["signing"] = X509KeyUsageFlags.DigitalSignature,
        ["digital signature"] = X509KeyUsageFlags.DigitalSignature,
        ["content commitment"] = X509KeyUsageFlags.NonRepudiation,
        ["key encipherment"] = X509KeyUsageFlags.KeyEncipherment,
        ["key agreement"] = X509KeyUsageFlags.KeyAgreement,
        ["data encipherment"] = X509KeyUsageFlags.DataEncipherment,
        ["cert sign"] = X509KeyUsageFlags.KeyCertSign,
        ["crl sign"] = X509KeyUsageFlags.CrlSign,
        ["encipher only"] = X509KeyUsageFlags.EncipherOnly,
        ["decipher only"] = X509KeyUsageFlags.DecipherOnly,
    };

    /// <summary>Usages that map to extKeyUsage, with Go's x509.ExtKeyUsage order (the certificate lists them sorted by it).</summary>
    private static readonly Dictionary<string, (int Order, string Oid)> ExtKeyUsageDict = new(StringComparer.Ordinal)
    {
        ["any"] = (0, "2.5.29.37.0"),
        ["server auth"] = (1, "1.3.6.1.5.5.7.3.1"),
        ["client auth"] = (2, "1.3.6.1.5.5.7.3.2"),
        ["code signing"] = (3, "1.3.6.1.5.5.7.3.3"),
        ["email protection"] = (4, "1.3.6.1.5.5.7.3.4"),
        ["s/mime"] = (4, "1.3.6.1.5.5.7.3.4"),
        ["ipsec end system"] = (5, "1.3.6.1.5.5.7.3.5"),
        ["ipsec tunnel"] = (6, "1.3.6.1.5.5.7.3.6"),
        ["ipsec user"] = (7, "1.3.6.1.5.5.7.3.7"),
        ["timestamping"] = (8, "1.3.6.1.5.5.7.3.8"),
        ["ocsp signing"] = (9, "1.3.6.1.5.5.7.3.9"),
        ["microsoft sgc"] = (10, "1.3.6.1.4.1.311.10.3.3"),
        ["netscape sgc"] = (11, "2.16.840.1.113730.4.1"),
    };

    /// <summary>Every usage the API accepts (validation's allValidUsages), in upstream's sorted order.</summary>
    public static readonly string[] All =
        [.. KeyUsageDict.Keys.Concat(ExtKeyUsageDict.Keys).Order(StringComparer.Ordinal)];

    public static bool IsKnown(string usage) => KeyUsageDict.ContainsKey(usage) || ExtKeyUsageDict.ContainsKey(usage);

    /// <summary>upstream's keyUsagesFromStrings.</summary>
    public static (X509KeyUsageFlags KeyUsage, OidCollection ExtKeyUsages) Translate(IReadOnlyList<string> usages)
    {
        var flags = X509KeyUsageFlags.None;
        var ext = new SortedDictionary<int, string>();
        var unrecognized = new List<string>();
        foreach (var u in usages)
        {
            if (KeyUsageDict.TryGetValue(u, out var f)) flags |= f;
            else if (ExtKeyUsageDict.TryGetValue(u, out var e)) ext[e.Order] = e.Oid;
            else unrecognized.Add(u);
        }
        if (unrecognized.Count > 0)
            throw new CsrFormatException($"unrecognized usage values: {Serialization.GoText.QuoteList(unrecognized)}");
        var oids = new OidCollection();
        foreach (var oid in ext.Values) oids.Add(new Oid(oid));
        return (flags, oids);
    }

    /// <summary>
    /// The signer's own rules (signer.go's isRequestForSigner functions): null when the request fits,
    /// else the error the Failed condition carries. Only signers Portcullis signs for are known.
    /// </summary>
    public static string? SignerRulesError(string signerName, CsrRequest req, IReadOnlyList<string> usages) => signerName switch
    {
        KubeApiServerClient => ApiServerClientUsages(usages),
        KubeApiServerClientKubelet => KubeletClient(req, usages),
        KubeletServing => KubeletServingRules(req, usages),
        _ => throw new ArgumentException("not a signer Portcullis signs for: " + signerName),
    };

    public static bool IsSignedHere(string signerName) =>
        signerName is KubeApiServerClient or KubeApiServerClientKubelet or KubeletServing;

    private static string? ApiServerClientUsages(IReadOnlyList<string> usages)
    {
        var hasClientAuth = false;
        foreach (var u in usages)
        {
            switch (u)
            {
                case "digital signature" or "key encipherment": break;
                case "client auth": hasClientAuth = true; break;
                default: return "invalid usage for client certificate: " + u;
            }
        }
        return hasClientAuth ? null : "missing required usage for client certificate: client auth";
    }

    private static bool SetEquals(IReadOnlyList<string> usages, params string[] want) => usages.ToHashSet().SetEquals(want);

    private static string? KubeletClient(CsrRequest req, IReadOnlyList<string> usages)
    {
        if (req.Organizations is not ["system:nodes"]) return "subject organization is not system:nodes";
        if (req.DnsNames.Count > 0) return "DNS subjectAltNames are not allowed";
        if (req.EmailAddresses.Count > 0) return "Email subjectAltNames are not allowed";
        if (req.IpAddresses.Count > 0) return "IP subjectAltNames are not allowed";
        if (req.Uris.Count > 0) return "URI subjectAltNames are not allowed";
        if (!req.CommonName.StartsWith("system:node:", StringComparison.Ordinal)) return "subject common name does not begin with system:node:";
        if (!SetEquals(usages, "client auth", "digital signature", "key encipherment") && !SetEquals(usages, "client auth", "digital signature"))
            return "usages did not match [client auth digital signature key encipherment]";
        return null;
    }

    private static string? KubeletServingRules(CsrRequest req, IReadOnlyList<string> usages)
    {
        if (req.Organizations is not ["system:nodes"]) return "subject organization is not system:nodes";
        if (req.DnsNames.Count == 0 && req.IpAddresses.Count == 0) return "DNS or IP subjectAltName is required";
        if (req.EmailAddresses.Count > 0) return "Email subjectAltNames are not allowed";
        if (req.Uris.Count > 0) return "URI subjectAltNames are not allowed";
        if (!SetEquals(usages, "digital signature", "key encipherment", "server auth") && !SetEquals(usages, "digital signature", "server auth"))
            return "usages did not match [digital signature key encipherment server auth]";
        if (!req.CommonName.StartsWith("system:node:", StringComparison.Ordinal)) return "subject common name does not begin with system:node:";
        return null;
    }
}
