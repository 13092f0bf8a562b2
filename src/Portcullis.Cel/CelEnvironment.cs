using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Cel;

/// <summary>The libraries beyond the standard definitions (cel-go's extension options).</summary>
[Flags]
public enum CelLibraries
{
    None = 0,
    /// <summary>ext.Strings (its version: <see cref="CelEnvironment.StringsVersion"/>).</summary>
    Strings = 1,
    /// <summary>ext.Math (math.greatest, math.abs, bit operations ...).</summary>
    Math = 2,
    /// <summary>ext.Encoders (base64.encode/decode).</summary>
    Encoders = 4,
    /// <summary>ext.Bindings (cel.bind).</summary>
    Bindings = 8,
    /// <summary>ext.Sets (sets.contains/equivalent/intersects).</summary>
    Sets = 16,
    /// <summary>ext.TwoVarComprehensions (all(i, v, p), transformList, transformMap ...).</summary>
    TwoVarComprehensions = 32,
    /// <summary>cel.OptionalTypes (optional.of, .?field, [?index] ...).</summary>
    Optionals = 64,
    /// <summary>cel.block / cel.index (cel-go's common subexpression form).</summary>
    Block = 128,
    All = ~0,
}

/// <summary>
/// The declarations an expression is compiled against: variables (with their types), extra functions,
/// the container (namespace) names resolve in, and whether macros are expanded.
/// </summary>
public sealed class CelEnvironment
{
    readonly Dictionary<string, CelType> _variables = new(StringComparer.Ordinal);
    internal readonly FunctionRegistry Functions = new();

    readonly Dictionary<string, List<CelOverload>> _overloads = new(StringComparer.Ordinal);

    public string Container { get; init; } = "";

    /// <summary>The extension libraries available (all by default, as the conformance suite expects).</summary>
    public CelLibraries Libraries { get; init; } = CelLibraries.All;

    /// <summary>ext.Strings version: 0 (charAt ... upperAscii), 1 (+ format, strings.quote), 2 (+ join),
    /// 3 (+ reverse). Kubernetes 1.33 uses 2.</summary>
    public int StringsVersion { get; init; } = 3;

    /// <summary>The environment of Kubernetes 1.33's CEL (apiserver pkg/cel/environment/base.go): strings
    /// version 2, sets, two-variable comprehensions and optionals; homogeneous literals and literal
    /// validation; and the Kubernetes libraries (<see cref="KubernetesLibraries"/>: lists, regex, quantity,
    /// IP and CIDR ...).</summary>
    public static CelEnvironment Kubernetes() => KubernetesLibraries.AddAll(new()
    {
        Libraries = CelLibraries.Strings | CelLibraries.Sets | CelLibraries.TwoVarComprehensions | CelLibraries.Optionals,
        StringsVersion = 2,
        HomogeneousAggregateLiterals = true,
        ValidateLiterals = true,
    });
    public bool EnableMacros { get; init; } = true;

    /// <summary>Type-check expressions on compile (cel-go's env.Compile); off, only parsing is done and
    /// undeclared variables are found at evaluation.</summary>
    public bool EnableChecker { get; init; } = true;

    /// <summary>List and map literals must have elements of one exact type, outside format() calls
    /// (cel.HomogeneousAggregateLiterals, a validator after type-checking, which Kubernetes enables);
    /// otherwise mixed elements make the literal's element type dyn.</summary>
    public bool HomogeneousAggregateLiterals { get; init; }

    /// <summary>Literal arguments of duration(), timestamp() and matches() are validated at compile time
    /// (cel-go's ValidateDurationLiterals/ValidateTimestampLiterals/ValidateRegexLiterals, which Kubernetes
    /// enables from 1.29): "invalid duration argument".</summary>
    public bool ValidateLiterals { get; init; }

    /// <summary>Declares an overload for the checker, e.g. <c>"string.isSorted() -> bool"</c> or
    /// <c>"quantity(string) -> Quantity"</c>. Functions with an implementation but no declaration
    /// check as returning dyn.</summary>
    public CelEnvironment DeclareFunction(string signature) => DeclareFunction(CelOverload.Parse(signature));

    public CelEnvironment DeclareFunction(CelOverload o)
    {
        if (!_overloads.TryGetValue(o.Function, out var list)) _overloads[o.Function] = list = [];
        list.Add(o);
        if (!o.IsMember && o.Function.Contains('.')) Functions.MarkNamespaced(o.Function);
        return this;
    }

    internal IReadOnlyList<CelOverload>? DeclaredOverloads(string function) =>
        _overloads.TryGetValue(function, out var list) ? list : null;

    public IReadOnlyDictionary<string, CelType> Variables => _variables;

    /// <summary>Declares a type of a library (an opaque type such as <c>net.IP</c>), so that its name is a type
    /// value in expressions.</summary>
    public CelEnvironment DeclareType(CelType type)
    {
        Functions.AddType(type);
        return this;
    }

    internal readonly Dictionary<string, CelSizeEstimate> Sizes = new(StringComparer.Ordinal);

    /// <summary>Declares the size range of the value at a path, for cost estimation: a variable name, then field
    /// names, <c>@items</c> (list elements), <c>@keys</c> / <c>@values</c> (map entries), as cel-go's AstNode.Path.
    /// Kubernetes passes maxLength / maxItems / maxProperties as {0, max}.</summary>
    public CelEnvironment DeclareSize(string path, CelSizeEstimate size)
    {
        Sizes[path] = size;
        return this;
    }

    public CelEnvironment DeclareVariable(string name, CelType type)
    {
        _variables[name] = type;
        return this;
    }

    /// <summary>Adds an overload of a global function (<c>f(x)</c>, or a namespaced <c>ns.f(x)</c>).</summary>
    public CelEnvironment AddFunction(string name, CelFunction implementation)
    {
        Functions.Add(name, receiver: false, implementation);
        return this;
    }

    /// <summary>Adds an overload of a receiver-style function (<c>x.f(y)</c>); the receiver is the first argument.</summary>
    public CelEnvironment AddMemberFunction(string name, CelFunction implementation)
    {
        Functions.Add(name, receiver: true, implementation);
        return this;
    }

    /// <summary>Parses an expression. Throws <see cref="CelCompileException"/> with cel-go style messages.</summary>
    public CelProgram Compile(string expression)
    {
        var ast = Parser.Parse(expression, EnableMacros, Libraries);
        Func<Expr, CelType>? typeOf = null;
        IReadOnlyDictionary<CallExpr, string>? namespaced = null;
        var type = EnableChecker ? Checker.Check(this, ast, expression, out typeOf, out namespaced) : CelType.Dyn;
        return new CelProgram(this, ast, expression, type) { TypeOf = typeOf, Namespaced = namespaced, Env = this };
    }

    /// <summary>Like <see cref="Compile"/>, but returns the issues instead of throwing.</summary>
    public bool TryCompile(string expression, out CelProgram? program, out IReadOnlyList<CelIssue> issues)
    {
        try
        {
            program = Compile(expression);
            issues = [];
            return true;
        }
        catch (CelCompileException e)
        {
            program = null;
            issues = e.Issues;
            return false;
        }
    }
}

/// <summary>A compiled expression; evaluate it any number of times, from any thread.</summary>
public sealed class CelProgram
{
    readonly Interpreter _interpreter;

    internal CelProgram(CelEnvironment env, Expr ast, string source, CelType resultType)
    {
        Ast = ast;
        Source = source;
        ResultType = resultType;
        _interpreter = new Interpreter(env.Container, env.Functions);
    }

    public Expr Ast { get; }

    /// <summary>The checked type of each node (null when the checker is off).</summary>
    internal Func<Expr, CelType>? TypeOf { get; init; }
    internal IReadOnlyDictionary<CallExpr, string>? Namespaced { get; init; }
    internal CelEnvironment? Env { get; init; }

    /// <summary>Estimates the cost before evaluation, as cel-go v0.23.2's checker.Cost does, with sizes from
    /// <see cref="CelEnvironment.DeclareSize"/> and <paramref name="options"/>. Needs the checker.</summary>
    public CelCostEstimate EstimateCost(CelCostEstimateOptions? options = null)
    {
        if (TypeOf is null) throw new InvalidOperationException("cost estimation needs a checked expression");
        return new CostEstimator(TypeOf, Namespaced!, Env!.Sizes, options ?? new CelCostEstimateOptions()).Cost(Ast);
    }

    /// <summary>The checked type of the expression (dyn when the checker is off).</summary>
    public CelType ResultType { get; }
    public string Source { get; }

    /// <summary>Evaluates; an evaluation error comes back as a <see cref="CelError"/> value, never as an
    /// exception (a regex that runs too long, or a fault in the engine, is an error value too).</summary>
    public CelValue Evaluate(IActivation activation)
    {
        try { return _interpreter.Evaluate(Ast, activation); }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException) { return new CelError("regular expression match timed out"); }
        catch (Exception e) when (e is not OutOfMemoryException) { return new CelError("internal error: " + e.Message); }
    }

    public CelValue Evaluate(IReadOnlyDictionary<string, CelValue> variables) => Evaluate(new Activation(variables));

    /// <summary>Evaluates and counts the runtime cost as cel-go v0.23.2 does (interpreter/runtimecost.go); with
    /// <see cref="CelCostOptions.Limit"/> set, stops once the cost passes it, with the error
    /// "operation cancelled: actual cost limit exceeded" and <see cref="CelEvalResult.LimitExceeded"/>.</summary>
    public CelEvalResult Evaluate(IActivation activation, CelCostOptions options)
    {
        var tracker = new CostTracker(options);
        try { return new CelEvalResult(_interpreter.Evaluate(Ast, activation, tracker), tracker.Cost, false); }
        catch (CostLimitExceededException) { return new CelEvalResult(new CelError(CelCost.LimitExceededMessage), tracker.Cost, true); }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException) { return new CelEvalResult(new CelError("regular expression match timed out"), tracker.Cost, false); }
        catch (Exception e) when (e is not OutOfMemoryException) { return new CelEvalResult(new CelError("internal error: " + e.Message), tracker.Cost, false); }
    }

    public CelEvalResult Evaluate(IReadOnlyDictionary<string, CelValue> variables, CelCostOptions options) =>
        Evaluate(new Activation(variables), options);
}

/// <summary>Conversions between System.Text.Json documents and CEL values (for CRD rules over <c>self</c>).</summary>
public static class CelJson
{
    /// <summary>Objects become maps with string keys, arrays lists, numbers int when integral (else double).</summary>
    public static CelValue FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null: return CelNull.Instance;
            case JsonObject o:
            {
                var m = new CelMap();
                foreach (var kv in o) m.TryAdd(new CelString(kv.Key), FromJson(kv.Value));
                return m;
            }
            case JsonArray a:
            {
                var items = new CelValue[a.Count];
                for (int i = 0; i < a.Count; i++) items[i] = FromJson(a[i]);
                return new CelList(items);
            }
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: return new CelString(v.GetValue<string>());
                    case JsonValueKind.True: return CelBool.True;
                    case JsonValueKind.False: return CelBool.False;
                    case JsonValueKind.Null: return CelNull.Instance;
                    case JsonValueKind.Number:
                        if (v.TryGetValue(out long l)) return CelInt.Of(l);
                        if (v.TryGetValue(out int i)) return CelInt.Of(i);
                        if (v.TryGetValue(out JsonElement el))
                        {
                            if (el.TryGetInt64(out long el64)) return CelInt.Of(el64);
                            return new CelDouble(el.GetDouble());
                        }
                        if (v.TryGetValue(out double d)) return Math.Floor(d) == d && Math.Abs(d) < 9e18 ? CelInt.Of((long)d) : new CelDouble(d);
                        return new CelDouble(v.GetValue<double>());
                    default: return CelNull.Instance;
                }
            default: return CelNull.Instance;
        }
    }

    /// <summary>
    /// Converts JSON to the CEL value of a declared type, as Kubernetes binds an object to its schema:
    /// an integral number where a double is declared becomes a double; a string where a timestamp,
    /// duration or bytes is declared (schema formats date-time, duration, byte) becomes one (a string that
    /// does not parse stays a string); object fields, list elements and map values follow their types.
    /// </summary>
    public static CelValue FromJson(JsonNode? node, CelType type)
    {
        var v = FromJson(node);
        return Coerce(v, type);
    }

    static readonly HashSet<string> Reserved =
    [
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import",
        "let", "loop", "package", "namespace", "return", "var", "void", "while",
    ];

    /// <summary>
    /// A schema property name as Kubernetes exposes it to CEL (apiserver pkg/cel/escaping.go): reserved words
    /// become <c>__name__</c>; "__", ".", "-", "/" become <c>__underscores__</c>, <c>__dot__</c>, <c>__dash__</c>,
    /// <c>__slash__</c>; null when the name cannot be an identifier (a leading digit, other characters).
    /// </summary>
    public static string? EscapeFieldName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) return null;
        if (Reserved.Contains(name)) return "__" + name + "__";
        var sb = new System.Text.StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c == '_' && i + 1 < name.Length && name[i + 1] == '_') { sb.Append("__underscores__"); i++; }
            else if (c == '.') sb.Append("__dot__");
            else if (c == '-') sb.Append("__dash__");
            else if (c == '/') sb.Append("__slash__");
            else if (char.IsAsciiLetterOrDigit(c) || c == '_') sb.Append(c);
            else return null;
        }
        return sb.ToString();
    }

    static CelValue Coerce(CelValue v, CelType type)
    {
        switch (v)
        {
            case CelInt i when type.Name == "double": return new CelDouble(i.Value);
            case CelString s when type.Name == "google.protobuf.Timestamp":
                return Time.ParseTimestamp(s.Value) is { } ts ? ts : v;
            case CelString s when type.Name == "google.protobuf.Duration":
                return Time.ParseDuration(s.Value) is { } d ? new CelDuration(d) : v;
            case CelString s when type.Name == "bytes":
                try { return new CelBytes(Convert.FromBase64String(s.Value)); }
                catch (FormatException) { return v; }
            case CelList l when type.Name == "list" && type.Params.Count == 1:
                return new CelList(l.Items.Select(x => Coerce(x, type.Params[0])).ToArray(), type.ListKind, type.MapKeys);
            case CelMap m when type.Fields is not null || (type.Name == "map" && type.Params.Count == 2):
            {
                var r = new CelMap();
                foreach (var kv in m.Entries)
                {
                    if (type.Fields is not null)
                    {
                        // object properties are selected by their escaped names (self.foo__dash__bar)
                        var key = kv.Key is CelString k && EscapeFieldName(k.Value) is { } esc ? new CelString(esc) : kv.Key;
                        var ft = key is CelString ks && type.Fields.TryGetValue(ks.Value, out var t) ? t : null;
                        r.TryAdd(key, ft is null ? kv.Value : Coerce(kv.Value, ft));
                    }
                    else r.TryAdd(kv.Key, Coerce(kv.Value, type.Params[1]));
                }
                return r;
            }
            default: return v;
        }
    }

    public static CelValue FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => FromObject(element),
        JsonValueKind.Array => new CelList(element.EnumerateArray().Select(FromJson).ToArray()),
        JsonValueKind.String => new CelString(element.GetString()!),
        JsonValueKind.Number => element.TryGetInt64(out long l) ? CelInt.Of(l) : new CelDouble(element.GetDouble()),
        JsonValueKind.True => CelBool.True,
        JsonValueKind.False => CelBool.False,
        _ => CelNull.Instance,
    };

    static CelMap FromObject(JsonElement element)
    {
        var m = new CelMap();
        foreach (var p in element.EnumerateObject()) m.TryAdd(new CelString(p.Name), FromJson(p.Value));
        return m;
    }

    /// <summary>The JSON form of a value (durations and timestamps as their strings, bytes as base64).</summary>
    public static JsonNode? ToJson(CelValue value) => value switch
    {
        CelNull => null,
        CelBool b => JsonValue.Create(b.Value),
        CelInt i => JsonValue.Create(i.Value),
        CelUint u => JsonValue.Create(u.Value),
        CelDouble d => JsonValue.Create(d.Value),
        CelString s => JsonValue.Create(s.Value),
        CelBytes b => JsonValue.Create(Convert.ToBase64String(b.Value)),
        CelList l => new JsonArray(l.Items.Select(ToJson).ToArray()),
        CelMap m => ToObject(m),
        CelDuration d => JsonValue.Create(Time.FormatDuration(d.Nanos)),
        CelTimestamp t => JsonValue.Create(Time.FormatTimestamp(t)),
        CelTypeValue t => JsonValue.Create(t.Value.Name),
        CelOptional o => o.HasValue ? ToJson(o.Value!) : null,
        _ => throw new ArgumentException($"{value.Type.Name} has no JSON form"),
    };

    static JsonObject ToObject(CelMap m)
    {
        var o = new JsonObject();
        foreach (var kv in m.Entries)
        {
            string key = kv.Key switch
            {
                CelString s => s.Value,
                _ => Format.Debug(kv.Key),
            };
            o[key] = ToJson(kv.Value);
        }
        return o;
    }
}
