using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Certificates;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Shared by the CSR plugins (plugin/pkg/admission/certificates/util.go): may the user do VERB on
/// the synthetic <c>signers</c> resource named after the signer, or on <c>DOMAIN/*</c>?
/// </summary>
internal static class SignerAuthorization
{
    public const string Group = "certificates.k8s.io";

    public static async ValueTask<bool> IsAuthorizedAsync(IAuthorizer authz, UserInfo user, Verb verb, string signerName, CancellationToken ct)
    {
        if ((await authz.AuthorizeAsync(Attributes(user, verb, signerName), ct)).Decision == Decision.Allow) return true;
        var domain = signerName.Split('/')[0];
        return (await authz.AuthorizeAsync(Attributes(user, verb, domain + "/*"), ct)).Decision == Decision.Allow;
    }

    private static AuthorizationAttributes Attributes(UserInfo user, Verb verb, string name) =>
        new(user, verb, IsResourceRequest: true, ApiGroup: Group, ApiVersion: "*", Resource: "signers", Name: name);

    public static bool IsCsr(AdmissionRequest r) => r.Resource.Group == Group && r.Resource.Plural == "certificatesigningrequests";

    public static string SignerName(JsonObject? csr) => csr?["spec"]?["signerName"]?.GetValue<string>() ?? "";

    public static ApiException Forbidden(AdmissionRequest r, string why) =>
        ApiErrors.Forbidden(r.Resource.Plural, r.Resource.Group, r.Name, why);
}

/// <summary>CertificateApproval: writing /approval needs <c>approve</c> on the CSR's signer (judged on the stored object).</summary>
public sealed class CertificateApproval(IAuthorizer authz) : IValidatingAdmission
{
    public string Name => "CertificateApproval";
    public bool Handles(Operation operation) => operation == Operation.Update;

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Subresource != "approval" || !SignerAuthorization.IsCsr(r)) return;
        var signer = SignerAuthorization.SignerName(r.OldObject);
        if (!await SignerAuthorization.IsAuthorizedAsync(authz, r.User, Verb.Approve, signer, ct))
            throw SignerAuthorization.Forbidden(r, $"user not permitted to approve requests with signerName \"{signer}\"");
    }
}

/// <summary>CertificateSigning: changing status.certificate or the conditions through /status needs <c>sign</c> on the signer.</summary>
public sealed class CertificateSigning(IAuthorizer authz) : IValidatingAdmission
{
    public string Name => "CertificateSigning";
    public bool Handles(Operation operation) => operation == Operation.Update;

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Subresource != "status" || !SignerAuthorization.IsCsr(r)) return;
        var (oldStatus, newStatus) = (r.OldObject?["status"], r.Object["status"]);
        if (JsonNode.DeepEquals(oldStatus?["certificate"], newStatus?["certificate"])
            && JsonNode.DeepEquals(oldStatus?["conditions"], newStatus?["conditions"])) return;
        var signer = SignerAuthorization.SignerName(r.OldObject);
        if (!await SignerAuthorization.IsAuthorizedAsync(authz, r.User, Verb.Sign, signer, ct))
            throw SignerAuthorization.Forbidden(r, $"user not permitted to sign requests with signerName \"{signer}\"");
    }
}

/// <summary>CertificateSubjectRestriction: no kube-apiserver-client certificate may claim the system:masters group.</summary>
public sealed class CertificateSubjectRestriction : IValidatingAdmission
{
    public string Name => "CertificateSubjectRestriction";
    public bool Handles(Operation operation) => operation == Operation.Create;

    public ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Subresource.Length > 0 || !SignerAuthorization.IsCsr(r)) return ValueTask.CompletedTask;
        if (SignerAuthorization.SignerName(r.Object) != KeyUsages.KubeApiServerClient) return ValueTask.CompletedTask;
        CsrRequest parsed;
        try { parsed = CsrRequest.Parse(CertificateValidation.Bytes(r.Object["spec"]?["request"]) ?? []); }
        catch (CsrFormatException e) { throw SignerAuthorization.Forbidden(r, "failed to parse CSR: " + e.Message); }
        if (parsed.Organizations.Contains(UserInfo.SystemMasters))
            throw SignerAuthorization.Forbidden(r, $"use of {KeyUsages.KubeApiServerClient} signer with system:masters group is not allowed");
        return ValueTask.CompletedTask;
    }
}
