using System.Text.Json.Nodes;
using Portcullis.Cel;

namespace Portcullis.Server.Admission.Policies;

/// <summary>One expression compiled: its program, or upstream's compile error (cel.CompilationResult).</summary>
public sealed record CompiledExpression(string Expression, CelProgram? Program, string? Error)
{
    public CelType? OutputType => Program?.ResultType;
}

/// <summary>A validation (ValidationCondition with its MessageExpressionCondition).</summary>
public sealed record CompiledValidation(CompiledExpression Condition, CompiledExpression? MessageExpression, string Message, string? Reason);

/// <summary>A named expression: a matchCondition, a variable, or an auditAnnotation (the key).</summary>
public sealed record NamedExpression(string Name, CompiledExpression Compiled);

/// <summary>
/// A ValidatingAdmissionPolicy compiled once for evaluation (validating/plugin.go compilePolicy): variables,
/// matchConditions, validations, audit annotations and message expressions, each compiled in upstream's
/// environment. An expression that does not compile is kept with its error: at evaluation it is an error
/// (upstream validation refuses such policies, so this only happens for stored objects).
/// </summary>
public sealed class CompiledPolicy
{
    public required string Name { get; init; }
    public required JsonObject Policy { get; init; }
    /// <summary>Fail (the default) or Ignore.</summary>
    public required string FailurePolicy { get; init; }
    /// <summary>spec.paramKind (apiVersion, kind), or null.</summary>
    public JsonObject? ParamKind { get; init; }
    public required IReadOnlyList<NamedExpression> Variables { get; init; }
    public required IReadOnlyList<NamedExpression> MatchConditions { get; init; }
    public required IReadOnlyList<CompiledValidation> Validations { get; init; }
    public required IReadOnlyList<NamedExpression> AuditAnnotations { get; init; }

    public bool HasParams => ParamKind is not null;

    public static CompiledPolicy Compile(JsonObject policy)
    {
        var spec = policy["spec"] as JsonObject ?? [];
        var paramKind = spec["paramKind"] as JsonObject;
        var variableTypes = new Dictionary<string, CelType>(StringComparer.Ordinal);
        var env = PolicyCelEnvironment.Create(paramKind is not null, variableTypes);
        var variables = new List<NamedExpression>();
        foreach (var v in Objects(spec["variables"]))
        {
            var name = Str(v["name"]);
            var compiled = CompileExpression(env, Str(v["expression"]), ReturnKind.Any);
            variables.Add(new NamedExpression(name, compiled));
            // composition.go CompileAndStoreVariable: the field's type is the output type (dyn when it failed)
            variableTypes[name] = compiled.OutputType ?? CelType.Dyn;
        }
        return new CompiledPolicy
        {
            Name = Str((policy["metadata"] as JsonObject)?["name"]),
            Policy = policy,
            FailurePolicy = Str(spec["failurePolicy"]) is { Length: > 0 } fp ? fp : "Fail",
            ParamKind = paramKind,
            Variables = variables,
            MatchConditions = [.. Objects(spec["matchConditions"]).Select(m =>
                new NamedExpression(Str(m["name"]), CompileExpression(env, Str(m["expression"]), ReturnKind.Bool)))],
            Validations = [.. Objects(spec["validations"]).Select(v => new CompiledValidation(
                CompileExpression(env, Str(v["expression"]), ReturnKind.Bool),
                Str(v["messageExpression"]) is { Length: > 0 } me ? CompileExpression(env, me, ReturnKind.String) : null,
                Str(v["message"]), v["reason"] is JsonValue r ? Str(r) : null))],
            AuditAnnotations = [.. Objects(spec["auditAnnotations"]).Select(a =>
                new NamedExpression(Str(a["key"]), CompileExpression(env, Str(a["valueExpression"]), ReturnKind.StringOrNull)))],
        };
    }

    /// <summary>What an expression must evaluate to (ExpressionAccessor.ReturnTypes).</summary>
    public enum ReturnKind { Bool, String, StringOrNull, Any }

    /// <summary>compile.go CompileCELExpression: "compilation failed: " with cel-go's issues, or the return type error.</summary>
    public static CompiledExpression CompileExpression(CelEnvironment env, string expression, ReturnKind kind)
    {
        if (!env.TryCompile(expression, out var program, out var issues))
            return new CompiledExpression(expression, null, "compilation failed: " + string.Join("\n", issues));
        var output = program!.ResultType;
        var ok = kind switch
        {
            ReturnKind.Bool => output.Name == "bool",
            ReturnKind.String => output.Name == "string",
            ReturnKind.StringOrNull => output.Name is "string" or "null_type",
            _ => true,
        };
        if (ok) return new CompiledExpression(expression, program, null);
        var got = GoTypeString(output);
        var reason = kind switch
        {
            ReturnKind.Bool => $"must evaluate to bool but got {got}",
            ReturnKind.String => $"must evaluate to string but got {got}",
            _ => $"must evaluate to one of [string null_type] but got {got}",
        };
        return new CompiledExpression(expression, null, reason);
    }

    /// <summary>cel-go's *types.Type String(): like the checker's rendering, but null is null_type.</summary>
    internal static string GoTypeString(CelType t) => t.Name == "null_type" ? "null_type" : t.ToString();

    internal static IEnumerable<JsonObject> Objects(JsonNode? n) => n is JsonArray a ? a.OfType<JsonObject>() : [];
    internal static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue(out string? s) ? s : "";
}
