namespace Portcullis.Cel;

// List, map and struct literals, and comprehensions (the macros' loops).
internal sealed partial class Interpreter
{
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
}
