using Portcullis.Cel;

namespace Portcullis.Server.Admission.Cel;

/// <summary>Which optional variables an expression may use (upstream's OptionalVariableDeclarations).</summary>
public readonly record struct AdmissionCelOptions(bool HasParams, bool HasAuthorizer);

/// <summary>
/// One compiled expression (upstream's CompilationResult): the program, or the error as upstream words it
/// ("compilation failed: ERROR: &lt;input&gt;:1:1: ...", "must evaluate to bool but got int"), and the checked output type.
/// </summary>
public sealed record CompiledExpression(string Expression, CelProgram? Program, string? Error, CelType? OutputType);

/// <summary>
/// Compiles admission CEL (apiserver pkg/admission/plugin/cel compile.go and composition.go, kubernetes-1.33.0): the
/// Kubernetes base environment (<see cref="CelEnvironment.Kubernetes"/>, with the authz library) plus <c>object</c>,
/// <c>oldObject</c>, <c>request</c>, <c>namespaceObject</c>, optionally <c>params</c> and <c>authorizer</c> /
/// <c>authorizer.requestResource</c>, and <c>variables</c>: an object type (kubernetes.variables) whose fields are the
/// variables compiled so far, each typed by its expression (objects as dyn). One compiler per policy or webhook, as
/// upstream's CompositedCompiler; not thread-safe while compiling, read-only afterwards.
/// </summary>
/// <param name="objectType">The type of <c>object</c> and <c>oldObject</c> (dyn when null); the policy type checker gives a kind's schema type.</param>
/// <param name="paramsType">The type of <c>params</c> (dyn when null).</param>
public sealed class AdmissionCelCompiler(bool storedExpressions = false, CelType? objectType = null, CelType? paramsType = null)
{
    /// <summary>celconfig.PerCallLimit: the runtime cost one expression may spend.</summary>
    public const ulong PerCallLimit = 1_000_000;
    /// <summary>celconfig.RuntimeCELCostBudget: what a policy's expressions may spend on one request.</summary>
    public const long RuntimeCostBudget = 10_000_000;
    /// <summary>celconfig.RuntimeCELCostBudgetMatchConditions.</summary>
    public const long RuntimeCostBudgetMatchConditions = 2_500_000;

    private readonly Dictionary<string, CelType> _variableTypes = new(StringComparer.Ordinal);
    private readonly List<(string Name, CompiledExpression Result)> _variables = [];
    private readonly Dictionary<AdmissionCelOptions, CelEnvironment> _envs = [];
    private int _envVariableCount = -1;

    /// <summary>The variables in declaration order.</summary>
    public IReadOnlyList<(string Name, CompiledExpression Result)> Variables => _variables;

    public static readonly CelType[] Bool = [CelType.Bool];
    public static readonly CelType[] String = [CelType.String];
    /// <summary>An audit annotation's valueExpression: a string or null.</summary>
    public static readonly CelType[] StringOrNull = [CelType.String, CelType.Null];

    /// <summary>CompileAndStoreVariable: compiles the variable (any type) and adds it to <c>variables</c> for what follows.</summary>
    public CompiledExpression CompileVariable(string name, string expression, AdmissionCelOptions options)
    {
        var result = Compile(expression, options);
        _variableTypes[name] = DeclType(result.OutputType);
        _variables.RemoveAll(v => v.Name == name);
        _variables.Add((name, result));
        return result;
    }

    /// <summary>CompileCELExpression: compiles and checks the result type (none given: any type).</summary>
    public CompiledExpression Compile(string expression, AdmissionCelOptions options, params CelType[] returnTypes)
    {
        var env = Environment(options);
        if (!env.TryCompile(expression, out var program, out var issues))
            return new(expression, null, "compilation failed: " + string.Join("\n", issues), null);
        var output = program!.ResultType;
        if (returnTypes.Length > 0 && !returnTypes.Any(t => ExactType(output, t)))
        {
            var reason = returnTypes.Length == 1
                ? $"must evaluate to {GoString(returnTypes[0])} but got {GoString(output)}"
                : $"must evaluate to one of [{string.Join(' ', returnTypes.Select(GoString))}] but got {GoString(output)}";
            return new(expression, null, reason, output);
        }
        return new(expression, program, null, output);
    }

    /// <summary>cel-go's Type.String(): the declared name (null_type, google.protobuf.Timestamp), parameters in parentheses.</summary>
    private static string GoString(CelType t) =>
        t.Params.Count == 0 ? t.Name : $"{t.Name}({string.Join(", ", t.Params.Select(GoString))})";

    /// <summary>cel.Type IsExactType: the same type name and the same parameters, recursively.</summary>
    private static bool ExactType(CelType a, CelType b) =>
        a.Name == b.Name && a.IsTypeParam == b.IsTypeParam && a.Params.Count == b.Params.Count
        && a.Params.Zip(b.Params).All(p => ExactType(p.First, p.Second));

    /// <summary>convertCelTypeToDeclType: scalars, lists and maps keep their type; anything else (objects) is dyn.</summary>
    private static CelType DeclType(CelType? t)
    {
        if (t is null) return CelType.Dyn;
        return t.Name switch
        {
            "bool" or "bytes" or "double" or "google.protobuf.Duration" or "int" or "null_type" or "string"
                or "google.protobuf.Timestamp" or "uint" or "dyn" when t.Params.Count == 0 => t,
            "list" when t.Params.Count == 1 => CelType.ListOf(DeclType(t.Params[0])),
            "map" when t.Params.Count == 2 => CelType.MapOf(DeclType(t.Params[0]), DeclType(t.Params[1])),
            _ => CelType.Dyn,
        };
    }

    private CelEnvironment Environment(AdmissionCelOptions options)
    {
        if (_envVariableCount != _variableTypes.Count)
        {
            _envs.Clear();
            _envVariableCount = _variableTypes.Count;
        }
        if (_envs.TryGetValue(options, out var cached)) return cached;
        var env = CelEnvironment.Kubernetes();
        if (storedExpressions) KubernetesLibraries.AddSemver(env);
        env.DeclareVariable("object", objectType ?? CelType.Dyn)
           .DeclareVariable("oldObject", objectType ?? CelType.Dyn)
           .DeclareVariable("namespaceObject", AdmissionCelTypes.Namespace)
           .DeclareVariable("request", AdmissionCelTypes.Request)
           .DeclareVariable("variables", CelType.Object(AdmissionCelTypes.VariablesTypeName, new Dictionary<string, CelType>(_variableTypes)));
        if (options.HasParams) env.DeclareVariable("params", paramsType ?? CelType.Dyn);
        if (options.HasAuthorizer)
            env.DeclareVariable("authorizer", CelAuthorizer.AuthorizerType)
               .DeclareVariable("authorizer.requestResource", CelResourceCheck.ResourceCheckType);
        _envs[options] = env;
        return env;
    }
}
