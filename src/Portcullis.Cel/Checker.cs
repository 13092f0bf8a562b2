namespace Portcullis.Cel;


/// <summary>
/// The type checker, after cel-go's checker: every expression gets a type; names must be declared;
/// calls must match an overload (with type parameters unified); field selections on object types must name
/// a field. Messages as cel-go's ("undeclared reference to 'x' (in container '')", "found no matching
/// overload for '_+_' applied to '(int, string)'", "undefined field 'x'").
/// </summary>
internal sealed partial class Checker
{
    readonly CelEnvironment _env;
    readonly string _src;
    readonly string[] _prefixes;
    readonly List<CelIssue> _issues = [];
    readonly Dictionary<string, CelType> _subst = new();
    int _nextVar;
    readonly List<(string Name, CelType Type)> _locals = [];

    Checker(CelEnvironment env, string src)
    {
        _env = env;
        _src = src;
        var list = new List<string>();
        if (!string.IsNullOrEmpty(env.Container))
        {
            var parts = env.Container.Split('.');
            for (int n = parts.Length; n > 0; n--) list.Add(string.Join('.', parts.Take(n)) + ".");
        }
        list.Add("");
        _prefixes = list.ToArray();
    }

    readonly Dictionary<Expr, CelType> _types = new(ReferenceEqualityComparer.Instance);

    public static CelType Check(CelEnvironment env, Expr ast, string source) => Check(env, ast, source, out _, out _);

    /// <summary>Namespaced global functions written as receiver calls (<c>sets.contains(a, b)</c>): their full names.</summary>
    readonly Dictionary<CallExpr, string> _namespaced = new(ReferenceEqualityComparer.Instance);

    /// <summary>Checks, and gives the final type of every node and the namespaced calls (for cost estimation).</summary>
    public static CelType Check(CelEnvironment env, Expr ast, string source, out Func<Expr, CelType> typeOf,
        out IReadOnlyDictionary<CallExpr, string> namespaced)
    {
        var c = new Checker(env, source);
        typeOf = c.FinalType;
        namespaced = c._namespaced;
        var t = c.Type(ast);
        if (c._issues.Count == 0)
        {
            if (env.HomogeneousAggregateLiterals) c.ValidateHomogeneous(ast, exempt: false);
            if (env.ValidateLiterals) c.ValidateLiteralArguments(ast);
        }
        if (c._issues.Count > 0) throw new CelCompileException(c._issues.OrderBy(i => i.Line).ThenBy(i => i.Column).ToArray());
        return c.Substitute(t, paramsToDyn: true);
    }

    internal static CelType? TypeByName(string name) => name switch
    {
        "int" => CelType.Int, "uint" => CelType.Uint, "double" => CelType.Double, "bool" => CelType.Bool,
        "string" => CelType.String, "bytes" => CelType.Bytes, "null_type" => CelType.Null, "dyn" => CelType.Dyn,
        "google.protobuf.Duration" => CelType.Duration, "google.protobuf.Timestamp" => CelType.Timestamp,
        _ => null,
    };

    // ---------- errors ----------

    void Error(Expr e, string message) => Error(e.Offset, message);

    void Error(int offset, string message)
    {
        int line = 1, lineStart = 0;
        for (int i = 0; i < offset && i < _src.Length; i++)
            if (_src[i] == '\n') { line++; lineStart = i + 1; }
        int lineEnd = _src.IndexOf('\n', lineStart);
        string text = lineEnd < 0 ? _src[lineStart..] : _src[lineStart..lineEnd];
        _issues.Add(new CelIssue(line, offset - lineStart + 1, message, text));
    }

    // ---------- types and unification ----------

    CelType NewVar() => CelType.Param("_var" + _nextVar++);

    CelType Resolve(CelType t)
    {
        while (t.IsTypeParam && _subst.TryGetValue(t.Name, out var s)) t = s;
        return t;
    }

    CelType Substitute(CelType t, bool paramsToDyn)
    {
        t = Resolve(t);
        if (t.IsTypeParam) return paramsToDyn ? CelType.Dyn : t;
        if (t.Params.Count == 0) return t;
        var ps = t.Params.Select(p => Substitute(p, paramsToDyn)).ToArray();
        return t.Name switch
        {
            "list" => CelType.ListOf(ps[0]),
            "map" => CelType.MapOf(ps[0], ps[1]),
            "type" => CelType.TypeOf(ps[0]),
            "optional_type" => CelType.OptionalOf(ps[0]),
            _ => new CelType(t.Name, ps),
        };
    }

    bool Occurs(string param, CelType t)
    {
        t = Resolve(t);
        if (t.IsTypeParam) return t.Name == param;
        return t.Params.Any(p => Occurs(param, p));
    }

    /// <summary>Whether a value of type <paramref name="source"/> can be used where <paramref name="target"/>
    /// is expected, binding type parameters on the way (cel-go's isAssignable).</summary>
    bool Assignable(CelType target, CelType source)
    {
        // try on a copy of the substitutions so a failed match leaves none behind
        var saved = new Dictionary<string, CelType>(_subst);
        if (Assign(target, source)) return true;
        _subst.Clear();
        foreach (var kv in saved) _subst[kv.Key] = kv.Value;
        return false;
    }

    bool Assign(CelType t1, CelType t2)
    {
        t1 = Resolve(t1);
        t2 = Resolve(t2);
        if (t1.IsTypeParam && t2.IsTypeParam && t1.Name == t2.Name) return true;
        if (t2.IsTypeParam)
        {
            if (Occurs(t2.Name, t1)) return false;
            _subst[t2.Name] = t1;
            return true;
        }
        if (t1.IsTypeParam)
        {
            if (Occurs(t1.Name, t2)) return false;
            _subst[t1.Name] = t2;
            return true;
        }
        if (t1.IsDyn || t2.IsDyn || t1.IsError || t2.IsError) return true;
        if (t1.Name == "null_type") return t2.Name is "null_type" or "wrapper" || t2.Fields is not null;
        if (t2.Name == "null_type") return t1.Name == "wrapper" || t1.Fields is not null;
        // protobuf wrapper types (google.protobuf.Int64Value ...) hold their primitive or null
        if (t1.Name == "wrapper" && t2.Name != "wrapper") return Assign(t1.Params[0], t2);
        if (t2.Name == "wrapper" && t1.Name != "wrapper") return Assign(t1, t2.Params[0]);
        if (t1.Name == "type") return t2.Name == "type";
        if (t1.Name != t2.Name || t1.Params.Count != t2.Params.Count) return false;
        for (int i = 0; i < t1.Params.Count; i++)
            if (!Assign(t1.Params[i], t2.Params[i])) return false;
        return true;
    }

    bool ExactlyEqual(CelType a, CelType b)
    {
        a = Substitute(a, false);
        b = Substitute(b, false);
        return a.ToString() == b.ToString() && a.IsTypeParam == b.IsTypeParam;
    }

    // ---------- expressions ----------

    CelType Type(Expr e)
    {
        var t = TypeOf(e);
        _types[e] = t;
        return t;
    }

    CelType FinalType(Expr e) => _types.TryGetValue(e, out var t) ? Substitute(t, paramsToDyn: true) : CelType.Dyn;

    CelType TypeOf(Expr e) => e switch
    {
        ConstExpr c => c.Value switch
        {
            CelInt => CelType.Int, CelUint => CelType.Uint, CelDouble => CelType.Double, CelBool => CelType.Bool,
            CelString => CelType.String, CelBytes => CelType.Bytes, CelNull => CelType.Null,
            _ => CelType.Dyn,
        },
        IdentExpr id => Ident(id),
        SelectExpr sel => Select(sel),
        CallExpr call => Call(call),
        ListExpr list => List(list),
        MapExpr map => Map(map),
        StructExpr st => Struct(st),
        ComprehensionExpr comp => Comprehension(comp),
        _ => CelType.Dyn,
    };

    CelType? LookupLocal(string name)
    {
        for (int i = _locals.Count - 1; i >= 0; i--)
            if (_locals[i].Name == name) return _locals[i].Type;
        return null;
    }

    /// <summary>A declared variable or a type name, tried in the container's scopes.</summary>
    CelType? LookupName(string name)
    {
        if (!name.StartsWith('.') && !name.Contains('.') && LookupLocal(name) is { } local) return local;
        if (name.StartsWith('.'))
        {
            string abs = name[1..];
            return _env.Variables.TryGetValue(abs, out var av) ? av : TypeName(abs) ?? LibraryTypeName(abs);
        }
        foreach (var p in _prefixes)
            if (_env.Variables.TryGetValue(p + name, out var v)) return v;
        foreach (var p in _prefixes)
            if ((TypeName(p + name) ?? LibraryTypeName(p + name)) is { } t) return t;
        return null;
    }

    /// <summary>A type a library declared (net.IP, kubernetes.Quantity ...), as a type value.</summary>
    CelType? LibraryTypeName(string name) => _env.Functions.TypeNamed(name) is { } t ? CelType.TypeOf(t) : null;

    static CelType? TypeName(string name)
    {
        if (name == "google.protobuf.NullValue.NULL_VALUE") return CelType.Int;
        return name switch
        {
            "list" => CelType.TypeOf(CelType.ListOf(CelType.Dyn)),
            "map" => CelType.TypeOf(CelType.MapOf(CelType.Dyn, CelType.Dyn)),
            "type" => CelType.TypeOf(CelType.TypeOf(CelType.Dyn)),
            "optional_type" => CelType.TypeOf(CelType.OptionalOf(CelType.Dyn)),
            _ => TypeByName(name) is { } t ? CelType.TypeOf(t) : null,
        };
    }

    CelType Ident(IdentExpr id)
    {
        if (LookupName(id.Name) is { } t) return t;
        Error(id, $"undeclared reference to '{id.Name.TrimStart('.')}' (in container '{_env.Container}')");
        return CelType.Error;
    }

    static string? QualifiedName(Expr e) => e switch
    {
        IdentExpr i => i.Name,
        SelectExpr { TestOnly: false } s when QualifiedName(s.Operand) is { } p => p + "." + s.Field,
        _ => null,
    };

    CelType Select(SelectExpr sel)
    {
        if (!sel.TestOnly && QualifiedName(sel) is { } q && !(LookupLocal(q.Split('.')[0]) is not null) && LookupName(q) is { } qt)
            return qt;
        var result = SelectField(sel, sel.Operand, sel.Field, optional: false);
        return sel.TestOnly ? CelType.Bool : result;
    }

    CelType SelectField(Expr e, Expr operand, string field, bool optional)
    {
        var operandType = Resolve(Substitute(Type(operand), false));
        bool isOpt = false;
        var target = operandType;
        if (target.Name == "optional_type" && !target.IsTypeParam) { isOpt = true; target = Resolve(target.Params[0]); }
        CelType result;
        if (target.IsTypeParam)
        {
            Assignable(CelType.Dyn, target);
            result = CelType.Dyn;
        }
        else if (target.Name == "map" && target.Params.Count == 2) result = target.Params[1];
        else if (target.Fields is not null)
        {
            if (target.Fields.TryGetValue(field, out var ft)) result = ft;
            else
            {
                Error(e, $"undefined field '{field}'");
                result = CelType.Error;
            }
        }
        else
        {
            if (!target.IsDyn && !target.IsError) Error(e, $"type '{target}' does not support field selection");
            result = CelType.Dyn;
        }
        return isOpt || optional ? CelType.OptionalOf(result) : result;
    }

    CelType List(ListExpr list)
    {
        CelType? elems = null;
        for (int i = 0; i < list.Elements.Length; i++)
        {
            var et = Type(list.Elements[i]);
            if (list.Optional[i])
            {
                var r = Resolve(et);
                if (r.Name == "optional_type" && !r.IsTypeParam) et = r.Params[0];
                else if (!r.IsDyn) Error(list.Elements[i], $"expected type '{CelType.OptionalOf(et)}' but found '{et}'");
            }
            elems = Join(list.Elements[i], elems, et);
        }
        return CelType.ListOf(elems ?? NewVar());
    }

    CelType Map(MapExpr map)
    {
        CelType? keys = null, values = null;
        foreach (var en in map.Entries)
        {
            keys = Join(en.Key, keys, Type(en.Key));
            var vt = Type(en.Value);
            if (en.Optional)
            {
                var r = Resolve(vt);
                if (r.Name == "optional_type" && !r.IsTypeParam) vt = r.Params[0];
                else if (!r.IsDyn) Error(en.Value, $"expected type '{CelType.OptionalOf(vt)}' but found '{vt}'");
            }
            values = Join(en.Value, values, vt);
        }
        return CelType.MapOf(keys ?? NewVar(), values ?? NewVar());
    }

    CelType Join(Expr e, CelType? previous, CelType current)
    {
        if (previous is null) return current;
        if (Assignable(previous, current))
            return Resolve(previous).IsDyn || ExactlyEqual(previous, current) ? previous : LessSpecific(previous, current);
        return CelType.Dyn;
    }

    CelType LessSpecific(CelType a, CelType b) => Resolve(b).IsDyn ? b : a;

    CelType Struct(StructExpr st)
    {
        foreach (var f in st.Fields) Type(f.Value);
        string? wk = null;
        string n = st.TypeName.TrimStart('.');
        foreach (var p in st.TypeName.StartsWith('.') ? [""] : _prefixes)
            if (WellKnown(p + n) is { }) { wk = p + n; break; }
        if (wk is null && (TypeByName(n) is not null || n is "list" or "map" or "type"))
        {
            Error(st, $"'{n}' is not a message type");
            return CelType.Error;
        }
        if (wk is null)
        {
            Error(st, $"undeclared reference to '{n}' (in container '{_env.Container}')");
            return CelType.Error;
        }
        return WellKnown(wk)!;
    }

    static CelType? WellKnown(string name) => name switch
    {
        "google.protobuf.Int32Value" or "google.protobuf.Int64Value" => CelType.WrapperOf(CelType.Int),
        "google.protobuf.UInt32Value" or "google.protobuf.UInt64Value" => CelType.WrapperOf(CelType.Uint),
        "google.protobuf.DoubleValue" or "google.protobuf.FloatValue" => CelType.WrapperOf(CelType.Double),
        "google.protobuf.BoolValue" => CelType.WrapperOf(CelType.Bool),
        "google.protobuf.StringValue" => CelType.WrapperOf(CelType.String),
        "google.protobuf.BytesValue" => CelType.WrapperOf(CelType.Bytes),
        "google.protobuf.ListValue" => CelType.ListOf(CelType.Dyn),
        "google.protobuf.Struct" => CelType.MapOf(CelType.String, CelType.Dyn),
        "google.protobuf.Value" => CelType.Dyn,
        "google.protobuf.Duration" => CelType.Duration,
        "google.protobuf.Timestamp" => CelType.Timestamp,
        _ => null,
    };

    CelType Comprehension(ComprehensionExpr c)
    {
        var rangeType = Resolve(Substitute(Type(c.IterRange), false));
        var accuType = Type(c.AccuInit);
        CelType varType, var2Type = CelType.Dyn;
        if (rangeType.IsTypeParam || rangeType.IsDyn || rangeType.IsError)
        {
            Assignable(CelType.Dyn, rangeType);
            varType = CelType.Dyn;
        }
        else if (rangeType.Name == "list" && rangeType.Params.Count == 1)
        {
            varType = rangeType.Params[0];
            if (c.IterVar2 is not null) { var2Type = varType; varType = CelType.Int; }
        }
        else if (rangeType.Name == "map" && rangeType.Params.Count == 2)
        {
            varType = rangeType.Params[0];
            var2Type = rangeType.Params[1];
        }
        else
        {
            Error(c.IterRange, $"expression of type '{rangeType}' cannot be range of a comprehension (must be list, map, or dynamic)");
            varType = var2Type = CelType.Error;
        }
        _locals.Add((c.AccuVar, accuType));
        _locals.Add((c.IterVar, varType));
        if (c.IterVar2 is not null) _locals.Add((c.IterVar2, var2Type));
        var cond = Type(c.LoopCondition);
        if (!Assignable(CelType.Bool, cond)) Error(c.LoopCondition, $"expected type 'bool' but found '{Substitute(cond, true)}'");
        var step = Type(c.LoopStep);
        if (!Assignable(accuType, step)) Error(c.LoopStep, $"expected type '{Substitute(accuType, true)}' but found '{Substitute(step, true)}'");
        _locals.RemoveAt(_locals.Count - 1);
        if (c.IterVar2 is not null) _locals.RemoveAt(_locals.Count - 1);
        var result = Type(c.Result);
        _locals.RemoveAt(_locals.Count - 1);
        return Substitute(result, false);
    }

    CelType Call(CallExpr call)
    {
        string fn = call.Function;
        if (fn == "_?._" && call.Args.Length == 2 && call.Args[1] is ConstExpr { Value: CelString field })
            return SelectField(call, call.Args[0], field.Value, optional: true);

        // namespaced functions written as receiver calls: optional.of(x), math.greatest(...)
        Expr? target = call.Target;
        if (target is not null && QualifiedName(target) is { } ns && _env.Functions.IsNamespacedGlobal(ns + "." + fn) && LookupName(ns) is null)
        {
            fn = ns + "." + fn;
            target = null;
            _namespaced[call] = fn;
        }
        if (fn.StartsWith('.')) fn = fn[1..];

        var argTypes = new List<CelType>();
        if (target is not null) argTypes.Add(Type(target));
        foreach (var a in call.Args) argTypes.Add(Type(a));

        if (fn is "_&&_" or "_||_")
        {
            bool bad = false;
            for (int i = 0; i < argTypes.Count; i++)
                if (!Assignable(CelType.Bool, argTypes[i]))
                {
                    Error(call.Args[i], $"expected type 'bool' but found '{Substitute(argTypes[i], true)}'");
                    bad = true;
                }
            return bad ? CelType.Error : CelType.Bool;
        }
        if (fn is "math.greatest" or "math.least") return MinMax(call, fn, argTypes);

        var overloads = Overloads.For(fn, _env);
        if (overloads is null)
        {
            // a function with an implementation but no declared signature: any arguments, result dyn
            if (_env.Functions.Has(fn, target is not null)) return CelType.Dyn;
            Error(call, $"undeclared reference to '{fn}' (in container '{_env.Container}')");
            return CelType.Error;
        }
        CelType? result = null;
        foreach (var o in overloads ?? [])
        {
            if (o.IsMember != (target is not null) || o.Args.Count != argTypes.Count) continue;
            // fresh type variables for the overload's parameters
            var fresh = new Dictionary<string, CelType>();
            CelType Inst(CelType t)
            {
                if (t.IsTypeParam) return fresh.TryGetValue(t.Name, out var v) ? v : fresh[t.Name] = NewVar();
                if (t.Params.Count == 0) return t;
                var ps = t.Params.Select(Inst).ToArray();
                return t.Name switch
                {
                    "list" => CelType.ListOf(ps[0]), "map" => CelType.MapOf(ps[0], ps[1]),
                    "type" => CelType.TypeOf(ps[0]), "optional_type" => CelType.OptionalOf(ps[0]),
                    _ => new CelType(t.Name, ps),
                };
            }
            var oargs = o.Args.Select(Inst).ToArray();
            var ores = Inst(o.Result);
            var saved = new Dictionary<string, CelType>(_subst);
            bool ok = true;
            for (int i = 0; i < oargs.Length && ok; i++) ok = Assign(oargs[i], argTypes[i]);
            if (!ok)
            {
                _subst.Clear();
                foreach (var kv in saved) _subst[kv.Key] = kv.Value;
                continue;
            }
            var rt = Substitute(ores, false);
            if (result is null) result = rt;
            else if (!result.IsDyn && !ExactlyEqual(result, rt)) result = CelType.Dyn;
        }
        if (result is null)
        {
            var shown = argTypes.Select(t => Substitute(t, true).ToString()).ToList();
            string sig = target is not null
                ? shown[0] + ".(" + string.Join(", ", shown.Skip(1)) + ")"
                : "(" + string.Join(", ", shown) + ")";
            Error(call, $"found no matching overload for '{fn}' applied to '{sig}'");
            return CelType.Error;
        }
        return result;
    }
}
