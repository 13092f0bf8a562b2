using System.Text.Json.Nodes;
using Portcullis.Cel;
using Portcullis.Server.Admission.Cel;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// Evaluates a compiled policy over one request and one param (validating/validator.go Validate, with cel/condition.go
/// ForInput): matchConditions, then the validations with their message expressions, then the audit annotations, under
/// upstream's cost budgets (<see cref="AdmissionCelActivation.Evaluate"/>) and with its texts. Pure: no store, no
/// clock; the same answer in the server and in <c>portcullis policy test</c>.
/// </summary>
public static class PolicyEvaluator
{
    /// <summary>celconfig.MaxEvaluatedMessageExpressionSizeBytes.</summary>
    public const int MaxEvaluatedMessageExpressionSizeBytes = 5 * 1024;

    /// <summary>condition.go ForInput: the expressions in order over one activation and one budget; null entries are placeholders.</summary>
    private static (List<CelEvaluation?> Results, long Remaining) ForInput(IEnumerable<CompiledExpression?> expressions,
        AdmissionCelActivation activation, long budget)
    {
        var results = new List<CelEvaluation?>();
        foreach (var e in expressions) results.Add(e is null ? null : activation.Evaluate(e, ref budget));
        return (results, budget);
    }

    /// <summary>validator.go Validate: the decisions of every validation and the audit annotations, for one param (in <paramref name="input"/>).</summary>
    public static ValidateResult Validate(CompiledPolicy policy, AdmissionCelInput input)
    {
        var errorAction = policy.FailurePolicy == "Ignore" ? PolicyAction.Admit : PolicyAction.Deny;
        ValidateResult Failed(string message) => new([new PolicyDecision(errorAction, PolicyEvaluation.Error, message)], []);

        if (!policy.MatchConditions.IsEmpty)
        {
            // matcher.go: matchConditions see no namespaceObject
            var match = policy.MatchConditions.Match(new AdmissionCelActivation(input with { NamespaceObject = null }, policy.Compiler));
            if (match.Error is { } matchError) return Failed(matchError);
            if (!match.Matches) return ValidateResult.Empty;
        }

        List<CelEvaluation?> evalResults;
        long remaining;
        try
        {
            (evalResults, remaining) = ForInput(policy.Validations.Select(v => v.Condition),
                new AdmissionCelActivation(input, policy.Compiler), AdmissionCelCompiler.RuntimeCostBudget);
        }
        catch (CelBudgetExceededException e) { return Failed(e.Message); }

        // message expressions: no authorizer, the budget the validations left
        List<CelEvaluation?>? messageResults = null;
        string? messageError = null;
        try
        {
            messageResults = ForInput(policy.Validations.Select(v => v.MessageExpression),
                new AdmissionCelActivation(input with { Authorizer = null }, policy.Compiler), remaining).Results;
        }
        catch (CelBudgetExceededException e) { messageError = e.Message; }

        var decisions = new List<PolicyDecision>(evalResults.Count);
        for (int i = 0; i < evalResults.Count; i++)
        {
            var eval = evalResults[i]!;
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

        List<CelEvaluation?> auditResults;
        try
        {
            auditResults = ForInput(policy.AuditAnnotations.Select(a => a.Value),
                new AdmissionCelActivation(input with { Authorizer = null }, policy.Compiler), AdmissionCelCompiler.RuntimeCostBudget).Results;
        }
        catch (CelBudgetExceededException e) { return Failed(e.Message); }
        var annotations = new List<PolicyAuditAnnotation>(auditResults.Count);
        for (int i = 0; i < auditResults.Count; i++)
        {
            var key = policy.AuditAnnotations[i].Key;
            var r = auditResults[i]!;
            if (r.Error is { } err)
                annotations.Add(new PolicyAuditAnnotation(key, errorAction == PolicyAction.Admit ? AuditAnnotationAction.Exclude : AuditAnnotationAction.Error, Error: err));
            else if (r.Value is CelString s)
                annotations.Add(s.Value.Trim() is { Length: > 0 } v
                    ? new PolicyAuditAnnotation(key, AuditAnnotationAction.Publish, v)
                    : new PolicyAuditAnnotation(key, AuditAnnotationAction.Exclude));
            else if (r.Value is CelNull) annotations.Add(new PolicyAuditAnnotation(key, AuditAnnotationAction.Exclude));
            else
                annotations.Add(new PolicyAuditAnnotation(key, AuditAnnotationAction.Error, Error:
                    $"valueExpression '{policy.AuditAnnotations[i].Value.Expression}' resulted in unsupported return type: " +
                    $"{GoTypeName(r.Value!.Type)}. Return type must be either string or null."));
        }
        return new ValidateResult(decisions, annotations);
    }

    /// <summary>cel-go's *types.Type String(): null is null_type.</summary>
    private static string GoTypeName(CelType t) => t.Name == "null_type" ? "null_type" : t.ToString();

    /// <summary>validator.go: the messageExpression's result (trimmed, one line, at most 5 KiB), else the message, else
    /// "failed expression: ...".</summary>
    private static string FailureMessage(CompiledValidation validation, CelEvaluation? messageResult)
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
