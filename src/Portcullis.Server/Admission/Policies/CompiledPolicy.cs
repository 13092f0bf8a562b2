using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Cel;

namespace Portcullis.Server.Admission.Policies;

/// <summary>A validation (ValidationCondition with its MessageExpressionCondition).</summary>
public sealed record CompiledValidation(CompiledExpression Condition, CompiledExpression? MessageExpression, string Message, string? Reason);

/// <summary>An audit annotation: its key and valueExpression.</summary>
public sealed record CompiledAuditAnnotation(string Key, CompiledExpression Value);

/// <summary>
/// A ValidatingAdmissionPolicy compiled once for evaluation (validating/plugin.go compilePolicy) with the admission CEL
/// compiler of <c>Admission/Cel</c>: the variables first (each visible to what follows), then the matchConditions,
/// validations and audit annotations (with <c>authorizer</c>) and the message expressions (without), all with
/// <c>params</c> when the policy has a paramKind. An expression that does not compile is kept with its error: at
/// evaluation it is an error (validation refuses such policies, so only stored objects can carry one).
/// </summary>
public sealed class CompiledPolicy
{
    public required string Name { get; init; }
    public required JsonObject Policy { get; init; }
    /// <summary>Fail (the default) or Ignore.</summary>
    public required string FailurePolicy { get; init; }
    /// <summary>spec.paramKind (apiVersion, kind), or null.</summary>
    public JsonObject? ParamKind { get; init; }
    /// <summary>The compiler holding the variables (the activation evaluates them lazily).</summary>
    public required AdmissionCelCompiler Compiler { get; init; }
    public required MatchConditions MatchConditions { get; init; }
    public required IReadOnlyList<CompiledValidation> Validations { get; init; }
    public required IReadOnlyList<CompiledAuditAnnotation> AuditAnnotations { get; init; }

    public bool HasParams => ParamKind is not null;

    public static CompiledPolicy Compile(JsonObject policy)
    {
        var spec = policy["spec"] as JsonObject ?? [];
        var paramKind = spec["paramKind"] as JsonObject;
        var failurePolicy = Str(spec["failurePolicy"]) is { Length: > 0 } fp ? fp : "Fail";
        var withAuthorizer = new AdmissionCelOptions(paramKind is not null, HasAuthorizer: true);
        var withoutAuthorizer = new AdmissionCelOptions(paramKind is not null, HasAuthorizer: false);
        // stored expressions: a policy in the store compiles with every library of this version (environment.StoredExpressions)
        var compiler = new AdmissionCelCompiler(storedExpressions: true);
        foreach (var v in Objects(spec["variables"]))
            compiler.CompileVariable(Str(v["name"]), Str(v["expression"]), withAuthorizer);
        return new CompiledPolicy
        {
            Name = Str((policy["metadata"] as JsonObject)?["name"]),
            Policy = policy,
            FailurePolicy = failurePolicy,
            ParamKind = paramKind,
            Compiler = compiler,
            MatchConditions = new MatchConditions(spec["matchConditions"] as JsonArray, failurePolicy, withAuthorizer, compiler),
            Validations = [.. Objects(spec["validations"]).Select(v => new CompiledValidation(
                compiler.Compile(Str(v["expression"]), withAuthorizer, AdmissionCelCompiler.Bool),
                Str(v["messageExpression"]) is { Length: > 0 } me ? compiler.Compile(me, withoutAuthorizer, AdmissionCelCompiler.String) : null,
                Str(v["message"]), v["reason"] is JsonValue r ? Str(r) : null))],
            AuditAnnotations = [.. Objects(spec["auditAnnotations"]).Select(a => new CompiledAuditAnnotation(Str(a["key"]),
                compiler.Compile(Str(a["valueExpression"]), withAuthorizer, AdmissionCelCompiler.StringOrNull)))],
        };
    }

    internal static IEnumerable<JsonObject> Objects(JsonNode? n) => n is JsonArray a ? a.OfType<JsonObject>() : [];
    internal static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue(out string? s) ? s : "";
}
