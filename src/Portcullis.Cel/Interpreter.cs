namespace Portcullis.Cel;

/// <summary>The tree-walking evaluator.</summary>
internal sealed partial class Interpreter(string container, FunctionRegistry functions)
{
    readonly string[] _prefixes = ContainerPrefixes(container);

    static string[] ContainerPrefixes(string container)
    {
        var list = new List<string>();
        if (!string.IsNullOrEmpty(container))
        {
            var parts = container.Split('.');
            for (int n = parts.Length; n > 0; n--) list.Add(string.Join('.', parts.Take(n)) + ".");
        }
        list.Add("");
        return list.ToArray();
    }

    /// <summary>Comprehension variables over the activation.</summary>
    sealed class Scope(IActivation vars, string? name = null, CelValue? value = null, Scope? parent = null, CostTracker? cost = null)
    {
        public readonly IActivation Vars = vars;
        /// <summary>The cost tracker of this evaluation, when it counts cost.</summary>
        public readonly CostTracker? Cost = parent?.Cost ?? cost;
        public readonly Scope? Parent = parent;
        public readonly string? Name = name;
        public CelValue? Value = value;

        public bool TryLocal(string n, out CelValue v)
        {
            for (var s = this; s is not null; s = s.Parent)
                if (s.Name == n) { v = s.Value!; return true; }
            v = null!;
            return false;
        }
    }

    public CelValue Evaluate(Expr e, IActivation vars) => Eval(e, new Scope(vars));

    /// <summary>Evaluates while counting cost into <paramref name="cost"/> (which throws
    /// <see cref="CostLimitExceededException"/> once past its limit).</summary>
    public CelValue Evaluate(Expr e, IActivation vars, CostTracker cost) => Eval(e, new Scope(vars, cost: cost));

    CelValue Eval(Expr e, Scope s)
    {
        switch (e)
        {
            case ConstExpr c: return c.Value;
            case IdentExpr id: return EvalIdent(id, s, chargeRoot: true);
            case SelectExpr sel: return EvalSelect(sel, s, chargeRoot: true);
            case CallExpr call: return EvalCall(call, s);
            case ListExpr list: return EvalList(list, s);
            case MapExpr map: return EvalMap(map, s);
            case StructExpr st: return EvalStruct(st, s);
            case ComprehensionExpr comp: return EvalComprehension(comp, s);
            default: return new CelError("unsupported expression");
        }
    }

    /// <summary>A name: a comprehension variable, a variable (tried in the container's scopes) or a type.</summary>
    CelValue? ResolveName(string name, Scope s)
    {
        if (name.StartsWith('.'))
        {
            string abs = name[1..];
            if (s.Vars.TryResolve(abs, out var av)) return av;
            return (TypeByName(abs) ?? functions.TypeNamed(abs)) is { } at ? new CelTypeValue(at) : null;
        }
        if (!name.Contains('.') && s.TryLocal(name, out var lv)) return lv;
        foreach (var p in _prefixes)
            if (s.Vars.TryResolve(p + name, out var v)) return v;
        return ResolveStatic(name);
    }

    /// <summary>A name that is no variable: a type name or the NullValue enum constant, in the container's scopes.</summary>
    CelValue? ResolveStatic(string name)
    {
        if (name.StartsWith('.')) return (TypeByName(name[1..]) ?? functions.TypeNamed(name[1..])) is { } at ? new CelTypeValue(at) : null;
        foreach (var p in _prefixes)
            if ((TypeByName(p + name) ?? functions.TypeNamed(p + name)) is { } t) return new CelTypeValue(t);
        foreach (var p in _prefixes)
            if (p + name == "google.protobuf.NullValue.NULL_VALUE") return CelInt.Of(0);
        return null;
    }

    internal static CelType? TypeByName(string name) => name switch
    {
        "int" => CelType.Int, "uint" => CelType.Uint, "double" => CelType.Double, "bool" => CelType.Bool,
        "string" => CelType.String, "bytes" => CelType.Bytes, "list" => CelType.List, "map" => CelType.Map,
        "null_type" => CelType.Null, "type" => CelType.TypeType, "optional_type" => CelType.Optional,
        "google.protobuf.Duration" => CelType.Duration, "google.protobuf.Timestamp" => CelType.Timestamp,
        _ => null,
    };

    static string? QualifiedName(Expr e) => e switch
    {
        IdentExpr i => i.Name,
        SelectExpr { TestOnly: false } s when QualifiedName(s.Operand) is { } p => p + "." + s.Field,
        _ => null,
    };

    /// <summary>How to resolve a qualified name <c>a.b.c</c>: its parts, and for each length of head (longest
    /// first) the candidate variable names in the container's scopes.</summary>
    sealed class QualifiedPlan(string[] parts, bool abs, string[][] candidates, CelValue? staticValue)
    {
        public readonly string[] Parts = parts;
        public readonly bool Abs = abs;
        public readonly string[][] Candidates = candidates;
        /// <summary>What the whole name means when no variable has it: a type or an enum constant.</summary>
        public readonly CelValue? StaticValue = staticValue;
    }

    static readonly object NotQualified = new();

    QualifiedPlan? PlanFor(SelectExpr sel)
    {
        var cached = sel.Plan;
        if (cached is QualifiedPlan p) return p;
        if (cached == NotQualified) return null;
        var plan = sel.TestOnly || QualifiedName(sel) is not { } q ? null : BuildPlan(q);
        sel.Plan = (object?)plan ?? NotQualified;
        return plan;
    }

    QualifiedPlan BuildPlan(string q)
    {
        bool abs = q.StartsWith('.');
        var parts = (abs ? q[1..] : q).Split('.');
        var candidates = new string[parts.Length][];
        for (int n = parts.Length; n >= 1; n--)
        {
            string head = string.Join('.', parts.Take(n));
            candidates[parts.Length - n] = abs ? [head] : _prefixes.Select(p => p + head).ToArray();
        }
        return new QualifiedPlan(parts, abs, candidates, ResolveStatic(q));
    }
}
