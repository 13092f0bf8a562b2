using System.Text.Json.Nodes;
using Portcullis.Cel;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// The request as a policy sees it: the object and old object (null on create / delete), the <c>request</c>
/// variable (an AdmissionRequest as JSON, see <see cref="PolicyRequest"/>), the namespace the request is in (null
/// when cluster-scoped) and any further CEL variables (the <c>authorizer</c> values of the admission environment).
/// </summary>
public sealed record PolicyInput(JsonObject? Object, JsonObject? OldObject, JsonObject Request, JsonObject? Namespace)
{
    public IReadOnlyDictionary<string, CelValue>? Bindings { get; init; }
}

/// <summary>
/// Evaluates a compiled policy over one request and one param (validating/validator.go Validate, with
/// cel/condition.go ForInput and cel/activation.go Evaluate): matchConditions, then the validations with their
/// message expressions, then the audit annotations, under upstream's cost limits and with its error texts.
/// Pure: no store, no clock; the same answer in the server and in <c>portcullis policy test</c>.
/// </summary>
public static class PolicyEvaluator
{
    /// <summary>celconfig.PerCallLimit.</summary>
    public const ulong PerCallLimit = 1_000_000;
    /// <summary>celconfig.RuntimeCELCostBudget: all of one policy's validations (or audit annotations) together.</summary>
    public const long RuntimeCostBudget = 10_000_000;
    /// <summary>celconfig.RuntimeCELCostBudgetMatchConditions.</summary>
    public const long MatchConditionsCostBudget = 2_500_000;
    /// <summary>celconfig.MaxEvaluatedMessageExpressionSizeBytes.</summary>
    public const int MaxEvaluatedMessageExpressionSizeBytes = 5 * 1024;

    internal static readonly CelCostOptions CostOptions = CelCostOptions.Kubernetes(PerCallLimit);

    private const string OutOfBudget = "validation failed due to running out of cost budget, no further validation rules will be run";

    /// <summary>One expression's result (EvaluationResult): a value, or an error message.</summary>
    internal readonly record struct EvalResult(CelValue? Value, string? Error, bool Placeholder = false);

    /// <summary>Why a whole ForInput stopped (out of budget): its message.</summary>
    internal sealed class ForInputError(string message) : Exception(message);

    /// <summary>
    /// condition.go ForInput: evaluates expressions in order against one activation, charging each one's cost and
    /// that of the variables it used to the budget; null entries are placeholders (a validation without
    /// messageExpression).
    /// </summary>
    internal static (List<EvalResult> Results, long Remaining) ForInput(IReadOnlyList<CompiledExpression?> expressions,
        PolicyActivation activation, long budget)
    {
        var results = new List<EvalResult>(expressions.Count);
        var remaining = budget;
        foreach (var e in expressions)
        {
            if (e is null) { results.Add(new EvalResult(null, null, true)); continue; }
            if (e.Error is { } compileError) { results.Add(new EvalResult(null, "compilation error: " + compileError)); continue; }
            var r = e.Program!.Evaluate(activation, CostOptions);
            var composition = activation.TakeCompositionCost();
            if (composition > remaining) throw new ForInputError(OutOfBudget);
            remaining -= composition;
            if (r.Cost > long.MaxValue || (long)r.Cost > remaining) throw new ForInputError(OutOfBudget);
            remaining -= (long)r.Cost;
            results.Add(r.Value is CelError err
                ? new EvalResult(null, $"expression '{e.Expression}' resulted in error: {err.Message}")
                : new EvalResult(r.Value, null));
        }
        return (results, remaining);
    }

    /// <summary>
    /// matchconditions/matcher.go Match: true when every condition is true; a false one decides no; errors (all of
    /// them, as an aggregate) fail per the failure policy: Fail gives the error, Ignore does not match.
    /// </summary>
    public static (bool Matches, string? Error, string? FailedCondition) MatchConditions(CompiledPolicy policy, PolicyInput input, JsonObject? param)
    {
        if (policy.MatchConditions.Count == 0) return (true, null, null);
        var fail = policy.FailurePolicy != "Ignore";
        var activation = new PolicyActivation(input, param, policy.HasParams, policy.Variables, withNamespace: false);
        List<EvalResult> results;
        try { results = ForInput([.. policy.MatchConditions.Select(m => m.Compiled)], activation, MatchConditionsCostBudget).Results; }
        catch (ForInputError e) { return fail ? (false, e.Message, null) : (false, null, null); }
        var errors = new List<string>();
        for (int i = 0; i < results.Count; i++)
        {
            if (results[i].Error is { } err) errors.Add(err);
            if (results[i].Value is CelBool { Value: false }) return (false, null, policy.MatchConditions[i].Name);
        }
        if (errors.Count > 0)
            return fail ? (false, errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]", null) : (false, null, null);
        return (true, null, null);
    }

    /// <summary>validator.go Validate: the decisions of every validation and the audit annotations, for one param.</summary>
    public static ValidateResult Validate(CompiledPolicy policy, PolicyInput input, JsonObject? param)
    {
        var errorAction = policy.FailurePolicy == "Ignore" ? PolicyAction.Admit : PolicyAction.Deny;
        ValidateResult Failed(string message) => new([new PolicyDecision(errorAction, PolicyEvaluation.Error, message)], []);

        var (matches, matchError, _) = MatchConditions(policy, input, param);
        if (matchError is not null) return Failed(matchError);
        if (!matches) return ValidateResult.Empty;

        List<EvalResult> evalResults;
        long remaining;
        try
        {
            var activation = new PolicyActivation(input, param, policy.HasParams, policy.Variables);
            (evalResults, remaining) = ForInput([.. policy.Validations.Select(v => v.Condition)], activation, RuntimeCostBudget);
        }
        catch (ForInputError e) { return Failed(e.Message); }

        // messageExpressions: the same variables, no authorizer, the budget the validations left
        List<EvalResult>? messageResults = null;
        string? messageError = null;
        try
        {
            var activation = new PolicyActivation(input, param, policy.HasParams, policy.Variables);
            messageResults = ForInput([.. policy.Validations.Select(v => v.MessageExpression)], activation, remaining).Results;
        }
        catch (ForInputError e) { messageError = e.Message; }

        var decisions = new List<PolicyDecision>(evalResults.Count);
        for (int i = 0; i < evalResults.Count; i++)
        {
            var eval = evalResults[i];
            var validation = policy.Validations[i];
            if (eval.Error is { } err) decisions.Add(new PolicyDecision(errorAction, PolicyEvaluation.Error, err) { Index = i });
            else if (messageError is not null)
                decisions.Add(new PolicyDecision(errorAction, PolicyEvaluation.Error, "failed messageExpression: " + messageError) { Index = i });
            else if (eval.Value is not CelBool { Value: true })
                decisions.Add(new PolicyDecision(PolicyAction.Deny, PolicyEvaluation.Deny,
                    FailureMessage(validation, messageResults is not null && i < messageResults.Count ? messageResults[i] : null),
                    validation.Reason ?? "Invalid") { Index = i });
            else decisions.Add(new PolicyDecision(PolicyAction.Admit, PolicyEvaluation.Admit) { Index = i });
        }

        List<EvalResult> auditResults;
        try
        {
            var activation = new PolicyActivation(input, param, policy.HasParams, policy.Variables);
            auditResults = ForInput([.. policy.AuditAnnotations.Select(a => a.Compiled)], activation, RuntimeCostBudget).Results;
        }
        catch (ForInputError e) { return Failed(e.Message); }
        var annotations = new List<PolicyAuditAnnotation>(auditResults.Count);
        for (int i = 0; i < auditResults.Count; i++)
        {
            var key = policy.AuditAnnotations[i].Name;
            var r = auditResults[i];
            if (r.Error is { } err)
                annotations.Add(new PolicyAuditAnnotation(key, errorAction == PolicyAction.Admit ? AuditAnnotationAction.Exclude : AuditAnnotationAction.Error, Error: err));
            else if (r.Value is CelString s)
                annotations.Add(s.Value.Trim() is { Length: > 0 } v
                    ? new PolicyAuditAnnotation(key, AuditAnnotationAction.Publish, v)
                    : new PolicyAuditAnnotation(key, AuditAnnotationAction.Exclude));
            else if (r.Value is CelNull) annotations.Add(new PolicyAuditAnnotation(key, AuditAnnotationAction.Exclude));
            else
                annotations.Add(new PolicyAuditAnnotation(key, AuditAnnotationAction.Error, Error:
                    $"valueExpression '{policy.AuditAnnotations[i].Compiled.Expression}' resulted in unsupported return type: " +
                    $"{CompiledPolicy.GoTypeString(r.Value!.Type)}. Return type must be either string or null."));
        }
        return new ValidateResult(decisions, annotations);
    }

    /// <summary>validator.go: the messageExpression's result (trimmed, one line, at most 5 KiB), else the message, else
    /// "failed expression: ...".</summary>
    private static string FailureMessage(CompiledValidation validation, EvalResult? messageResult)
    {
        var message = "";
        if (messageResult is { Error: null, Value: CelString s })
        {
            message = s.Value.Trim();
            if (System.Text.Encoding.UTF8.GetByteCount(message) > MaxEvaluatedMessageExpressionSizeBytes || message.Contains('\n')) message = "";
        }
        if (message.Length == 0 && validation.Message.Length > 0) message = validation.Message.Trim();
        if (message.Length == 0) message = "failed expression: " + validation.Condition.Expression.Trim();
        return message;
    }
}
