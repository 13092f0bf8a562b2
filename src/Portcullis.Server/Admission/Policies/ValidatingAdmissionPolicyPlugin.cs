using System.Text.Json.Nodes;
using Portcullis.Cel;
using Portcullis.Server.Admission.Cel;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Selectors;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// The ValidatingAdmissionPolicy admission plugin (k8s.io/apiserver pkg/admission/plugin/policy/validating, its
/// generic dispatcher): for every policy whose matchConstraints match the request, every binding of it whose
/// matchResources match, the policy is evaluated (see <see cref="PolicyEngine"/>) and the binding's validationActions
/// applied. The first refusal is returned as upstream's Forbidden-shaped error with the validation's reason and code;
/// warnings go to the response, audit annotations to the request. Writes of the admission configuration kinds
/// themselves are never subject to policies.
/// </summary>
internal sealed class ValidatingAdmissionPolicyPlugin(
    PolicyCache cache,
    AdmissionMatcher matcher,
    ResourceRegistry resources,
    Func<ResourceDefinition, GenericStore?> storeOf,
    Func<string, CancellationToken, Task<JsonObject?>> getNamespace,
    ICelAuthorizer? authorizer) : IValidatingAdmission
{
    public const string PluginName = "ValidatingAdmissionPolicy";

    public string Name => PluginName;

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update or Operation.Delete or Operation.Connect;

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (RuleMatcher.IsExemptAdmissionConfiguration(r)) return;
        var hooks = await cache.HooksAsync(ct);
        if (hooks.Count == 0) return;
        var outcome = new PolicyOutcome();
        JsonObject? namespaceObject = null;
        var namespaceLoaded = false;
        foreach (var hook in hooks)
        {
            var policy = hook.Policy;
            var spec = policy.Policy["spec"] as JsonObject;
            MatchedResource? matched;
            try
            {
                if (spec?["matchConstraints"] is not JsonObject constraints)
                {
                    PolicyEngine.AddPolicyConfigError(policy, "policy contained no match constraints, a required field", outcome);
                    continue;
                }
                matched = await matcher.MatchAsync(constraints, r, ct);
            }
            catch (ApiException e) { PolicyEngine.AddPolicyConfigError(policy, e.Message, outcome); continue; }
            if (matched is null) continue;

            IParamSource? paramSource = null;
            if (policy.ParamKind is { } paramKind)
            {
                paramSource = ParamSourceFor(paramKind);
                if (paramSource is null)
                {
                    PolicyEngine.AddPolicyConfigError(policy,
                        $"failed to find resource referenced by paramKind: '{CompiledPolicy.Str(paramKind["apiVersion"])}, Kind={CompiledPolicy.Str(paramKind["kind"])}'", outcome);
                    continue;
                }
            }

            var matchingBindings = new List<JsonObject>();
            foreach (var binding in hook.Bindings)
            {
                try
                {
                    if ((binding["spec"] as JsonObject)?["matchResources"] is not JsonObject mr || await matcher.MatchAsync(mr, r, ct) is not null)
                        matchingBindings.Add(binding);
                }
                catch (ApiException e)
                {
                    outcome.Denials.Add(new PolicyDenial(policy.Name, CompiledPolicy.Str((binding["metadata"] as JsonObject)?["name"]),
                        new PolicyDecision(PolicyAction.Deny, PolicyEvaluation.Error, "failed to configure binding: " + e.Message)));
                }
            }
            if (matchingBindings.Count == 0) continue;

            if (!namespaceLoaded)
            {
                namespaceLoaded = true;
                // dispatcher.go: a Namespace request has no namespace object; a missing namespace is an error
                var isNamespace = r.Resource.Group.Length == 0 && r.Resource.Plural == "namespaces";
                if (r.Namespace.Length > 0 && !isNamespace)
                    namespaceObject = await getNamespace(r.Namespace, ct) ?? throw ApiErrors.NotFound("namespaces", "", r.Namespace);
            }
            var input = AdmissionCelInput.From(r, matched, null, namespaceObject, authorizer);
            await PolicyEngine.EvaluateAsync(policy, matchingBindings, paramSource, input, r.Namespace, outcome, ct);
        }

        if (r.Warnings is { } warnings) warnings.AddRange(outcome.Warnings);
        if (r.AuditAnnotations is { } annotations)
            foreach (var (k, v) in outcome.AuditAnnotations) annotations[k] = v;
        // Upstream returns the first refusal; callers that collect them (the policy tester) get every one.
        r.Violations?.AddRange(outcome.Denials.Select(d => d.Message));
        if (outcome.Denials.Count > 0) throw Refusal(r, outcome.Denials[0]);
    }

    /// <summary>dispatcher.go: admission.NewForbidden with the decision's reason and code and the message as a cause.</summary>
    private static ApiException Refusal(AdmissionRequest r, PolicyDenial denial)
    {
        var name = r.Name.Length > 0 ? r.Name : CompiledPolicy.Str((r.Object["metadata"] as JsonObject)?["name"]);
        var forbidden = ApiErrors.Forbidden(r.Resource.Plural, r.Resource.Group, name, denial.Message);
        return new ApiException(denial.Code, denial.Reason, forbidden.Message)
        {
            DetailName = name, DetailGroup = r.Resource.Group, DetailKind = r.Resource.Plural,
            Causes = [new StatusCause("", denial.Message, "")],
        };
    }

    /// <summary>The served resource of a paramKind (apiVersion and kind), null when none is served (a CRD not there yet).</summary>
    private StoreParams? ParamSourceFor(JsonObject paramKind)
    {
        var def = resources.FindKind(CompiledPolicy.Str(paramKind["apiVersion"]), CompiledPolicy.Str(paramKind["kind"]));
        return def is not null && storeOf(def) is { } store ? new StoreParams(def, store) : null;
    }

    /// <summary>Params read from the param kind's store (the current objects, as upstream's informer cache holds them).</summary>
    private sealed class StoreParams(ResourceDefinition def, GenericStore store) : IParamSource
    {
        public bool Known => true;
        public bool Namespaced => def.Namespaced;

        public async ValueTask<JsonObject?> GetAsync(string ns, string name, CancellationToken ct)
        {
            try { return await store.GetAsync(ns, name, ct); }
            catch (ApiException e) when (e.Code == 404) { return null; }
        }

        public async ValueTask<IReadOnlyList<JsonObject>> ListAsync(string ns, LabelSelector selector, CancellationToken ct) =>
            [.. (await store.ListAsync(ns, new ListOptions { Labels = selector }, ct))["items"]!.AsArray().OfType<JsonObject>()];
    }
}
