namespace Portcullis.Cel;

/// <summary>Variables visible to an evaluation.</summary>
public interface IActivation
{
    bool TryResolve(string name, out CelValue value);
}

/// <summary>A dictionary of variables; names may be qualified (<c>a.b.c</c>).</summary>
public sealed class Activation : IActivation
{
    public static readonly Activation Empty = new();
    readonly Dictionary<string, CelValue> _vars = new(StringComparer.Ordinal);
    readonly HashSet<string> _unknown = new(StringComparer.Ordinal);

    public Activation() { }
    public Activation(IEnumerable<KeyValuePair<string, CelValue>> vars)
    {
        foreach (var kv in vars) _vars[kv.Key] = kv.Value;
    }

    public Activation Set(string name, CelValue value)
    {
        _vars[name] = value;
        return this;
    }

    public bool TryResolve(string name, out CelValue value) => _vars.TryGetValue(name, out value!);
}

/// <summary>The tree-walking evaluator.</summary>
internal sealed class Interpreter(string container, FunctionRegistry functions)
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

    // ---- cost (cel-go interpreter/runtimecost.go): an attribute (a name with its selections and indexes)
    // costs 1 for its root plus 1 per qualifier; a computed operand of a selection or index adds the operand's
    // cost and 1 for the "relative" attribute made of it. An attribute that is a ternary branch has its root
    // resolved without cost, and an attribute used as an index is a qualifier (1) instead of a root.

    /// <summary>Whether cel-go plans the expression as an attribute (InterpretableAttribute).</summary>
    static bool IsAttribute(Expr e) => e switch
    {
        IdentExpr => true,
        SelectExpr { TestOnly: false } => true,
        CallExpr { Target: null, Function: "_[_]" or "_[?_]" or "_?._" or "_?_:_" } => true,
        _ => false,
    };

    /// <summary>Whether cel-go's OptOptimize folds the expression to a constant: literals, list and map literals
    /// of constants, and type conversions of a constant.</summary>
    static bool IsConstant(Expr e) => e switch
    {
        ConstExpr => true,
        ListExpr l => l.Optional.All(o => !o) && l.Elements.All(IsConstant),
        MapExpr m => m.Entries.All(en => !en.Optional && IsConstant(en.Key) && IsConstant(en.Value)),
        CallExpr { Target: null, Args: [var a] } c when IsConversion(c.Function) => IsConstant(a),
        _ => false,
    };

    static bool IsConversion(string fn) => fn is "int" or "uint" or "double" or "bool" or "bytes" or "string" or "type"
        or "timestamp" or "duration" or "dyn";

    static void Charge(Scope s, ulong cost) => s.Cost?.Add(cost);

    /// <summary>An attribute with or without the cost of its root.</summary>
    CelValue EvalAttribute(Expr e, Scope s, bool chargeRoot) => e switch
    {
        IdentExpr id => EvalIdent(id, s, chargeRoot),
        SelectExpr { TestOnly: false } sel => EvalSelect(sel, s, chargeRoot),
        CallExpr { Target: null, Function: "_[_]" or "_[?_]" or "_?._" } call => EvalIndex(call, s, chargeRoot),
        _ => Eval(e, s),
    };

    CelValue EvalIdent(IdentExpr id, Scope s, bool chargeRoot)
    {
        var v = ResolveName(id.Name, s) ?? new CelError($"no such attribute(s): {id.Name}");
        if (chargeRoot && v is not CelTypeValue) Charge(s, CelCost.SelectAndIdentCost);
        return v;
    }

    /// <summary>The operand of a selection or index: an attribute extends it (root charged as asked), any other
    /// expression is evaluated and becomes a relative attribute (charged as the root).</summary>
    CelValue EvalOperand(Expr operand, Scope s, bool chargeRoot)
    {
        if (IsAttribute(operand)) return EvalAttribute(operand, s, chargeRoot);
        var v = Eval(operand, s);
        if (chargeRoot) Charge(s, CelCost.SelectAndIdentCost);
        return v;
    }

    /// <summary>a[i], a[?i] and a.?f (the indexes and optional selection cel-go plans as qualifiers).</summary>
    CelValue EvalIndex(CallExpr call, Scope s, bool chargeRoot)
    {
        var operand = EvalOperand(call.Args[0], s, chargeRoot);
        var index = call.Args[1] is ConstExpr c ? c.Value
            : IsAttribute(call.Args[1]) ? EvalAttribute(call.Args[1], s, chargeRoot: false)
            : Eval(call.Args[1], s);
        Charge(s, 1); // the qualifier
        if (operand is CelUnknown || index is CelUnknown)
            return operand is CelUnknown ou ? (index is CelUnknown iu ? ou.Merge(iu) : ou) : index;
        if (operand is CelError) return operand;
        if (index is CelError) return index;
        return functions.Invoke(call.Function, false, [operand, index]);
    }

    CelValue EvalSelect(SelectExpr sel, Scope s, bool chargeRoot)
    {
        if (PlanFor(sel) is { } plan)
        {
            // a.b.c may name a variable "a.b.c", or "a.b" with field c, or "a" with fields b.c
            var r = ResolveQualified(plan, s);
            if (r is not null)
            {
                if (s.Cost is not null && r is not CelTypeValue)
                    Charge(s, (ulong)(plan.Parts.Length - 1) + (chargeRoot ? CelCost.SelectAndIdentCost : 0));
                return r;
            }
        }
        if (s.Cost is null)
        {
            var o = Eval(sel.Operand, s);
            return sel.TestOnly ? TestField(o, sel.Field) : SelectField(o, sel.Field);
        }
        if (sel.TestOnly)
        {
            // has(): the operand as an attribute, and the presence test itself as configured
            var o = EvalOperand(sel.Operand, s, chargeRoot: true);
            if (s.Cost.Options.PresenceTestHasCost) Charge(s, CelCost.SelectAndIdentCost);
            return TestField(o, sel.Field);
        }
        var operand = EvalOperand(sel.Operand, s, chargeRoot);
        Charge(s, 1); // the field qualifier
        return SelectField(operand, sel.Field);
    }

    CelValue? ResolveQualified(string q, Scope s) => ResolveQualified(BuildPlan(q), s);

    CelValue? ResolveQualified(QualifiedPlan plan, Scope s)
    {
        var parts = plan.Parts;
        // a comprehension variable shadows everything for its first segment
        if (!plan.Abs && s.TryLocal(parts[0], out var local))
        {
            CelValue v = local;
            for (int i = 1; i < parts.Length; i++) v = SelectField(v, parts[i]);
            return v;
        }
        for (int k = 0; k < plan.Candidates.Length; k++)
        {
            int n = parts.Length - k;
            CelValue? v = null;
            foreach (var name in plan.Candidates[k])
                if (s.Vars.TryResolve(name, out var pv)) { v = pv; break; }
            if (v is null && k == 0) v = plan.StaticValue;
            if (v is null) continue;
            for (int i = n; i < parts.Length; i++) v = SelectField(v, parts[i]);
            return v;
        }
        return null;
    }

    internal static CelValue SelectField(CelValue operand, string field)
    {
        switch (operand)
        {
            case CelMap m:
                return m.TryGet(new CelString(field), out var v) ? v : new CelError($"no such key: {field}");
            case CelOptional o:
                if (!o.HasValue) return o;
                var inner = o.Value! is CelMap om ? (om.TryGet(new CelString(field), out var ov) ? ov : null) : SelectField(o.Value!, field);
                return inner is null ? CelOptional.None : inner is CelError or CelUnknown ? inner : new CelOptional(inner);
            case CelError or CelUnknown:
                return operand;
            default:
                return new CelError($"type '{operand.Type.Name}' does not support field selection");
        }
    }

    static CelValue TestField(CelValue operand, string field) => operand switch
    {
        CelMap m => CelBool.Of(m.TryGet(new CelString(field), out _)),
        CelOptional o => o.HasValue ? TestField(o.Value!, field) : CelBool.False,
        CelError or CelUnknown => operand,
        _ => new CelError($"invalid type for field selection."),
    };

    CelValue EvalList(ListExpr list, Scope s)
    {
        if (s.Cost is { } ct && !(ct.Options.Optimize && IsConstant(list))) ct.Add(CelCost.ListCreateBaseCost);
        var items = new List<CelValue>(list.Elements.Length);
        for (int i = 0; i < list.Elements.Length; i++)
        {
            var v = Eval(list.Elements[i], s);
            if (v is CelError or CelUnknown) return v;
            if (list.Optional[i])
            {
                if (v is not CelOptional o) return new CelError("no such overload");
                if (o.HasValue) items.Add(o.Value!);
                continue;
            }
            items.Add(v);
        }
        return new CelList(items);
    }

    CelValue EvalMap(MapExpr map, Scope s)
    {
        if (s.Cost is { } ct && !(ct.Options.Optimize && IsConstant(map))) ct.Add(CelCost.MapCreateBaseCost);
        var m = new CelMap();
        foreach (var en in map.Entries)
        {
            var k = Eval(en.Key, s);
            if (k is CelError or CelUnknown) return k;
            var v = Eval(en.Value, s);
            if (v is CelError or CelUnknown) return v;
            if (!CelMap.IsValidKey(k)) return new CelError("unsupported key type");
            if (en.Optional)
            {
                if (v is not CelOptional o) return new CelError("no such overload");
                if (!o.HasValue) continue;
                v = o.Value!;
            }
            if (!m.TryAdd(k, v)) return new CelError($"Failed with repeated key: {Format.Debug(k)}");
        }
        return m;
    }

    /// <summary>Message literals: only the protobuf well-known types that CEL maps to its own values
    /// (wrappers, Value, Struct, ListValue, Duration, Timestamp); other messages are not supported.</summary>
    CelValue EvalStruct(StructExpr st, Scope s)
    {
        Charge(s, CelCost.StructCreateBaseCost);
        string? type = null;
        if (st.TypeName.StartsWith('.')) type = WellKnown.Contains(st.TypeName[1..]) ? st.TypeName[1..] : null;
        else
            foreach (var p in _prefixes)
                if (WellKnown.Contains(p + st.TypeName)) { type = p + st.TypeName; break; }
        if (type is null) return new CelError($"unknown type: {st.TypeName}");
        var fields = new Dictionary<string, CelValue>();
        foreach (var f in st.Fields)
        {
            var v = Eval(f.Value, s);
            if (v is CelError or CelUnknown) return v;
            if (f.Optional)
            {
                if (v is not CelOptional o) return new CelError("no such overload");
                if (!o.HasValue) continue;
                v = o.Value!;
            }
            fields[f.Field] = v;
        }
        CelValue? Field(string name) => fields.TryGetValue(name, out var v) ? v : null;
        foreach (var name in fields.Keys)
            if (!WellKnownFields(type).Contains(name)) return new CelError($"no such field: {name}");
        switch (type)
        {
            case "google.protobuf.Int32Value" or "google.protobuf.Int64Value":
            {
                var v = Field("value") ?? CelInt.Of(0);
                if (v is not CelInt i) return new CelError("no such overload");
                if (type.EndsWith("Int32Value") && (i.Value < int.MinValue || i.Value > int.MaxValue)) return new CelError("range error converting to int32");
                return v;
            }
            case "google.protobuf.UInt32Value" or "google.protobuf.UInt64Value":
            {
                var v = Field("value") ?? new CelUint(0);
                if (v is not CelUint u) return new CelError("no such overload");
                if (type.EndsWith("UInt32Value") && u.Value > uint.MaxValue) return new CelError("range error converting to uint32");
                return v;
            }
            case "google.protobuf.DoubleValue" or "google.protobuf.FloatValue":
            {
                var v = Field("value") ?? new CelDouble(0);
                if (v is not CelDouble d) return new CelError("no such overload");
                return type.EndsWith("FloatValue") ? new CelDouble((float)d.Value) : v;
            }
            case "google.protobuf.BoolValue": return (CelValue?)(Field("value") as CelBool) ?? (Field("value") is null ? CelBool.False : (CelValue)new CelError("no such overload"));
            case "google.protobuf.StringValue": return (CelValue?)(Field("value") as CelString) ?? (Field("value") is null ? new CelString("") : (CelValue)new CelError("no such overload"));
            case "google.protobuf.BytesValue": return (CelValue?)(Field("value") as CelBytes) ?? (Field("value") is null ? new CelBytes([]) : (CelValue)new CelError("no such overload"));
            case "google.protobuf.ListValue": return (CelValue?)(Field("values") as CelList) ?? (Field("values") is null ? CelList.Empty : (CelValue)new CelError("no such overload"));
            case "google.protobuf.Struct": return (CelValue?)(Field("fields") as CelMap) ?? (Field("fields") is null ? CelMap.Empty : (CelValue)new CelError("no such overload"));
            case "google.protobuf.Value":
                if (fields.Count == 0) return CelNull.Instance;
                var (k, val) = fields.First();
                return k switch
                {
                    "null_value" => CelNull.Instance,
                    "number_value" when val is CelDouble => val,
                    "string_value" when val is CelString => val,
                    "bool_value" when val is CelBool => val,
                    "struct_value" when val is CelMap => val,
                    "list_value" when val is CelList => val,
                    _ => new CelError("no such overload"),
                };
            case "google.protobuf.Duration" or "google.protobuf.Timestamp":
            {
                long sec = Field("seconds") is CelInt si ? si.Value : 0;
                long nanos = Field("nanos") is CelInt ni ? ni.Value : 0;
                if (type.EndsWith("Duration"))
                {
                    Int128 total = (Int128)sec * 1_000_000_000 + nanos;
                    return total > long.MaxValue || total < long.MinValue ? Std.DurationOverflow : new CelDuration((long)total);
                }
                return Time.Add(new CelTimestamp(0, 0), (Int128)sec * 1_000_000_000 + nanos) is { } ts ? ts : Std.TimestampOverflow;
            }
        }
        return new CelError($"unknown type: {st.TypeName}");
    }

    static readonly HashSet<string> WellKnown =
    [
        "google.protobuf.Int32Value", "google.protobuf.Int64Value", "google.protobuf.UInt32Value", "google.protobuf.UInt64Value",
        "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.BoolValue", "google.protobuf.StringValue",
        "google.protobuf.BytesValue", "google.protobuf.ListValue", "google.protobuf.Struct", "google.protobuf.Value",
        "google.protobuf.Duration", "google.protobuf.Timestamp",
    ];

    static string[] WellKnownFields(string type) => type switch
    {
        "google.protobuf.ListValue" => ["values"],
        "google.protobuf.Struct" => ["fields"],
        "google.protobuf.Value" => ["null_value", "number_value", "string_value", "bool_value", "struct_value", "list_value"],
        "google.protobuf.Duration" or "google.protobuf.Timestamp" => ["seconds", "nanos"],
        _ => ["value"],
    };

    CelValue EvalComprehension(ComprehensionExpr c, Scope s)
    {
        var range = Eval(c.IterRange, s);
        if (range is CelError or CelUnknown) return range;
        IEnumerable<KeyValuePair<CelValue, CelValue>> items;
        switch (range)
        {
            case CelList l:
                items = c.IterVar2 is null
                    ? l.Items.Select(v => new KeyValuePair<CelValue, CelValue>(v, v))
                    : l.Items.Select((v, i) => new KeyValuePair<CelValue, CelValue>(CelInt.Of(i), v));
                break;
            case CelMap m:
                items = m.Entries;
                break;
            default:
                return new CelError($"expression of type '{range.Type.Name}' cannot be range of a comprehension (must be list, map, or dynamic)");
        }
        var accScope = new Scope(s.Vars, c.AccuVar, Eval(c.AccuInit, s), s);
        var iterScope = new Scope(s.Vars, c.IterVar, null, accScope);
        var iter2Scope = c.IterVar2 is null ? null : new Scope(s.Vars, c.IterVar2, null, iterScope);
        var loopScope = iter2Scope ?? iterScope;
        // map/filter/transformList steps are "accu + [e]" (maybe under "f ? ... : accu"): append in place
        // instead of copying the list on every element (the accumulator is not visible to user code)
        var (appendCond, appendElem) = AppendStep(c);
        List<CelValue>? builder = null;
        if (appendElem is not null && accScope.Value is CelList { Items.Count: 0 })
        {
            builder = [];
            accScope.Value = new CelList(builder);
        }
        foreach (var item in items)
        {
            iterScope.Value = item.Key;
            if (iter2Scope is not null) iter2Scope.Value = item.Value;
            var cond = Eval(c.LoopCondition, loopScope);
            if (cond is CelBool { Value: false }) break;
            if (builder is not null)
            {
                if (appendCond is not null)
                {
                    var f = Eval(appendCond, loopScope);
                    if (f is CelBool { Value: false }) continue;
                    if (f is not CelBool)
                    {
                        // as cel-go's fold: the loop goes on with the error as the accumulator (and its cost)
                        accScope.Value = f is CelError or CelUnknown ? f : new CelError("no such overload");
                        builder = null;
                        continue;
                    }
                }
                if (s.Cost is { } ct)
                {
                    // the step accu + [e] that the builder stands for: the call, the accumulator, the list
                    ct.Add(1 + CelCost.SelectAndIdentCost);
                    if (!(ct.Options.Optimize && IsConstant(appendElem!))) ct.Add(CelCost.ListCreateBaseCost);
                }
                var v = Eval(appendElem!, loopScope);
                if (v is CelError or CelUnknown)
                {
                    accScope.Value = v;
                    builder = null;
                    continue;
                }
                builder.Add(v);
                continue;
            }
            accScope.Value = Eval(c.LoopStep, loopScope);
        }
        // the result sees the accumulator but not the iteration variables
        return Eval(c.Result, accScope);
    }

    /// <summary>For a step <c>accu + [e]</c> or <c>cond ? accu + [e] : accu</c>: (cond, e); else (null, null).</summary>
    static (Expr? Cond, Expr? Elem) AppendStep(ComprehensionExpr c)
    {
        Expr? Elem(Expr step) => step is CallExpr { Function: "_+_", Target: null, Args: [IdentExpr a, ListExpr { Elements: [var e], Optional: [false] }] }
            && a.Name == c.AccuVar ? e : null;
        if (Elem(c.LoopStep) is { } direct) return (null, direct);
        if (c.LoopStep is CallExpr { Function: "_?_:_", Args: [var cond, var then, IdentExpr other] } && other.Name == c.AccuVar
            && Elem(then) is { } e2)
            return (cond, e2);
        return (null, null);
    }

    CelValue EvalCall(CallExpr call, Scope s)
    {
        string fn = call.Function;
        switch (fn)
        {
            case "_&&_": return And(Eval(call.Args[0], s), call.Args[1], s);
            case "_||_": return Or(Eval(call.Args[0], s), call.Args[1], s);
            case "_?_:_":
            {
                var cond = Eval(call.Args[0], s);
                return cond switch
                {
                    // a branch that is an attribute is resolved by the conditional attribute: its root is free
                    CelBool b => s.Cost is not null && IsAttribute(call.Args[b.Value ? 1 : 2])
                        ? EvalAttribute(call.Args[b.Value ? 1 : 2], s, chargeRoot: false)
                        : Eval(call.Args[b.Value ? 1 : 2], s),
                    CelError or CelUnknown => cond,
                    _ => new CelError("no such overload"),
                };
            }
            case "@not_strictly_false":
            {
                var v = Eval(call.Args[0], s);
                Charge(s, 1);
                return CelBool.Of(v is not CelBool { Value: false });
            }
            case "or" when call.Target is not null && call.Args.Length == 1:
            case "orValue" when call.Target is not null && call.Args.Length == 1:
            {
                // cel-go (cel/library.go decorateOptionalOr) replaces these calls with short-circuiting steps
                // that are no InterpretableCall: they cost nothing themselves
                var t = Eval(call.Target, s);
                if (t is CelError or CelUnknown) return t;
                if (t is not CelOptional o) return new CelError("no such overload");
                if (o.HasValue) return fn == "or" ? o : o.Value!;
                var alt = Eval(call.Args[0], s);
                if (fn == "or" && alt is not CelOptional and not CelError and not CelUnknown) return new CelError("no such overload");
                return alt;
            }
        }

        if (s.Cost is { } tracker)
        {
            if (call.Target is null && fn is "_[_]" or "_[?_]" or "_?._" && call.Args.Length == 2)
                return EvalIndex(call, s, chargeRoot: true);
            if (tracker.Options.Optimize)
            {
                // OptOptimize folds conversions of constants, and turns "x in [constants]" into a set lookup
                if (call.Target is null && IsConversion(fn) && call.Args.Length == 1 && IsConstant(call.Args[0]))
                    return Muted(tracker, () => Strict(fn, null, call.Args, s));
                if (fn == "@in" && call.Target is null && call.Args.Length == 2 && call.Args[1] is ListExpr list && IsConstant(list))
                {
                    if (list.Elements.Length == 0) return CelBool.False;
                    if (list.Elements.All(el => el is ConstExpr { Value: CelBool or CelInt or CelUint or CelDouble or CelString }))
                    {
                        var x = Eval(call.Args[0], s);
                        return Muted(tracker, () => Strict(fn, null, [new ConstExpr(x), call.Args[1]], s));
                    }
                }
            }
        }

        // namespaced global functions written as receiver calls: optional.of(x), math.greatest(...)
        if (call.Target is not null && QualifiedName(call.Target) is { } ns && functions.IsNamespacedGlobal(ns + "." + fn)
            && ResolveQualified(ns, s) is null)
        {
            return Strict(ns + "." + fn, null, call.Args, s);
        }
        return Strict(fn.StartsWith('.') ? fn[1..] : fn, call.Target, call.Args, s);
    }

    CelValue Strict(string fn, Expr? target, Expr[] argExprs, Scope s)
    {
        int n = argExprs.Length + (target is null ? 0 : 1);
        var args = new CelValue[n];
        int k = 0;
        if (target is not null) args[k++] = Eval(target, s);
        foreach (var a in argExprs) args[k++] = Eval(a, s);
        var result = Apply(fn, target is not null, args);
        // cel-go observes every call, also one that only passes an error or unknown argument on
        if (s.Cost is { } tracker) tracker.Add(tracker.CallCost(fn, target is not null, args, result));
        return result;
    }

    CelValue Apply(string fn, bool receiver, CelValue[] args)
    {
        CelUnknown? unknown = null;
        foreach (var a in args)
            if (a is CelUnknown u) unknown = unknown is null ? u : unknown.Merge(u);
        if (unknown is not null) return unknown;
        foreach (var a in args)
            if (a is CelError) return a;
        return functions.Invoke(fn, receiver, args);
    }

    static CelValue Muted(CostTracker tracker, Func<CelValue> f)
    {
        tracker.Mute();
        try { return f(); }
        finally { tracker.Unmute(); }
    }

    CelValue And(CelValue l, Expr right, Scope s)
    {
        if (l is CelBool { Value: false }) return l;
        var r = Eval(right, s);
        if (r is CelBool { Value: false }) return r;
        if (l is CelBool && r is CelBool) return CelBool.True;
        return Absorb(l, r);
    }

    CelValue Or(CelValue l, Expr right, Scope s)
    {
        if (l is CelBool { Value: true }) return l;
        var r = Eval(right, s);
        if (r is CelBool { Value: true }) return r;
        if (l is CelBool && r is CelBool) return CelBool.False;
        return Absorb(l, r);
    }

    static CelValue Absorb(CelValue l, CelValue r)
    {
        if (l is CelUnknown lu) return r is CelUnknown ru ? lu.Merge(ru) : lu;
        if (r is CelUnknown) return r;
        if (l is CelError) return l;
        if (r is CelError) return r;
        return new CelError("no such overload");
    }
}
