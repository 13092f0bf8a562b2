using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>
/// The call of one webhook, shared by the mutating and validating plugins (mutating/dispatcher.go callAttrMutatingHook,
/// validating/dispatcher.go callHook): the dry-run check on sideEffects, the review, the POST, the response checks,
/// warnings and audit annotations. A transport or response failure is a <see cref="WebhookCallException"/>, which the
/// caller turns into an internal error (failurePolicy Fail) or skips (Ignore); a denial is an <see cref="ApiException"/>.
/// </summary>
internal sealed class WebhookDispatcher(WebhookConfigurationCache cache, WebhookMatching matching, WebhookClient client)
{
    public WebhookConfigurationCache Cache => cache;
    public WebhookMatching Matching => matching;
    /// <summary>Set once the host's logging exists (after the chain is built).</summary>
    public ILogger? Log { get; set; }

    public async Task<WebhookResponse> CallAsync(Webhook hook, AdmissionRequest r, MatchedResource matched, JsonObject? obj, JsonObject? oldObj, CancellationToken ct)
    {
        // Timed as upstream's dispatchers time each call (apiserver_admission_webhook_admission_duration_seconds):
        // a refusal, or a failure with failurePolicy Fail, counts as rejected.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var type = hook.Mutating ? "admit" : "validating";
        try
        {
            var result = await CallOnceAsync(hook, r, matched, obj, oldObj, ct);
            Observability.AdmissionMetrics.ObserveWebhook(started, false, r.Operation.ToWire(), type, hook.Name, 200);
            return result;
        }
        catch (ApiException e)
        {
            Observability.AdmissionMetrics.ObserveWebhook(started, true, r.Operation.ToWire(), type, hook.Name, e.Code);
            throw;
        }
        catch (WebhookCallException)
        {
            Observability.AdmissionMetrics.ObserveWebhook(started, !hook.IgnoreFailures, r.Operation.ToWire(), type, hook.Name, 0);
            throw;
        }
    }

    private async Task<WebhookResponse> CallOnceAsync(Webhook hook, AdmissionRequest r, MatchedResource matched, JsonObject? obj, JsonObject? oldObj, CancellationToken ct)
    {
        if (r.DryRun)
        {
            if (hook.SideEffects is null)
                throw new WebhookCallException(hook.Name, "Webhook SideEffects is nil");
            if (hook.SideEffects is not ("None" or "NoneOnDryRun")) throw WebhookReview.DryRunUnsupported(hook.Name);
        }
        var version = WebhookReview.VersionFor(hook)
            ?? throw new WebhookCallException(hook.Name, "could not create admission objects: webhook does not accept known AdmissionReview versions (v1, v1beta1)");
        var uid = Guid.NewGuid().ToString();
        var review = WebhookReview.Request(uid, version, r, matched, obj, oldObj);
        var answer = await client.PostAsync(hook, review, ct);
        WebhookResponse result;
        try { result = WebhookReview.Verify(uid, version, hook.Mutating, answer); }
        catch (FormatException e) { throw new WebhookCallException(hook.Name, "received invalid webhook response: " + e.Message); }
        catch (WebhookReview.UnsupportedPatchType e)
        {
            throw new WebhookCallException(hook.Name, e.Message);
        }
        foreach (var (k, v) in result.AuditAnnotations) AddAnnotation(r, hook.Name + "/" + k, v);
        if (r.Warnings is { } warnings)
            lock (warnings)
                foreach (var w in result.Warnings)
                    if (w.Length > 0 && !warnings.Contains(w)) warnings.Add(w);
        if (!result.Allowed) throw WebhookReview.Denied(hook.Name, result.Result);
        return result;
    }

    /// <summary>admission.Attributes.AddAnnotation: a key already set to another value is refused (logged by upstream's callers).</summary>
    public void AddAnnotation(AdmissionRequest r, string key, string value)
    {
        if (r.AuditAnnotations is not { } annotations) return;
        lock (annotations)
            if (!annotations.TryAdd(key, value) && annotations[key] != value)
                Log?.LogWarning("Failed to set admission audit annotation {Key} to {Value}: already set to {Old}", key, value, annotations[key]);
    }

    /// <summary>The webhooks to call for the request, in order (ShouldCallHook for each).</summary>
    public async Task<List<(Webhook Hook, MatchedResource Matched, int Index)>> MatchingAsync(AdmissionRequest r, CancellationToken ct)
    {
        var hooks = new List<(Webhook, MatchedResource, int)>();
        if (WebhookMatching.IsExempt(r)) return hooks;
        var all = await cache.WebhooksAsync(ct);
        for (var i = 0; i < all.Count; i++)
            if (await matching.ShouldCallAsync(all[i], r, ct) is { } matched) hooks.Add((all[i], matched, i));
        return hooks;
    }

    /// <summary>A failure to call with failurePolicy Fail: upstream's apierrors.NewInternalError(err).</summary>
    public static ApiException FailClosed(WebhookCallException e) => ApiErrors.Internal(e.Message);
}
