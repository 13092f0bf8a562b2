using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Cel;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>
/// Whether a webhook applies to a request (generic/webhook.go ShouldCallHook) through the shared
/// <see cref="AdmissionMatcher"/>: namespaceSelector and objectSelector (their errors reported only when the rules
/// match), the rules under matchPolicy, then matchConditions (CEL with <c>authorizer</c>; an evaluation error under
/// failurePolicy Fail is upstream's Forbidden, under Ignore the webhook is skipped).
/// </summary>
internal sealed class WebhookMatching(AdmissionMatcher matcher, Portcullis.Cel.ICelAuthorizer? authorizer)
{
    /// <summary>predicates/rules IsExemptAdmissionConfigurationResource: no webhook sees writes of admission configuration.</summary>
    public static bool IsExempt(AdmissionRequest r) => RuleMatcher.IsExemptAdmissionConfiguration(r);

    /// <summary>The namespace a request is in, as upstream's attributes give it: a namespace object's own name.</summary>
    public static string NamespaceOf(AdmissionRequest r) =>
        r.Resource.Group.Length == 0 && r.Resource.Plural == "namespaces" ? r.Name : r.Namespace;

    /// <summary>What the webhook matched (the resource and kind to send), or null when it is not to be called.</summary>
    public async ValueTask<MatchedResource?> ShouldCallAsync(Webhook hook, AdmissionRequest r, CancellationToken ct)
    {
        ApiException? nsError = null;
        bool nsMatch;
        try { nsMatch = await matcher.NamespaceSelectorMatchesAsync(hook.Spec["namespaceSelector"] as JsonObject, r, ct); }
        catch (ApiException e) { nsError = e; nsMatch = false; }
        if (!nsMatch && nsError is null) return null;
        ApiException? objError = null;
        bool objMatch;
        try { objMatch = AdmissionMatcher.ObjectSelectorMatches(hook.Spec["objectSelector"] as JsonObject, r); }
        catch (ApiException e) { objError = e; objMatch = false; }
        if (!objMatch && objError is null) return null;
        var matched = matcher.MatchRules(hook.Spec["rules"] as JsonArray, (string?)hook.Spec["matchPolicy"], r);
        if (matched is null) return null;
        if (nsError is not null) throw nsError;
        if (objError is not null) throw objError;
        if (hook.Conditions is { IsEmpty: false } conditions)
        {
            var input = AdmissionCelInput.From(r, matched, authorizer: authorizer);
            var result = conditions.Match(new AdmissionCelActivation(input, conditions.Compiler));
            if (result.Error is { } error)
                throw ApiErrors.Forbidden(r.Resource.Plural, r.Resource.Group, r.Name, error);
            if (!result.Matches) return null;
        }
        return matched;
    }
}
