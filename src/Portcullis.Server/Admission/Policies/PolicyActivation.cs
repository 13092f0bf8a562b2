using System.Text.Json.Nodes;
using Portcullis.Cel;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// What one evaluation sees (apiserver pkg/admission/plugin/cel/activation.go evaluationActivation with the
/// composition context of composition.go): the fixed variables, and <c>variables.&lt;name&gt;</c> evaluated lazily
/// on first use and cached for this activation (lazy.MapValue), their cost collected for the caller to charge.
/// </summary>
internal sealed class PolicyActivation : IActivation
{
    private readonly Dictionary<string, CelValue> _vars = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<NamedExpression> _variables;
    private readonly Dictionary<string, CelValue> _computed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _inProgress = new(StringComparer.Ordinal);
    private long _compositionCost;

    public PolicyActivation(PolicyInput input, JsonObject? param, bool withParams, IReadOnlyList<NamedExpression> variables,
        bool withNamespace = true)
    {
        _variables = variables;
        _vars[PolicyCelEnvironment.ObjectVar] = CelJson.FromJson(input.Object);
        _vars[PolicyCelEnvironment.OldObjectVar] = CelJson.FromJson(input.OldObject);
        // Plain maps: the declared object types are for the checker; binding through them would escape
        // the field names (request.namespace is no schema property to escape).
        _vars[PolicyCelEnvironment.RequestVar] = CelJson.FromJson(input.Request);
        _vars[PolicyCelEnvironment.NamespaceVar] = withNamespace ? PolicyCelEnvironment.NamespaceValue(input.Namespace) : CelNull.Instance;
        if (withParams) _vars[PolicyCelEnvironment.ParamsVar] = CelJson.FromJson(param); // params may be null
        if (input.Bindings is { } extra)
            foreach (var (k, v) in extra) _vars[k] = v;
    }

    /// <summary>The cost of the variables evaluated since the last call (GetAndResetCost).</summary>
    public long TakeCompositionCost()
    {
        var c = _compositionCost;
        _compositionCost = 0;
        return c;
    }

    public bool TryResolve(string name, out CelValue value)
    {
        if (_vars.TryGetValue(name, out value!)) return true;
        if (name == PolicyCelEnvironment.VariablesVar)
        {
            // the whole map asked for (e.g. passed to a function): every variable, in order
            var m = new CelMap();
            foreach (var v in _variables) m.TryAdd(new CelString(v.Name), Variable(v));
            value = m;
            return true;
        }
        if (name.StartsWith("variables.", StringComparison.Ordinal))
        {
            var field = name["variables.".Length..];
            foreach (var v in _variables)
                if (v.Name == field) { value = Variable(v); return true; }
        }
        value = null!;
        return false;
    }

    /// <summary>composition.go variableAccessor.Callback: the value, or upstream's error texts.</summary>
    private CelValue Variable(NamedExpression v)
    {
        if (_computed.TryGetValue(v.Name, out var cached)) return cached;
        if (v.Compiled.Error is { } err)
            return _computed[v.Name] = new CelError($"composited variable \"{v.Name}\" fails to compile: {err}");
        if (!_inProgress.Add(v.Name)) return new CelError($"composited variable \"{v.Name}\" fails to evaluate: cycle");
        try
        {
            var r = v.Compiled.Program!.Evaluate(this, PolicyEvaluator.CostOptions);
            _compositionCost = r.Cost > long.MaxValue ? long.MaxValue : _compositionCost + (long)r.Cost;
            var value = r.Value is CelError e ? new CelError($"composited variable \"{v.Name}\" fails to evaluate: {e.Message}") : r.Value;
            return _computed[v.Name] = value;
        }
        finally { _inProgress.Remove(v.Name); }
    }
}
