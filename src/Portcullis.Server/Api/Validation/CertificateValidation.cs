using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Certificates;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// certificates.k8s.io/v1 CertificateSigningRequest (pkg/apis/certificates/validation): the request
/// must be a signed PEM CERTIFICATE REQUEST, usages known and unique, the signer name well formed
/// (never legacy-unknown through v1), expirationSeconds at least 600, conditions consistent; on
/// update, Approved/Denied/Failed conditions are never removed, Approved/Denied change only through
/// /approval and the certificate is set only through /status, once.
/// </summary>
internal static class CertificateValidation
{
    private static readonly HashSet<string> TrueOnlyConditions = ["Approved", "Denied", "Failed"];
    private static readonly string[] AllStatus = ["False", "True", "Unknown"];
    private static readonly string[] TrueOnly = ["True"];

    /// <summary>The options upstream derives from the write path and the stored object (certificateValidationOptions).</summary>
    private sealed record Options
    {
        public bool AllowSettingApprovalConditions { get; init; }
        public bool AllowSettingCertificate { get; init; }
        public bool AllowBothApprovedAndDenied { get; init; }
        public bool AllowLegacySignerName { get; init; }
        public bool AllowDuplicateConditionTypes { get; init; }
        public bool AllowEmptyConditionType { get; init; }
        public bool AllowArbitraryCertificate { get; init; }
        public bool AllowUnknownUsages { get; init; }
        public bool AllowDuplicateUsages { get; init; }
    }

    public static List<FieldError> Create(JsonObject obj, JsonObject? old) =>
        old is null ? Validate(obj, OptionsFor(obj, null)) : Update(obj, old, "");

    /// <summary>Update through the main resource (""), "status" or "approval".</summary>
    public static List<FieldError> Update(JsonObject obj, JsonObject old, string subresource)
    {
        var opts = OptionsFor(obj, old) with
        {
            AllowSettingCertificate = subresource == "status",
            AllowSettingApprovalConditions = subresource == "approval",
        };
        var errs = Validate(obj, opts);
        foreach (var t in new[] { "Approved", "Denied", "Failed" })
            if (Conditions(obj, t).Count < Conditions(old, t).Count)
                errs.Add(Err.Forbidden("status.conditions", $"updates may not remove a condition of type {GoText.Quote(t)}"));
        if (!opts.AllowSettingApprovalConditions)
        {
            foreach (var t in new[] { "Approved", "Denied" })
            {
                var (o, n) = (Conditions(old, t), Conditions(obj, t));
                if (n.Count > o.Count) errs.Add(Err.Forbidden("status.conditions", $"updates may not add a condition of type {GoText.Quote(t)}"));
                else if (n.Count == o.Count && !o.Zip(n).All(p => JsonNode.DeepEquals(p.First, p.Second)))
                    errs.Add(Err.Forbidden("status.conditions", $"updates may not modify a condition of type {GoText.Quote(t)}"));
            }
        }
        var (newCert, oldCert) = (Certificate(obj), Certificate(old));
        if (!newCert.AsSpan().SequenceEqual(oldCert))
        {
            if (!opts.AllowSettingCertificate) errs.Add(Err.Forbidden("status.certificate", "updates may not set certificate content"));
            else if (oldCert.Length > 0) errs.Add(Err.Forbidden("status.certificate", "updates may not modify existing certificate content"));
        }
        return errs;
    }

    private static Options OptionsFor(JsonObject obj, JsonObject? old)
    {
        if (old is null) return new Options();
        var conditions = J.Items(J.O(old, "status"), "conditions").Select(c => J.S(c.O, "type")).ToList();
        var usages = J.Strs(J.O(old, "spec"), "usages");
        return new Options
        {
            AllowBothApprovedAndDenied = conditions.Contains("Approved") && conditions.Contains("Denied"),
            AllowLegacySignerName = J.S(J.O(old, "spec"), "signerName") == KeyUsages.LegacyUnknown,
            AllowDuplicateConditionTypes = conditions.Count != conditions.Distinct().Count(),
            AllowEmptyConditionType = conditions.Contains(""),
            AllowArbitraryCertificate = Certificate(obj).AsSpan().SequenceEqual(Certificate(old)) || CertificateError(Certificate(old)) is not null,
            AllowUnknownUsages = usages.Any(u => !KeyUsages.IsKnown(u)),
            AllowDuplicateUsages = usages.Count != usages.Distinct().Count(),
        };
    }

    private static List<FieldError> Validate(JsonObject obj, Options opts)
    {
        var errs = new List<FieldError>();
        var spec = J.O(obj, "spec") ?? new JsonObject();
        var request = Bytes(spec["request"]);
        try { CsrRequest.Parse(request ?? []); }
        catch (CsrFormatException e) { errs.Add(Err.InvalidRaw("spec.request", GoBytes(request), e.Message)); }

        var usages = J.Strs(spec, "usages");
        if (usages.Count == 0) errs.Add(Err.Required("spec.usages"));
        if (!opts.AllowUnknownUsages)
            for (var i = 0; i < usages.Count; i++)
                if (!KeyUsages.IsKnown(usages[i])) errs.Add(Err.NotSupported(P.Index("spec.usages", i), usages[i], KeyUsages.All));
        if (!opts.AllowDuplicateUsages)
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < usages.Count; i++)
                if (!seen.Add(usages[i])) errs.Add(Err.Duplicate(P.Index("spec.usages", i), usages[i]));
        }

        var signer = J.S(spec, "signerName");
        if (!opts.AllowLegacySignerName && signer == KeyUsages.LegacyUnknown)
            errs.Add(Err.Invalid("spec.signerName", signer, "the legacy signerName is not allowed via this API version"));
        else errs.AddRange(SignerName("spec.signerName", signer));

        if (J.L(spec, "expirationSeconds") is { } exp && exp < 600)
            errs.Add(Err.Invalid("spec.expirationSeconds", exp, "may not specify a duration less than 600 seconds (10 minutes)"));

        ValidateConditions(errs, obj, opts);
        if (!opts.AllowArbitraryCertificate && CertificateError(Certificate(obj)) is { } certErr)
            errs.Add(Err.Invalid("status.certificate", "<certificate data>", certErr));
        return errs;
    }

    private static void ValidateConditions(List<FieldError> errs, JsonObject obj, Options opts)
    {
        var seen = new HashSet<string>();
        bool approved = false, denied = false;
        foreach (var (i, c) in J.Items(J.O(obj, "status"), "conditions"))
        {
            var path = P.Index("status.conditions", i);
            var type = J.S(c, "type");
            var status = J.S(c, "status");
            if (!opts.AllowEmptyConditionType && type.Length == 0) errs.Add(Err.Required(P.Child(path, "type")));
            var allowed = TrueOnlyConditions.Contains(type) ? TrueOnly : AllStatus;
            if (status.Length == 0) errs.Add(Err.Required(P.Child(path, "status")));
            else if (!allowed.Contains(status)) errs.Add(Err.NotSupported(P.Child(path, "status"), status, allowed));
            if (!opts.AllowBothApprovedAndDenied)
            {
                if (type == "Approved") { approved = true; if (denied) errs.Add(Err.Invalid(P.Child(path, "type"), type, "Approved and Denied conditions are mutually exclusive")); }
                else if (type == "Denied") { denied = true; if (approved) errs.Add(Err.Invalid(P.Child(path, "type"), type, "Approved and Denied conditions are mutually exclusive")); }
            }
            if (!opts.AllowDuplicateConditionTypes && !seen.Add(type)) errs.Add(Err.Duplicate(P.Child(path, "type"), type));
        }
    }

    /// <summary>upstream's ValidateSignerName.</summary>
    public static List<FieldError> SignerName(string path, string signerName)
    {
        var errs = new List<FieldError>();
        if (signerName.Length == 0) { errs.Add(Err.Required(path)); return errs; }
        var segments = signerName.Split('/');
        if (segments.Length != 2)
        {
            errs.Add(Err.Invalid(path, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'"));
            return errs;
        }
        if (segments[0].Length > 253) errs.Add(Err.TooLong(path, 253));
        var domainLabels = segments[0].Split('.');
        foreach (var label in domainLabels)
        {
            var e = NameValidation.IsDns1123Label(label);
            if (e.Count == 0) continue;
            foreach (var m in e) errs.Add(Err.Invalid(path, segments[0], $"validating label \"{label}\": {m}"));
            break;
        }
        if (domainLabels.Length < 2) errs.Add(Err.Invalid(path, segments[0], "should be a domain with at least two segments separated by dots"));
        foreach (var label in segments[1].Split('.'))
        {
            var e = NameValidation.IsDns1123Subdomain(label);
            if (e.Count == 0) continue;
            foreach (var m in e) errs.Add(Err.Invalid(path, segments[1], $"validating label \"{label}\": {m}"));
            break;
        }
        if (signerName.Length > 253 + 253 + 63 + 1 + 1) errs.Add(Err.TooLong(path, 253 + 253 + 63 + 1 + 1));
        return errs;
    }

    /// <summary>upstream's validateCertificate: PEM CERTIFICATE blocks only, no headers, each holding certificates that parse.</summary>
    private static string? CertificateError(byte[] pem)
    {
        if (pem.Length == 0) return null;
        var text = Encoding.ASCII.GetString(pem);
        var blocks = 0;
        var rest = pem.AsSpan();
        while (CsrRequest.FirstPemBlock(rest, out var label, out var hasHeaders) is { } der)
        {
            if (label != "CERTIFICATE") return $"only CERTIFICATE PEM blocks are allowed, found \"{label}\"";
            if (hasHeaders) return "no PEM block headers are permitted";
            blocks++;
            // x509.ParseCertificates of no bytes returns no certificates and no error.
            if (der.Length == 0) return "found CERTIFICATE PEM block containing 0 certificates";
            try { X509CertificateLoader.LoadCertificate(der).Dispose(); }
            catch (System.Security.Cryptography.CryptographicException) { return "x509: malformed certificate"; }
            var end = text.IndexOf("-----END " + label + "-----", StringComparison.Ordinal);
            if (end < 0) break;
            var consumed = end + ("-----END " + label + "-----").Length;
            text = text[consumed..];
            rest = Encoding.ASCII.GetBytes(text);
        }
        return blocks == 0 ? "must contain at least one CERTIFICATE PEM block" : null;
    }

    private static List<JsonNode?> Conditions(JsonObject obj, string type) =>
        J.Items(J.O(obj, "status"), "conditions").Where(c => J.S(c.O, "type") == type).Select(c => (JsonNode?)c.O).ToList();

    internal static byte[] Certificate(JsonObject obj) => Bytes(J.O(obj, "status")?["certificate"]) ?? [];

    /// <summary>A []byte field as JSON carries it (base64); null when absent.</summary>
    internal static byte[]? Bytes(JsonNode? n)
    {
        if (J.Str(n) is not { } s) return null;
        try { return Convert.FromBase64String(s); } catch (FormatException) { return Encoding.UTF8.GetBytes(s); }
    }

    /// <summary>Go's %#v of a []byte, as field errors print a bad []byte value.</summary>
    internal static string GoBytes(byte[]? b)
    {
        if (b is null) return "[]byte(nil)";
        var sb = new StringBuilder("[]byte{");
        for (var i = 0; i < b.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append("0x").Append(b[i].ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.Append('}').ToString();
    }
}
