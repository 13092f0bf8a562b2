using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Certificates;

/// <summary>
/// kube-controller-manager's csrsigning controllers, in-process: an approved, not denied, not
/// failed CertificateSigningRequest for <c>kubernetes.io/kube-apiserver-client</c>,
/// <c>kube-apiserver-client-kubelet</c> or <c>kubelet-serving</c> that has no certificate yet is
/// checked against its signer's rules and signed with the cluster CA through <c>/status</c>; one
/// that breaks the rules gets a <c>Failed</c> condition (reason <c>SignerValidationFailure</c>).
/// <c>kubernetes.io/legacy-unknown</c> requests cannot be created through v1, so there is nothing
/// of that signer to sign; other signers are left to whoever implements them.
/// </summary>
public sealed partial class CsrSigningController(SystemClient client, CsrSigner signer, TimeProvider time, ILogger<CsrSigningController> log) : IController
{
    public string Name => "csrsigning";

    private GenericStore Store => client.Store("certificates.k8s.io", "certificatesigningrequests");

    public Task RunAsync(CancellationToken ct) => client.WatchPrefixAsync(Store.Prefix(""), SyncAllAsync, ct);

    private async Task SyncAllAsync(CancellationToken ct)
    {
        foreach (var csr in await client.ListAsync(Store, "", ct))
        {
            try { await SyncAsync(csr, ct); }
            catch (ApiException e) when (e.Code is 404 or 409) { } // gone or changed meanwhile: the next event brings it back
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // This request alone: logged and retried on the next change; the others are signed.
                LogSyncFailed(log, e, Meta.Name(csr));
            }
        }
    }

    /// <summary>upstream's signer.handle for one request.</summary>
    public async Task SyncAsync(JsonObject csr, CancellationToken ct)
    {
        if (CertificateValidation.Certificate(csr).Length > 0) return;
        var conditions = Conditions(csr);
        if (!conditions.Contains("Approved") || conditions.Contains("Denied") || conditions.Contains("Failed")) return;
        var spec = csr["spec"] as JsonObject ?? new JsonObject();
        var signerName = spec["signerName"]?.GetValue<string>() ?? "";
        if (!KeyUsages.IsSignedHere(signerName)) return;

        var name = Meta.Name(csr);
        var usages = spec["usages"] is JsonArray a ? a.Select(u => u?.GetValue<string>() ?? "").ToList() : [];
        CsrRequest request;
        try { request = CsrRequest.Parse(CertificateValidation.Bytes(spec["request"]) ?? []); }
        catch (CsrFormatException e) { LogCannotSign(log, name, "unable to parse csr: " + e.Message); return; }

        if (KeyUsages.SignerRulesError(signerName, request, usages) is { } why)
        {
            await UpdateStatusAsync(name, Meta.ResourceVersion(csr), status =>
            {
                var list = status["conditions"] as JsonArray ?? new JsonArray();
                list.Add((JsonNode)new JsonObject
                {
                    ["type"] = "Failed",
                    ["status"] = "True",
                    ["reason"] = "SignerValidationFailure",
                    ["message"] = why,
                    ["lastUpdateTime"] = ObjectShaper.FormatTime(time.GetUtcNow()),
                });
                status["conditions"] = list;
            }, ct);
            return;
        }

        string pem;
        try { pem = signer.Sign(request, usages, spec["expirationSeconds"]?.GetValue<long>()); }
        catch (CsrFormatException e) { LogCannotSign(log, name, "error auto signing csr: " + e.Message); return; }
        await UpdateStatusAsync(name, Meta.ResourceVersion(csr),
            status => status["certificate"] = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(pem)), ct);
        LogSigned(log, name, signerName);
    }

    private Task UpdateStatusAsync(string name, string resourceVersion, Action<JsonObject> change, CancellationToken ct) =>
        Store.UpdateAsync("", name, "status", current =>
        {
            // Judged on the version we looked at: a change meanwhile is a conflict, and is looked at again.
            Meta.Set(current, "resourceVersion", resourceVersion);
            var status = current["status"] as JsonObject ?? new JsonObject();
            change(status);
            current["status"] = status;
            return current;
        }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);

    private static List<string> Conditions(JsonObject csr) =>
        csr["status"]?["conditions"] is JsonArray a ? a.Select(c => c?["type"]?.GetValue<string>() ?? "").ToList() : [];

    [LoggerMessage(Level = LogLevel.Error, Message = "certificate signing request {Name}: sync failed")]
    private static partial void LogSyncFailed(ILogger logger, Exception e, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "signed certificate signing request {Name} for {Signer}")]
    private static partial void LogSigned(ILogger logger, string name, string signer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot sign certificate signing request {Name}: {Why}")]
    private static partial void LogCannotSign(ILogger logger, string name, string why);
}
