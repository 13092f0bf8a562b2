using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Certificates;

/// <summary>certificates.k8s.io/v1 CertificateSigningRequest: its definition and behaviour (upstream pkg/registry/certificates/certificates).</summary>
internal sealed class CertificateSigningRequestKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "certificates.k8s.io", Version = "v1", Plural = "certificatesigningrequests", Singular = "certificatesigningrequest", Kind = "CertificateSigningRequest", Namespaced = false,
        ShortNames = ["csr"], Subresources = ["approval", "status"], NameRule = NameRule.Any,
        Strategy = new CertificateSigningRequestKind(),
    };

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => CsrStrategy.PrepareForCreate(obj, ctx);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => CsrStrategy.PrepareForUpdate(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => CertificateValidation.Create(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => CertificateValidation.Update(obj, old, subresource);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("spec.signerName", FieldLabel.At("spec", "signerName")));

    public override TablePrinter Printer => CertificatePrinters.CertificateSigningRequest;
}
