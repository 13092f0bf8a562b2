using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Cel;
using Portcullis.Server.Selectors;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// Where a policy's params come from (an informer's lister upstream): the objects of the paramKind, or
/// <see cref="Known"/> false when that kind is not served.
/// </summary>
public interface IParamSource
{
    bool Known { get; }
    bool Namespaced { get; }
    /// <summary>The object, or null when absent.</summary>
    ValueTask<JsonObject?> GetAsync(string ns, string name, CancellationToken ct);
    /// <summary>The objects in the namespace ("" for cluster-scoped kinds) whose labels the selector matches.</summary>
    ValueTask<IReadOnlyList<JsonObject>> ListAsync(string ns, LabelSelector selector, CancellationToken ct);
}

/// <summary>
/// One policy with its bindings over one request (validating/dispatcher.go Dispatch, from the point where the policy
/// and the binding are known to match): params per binding (generic/policy_dispatcher.go CollectParams), one
/// evaluation per param, and the binding's validationActions (Deny, Warn, Audit) applied to the decisions.
/// Config errors (a missing param kind, a missing param with parameterNotFoundAction Deny) go through the
/// policy's failurePolicy. The result is added to an <see cref="PolicyOutcome"/>.
/// </summary>
public static class PolicyEngine
{
    /// <summary>dispatcher.go maxAuditAnnotationValueLength.</summary>
    public const int MaxAuditAnnotationValueLength = 10 * 1024;

    public const string ValidationFailureAnnotation = "validation.policy.admission.k8s.io/validation_failure";

    /// <summary>
    /// Evaluates the policy for each of its (matching) bindings and records the outcome. <paramref name="paramSource"/>
    /// is null when the policy has no paramKind.
    /// </summary>
    public static async ValueTask EvaluateAsync(CompiledPolicy policy, IReadOnlyList<JsonObject> bindings, IParamSource? paramSource,
        AdmissionCelInput input, string requestNamespace, PolicyOutcome outcome, CancellationToken ct = default)
    {
        var collected = new List<(string Key, string Value)>();
        foreach (var binding in bindings)
        {
            var bindingName = CompiledPolicy.Str((binding["metadata"] as JsonObject)?["name"]);
            var spec = binding["spec"] as JsonObject ?? [];
            IReadOnlyList<JsonObject?> @params;
            try { @params = await CollectParamsAsync(policy.ParamKind, paramSource, spec["paramRef"] as JsonObject, requestNamespace, ct); }
            catch (PolicyConfigException e) { AddConfigError(policy, bindingName, e.Message, outcome); continue; }

            var actions = Actions(spec);
            foreach (var param in @params)
            {
                var result = PolicyEvaluator.Validate(policy, input with { Params = param });
                foreach (var decision in result.Decisions)
                {
                    if (decision.Action != PolicyAction.Deny) continue;
                    foreach (var action in actions)
                        switch (action)
                        {
                            case "Deny": outcome.Denials.Add(new PolicyDenial(policy.Name, bindingName, decision)); break;
                            case "Audit":
                                outcome.AuditAnnotations.Add(new(ValidationFailureAnnotation,
                                    ValidationFailureValue(binding, bindingName, decision, actions)));
                                break;
                            case "Warn":
                                outcome.Warnings.Add($"Validation failed for ValidatingAdmissionPolicy '{policy.Name}' with binding '{bindingName}': {decision.Message}");
                                break;
                        }
                }
                foreach (var a in result.AuditAnnotations)
                {
                    if (a.Action == AuditAnnotationAction.Publish)
                    {
                        var value = a.Value.Length > MaxAuditAnnotationValueLength ? a.Value[..MaxAuditAnnotationValueLength] : a.Value;
                        if (!collected.Contains((a.Key, value))) collected.Add((a.Key, value));
                    }
                    else if (a.Action == AuditAnnotationAction.Error)
                        outcome.Denials.Add(new PolicyDenial(policy.Name, bindingName, new PolicyDecision(PolicyAction.Deny, PolicyEvaluation.Error, a.Error)));
                }
            }
        }
        // auditAnnotationCollector.publish: "<policy>/<key>", distinct values joined with ", "
        foreach (var key in collected.Select(c => c.Key).Distinct())
            outcome.AuditAnnotations.Add(new(policy.Name + "/" + key, string.Join(", ", collected.Where(c => c.Key == key).Select(c => c.Value))));
    }

    /// <summary>A policy that cannot be used (its own configuration error), as dispatcher.go addConfigError without a binding.</summary>
    public static void AddPolicyConfigError(CompiledPolicy policy, string message, PolicyOutcome outcome) =>
        AddConfigError(policy, null, message, outcome);

    private static void AddConfigError(CompiledPolicy policy, string? binding, string message, PolicyOutcome outcome)
    {
        switch (policy.FailurePolicy)
        {
            case "Ignore": return;
            case "Fail":
                var text = binding is null ? "failed to configure policy: " + message : "failed to configure binding: " + message;
                outcome.Denials.Add(new PolicyDenial(policy.Name, binding, new PolicyDecision(PolicyAction.Deny, PolicyEvaluation.Error, text)));
                return;
            default:
                outcome.Denials.Add(new PolicyDenial(policy.Name, binding,
                    new PolicyDecision(PolicyAction.Deny, PolicyEvaluation.Error, $"unrecognized failure policy: '{policy.FailurePolicy}'")));
                return;
        }
    }

    private static List<string> Actions(JsonObject bindingSpec) =>
        bindingSpec["validationActions"] is JsonArray a ? [.. a.Select(x => CompiledPolicy.Str(x))] : [];

    /// <summary>dispatcher.go publishValidationFailureAnnotation: a JSON list with one ValidationFailureValue.</summary>
    private static string ValidationFailureValue(JsonObject binding, string bindingName, PolicyDecision decision, List<string> actions)
    {
        var value = new JsonArray(new JsonObject
        {
            ["message"] = decision.Message,
            ["policy"] = CompiledPolicy.Str((binding["spec"] as JsonObject)?["policyName"]),
            ["binding"] = bindingName,
            ["expressionIndex"] = decision.Index < 0 ? 0 : decision.Index,
            ["validationActions"] = new JsonArray([.. actions.Select(a => (JsonNode)a)]),
        });
        // Go's encoding/json: UTF-8 kept, but <, > and & escaped as \u003c, \u003e, \u0026 (they only occur inside strings)
        return value.ToJsonString(RelaxedJson).Replace("<", "\\u003c").Replace(">", "\\u003e").Replace("&", "\\u0026");
    }

    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A configuration error of a binding (its params), with upstream's text.</summary>
    public sealed class PolicyConfigException(string message) : Exception(message);

    /// <summary>
    /// generic/policy_dispatcher.go CollectParams: [null] when the policy has no paramKind or the binding no paramRef;
    /// the named param or the selected ones (namespace: paramRef's, else the request's for a namespaced kind); none
    /// found with parameterNotFoundAction Deny is an error.
    /// </summary>
    public static async ValueTask<IReadOnlyList<JsonObject?>> CollectParamsAsync(JsonObject? paramKind, IParamSource? source, JsonObject? paramRef,
        string requestNamespace, CancellationToken ct = default)
    {
        if (paramKind is null || paramRef is null) return [null];
        var kindText = ParamKindString(paramKind);
        if (source is null || !source.Known) throw new PolicyConfigException($"paramKind kind `{kindText}` not known");
        var refNamespace = CompiledPolicy.Str(paramRef["namespace"]);
        var ns = "";
        if (source.Namespaced)
        {
            ns = refNamespace.Length > 0 ? refNamespace : requestNamespace;
            if (ns.Length == 0) throw new PolicyConfigException("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources");
        }
        else if (refNamespace.Length > 0)
            throw new PolicyConfigException("paramRef.namespace must not be provided for a cluster-scoped `paramKind`");

        List<JsonObject?> found;
        var name = CompiledPolicy.Str(paramRef["name"]);
        if (name.Length > 0)
        {
            if (paramRef["selector"] is JsonObject) throw new PolicyConfigException("paramRef.name and paramRef.selector are mutually exclusive");
            found = await source.GetAsync(ns, name, ct) is { } p ? [p] : [];
        }
        else if (paramRef["selector"] is JsonObject sel)
        {
            var selector = Controllers.MetaLabelSelector.AsSelector(sel) ?? throw new PolicyConfigException("invalid label selector");
            found = [.. await source.ListAsync(ns, selector, ct)];
        }
        else throw new PolicyConfigException("one of name or selector must be provided");

        if (found.Count == 0 && CompiledPolicy.Str(paramRef["parameterNotFoundAction"]) == "Deny")
            throw new PolicyConfigException("no params found for policy binding with `Deny` parameterNotFoundAction");
        return found;
    }

    /// <summary>ParamKind.String() as gogo-protobuf prints it (in "paramKind kind `...` not known").</summary>
    public static string ParamKindString(JsonObject paramKind) =>
        $"&ParamKind{{APIVersion:{CompiledPolicy.Str(paramKind["apiVersion"])},Kind:{CompiledPolicy.Str(paramKind["kind"])},}}";
}
