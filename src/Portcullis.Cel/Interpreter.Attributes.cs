namespace Portcullis.Cel;

// Names, selections and indexes (attributes) and their cost, as cel-go's interpreter/runtimecost.go counts it.
internal sealed partial class Interpreter
{
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
}
