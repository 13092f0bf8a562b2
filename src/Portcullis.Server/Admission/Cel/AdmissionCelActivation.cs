using System.Text.Json.Nodes;
using Portcullis.Cel;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;

namespace Portcullis.Server.Admission.Cel;

/// <summary>One expression's outcome (upstream's EvaluationResult): its value, or an error text.</summary>
public sealed record CelEvaluation(CompiledExpression Expression, CelValue? Value, string? Error);

/// <summary>Thrown when the expressions of one evaluation ran out of their shared cost budget (upstream's ErrOutOfBudget).</summary>
public sealed class CelBudgetExceededException(string message) : Exception(message);

/// <summary>
/// The variables admission expressions see for one request (apiserver pkg/admission/plugin/cel activation.go and the
/// composition context): <c>object</c>, <c>oldObject</c>, <c>params</c> (null when absent), <c>request</c>,
/// <c>namespaceObject</c>, <c>authorizer</c> and <c>authorizer.requestResource</c> (when an authorizer is given), and
/// <c>variables</c>, each variable evaluated once, on first use, its cost charged to the next expression's budget.
/// </summary>
public sealed class AdmissionCelActivation : IActivation
{
    private readonly Dictionary<string, CelValue> _values = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<(string Name, CompiledExpression Result)> _variables;
    private readonly Dictionary<string, CelValue> _variableValues = new(StringComparer.Ordinal);
    private long _variableCost;

    public AdmissionCelActivation(AdmissionCelInput input, AdmissionCelCompiler? compiler = null)
    {
        _variables = compiler?.Variables ?? [];
        _values["object"] = ToCel(input.Object);
        _values["oldObject"] = ToCel(input.OldObject);
        _values["params"] = ToCel(input.Params);
        _values["request"] = CelJson.FromJson(input.Request);
        _values["namespaceObject"] = ToCel(input.NamespaceObject);
        if (input.Authorizer is { } authorizer)
        {
            var celAuthorizer = new CelAuthorizer(input.User, authorizer);
            _values["authorizer"] = celAuthorizer;
            _values["authorizer.requestResource"] = celAuthorizer.RequestResource(
                input.Resource.Group, input.Resource.Resource, input.Subresource, input.Namespace, input.Name);
        }
    }

    private static CelValue ToCel(JsonObject? o) => o is null ? CelValue.Null : CelJson.FromJson(o);

    public bool TryResolve(string name, out CelValue value)
    {
        if (_values.TryGetValue(name, out value!)) return true;
        if (name == "variables")
        {
            var map = new CelMap();
            foreach (var (n, _) in _variables) map.TryAdd(new CelString(n), Variable(n));
            value = map;
            return true;
        }
        if (name.StartsWith("variables.", StringComparison.Ordinal) && _variables.Any(v => v.Name == name[10..]))
        {
            value = Variable(name[10..]);
            return true;
        }
        value = null!;
        return false;
    }

    /// <summary>variableAccessor.Callback: evaluated once; a failure is the variable's error value.</summary>
    private CelValue Variable(string name)
    {
        if (_variableValues.TryGetValue(name, out var cached)) return cached;
        var result = _variables.Last(v => v.Name == name).Result;
        CelValue value;
        if (result.Program is null)
            value = new CelError($"composited variable \"{name}\" fails to compile: {result.Error}");
        else
        {
            var eval = result.Program.Evaluate(this, CelCostOptions.Kubernetes(AdmissionCelCompiler.PerCallLimit));
            _variableCost = Saturating(_variableCost, eval.Cost);
            value = eval.Value is CelError e ? new CelError($"composited variable \"{name}\" fails to evaluate: {e.Message}") : eval.Value;
        }
        _variableValues[name] = value;
        return value;
    }

    private static long Saturating(long a, ulong b) => b > (ulong)(long.MaxValue - a) ? long.MaxValue : a + (long)b;

    /// <summary>
    /// evaluationActivation.Evaluate: evaluates one expression, charging its cost (and that of the variables it made
    /// evaluate) to <paramref name="remainingBudget"/>. Running out of budget throws <see cref="CelBudgetExceededException"/>
    /// (upstream stops every further expression); a compile or evaluation error is the result's Error.
    /// </summary>
    public CelEvaluation Evaluate(CompiledExpression expression, ref long remainingBudget)
    {
        if (expression.Program is null)
            return new(expression, null, $"compilation error: {expression.Error}");
        var eval = expression.Program.Evaluate(this, CelCostOptions.Kubernetes(AdmissionCelCompiler.PerCallLimit));
        var compositionCost = _variableCost;
        _variableCost = 0;
        if (compositionCost > remainingBudget) throw OutOfBudget();
        remainingBudget -= compositionCost;
        if (eval.Cost > long.MaxValue || (long)eval.Cost > remainingBudget) throw OutOfBudget();
        remainingBudget -= (long)eval.Cost;
        if (eval.Value is CelError error)
            return new(expression, null, $"expression '{expression.Expression}' resulted in error: {error.Message}");
        return new(expression, eval.Value, null);
    }

    private static CelBudgetExceededException OutOfBudget() =>
        new("validation failed due to running out of cost budget, no further validation rules will be run");
}

/// <summary>The request as admission CEL sees it, converted to the version the webhook or policy matched.</summary>
public sealed record AdmissionCelInput(
    JsonObject? Object, JsonObject? OldObject, JsonObject? Params, JsonObject Request, JsonObject? NamespaceObject,
    CelAuthzUser User, ICelAuthorizer? Authorizer,
    Api.GroupVersionResource Resource, string Subresource, string Namespace, string Name)
{
    /// <summary>
    /// The input for a request and what it matched: the object (none on DELETE) and old object (none on CREATE) in the
    /// matched version, the request object (CreateAdmissionRequest), and the namespace as CreateNamespaceObject trims it.
    /// </summary>
    public static AdmissionCelInput From(AdmissionRequest r, MatchedResource matched, JsonObject? @params = null,
        JsonObject? namespaceObject = null, ICelAuthorizer? authorizer = null)
    {
        var obj = r.Operation == Operation.Delete ? null : AdmissionMatcher.Convert(r.Object, r.Resource, matched.Definition);
        var old = r.Operation == Operation.Create ? null : AdmissionMatcher.Convert(r.OldObject, r.Resource, matched.Definition);
        return new(obj, old, @params, AdmissionCelRequest.ToJson(r, matched), namespaceObject is null ? null : AdmissionCelRequest.NamespaceObject(namespaceObject),
            ToCelUser(r.User), authorizer, r.GroupVersionResource, r.Subresource, r.Namespace, r.Name);
    }

    public static CelAuthzUser ToCelUser(UserInfo u) => new(u.Name, u.Uid, u.Groups, u.Extra);
}

/// <summary>The server's authorizer (RBAC and the rest of the chain) behind the CEL authz library.</summary>
public sealed class CelAuthorizerAdapter(IAuthorizer authorizer) : ICelAuthorizer
{
    public CelAuthzDecision Authorize(CelAuthzAttributes a)
    {
        var user = new UserInfo(a.User.Name, a.User.Uid, a.User.Groups, a.User.Extra);
        var attributes = new AuthorizationAttributes(user, new Verb(a.Verb), a.ResourceRequest, a.Path, a.Namespace, a.Group, a.Version,
            a.Resource, a.Subresource, a.Name);
        var pending = authorizer.AuthorizeAsync(attributes);
        var result = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        return new CelAuthzDecision(result.Decision == Decision.Allow, result.Reason, null);
    }
}
