using System.Globalization;
using System.Text;

namespace Portcullis.Cel;

// Macro expansion (has, all, exists, exists_one, map, filter and the extensions') and the parser's errors.
public sealed partial class Parser
{
    // ---------- macros ----------

    Expr MakeCall(int at, Expr? target, string fn, List<Expr> args, int open)
    {
        if (_macros)
        {
            var m = ExpandMacro(at, target, fn, args);
            if (m is not null) return m;
        }
        // cel-go places a call (global or receiver-style) at its opening parenthesis
        var call = Node(new CallExpr(target, fn, args.ToArray()), open);
        return call;
    }

    Expr? ExpandMacro(int at, Expr? target, string fn, List<Expr> args)
    {
        if (target is not null && fn is "optMap" or "optFlatMap" && args.Count == 2 && _libs.HasFlag(CelLibraries.Optionals))
        {
            if (args[0] is not IdentExpr { Name: var ov } || ov.StartsWith('.')) throw Error(args[0].Offset, $"{fn}() variable name must be a simple identifier");
            Expr bound = Bind(at, ov, Node(new CallExpr(target, "value", []), at), args[1]);
            if (fn == "optMap") bound = Node(new CallExpr(Node(new IdentExpr("optional"), at), "of", [bound]), at);
            return Call(at, "_?_:_", Node(new CallExpr(target, "hasValue", []), at), bound,
                Node(new CallExpr(Node(new IdentExpr("optional"), at), "none", []), at));
        }
        if (target is IdentExpr { Name: "cel" } && _libs.HasFlag(CelLibraries.Block))
        {
            // cel.block([e0, e1, ...], result) with cel.index(i) for ei and cel.iterVar/accuVar(i, j) for
            // comprehension variables: the form of cel-go's common subexpression elimination.
            if (fn is "index" && args.Count == 1 && args[0] is ConstExpr { Value: CelInt bi })
                return Node(new IdentExpr("@index" + bi.Value), at);
            if (fn is "iterVar" or "accuVar" && args.Count == 2 && args[0] is ConstExpr { Value: CelInt vi } && args[1] is ConstExpr { Value: CelInt vj })
                return Node(new IdentExpr($"@{(fn == "iterVar" ? "it" : "ac")}:{vi.Value}:{vj.Value}"), at);
            if (fn == "block" && args.Count == 2 && args[0] is ListExpr block)
            {
                Expr body = args[1];
                for (int i = block.Elements.Length - 1; i >= 0; i--) body = Bind(at, "@index" + i, block.Elements[i], body);
                return body;
            }
        }
        if (target is IdentExpr { Name: "cel" } && fn == "bind" && args.Count == 3 && _libs.HasFlag(CelLibraries.Bindings))
        {
            if (args[0] is not IdentExpr { Name: var bv } || bv.StartsWith('.')) throw Error(args[0].Offset, "cel.bind() variable names must be simple identifiers");
            return Bind(at, bv, args[1], args[2]);
        }
        if (target is null)
        {
            if (fn == "has" && args.Count == 1)
            {
                if (args[0] is not SelectExpr { TestOnly: false } s) throw Error(args[0].Offset, "invalid argument to has() macro");
                return Node(new SelectExpr(s.Operand, s.Field, true), at);
            }
            return null;
        }
        if (_libs.HasFlag(CelLibraries.TwoVarComprehensions) && ExpandTwoVarMacro(at, target, fn, args) is { } twoVar) return twoVar;
        switch (fn)
        {
            case "all" when args.Count == 2:
            case "exists" when args.Count == 2:
            case "exists_one" when args.Count == 2:
            case "existsOne" when args.Count == 2:
            case "map" when args.Count is 2 or 3:
            case "filter" when args.Count == 2:
                break;
            default:
                return null;
        }
        if (args[0] is not IdentExpr { Name: var v } || v.StartsWith('.'))
            throw Error(args[0].Offset, fn is "map" or "filter" ? "argument is not an identifier" : "argument must be a simple name");
        if (v is AccumulatorName or "__result__")
            throw Error(args[0].Offset, "iteration variable overwrites accumulator variable");
        Expr Acc() => Node(new IdentExpr(AccumulatorName), at);
        Expr Lit(CelValue c) => Node(new ConstExpr(c), at);
        switch (fn)
        {
            case "all":
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Lit(CelBool.True),
                    Call(at, "@not_strictly_false", Acc()), Call(at, "_&&_", Acc(), args[1]), Acc()), at);
            case "exists":
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Lit(CelBool.False),
                    Call(at, "@not_strictly_false", Call(at, "!_", Acc())), Call(at, "_||_", Acc(), args[1]), Acc()), at);
            case "exists_one":
            case "existsOne":
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Lit(CelInt.Of(0)), Lit(CelBool.True),
                    Call(at, "_?_:_", args[1], Call(at, "_+_", Acc(), Lit(CelInt.Of(1))), Acc()),
                    Call(at, "_==_", Acc(), Lit(CelInt.Of(1)))), at);
            case "map":
            {
                Expr fnExpr = args.Count == 3 ? args[2] : args[1];
                Expr step = Call(at, "_+_", Acc(), Node(new ListExpr([fnExpr], [false]), at));
                if (args.Count == 3) step = Call(at, "_?_:_", args[1], step, Acc());
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Node(new ListExpr([], []), at), Lit(CelBool.True), step, Acc()), at);
            }
            default: // filter
            {
                Expr step = Call(at, "_?_:_", args[1], Call(at, "_+_", Acc(), Node(new ListExpr([Node(new IdentExpr(v), at)], [false]), at)), Acc());
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Node(new ListExpr([], []), at), Lit(CelBool.True), step, Acc()), at);
            }
        }
    }

    /// <summary>cel-go's ext.TwoVarComprehensions (Kubernetes 1.32+): <c>all/exists/existsOne(i, v, p)</c>,
    /// <c>transformList(i, v, [filter,] e)</c>, <c>transformMap(k, v, [filter,] e)</c>,
    /// <c>transformMapEntry(k, v, [filter,] e)</c>.</summary>
    Expr? ExpandTwoVarMacro(int at, Expr target, string fn, List<Expr> args)
    {
        bool quantifier = fn is "all" or "exists" or "existsOne" or "exists_one" && args.Count == 3;
        bool transform = fn is "transformList" or "transformMap" or "transformMapEntry" && args.Count is 3 or 4;
        if (!quantifier && !transform) return null;
        if (args[0] is not IdentExpr { Name: var v1 } || v1.StartsWith('.')) throw Error(args[0].Offset, "argument must be a simple name");
        if (args[1] is not IdentExpr { Name: var v2 } || v2.StartsWith('.')) throw Error(args[1].Offset, "argument must be a simple name");
        if (v1 == v2) throw Error(args[1].Offset, $"duplicate variable name: {v1}");
        if (v1 is AccumulatorName or "__result__") throw Error(args[0].Offset, "iteration variable overwrites accumulator variable");
        if (v2 is AccumulatorName or "__result__") throw Error(args[1].Offset, "iteration variable overwrites accumulator variable");
        Expr Acc() => Node(new IdentExpr(AccumulatorName), at);
        Expr Lit(CelValue c) => Node(new ConstExpr(c), at);
        Expr Comp(Expr init, Expr cond, Expr step, Expr result) =>
            Node(new ComprehensionExpr(v1, target, AccumulatorName, init, cond, step, result, v2), at);
        switch (fn)
        {
            case "all":
                return Comp(Lit(CelBool.True), Call(at, "@not_strictly_false", Acc()), Call(at, "_&&_", Acc(), args[2]), Acc());
            case "exists":
                return Comp(Lit(CelBool.False), Call(at, "@not_strictly_false", Call(at, "!_", Acc())), Call(at, "_||_", Acc(), args[2]), Acc());
            case "existsOne":
            case "exists_one":
                return Comp(Lit(CelInt.Of(0)), Lit(CelBool.True),
                    Call(at, "_?_:_", args[2], Call(at, "_+_", Acc(), Lit(CelInt.Of(1))), Acc()),
                    Call(at, "_==_", Acc(), Lit(CelInt.Of(1))));
        }
        Expr? filter = args.Count == 4 ? args[2] : null;
        Expr body = args[^1];
        Expr step;
        Expr init;
        if (fn == "transformList")
        {
            init = Node(new ListExpr([], []), at);
            step = Call(at, "_+_", Acc(), Node(new ListExpr([body], [false]), at));
        }
        else
        {
            init = Node(new MapExpr([]), at);
            step = fn == "transformMap"
                ? Call(at, "cel.@mapInsert", Acc(), Node(new IdentExpr(v1), at), body)
                : Call(at, "cel.@mapInsert", Acc(), body);
        }
        if (filter is not null) step = Call(at, "_?_:_", filter, step, Acc());
        return Comp(init, Lit(CelBool.True), step, Acc());
    }

    /// <summary>A local binding, as cel-go's cel.bind: a comprehension over an empty list whose
    /// accumulator is the bound variable.</summary>
    Expr Bind(int at, string name, Expr init, Expr body) =>
        Node(new ComprehensionExpr("#unused", Node(new ListExpr([], []), at), name, init,
            Node(new ConstExpr(CelBool.False), at), Node(new IdentExpr(name), at), body), at);

    static CelCompileException RecursionLimit() =>
        new([new CelIssue(-1, 0, $"expression recursion limit exceeded: {MaxDepth}", "")]);

    /// <summary>The depth of the tree, without recursion.</summary>
    static int Depth(Expr root)
    {
        int max = 0;
        var stack = new Stack<(Expr E, int D)>();
        stack.Push((root, 1));
        while (stack.Count > 0)
        {
            var (e, d) = stack.Pop();
            if (d > max) max = d;
            if (d > MaxDepth) return d;
            switch (e)
            {
                case SelectExpr s: stack.Push((s.Operand, d + 1)); break;
                case CallExpr c:
                    if (c.Target is not null) stack.Push((c.Target, d + 1));
                    foreach (var a in c.Args) stack.Push((a, d + 1));
                    break;
                case ListExpr l: foreach (var x in l.Elements) stack.Push((x, d + 1)); break;
                case MapExpr m: foreach (var en in m.Entries) { stack.Push((en.Key, d + 1)); stack.Push((en.Value, d + 1)); } break;
                case StructExpr st: foreach (var f in st.Fields) stack.Push((f.Value, d + 1)); break;
                case ComprehensionExpr c:
                    stack.Push((c.IterRange, d + 1));
                    stack.Push((c.AccuInit, d + 1));
                    stack.Push((c.LoopCondition, d + 1));
                    stack.Push((c.LoopStep, d + 1));
                    stack.Push((c.Result, d + 1));
                    break;
            }
        }
        return max;
    }

    CelCompileException Error(int offset, string message)
    {
        int line = 1, lineStart = 0;
        for (int i = 0; i < offset && i < _src.Length; i++)
            if (_src[i] == '\n') { line++; lineStart = i + 1; }
        int lineEnd = _src.IndexOf('\n', lineStart);
        string text = lineEnd < 0 ? _src[lineStart..] : _src[lineStart..lineEnd];
        return new CelCompileException([new CelIssue(line, offset - lineStart + 1, message, text)]);
    }
}
