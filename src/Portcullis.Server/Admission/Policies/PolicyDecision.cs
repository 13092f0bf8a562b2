using System.Text.Json.Nodes;

namespace Portcullis.Server.Admission.Policies;

/// <summary>validating/policy_decision.go PolicyDecisionAction: admit or deny. The zero value denies.</summary>
public enum PolicyAction { Deny = 0, Admit = 1 }

/// <summary>PolicyDecisionEvaluation: how the validation came out.</summary>
public enum PolicyEvaluation { Error = 0, Admit = 1, Deny = 2 }

/// <summary>One validation's outcome (PolicyDecision): its action, how it was reached, the message and the Status reason.</summary>
public sealed record PolicyDecision(PolicyAction Action, PolicyEvaluation Evaluation, string Message = "", string? Reason = null)
{
    /// <summary>The index of the validation in the policy (-1 for a decision that is no validation's).</summary>
    public int Index { get; init; } = -1;
}

/// <summary>PolicyAuditAnnotationAction.</summary>
public enum AuditAnnotationAction { Publish, Error, Exclude }

public sealed record PolicyAuditAnnotation(string Key, AuditAnnotationAction Action, string Value = "", string Error = "");

/// <summary>What one policy said over one set of params (ValidateResult).</summary>
public sealed record ValidateResult(IReadOnlyList<PolicyDecision> Decisions, IReadOnlyList<PolicyAuditAnnotation> AuditAnnotations)
{
    public static readonly ValidateResult Empty = new([], []);
}

/// <summary>A refusal with the policy and binding it came from (policyDecisionWithMetadata).</summary>
public sealed record PolicyDenial(string Policy, string? Binding, PolicyDecision Decision)
{
    /// <summary>dispatcher.go: the message of the Forbidden error.</summary>
    public string Message => Binding is not null
        ? $"ValidatingAdmissionPolicy '{Policy}' with binding '{Binding}' denied request: {Decision.Message}"
        : $"ValidatingAdmissionPolicy '{Policy}' denied request: {Decision.Message}";

    /// <summary>The Status reason: the validation's, else Invalid.</summary>
    public string Reason => string.IsNullOrEmpty(Decision.Reason) ? "Invalid" : Decision.Reason;

    /// <summary>policy_decision.go reasonToCode.</summary>
    public int Code => Reason switch
    {
        "Forbidden" => 403,
        "Unauthorized" => 401,
        "RequestEntityTooLarge" => 413,
        _ => 422,
    };
}

/// <summary>
/// What the policies decided about one request: the refusals (the first is the error returned), the warnings
/// (Warn), and the audit annotations (auditAnnotations, and Audit's
/// <c>validation.policy.admission.k8s.io/validation_failure</c>), keyed as upstream publishes them.
/// </summary>
public sealed class PolicyOutcome
{
    public List<PolicyDenial> Denials { get; } = [];
    public List<string> Warnings { get; } = [];
    public List<KeyValuePair<string, string>> AuditAnnotations { get; } = [];

    public bool Allowed => Denials.Count == 0;

    /// <summary>A JSON rendering for tools (the policy tester's output).</summary>
    public JsonObject ToJson()
    {
        var denials = new JsonArray();
        foreach (var d in Denials)
            denials.Add((JsonNode)new JsonObject
            {
                ["policy"] = d.Policy, ["binding"] = d.Binding, ["message"] = d.Message, ["reason"] = d.Reason, ["code"] = d.Code,
            });
        var annotations = new JsonObject();
        foreach (var (k, v) in AuditAnnotations) annotations[k] = v;
        return new JsonObject
        {
            ["allowed"] = Allowed,
            ["denials"] = denials,
            ["warnings"] = new JsonArray([.. Warnings.Select(w => (JsonNode)w)]),
            ["auditAnnotations"] = annotations,
        };
    }
}
