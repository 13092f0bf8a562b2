using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Errors;
using Portcullis.Server.Patching;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>
/// The MutatingAdmissionWebhook plugin (mutating/plugin.go, mutating/dispatcher.go, reinvocationcontext.go): matching
/// webhooks are called one after another, each on the object as the previous ones left it; a JSONPatch answer is
/// applied and the object defaulted again. <c>reinvocationPolicy: IfNeeded</c>: when a webhook changed the object,
/// the IfNeeded webhooks called before it are called once more (round 1) after the first round, if they still match.
/// Upstream re-runs the built-in mutating plugins in that round too; here the webhooks are the last mutating plugin
/// and the built-in ones are not re-run. Audit annotations <c>mutation.webhook.admission.k8s.io/round_{r}_index_{i}</c>
/// (and failed-open ones) are kept on the request.
/// </summary>
internal sealed class MutatingAdmissionWebhook(WebhookDispatcher dispatcher) : IMutatingAdmission
{
    public const string PluginName = "MutatingAdmissionWebhook";
    public string Name => PluginName;
    public bool Handles(Operation operation) => true;

    public async ValueTask AdmitAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (WebhookMatching.IsExempt(r)) return;
        var all = await dispatcher.Cache.WebhooksAsync(ct);
        if (all.Count == 0) return;
        var previouslyInvoked = new HashSet<string>();
        var reinvoke = new HashSet<string>();
        var shouldReinvoke = false;
        for (var round = 0; round < 2; round++)
        {
            if (round == 1 && (!shouldReinvoke || reinvoke.Count == 0)) return;
            for (var i = 0; i < all.Count; i++)
            {
                var hook = all[i];
                if (await dispatcher.Matching.ShouldCallAsync(hook, r, ct) is not { } matched) continue;
                // A webhook is never called for the first time in the reinvocation round.
                if (round == 1 && !reinvoke.Contains(hook.Uid)) continue;
                var changed = await CallOneAsync(hook, matched, r, round, i, ct);
                if (round == 0)
                {
                    if (changed)
                    {
                        reinvoke.UnionWith(previouslyInvoked);
                        previouslyInvoked.Clear();
                        shouldReinvoke = true;
                    }
                    if (hook.ReinvokeIfNeeded) previouslyInvoked.Add(hook.Uid);
                }
            }
        }
    }

    /// <summary>callAttrMutatingHook and the dispatcher's handling of its error; true when the object changed.</summary>
    private async Task<bool> CallOneAsync(Webhook hook, MatchedResource matched, AdmissionRequest r, int round, int index, CancellationToken ct)
    {
        var changed = false;
        // The object in the version the webhook matched (matchPolicy Equivalent), converted back after a patch.
        var obj = r.Operation == Operation.Delete ? null : AdmissionMatcher.Convert(r.Object, r.Resource, matched.Definition);
        var old = r.Operation == Operation.Create ? null : AdmissionMatcher.Convert(r.OldObject, r.Resource, matched.Definition);
        try
        {
            var result = await dispatcher.CallAsync(hook, r, matched, obj, old, ct);
            if (result.Patch is null) return false;
            changed = Apply(hook, r, matched, obj, result.Patch);
            return changed;
        }
        catch (WebhookCallException e)
        {
            if (!hook.IgnoreFailures)
            {
                dispatcher.Log?.LogWarning("Failed calling webhook, failing closed {Webhook}: {Error}", hook.Name, e.Message);
                throw WebhookDispatcher.FailClosed(e);
            }
            dispatcher.Log?.LogWarning("Failed calling webhook, failing open {Webhook}: {Error}", hook.Name, e.Message);
            dispatcher.AddAnnotation(r, $"failed-open.mutation.webhook.admission.k8s.io/round_{round}_index_{index}", hook.Name);
            if (ct.IsCancellationRequested) throw ApiErrors.Timeout("request did not complete within requested timeout");
            return false;
        }
        catch (Exception e) when (e is not ApiException and not OperationCanceledException)
        {
            // Anything unexpected in handling the answer is the request's internal error, never a crash.
            throw ApiErrors.Internal($"MutatingAdmissionWebhook/{hook.Name}: {e.Message}");
        }
        finally
        {
            var value = new JsonObject { ["configuration"] = hook.ConfigurationName, ["webhook"] = hook.Name, ["mutated"] = changed };
            dispatcher.AddAnnotation(r, $"mutation.webhook.admission.k8s.io/round_{round}_index_{index}", value.ToJsonString());
        }
    }

    /// <summary>Applies a webhook's JSONPatch to the request's object in place (upstream re-decodes and defaults it).</summary>
    private static bool Apply(Webhook hook, AdmissionRequest r, MatchedResource matched, JsonObject? obj, JsonNode patchField)
    {
        JsonNode? patch;
        byte[] raw;
        try
        {
            raw = Convert.FromBase64String((string?)patchField ?? "");
            patch = JsonNode.Parse(raw);
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            throw ApiErrors.Internal(e.Message);
        }
        if (patch is not JsonArray ops) throw ApiErrors.Internal("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        if (ops.Count == 0) return false;
        if (obj is null)
            throw ApiErrors.Internal($"admission webhook \"{hook.Name}\" attempted to modify the object, which is not supported for this operation");
        JsonObject patched;
        try { patched = Patcher.JsonPatch((JsonObject)obj.DeepClone(), patch, raw); }
        catch (ApiException e) { throw ApiErrors.Internal(e.Message); }
        var changed = !JsonNode.DeepEquals(obj, patched);
        if (!changed) return false;
        patched = AdmissionMatcher.Convert(patched, matched.Definition, r.Resource)!;
        obj = r.Object;
        obj.Clear();
        foreach (var (k, v) in patched.ToList())
        {
            patched.Remove(k);
            obj[k] = v;
        }
        r.Resource.Strategy.Default(obj);
        return true;
    }
}
