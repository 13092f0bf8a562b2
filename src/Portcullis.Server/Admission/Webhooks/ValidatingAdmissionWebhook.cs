using Microsoft.Extensions.Logging;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>
/// The ValidatingAdmissionWebhook plugin (validating/plugin.go, validating/dispatcher.go): every matching webhook is
/// called at once on the final object; the first refusal in webhook order is the request's error. A webhook that
/// cannot be called fails the request as an internal error under failurePolicy Fail, and is skipped (logged, with
/// the <c>failed-open.validating.webhook.admission.k8s.io/round_0_index_{i}</c> audit annotation) under Ignore.
/// </summary>
internal sealed class ValidatingAdmissionWebhook(WebhookDispatcher dispatcher) : IValidatingAdmission
{
    public const string PluginName = "ValidatingAdmissionWebhook";
    public string Name => PluginName;
    public bool Handles(Operation operation) => true;

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        var hooks = await dispatcher.MatchingAsync(r, ct);
        if (hooks.Count == 0) return;
        var errors = await Task.WhenAll(hooks.Select((h, i) =>
        {
            // Each webhook gets the object in the version it matched (converted once per version upstream; here per call).
            var obj = r.Operation == Operation.Delete ? null : AdmissionMatcher.Convert(r.Object, r.Resource, h.Matched.Definition);
            var old = r.Operation == Operation.Create ? null : AdmissionMatcher.Convert(r.OldObject, r.Resource, h.Matched.Definition);
            return CallOneAsync(h.Hook, h.Matched, i, r, obj, old, ct);
        }));
        if (errors.FirstOrDefault(e => e is not null) is { } first) throw first;
    }

    private async Task<ApiException?> CallOneAsync(Webhook hook, MatchedResource matched, int index, AdmissionRequest r, System.Text.Json.Nodes.JsonObject? obj,
        System.Text.Json.Nodes.JsonObject? old, CancellationToken ct)
    {
        try
        {
            await dispatcher.CallAsync(hook, r, matched, obj, old, ct);
            return null;
        }
        catch (WebhookCallException e)
        {
            if (!hook.IgnoreFailures)
            {
                dispatcher.Log?.LogWarning("Failed calling webhook, failing closed {Webhook}: {Error}", hook.Name, e.Message);
                return WebhookDispatcher.FailClosed(e);
            }
            dispatcher.Log?.LogWarning("Failed calling webhook, failing open {Webhook}: {Error}", hook.Name, e.Message);
            dispatcher.AddAnnotation(r, $"failed-open.validating.webhook.admission.k8s.io/round_0_index_{index}", hook.Name);
            return null;
        }
        catch (ApiException e)
        {
            return e;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Upstream recovers a panicking call: an internal error, or skipped under Ignore.
            if (hook.IgnoreFailures) return null;
            return ApiErrors.Internal($"ValidatingAdmissionWebhook/{hook.Name} has panicked: {e.Message}");
        }
    }
}
