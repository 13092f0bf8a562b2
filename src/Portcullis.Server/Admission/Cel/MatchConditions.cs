using System.Text.Json.Nodes;
using Portcullis.Cel;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Admission.Cel;

/// <summary>The outcome of match conditions: whether they match, the first one that was false, or the error (fail closed).</summary>
public sealed record MatchConditionResult(bool Matches, string? FailedConditionName, string? Error);

/// <summary>
/// A webhook's or policy's matchConditions (apiserver pkg/admission/plugin/webhook/matchconditions/matcher.go,
/// kubernetes-1.33.0): each must be true. A false one stops at once (no match); errors are gathered and, with
/// failurePolicy Fail, are the result's error (one error as is, several as "[a, b]"), with Ignore a non-match.
/// </summary>
public sealed class MatchConditions
{
    private readonly List<(string Name, CompiledExpression Compiled)> _conditions = [];
    private readonly bool _failOpen;

    /// <summary>Compiles <c>matchConditions</c> (name, expression) with the given optional variables (webhooks: authorizer, no params).</summary>
    public MatchConditions(JsonArray? conditions, string? failurePolicy, AdmissionCelOptions options, AdmissionCelCompiler? compiler = null)
    {
        compiler ??= new AdmissionCelCompiler(storedExpressions: true);
        _failOpen = failurePolicy == "Ignore";
        Compiler = compiler;
        foreach (var c in conditions?.OfType<JsonObject>() ?? [])
            _conditions.Add((JsonRead.Str(c["name"]) ?? "", compiler.Compile(JsonRead.Str(c["expression"]) ?? "", options, AdmissionCelCompiler.Bool)));
    }

    public AdmissionCelCompiler Compiler { get; }
    public bool IsEmpty => _conditions.Count == 0;

    public MatchConditionResult Match(AdmissionCelActivation activation)
    {
        var errors = new List<string>();
        var budget = AdmissionCelCompiler.RuntimeCostBudgetMatchConditions;
        foreach (var (name, compiled) in _conditions)
        {
            CelEvaluation eval;
            try { eval = activation.Evaluate(compiled, ref budget); }
            catch (CelBudgetExceededException e) { return _failOpen ? new(false, null, null) : new(false, null, e.Message); }
            if (eval.Error is not null) errors.Add(eval.Error);
            if (eval.Value is CelBool { Value: false }) return new(false, name, null);
        }
        if (errors.Count == 0) return new(true, null, null);
        if (_failOpen) return new(false, null, null);
        return new(false, null, errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]");
    }
}
