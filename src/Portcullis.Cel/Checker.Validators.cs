namespace Portcullis.Cel;

// The checker's literal validators (cel-go cel/validator.go), which Kubernetes enables.
internal sealed partial class Checker
{
    // ---------- validators (cel-go cel/validator.go, which Kubernetes enables) ----------

    static IEnumerable<Expr> Children(Expr e) => e switch
    {
        SelectExpr s => [s.Operand],
        CallExpr c => c.Target is null ? c.Args : [c.Target, .. c.Args],
        ListExpr l => l.Elements,
        MapExpr m => m.Entries.SelectMany(en => new[] { en.Key, en.Value }),
        StructExpr st => st.Fields.Select(f => f.Value),
        ComprehensionExpr c => [c.IterRange, c.AccuInit, c.LoopCondition, c.LoopStep, c.Result],
        _ => [],
    };

    /// <summary>List and map literals must have elements of one exact type, except inside the strings
    /// extension's format call (cel-go's HomogeneousAggregateLiteralExemptFunctions).</summary>
    void ValidateHomogeneous(Expr e, bool exempt)
    {
        if (!exempt)
        {
            if (e is ListExpr list)
            {
                CelType? first = null;
                for (int i = 0; i < list.Elements.Length; i++)
                {
                    var t = FinalType(list.Elements[i]);
                    if (list.Optional[i] && t.Name == "optional_type" && t.Params.Count == 1) t = t.Params[0];
                    if (first is null) { first = t; continue; }
                    if (first.ToString() != t.ToString())
                    {
                        Error(list.Elements[i], $"expected type '{first}' but found '{t}'");
                        break;
                    }
                }
            }
            else if (e is MapExpr map)
            {
                CelType? kt = null, vt = null;
                foreach (var en in map.Entries)
                {
                    var k = FinalType(en.Key);
                    var v = FinalType(en.Value);
                    if (en.Optional && v.Name == "optional_type" && v.Params.Count == 1) v = v.Params[0];
                    if (kt is null) { kt = k; vt = v; continue; }
                    if (kt.ToString() != k.ToString()) Error(en.Key, $"expected type '{kt}' but found '{k}'");
                    if (vt!.ToString() != v.ToString()) Error(en.Value, $"expected type '{vt}' but found '{v}'");
                }
            }
        }
        bool childExempt = exempt || e is CallExpr { Function: "format" };
        foreach (var c in Children(e)) ValidateHomogeneous(c, childExempt);
    }

    /// <summary>duration(), timestamp() and matches() with a literal argument: the literal must be valid
    /// ("invalid duration argument").</summary>
    void ValidateLiteralArguments(Expr e)
    {
        if (e is CallExpr { Function: "duration" or "timestamp" or "matches" } call && call.Args.Length > 0
            && call.Args[0] is ConstExpr { Value: var lit })
        {
            bool ok = call.Function switch
            {
                "duration" => lit is not CelString ds || Time.ParseDuration(ds.Value) is not null,
                "timestamp" => Std.Call("timestamp", false, [lit]) is not CelError,
                _ => lit is not CelString rs || Std.ValidRegex(rs.Value),
            };
            if (!ok) Error(call.Args[0], $"invalid {call.Function} argument");
        }
        foreach (var c in Children(e)) ValidateLiteralArguments(c);
    }

    CelType MinMax(CallExpr call, string fn, List<CelType> args)
    {
        IEnumerable<CelType> items = args;
        if (args.Count == 1 && Resolve(args[0]) is { Name: "list" } l && !l.IsTypeParam) items = [l.Params[0]];
        CelType? common = null;
        foreach (var t in items.Select(Resolve))
        {
            if (!(t.IsDyn || t.IsTypeParam || t.Name is "int" or "uint" or "double"))
            {
                Error(call, $"found no matching overload for '{fn}' applied to '({string.Join(", ", args.Select(a => Substitute(a, true)))})'");
                return CelType.Error;
            }
            common = common is null ? t : common.Name == t.Name ? common : CelType.Dyn;
        }
        return common ?? CelType.Dyn;
    }
}
