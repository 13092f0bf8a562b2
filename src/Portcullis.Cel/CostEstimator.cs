namespace Portcullis.Cel;

/// <summary>cel-go checker.SizeEstimate: a size range, additions and products saturating at ulong.MaxValue.</summary>
public readonly record struct CelSizeEstimate(ulong Min, ulong Max)
{
    public static readonly CelSizeEstimate Unknown = new(0, ulong.MaxValue);
    public static CelSizeEstimate Fixed(ulong n) => new(n, n);
    public CelSizeEstimate Add(CelSizeEstimate o) => new(Sat.Add(Min, o.Min), Sat.Add(Max, o.Max));
    public CelSizeEstimate Multiply(CelSizeEstimate o) => new(Sat.Mul(Min, o.Min), Sat.Mul(Max, o.Max));
    public CelCostEstimate MultiplyByCostFactor(double f) => new(Sat.Factor(Min, f), Sat.Factor(Max, f));
    public CelCostEstimate MultiplyByCost(CelCostEstimate c) => new(Sat.Mul(Min, c.Min), Sat.Mul(Max, c.Max));
    public CelSizeEstimate Union(CelSizeEstimate o) => new(Math.Min(Min, o.Min), Math.Max(Max, o.Max));
}

/// <summary>cel-go checker.CostEstimate.</summary>
public readonly record struct CelCostEstimate(ulong Min, ulong Max)
{
    public static CelCostEstimate Fixed(ulong n) => new(n, n);
    public CelCostEstimate Add(CelCostEstimate o) => new(Sat.Add(Min, o.Min), Sat.Add(Max, o.Max));
    public CelCostEstimate Multiply(CelCostEstimate o) => new(Sat.Mul(Min, o.Min), Sat.Mul(Max, o.Max));
    public CelCostEstimate MultiplyByCostFactor(double f) => new(Sat.Factor(Min, f), Sat.Factor(Max, f));
    public CelCostEstimate Union(CelCostEstimate o) => new(Math.Min(Min, o.Min), Math.Max(Max, o.Max));
}

static class Sat
{
    public static ulong Add(ulong x, ulong y) => y > 0 && x > ulong.MaxValue - y ? ulong.MaxValue : x + y;
    public static ulong Mul(ulong x, ulong y) => y != 0 && x > ulong.MaxValue / y ? ulong.MaxValue : x * y;
    public static ulong Factor(ulong x, double y)
    {
        double xf = x;
        if (xf > 0 && y > 0 && xf > ulong.MaxValue / y) return ulong.MaxValue;
        double c = Math.Ceiling(xf * y);
        return c >= 18446744073709551616.0 ? ulong.MaxValue : (ulong)c;
    }
}

/// <summary>Options of <see cref="CelProgram.EstimateCost"/>.</summary>
public sealed class CelCostEstimateOptions
{
    /// <summary>cel-go checker.PresenceTestHasCost (Kubernetes: false).</summary>
    public bool PresenceTestHasCost { get; init; } = true;

    /// <summary>A size for a node by its path (cel-go CostEstimator.EstimateSize); consulted after the sizes
    /// declared on the environment.</summary>
    public Func<IReadOnlyList<string>, CelType, CelSizeEstimate?>? EstimateSize { get; init; }

    /// <summary>cel-go CostEstimator.EstimateCallCost: (function, target (null for a global call), args, sizer)
    /// → the call's own cost (without its arguments) and maybe its result size, or null for cel-go's
    /// standard estimate. The sizer gives a node's computed or estimated size.</summary>
    public Func<string, CelCostNode?, IReadOnlyList<CelCostNode>, Func<CelCostNode, CelSizeEstimate?>, CelCallEstimate?>? EstimateCallCost { get; init; }

    /// <summary>What kube-apiserver 1.33 estimates with: has() free, the Kubernetes library estimator
    /// (apiserver pkg/cel/library/cost.go), and sizes from <paramref name="estimateSize"/>.</summary>
    public static CelCostEstimateOptions Kubernetes(Func<IReadOnlyList<string>, CelType, CelSizeEstimate?>? estimateSize = null) => new()
    {
        PresenceTestHasCost = false,
        EstimateCallCost = KubernetesCostEstimate.EstimateCallCost,
        EstimateSize = estimateSize,
    };
}

/// <summary>cel-go checker.AstNode: a node's path (variable, fields, @items/@keys/@values), checked type,
/// expression (null for a synthesized element node) and computed size.</summary>
public sealed record CelCostNode(IReadOnlyList<string>? Path, CelType Type, Expr? Expr, CelSizeEstimate? ComputedSize);

/// <summary>cel-go checker.CallEstimate.</summary>
public readonly record struct CelCallEstimate(CelCostEstimate Cost, CelSizeEstimate? ResultSize = null);

/// <summary>cel-go v0.23.2 checker/cost.go over this engine's AST and checked types. Overloads are told apart by
/// the checked argument types, as the checker's overload resolution would.</summary>
internal sealed class CostEstimator(Func<Expr, CelType> typeOf, IReadOnlyDictionary<CallExpr, string> namespaced,
    IReadOnlyDictionary<string, CelSizeEstimate> declared, CelCostEstimateOptions options)
{
    sealed record EntrySize(bool IsList, CelSizeEstimate Key, CelSizeEstimate Val)
    {
        public static EntrySize? Union(EntrySize? a, EntrySize? b) =>
            a is null || b is null ? null : new EntrySize(a.IsList, a.Key.Union(b.Key), a.Val.Union(b.Val));
    }

    sealed record LocalVar(string[]? Path, CelSizeEstimate? Size, EntrySize? Entry);

    readonly Dictionary<Expr, string[]> _paths = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<Expr, CelSizeEstimate> _sizes = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<Expr, EntrySize> _entries = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<string, List<LocalVar>> _locals = new(StringComparer.Ordinal);

    static readonly CelCostEstimate One = CelCostEstimate.Fixed(1);

    /// <summary>Synthesized global calls stand for the receiver-form calls the checker typed.</summary>
    readonly Dictionary<Expr, Expr> _alias = new(ReferenceEqualityComparer.Instance);

    CelType T(Expr e) => typeOf(_alias.TryGetValue(e, out var o) ? o : e);

    public CelCostEstimate Cost(Expr? e) => e switch
    {
        null => default,
        ConstExpr => default,
        IdentExpr id => CostIdent(id),
        SelectExpr sel => CostSelect(sel),
        CallExpr call => CostCall(call),
        ListExpr list => CostList(list),
        MapExpr map => CostMap(map),
        StructExpr st => st.Fields.Aggregate(CelCostEstimate.Fixed(CelCost.StructCreateBaseCost), (s, f) => s.Add(Cost(f.Value))),
        ComprehensionExpr c => IsBind(c) ? CostBind(c) : CostComprehension(c),
        _ => default,
    };

    // ---- locals and paths ----

    void Push(string name, LocalVar v)
    {
        if (!_locals.TryGetValue(name, out var l)) _locals[name] = l = [];
        l.Add(v);
    }

    void Pop(string name) => _locals[name].RemoveAt(_locals[name].Count - 1);

    LocalVar? Peek(string name) => _locals.TryGetValue(name, out var l) && l.Count > 0 ? l[^1] : null;

    string[]? PathOf(Expr e)
    {
        if (e is IdentExpr id && Peek(id.Name) is { } v) return v.Path;
        return _paths.TryGetValue(e, out var p) ? p : null;
    }

    static string[] Append(string[]? p, string seg) => p is null ? [seg] : [.. p, seg];

    static bool IsAccumulator(string name) => name is Parser.AccumulatorName or "__result__";

    CelCostEstimate CostIdent(IdentExpr id)
    {
        _paths[id] = Peek(id.Name) is { } v ? v.Path ?? [] : [id.Name];
        return One;
    }

    CelCostEstimate CostSelect(SelectExpr sel)
    {
        var sum = default(CelCostEstimate);
        if (sel.TestOnly)
            return sum.Add(CelCostEstimate.Fixed(options.PresenceTestHasCost ? 1UL : 0)).Add(Cost(sel.Operand));
        sum = sum.Add(Cost(sel.Operand));
        var t = T(sel.Operand);
        if (t.Name == "map" || t.Fields is not null || t.IsTypeParam) sum = sum.Add(One);
        _paths[sel] = Append(PathOf(sel.Operand), sel.Field);
        return sum;
    }

    // ---- sizes ----

    CelSizeEstimate? ComputeSize(Expr e)
    {
        if (_sizes.TryGetValue(e, out var s)) return s;
        if (ExprSize(e) is { } es) return es;
        if (EstimateSize(e) is { } est)
        {
            _sizes[e] = est;
            return est;
        }
        if (IsScalar(T(e))) return CelSizeEstimate.Fixed(1);
        if (e is IdentExpr id && Peek(id.Name) is { Size: { } ls }) return ls;
        return null;
    }

    CelSizeEstimate? EstimateSize(Expr e)
    {
        var path = PathOf(e) ?? [];
        if (path.Length > 0 && declared.TryGetValue(string.Join('.', path), out var d)) return d;
        return options.EstimateSize?.Invoke(path, T(e));
    }

    static CelSizeEstimate? ExprSize(Expr e) => e switch
    {
        ConstExpr { Value: CelString s } => CelSizeEstimate.Fixed((ulong)CelCost.CodePoints(s.Value)),
        ConstExpr { Value: CelBytes b } => CelSizeEstimate.Fixed((ulong)b.Value.Length),
        ConstExpr { Value: CelBool or CelDouble or CelDuration or CelInt or CelTimestamp or CelUint or CelNull } => CelSizeEstimate.Fixed(1),
        ListExpr l => CelSizeEstimate.Fixed((ulong)l.Elements.Length),
        MapExpr m => CelSizeEstimate.Fixed((ulong)m.Entries.Length),
        _ => null,
    };

    static bool IsScalar(CelType t) => t.Name switch
    {
        "bool" or "double" or "google.protobuf.Duration" or "int" or "google.protobuf.Timestamp" or "uint" => !t.IsTypeParam,
        "optional_type" => t.Params.Count == 1 && IsScalar(t.Params[0]),
        _ => false,
    };

    CelSizeEstimate SizeOrUnknown(Expr e) => ComputeSize(e) ?? CelSizeEstimate.Unknown;

    EntrySize? EntryOf(Expr e)
    {
        if (_entries.TryGetValue(e, out var s)) return s;
        if (e is IdentExpr id && Peek(id.Name) is { Entry: { } le }) return le;
        return null;
    }

    void SetSize(Expr e, CelSizeEstimate? s)
    {
        if (s is { } v) _sizes[e] = v;
    }

    void SetEntry(Expr e, EntrySize? s)
    {
        if (s is not null) _entries[e] = s;
    }

    CelCostNode Node(Expr e)
    {
        var path = PathOf(e);
        if (path is { Length: > 0 } && IsAccumulator(path[0])) path = null;
        return new CelCostNode(path, T(e), e, ComputeSize(e));
    }

    /// <summary>A node's size: computed, else declared or estimated by path (cel-go AstNode + EstimateSize).</summary>
    CelSizeEstimate? SizeOf(CelCostNode n)
    {
        if (n.ComputedSize is { } c) return c;
        var path = n.Path ?? [];
        if (path.Count > 0 && declared.TryGetValue(string.Join('.', path), out var d)) return d;
        return options.EstimateSize?.Invoke(path, n.Type);
    }

    // ---- literals ----

    CelCostEstimate CostList(ListExpr list)
    {
        var sum = default(CelCostEstimate);
        var item = new CelSizeEstimate(list.Elements.Length == 0 ? 0 : ulong.MaxValue, 0);
        foreach (var el in list.Elements)
        {
            sum = sum.Add(Cost(el));
            item = item.Union(SizeOrUnknown(el));
        }
        _entries[list] = new EntrySize(true, CelSizeEstimate.Fixed(1), item);
        return sum.Add(CelCostEstimate.Fixed(CelCost.ListCreateBaseCost));
    }

    CelCostEstimate CostMap(MapExpr map)
    {
        var sum = default(CelCostEstimate);
        ulong min0 = map.Entries.Length == 0 ? 0 : ulong.MaxValue;
        var key = new CelSizeEstimate(min0, 0);
        var val = new CelSizeEstimate(min0, 0);
        foreach (var en in map.Entries)
        {
            sum = sum.Add(Cost(en.Key)).Add(Cost(en.Value));
            key = key.Union(SizeOrUnknown(en.Key));
            val = val.Union(SizeOrUnknown(en.Value));
        }
        _entries[map] = new EntrySize(false, key, val);
        return sum.Add(CelCostEstimate.Fixed(CelCost.MapCreateBaseCost));
    }

    // ---- comprehensions ----

    static bool IsBind(ComprehensionExpr c) => c.IterRange is ListExpr { Elements.Length: 0 }
        && c.LoopCondition is ConstExpr { Value: CelBool { Value: false } } && !IsAccumulator(c.AccuVar);

    CelCostEstimate CostBind(ComprehensionExpr c)
    {
        var sum = Cost(c.IterRange).Add(Cost(c.AccuInit));
        PushLocal(c.AccuVar, c.AccuInit);
        sum = sum.Add(Cost(c.Result));
        Pop(c.AccuVar);
        SetSize(c, ComputeSize(c.Result));
        SetEntry(c, EntryOf(c.Result));
        return sum;
    }

    void PushLocal(string name, Expr e) => Push(name, new LocalVar(PathOf(e), ComputeSize(e), EntryOf(e)));

    bool IsListRange(Expr range, EntrySize? entry) => entry is not null ? entry.IsList : T(range).Name == "list";

    CelCostEstimate CostComprehension(ComprehensionExpr c)
    {
        var sum = Cost(c.IterRange).Add(Cost(c.AccuInit));
        PushLocal(c.AccuVar, c.AccuInit);
        var entry = EntryOf(c.IterRange);
        bool isList = IsListRange(c.IterRange, entry);
        var path = PathOf(c.IterRange);
        if (c.IterVar2 is not null)
        {
            Push(c.IterVar, new LocalVar(Append(path, isList ? "@indices" : "@keys"), entry?.Key, null));
            Push(c.IterVar2, new LocalVar(Append(path, isList ? "@items" : "@values"), entry?.Val, null));
        }
        else
        {
            Push(c.IterVar, new LocalVar(Append(path, isList ? "@items" : "@keys"), isList ? entry?.Val : entry?.Key, null));
        }
        var loop = Cost(c.LoopCondition);
        var step = Cost(c.LoopStep);
        Pop(c.IterVar);
        if (c.IterVar2 is not null) Pop(c.IterVar2);
        sum = sum.Add(Cost(c.Result));
        Pop(c.AccuVar);
        var range = SizeOrUnknown(c.IterRange);
        sum = sum.Add(range.MultiplyByCost(step.Add(loop)));
        switch (c.AccuInit)
        {
            case ConstExpr:
                SetSize(c, ComputeSize(c.AccuInit));
                break;
            case ListExpr or MapExpr:
                SetSize(c, range);
                SetEntry(c, EntryOf(c.LoopStep));
                break;
        }
        return sum;
    }

    // ---- calls ----

    CelCostEstimate CostCall(CallExpr call)
    {
        // a namespaced global written as a receiver call is the global call
        if (namespaced.TryGetValue(call, out var full))
        {
            var global = new CallExpr(null, full, call.Args) { Id = call.Id, Offset = call.Offset };
            _alias[global] = call;
            var cost = CostCall(global);
            if (_sizes.TryGetValue(global, out var gs)) _sizes[call] = gs;
            if (_entries.TryGetValue(global, out var ge)) _entries[call] = ge;
            return cost;
        }
        if (call.Function == "dyn" && call.Target is null && call.Args.Length == 1)
        {
            var ac = Cost(call.Args[0]);
            SetSize(call, ComputeSize(call.Args[0]));
            SetEntry(call, EntryOf(call.Args[0]));
            return One.Add(ac);
        }
        var argCosts = new CelCostEstimate[call.Args.Length];
        for (int i = 0; i < call.Args.Length; i++) argCosts[i] = Cost(call.Args[i]);
        var sum = default(CelCostEstimate);
        if (call.Target is not null) sum = sum.Add(Cost(call.Target));
        var (fnCost, resultSize) = FunctionCost(call, argCosts);
        if (call.Function is "_[_]" && call.Target is null && call.Args.Length == 2)
        {
            var t = T(call.Args[0]).Name;
            if (t is "list" or "map")
            {
                resultSize = EntryOf(call.Args[0])?.Val;
                _paths[call] = Append(PathOf(call.Args[0]), t == "list" ? "@items" : "@values");
            }
        }
        resultSize ??= ComputeSize(call);
        SetSize(call, resultSize);
        return sum.Add(fnCost);
    }

    (CelCostEstimate Cost, CelSizeEstimate? Size) FunctionCost(CallExpr call, CelCostEstimate[] argCosts)
    {
        var argSum = argCosts.Aggregate(default(CelCostEstimate), (s, a) => s.Add(a));
        var args = call.Args;
        var target = call.Target;
        bool Is(Expr e, string name) => T(e).Name == name && !T(e).IsTypeParam;
        const double F = CelCost.StringTraversalCostFactor;
        // cel-go ext/sets.go overload estimators (before any estimator): |a|·|b|·factor + 1
        if (call.Function is "sets.contains" or "sets.intersects" or "sets.equivalent" && target is null && args.Length == 2)
        {
            var prod = SizeOrUnknown(args[0]).Multiply(SizeOrUnknown(args[1]));
            return (new CelCostEstimate(prod.Min, prod.Max).MultiplyByCostFactor(call.Function == "sets.equivalent" ? 2 : 1)
                .Add(One).Add(argSum), null);
        }
        if (options.EstimateCallCost is { } hook)
        {
            var targetNode = target is null ? null : Node(target);
            var argNodes = args.Select(Node).ToArray();
            if (hook(call.Function, targetNode, argNodes, SizeOf) is { } est)
                return (est.Cost.Add(argSum), est.ResultSize);
        }
        switch (call.Function)
        {
            case "format" when target is not null && Is(target, "string"):
            case "startsWith" or "endsWith" when target is not null && Is(target, "string") && args.Length == 1:
                return (SizeOrUnknown(target is not null && call.Function == "format" ? target : args[0]).MultiplyByCostFactor(F).Add(argSum), null);
            case "bytes" when target is null && args.Length == 1 && Is(args[0], "string"):
            {
                var sz = SizeOrUnknown(args[0]);
                return (sz.MultiplyByCostFactor(F).Add(argSum), new CelSizeEstimate(sz.Min, Sat.Mul(sz.Max, 4)));
            }
            case "string" when target is null && args.Length == 1 && Is(args[0], "bytes"):
            {
                var sz = SizeOrUnknown(args[0]);
                return (sz.MultiplyByCostFactor(F).Add(argSum), new CelSizeEstimate(sz.Min / 4, sz.Max));
            }
            case "strings.quote" when args.Length == 1:
            {
                var sz = SizeOrUnknown(args[0]);
                return (sz.MultiplyByCostFactor(F).Add(argSum), new CelSizeEstimate(Sat.Add(sz.Min, 2), Sat.Add(Sat.Mul(sz.Max, 2), 2)));
            }
            case "@in" when args.Length == 2 && Is(args[1], "list"):
                return (SizeOrUnknown(args[1]).MultiplyByCostFactor(1).Add(argSum), null);
            case "matches" when target is not null && args.Length == 1 && Is(target, "string"):
            {
                var str = SizeOrUnknown(target).Add(CelSizeEstimate.Fixed(1)).MultiplyByCostFactor(F);
                var re = SizeOrUnknown(args[0]).MultiplyByCostFactor(CelCost.RegexStringLengthCostFactor);
                return (str.Multiply(re).Add(argSum), null);
            }
            case "contains" when target is not null && args.Length == 1 && Is(target, "string"):
            {
                var str = SizeOrUnknown(target).MultiplyByCostFactor(F);
                var sub = SizeOrUnknown(args[0]).MultiplyByCostFactor(F);
                return (str.Multiply(sub).Add(argSum), null);
            }
            case "_&&_" or "_||_" when args.Length == 2:
                return (new CelCostEstimate(argCosts[0].Min, argCosts[0].Add(argCosts[1]).Max), null);
            case "_?_:_" when args.Length == 3:
            {
                var size = SizeOrUnknown(args[1]).Union(SizeOrUnknown(args[2]));
                SetEntry(call, EntrySize.Union(EntryOf(args[1]), EntryOf(args[2])));
                return (argCosts[0].Add(argCosts[1].Union(argCosts[2])), size);
            }
            case "_+_" when args.Length == 2 && (Is(args[0], "string") || Is(args[0], "bytes") || Is(args[0], "list")):
            {
                var size = SizeOrUnknown(args[0]).Add(SizeOrUnknown(args[1]));
                if (EntrySize.Union(EntryOf(args[0]), EntryOf(args[1])) is { } es) SetEntry(call, es);
                return Is(args[0], "list")
                    ? (One.Add(argSum), size)
                    : (size.MultiplyByCostFactor(F).Add(argSum), size);
            }
            case "_<_" or "_>_" or "_<=_" or "_>=_" when args.Length == 2 && (Is(args[0], "string") || Is(args[0], "bytes")):
            case "_==_" or "_!=_" when args.Length == 2:
            {
                var l = SizeOrUnknown(args[0]);
                var r = SizeOrUnknown(args[1]);
                ulong smallestMax = Math.Min(l.Max, r.Max);
                return (new CelCostEstimate(smallestMax > 0 ? 1UL : 0, smallestMax).MultiplyByCostFactor(F).Add(argSum), null);
            }
        }
        return (One.Add(argSum), null);
    }
}
