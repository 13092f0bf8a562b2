namespace Portcullis.Cel;

// Function calls and the logical operators that absorb errors.
internal sealed partial class Interpreter
{
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
