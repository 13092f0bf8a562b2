using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>What a webhook answered, once checked (request/admissionreview.go AdmissionResponse).</summary>
internal sealed record WebhookResponse(bool Allowed, JsonNode? Patch, JsonObject? Result, IReadOnlyList<string> Warnings,
    IReadOnlyList<KeyValuePair<string, string>> AuditAnnotations);

/// <summary>
/// The AdmissionReview sent to a webhook and the checks on the one it returns (pkg/admission/plugin/webhook/request
/// admissionreview.go: CreateAdmissionObjects, CreateV1AdmissionReview, VerifyAdmissionResponse), and the denial's
/// status (webhook/errors statuserror.go ToStatusErr, NewDryRunUnsupportedErr).
/// </summary>
internal static class WebhookReview
{
    /// <summary>The review version to send: the first of the webhook's admissionReviewVersions that is v1 or v1beta1.</summary>
    public static string? VersionFor(Webhook hook) => hook.ReviewVersions.FirstOrDefault(v => v is "v1" or "v1beta1");

    /// <summary>CreateV1AdmissionReview (v1beta1 has the same fields). DELETE sends no object and the deleted one as oldObject.</summary>
    public static JsonObject Request(string uid, string version, AdmissionRequest r, MatchedResource matched, JsonObject? obj, JsonObject? oldObj)
    {
        var def = r.Resource;
        var request = new JsonObject
        {
            ["uid"] = uid,
            ["kind"] = Cel.AdmissionCelRequest.Gvk(matched.Kind),
            ["resource"] = Cel.AdmissionCelRequest.Gvr(matched.Resource),
        };
        if (r.Subresource.Length > 0) request["subResource"] = r.Subresource;
        request["requestKind"] = Cel.AdmissionCelRequest.Gvk(r.Kind);
        request["requestResource"] = Cel.AdmissionCelRequest.Gvr(r.GroupVersionResource);
        if (r.Subresource.Length > 0) request["requestSubResource"] = r.Subresource;
        if (r.Name.Length > 0) request["name"] = r.Name;
        var ns = WebhookMatching.NamespaceOf(r);
        if (ns.Length > 0 && (def.Namespaced || r.Operation != Operation.Create)) request["namespace"] = ns;
        request["operation"] = r.Operation.ToWire();
        request["userInfo"] = Cel.AdmissionCelRequest.UserInfo(r.User);
        request["object"] = obj?.DeepClone();
        request["oldObject"] = oldObj?.DeepClone();
        request["dryRun"] = r.DryRun;
        request["options"] = r.Options?.DeepClone() ?? Options(r);
        return new JsonObject
        {
            ["kind"] = "AdmissionReview",
            ["apiVersion"] = "admission.k8s.io/" + version,
            ["request"] = request,
        };
    }

    /// <summary>The operation's options object (CreateOptions, UpdateOptions, DeleteOptions), as upstream's GetOperationOptions.</summary>
    private static JsonObject? Options(AdmissionRequest r)
    {
        var kind = r.Operation switch
        {
            Operation.Create => "CreateOptions",
            Operation.Update => "UpdateOptions",
            Operation.Delete => "DeleteOptions",
            _ => null,
        };
        if (kind is null) return null;
        var o = new JsonObject { ["kind"] = kind, ["apiVersion"] = "meta.k8s.io/v1" };
        if (r.DryRun) o["dryRun"] = new JsonArray("All");
        return o;
    }

    /// <summary>VerifyAdmissionResponse; the message of a bad response (wrapped by the caller as "received invalid webhook response: …").</summary>
    public static WebhookResponse Verify(string uid, string version, bool mutating, JsonObject review)
    {
        var resp = review["response"] as JsonObject ?? throw new FormatException("webhook response was absent");
        var warnings = (resp["warnings"] as JsonArray ?? []).Select(w => w is JsonValue v && v.TryGetValue<string>(out var s) ? s : "").ToList();
        var annotations = new List<KeyValuePair<string, string>>();
        if (resp["auditAnnotations"] is JsonObject aa)
            foreach (var (k, v) in aa) annotations.Add(new(k, v is JsonValue sv && sv.TryGetValue<string>(out var s) ? s : ""));
        var allowed = Serialization.JsonRead.Bool(resp["allowed"]) == true;
        var result = resp["status"] as JsonObject;
        var patch = resp["patch"];
        var patchType = resp["patchType"];
        if (version == "v1beta1")
        {
            // v1beta1 checked neither uid nor kind; a patch is JSONPatch.
            return new WebhookResponse(allowed, mutating ? patch : null, result, warnings, annotations);
        }
        var gotUid = resp["uid"] is JsonValue { } uv && uv.GetValueKind() == System.Text.Json.JsonValueKind.String ? uv.GetValue<string>() : "";
        if (gotUid != uid) throw new FormatException($"expected response.uid=\"{uid}\", got \"{gotUid}\"");
        var (apiVersion, kind) = (Str(review["apiVersion"]), Str(review["kind"]));
        if (apiVersion != "admission.k8s.io/v1" || kind != "AdmissionReview")
            throw new FormatException($"expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {GvkString(apiVersion, kind)}");
        var hasPatch = patch is JsonValue pv && pv.TryGetValue<string>(out var ps) && ps.Length > 0;
        if (mutating)
        {
            if (hasPatch && patchType is null) throw new FormatException("webhook returned response.patch but not response.patchType");
            if (!hasPatch && patchType is not null) throw new FormatException("webhook returned response.patchType but not response.patch");
            if (patchType is not null && Str(patchType).Length == 0)
                throw new FormatException("webhook returned invalid response.patchType of \"\"");
            if (patchType is not null && Str(patchType) != "JSONPatch")
                throw new UnsupportedPatchType(Str(patchType));
        }
        else
        {
            if (hasPatch) throw new FormatException("validating webhook may not return response.patch");
            if (patchType is not null) throw new FormatException("validating webhook may not return response.patchType");
        }
        return new WebhookResponse(allowed, hasPatch ? patch : null, result, warnings, annotations);
    }

    /// <summary>The patch type a webhook named is not JSONPatch (a failure to call, with the denial's status, as upstream).</summary>
    internal sealed class UnsupportedPatchType(string type) : Exception($"unsupported patch type \"{type}\"");

    /// <summary>schema.GroupVersionKind.String(): "group/version, Kind=kind".</summary>
    private static string GvkString(string apiVersion, string kind)
    {
        var slash = apiVersion.IndexOf('/');
        var (g, v) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        return g.Length == 0 ? $"{v}, Kind={kind}" : $"{g}/{v}, Kind={kind}";
    }

    /// <summary>ToStatusErr: the webhook's status, its code at least 400, its message prefixed with the webhook's name.</summary>
    public static ApiException Denied(string webhook, JsonObject? result)
    {
        var deniedBy = $"admission webhook \"{webhook}\" denied the request";
        var code = (int)(Serialization.JsonRead.Long(result?["code"]) ?? 0);
        if (code < 400) code = 400;
        var reason = result?["reason"] is JsonValue rv && rv.TryGetValue<string>(out var r) ? r : "";
        var message = result?["message"] is JsonValue mv && mv.TryGetValue<string>(out var m) ? m : "";
        var text = message.Length > 0 ? $"{deniedBy}: {message}" : reason.Length > 0 ? $"{deniedBy}: {reason}" : $"{deniedBy} without explanation";
        var details = result?["details"] as JsonObject;
        var causes = (details?["causes"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(x => new StatusCause(Str(x["reason"]), Str(x["message"]), Str(x["field"]))).ToList();
        return new ApiException(code, reason, text)
        {
            HasDetails = details is not null,
            DetailName = Str(details?["name"]),
            DetailGroup = Str(details?["group"]),
            DetailKind = Str(details?["kind"]),
            DetailUid = Str(details?["uid"]),
            Causes = causes.Count > 0 ? causes : null,
            RetryAfterSeconds = Serialization.JsonRead.Long(details?["retryAfterSeconds"]) is > 0 and var ra ? (int)ra : null,
        };
    }

    /// <summary>NewDryRunUnsupportedErr.</summary>
    public static ApiException DryRunUnsupported(string webhook) => ApiErrors.BadRequest($"admission webhook \"{webhook}\" does not support dry run");

    private static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
}
