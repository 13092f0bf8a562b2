using System.Globalization;
using System.Text;

namespace Portcullis.Cel.Tests.Conformance;

/// <summary>One SimpleTest of a cel-spec conformance file.</summary>
public sealed record ConformanceCase(string File, string Section, string Name, TpMessage Test)
{
    public string Id => $"{File}/{Section}/{Name}";
    public override string ToString() => Id;
}

public sealed record Outcome(bool Passed, string Detail);

/// <summary>Loads the cel-spec simple tests (tests/simple/testdata at v0.19.1) and runs them on our engine.</summary>
public static class ConformanceSuite
{
    public static string DataDir => Path.Combine(AppContext.BaseDirectory, "TestData", "cel-spec");

    static readonly Lazy<IReadOnlyList<ConformanceCase>> _cases = new(Load);
    static readonly Lazy<SkipList> _skips = new(() => SkipList.Load(Path.Combine(AppContext.BaseDirectory, "TestData", "conformance-skips.txt")));

    public static IReadOnlyList<ConformanceCase> Cases => _cases.Value;
    public static SkipList Skips => _skips.Value;

    static IReadOnlyList<ConformanceCase> Load()
    {
        var list = new List<ConformanceCase>();
        foreach (var path in Directory.GetFiles(DataDir, "*.textproto").Order(StringComparer.Ordinal))
        {
            var file = TextProtoReader.Parse(File.ReadAllText(path));
            string fileName = file.Text("name") ?? Path.GetFileNameWithoutExtension(path);
            var seen = new HashSet<string>();
            foreach (var section in file.Messages("section"))
            {
                string sectionName = section.Text("name") ?? "";
                foreach (var test in section.Messages("test"))
                {
                    string name = test.Text("name") ?? "";
                    string unique = name;
                    for (int k = 2; !seen.Add(sectionName + "/" + unique); k++) unique = name + "#" + k;
                    list.Add(new ConformanceCase(fileName, sectionName, unique, test));
                }
            }
        }
        return list;
    }

    public static Outcome Run(ConformanceCase c)
    {
        var t = c.Test;
        var env = new CelEnvironment
        {
            Container = t.Text("container") ?? "",
            EnableMacros = !t.Bool("disable_macros"),
            EnableChecker = !t.Bool("disable_check"),
        };
        foreach (var decl in t.Messages("type_env"))
        {
            string name = decl.Text("name") ?? "";
            if (decl.Message("ident") is { } ident)
            {
                var type = ExpectedValue.TypeFrom(ident.Message("type"));
                if (type is null) return new Outcome(false, $"declaration of {name}: unsupported type {ident.Message("type")}");
                env.DeclareVariable(name, type);
            }
            else if (decl.Message("function") is { } fn)
            {
                foreach (var o in fn.Messages("overloads"))
                {
                    var ps = o.Messages("params").Select(ExpectedValue.TypeFrom).ToList();
                    var rt = ExpectedValue.TypeFrom(o.Message("result_type"));
                    if (rt is null || ps.Any(p => p is null)) return new Outcome(false, $"declaration of {name}: unsupported types");
                    env.DeclareFunction(new CelOverload(name, o.Bool("is_instance_function"), ps.ToArray()!, rt));
                }
            }
        }
        var activation = new Activation();
        foreach (var b in t.Messages("bindings"))
        {
            string key = b.Text("key")!;
            var ev = b.Message("value");
            var v = ev?.Message("value");
            if (v is null) return new Outcome(false, $"binding {key}: only value bindings are supported");
            var cv = ExpectedValue.From(v);
            if (cv is null) return new Outcome(false, $"binding {key}: unsupported value {ev}");
            activation.Set(key, cv);
        }
        CelProgram program;
        try { program = env.Compile(t.Text("expr") ?? ""); }
        catch (CelCompileException e) { return new Outcome(false, "compile error: " + e.Message); }

        if (t.Message("typed_result") is { } typed && typed.Message("deduced_type") is { } deduced)
        {
            var want = ExpectedValue.TypeFrom(deduced);
            if (want is null) return new Outcome(false, $"deduced type not supported: {deduced}");
            if (want.ToString() != program.ResultType.ToString())
                return new Outcome(false, $"expected type {want}, checked {program.ResultType}");
            if (t.Bool("check_only") || typed.Message("result") is null) return new Outcome(true, "type " + program.ResultType);
        }

        CelValue result;
        try { result = program.Evaluate(activation); }
        catch (Exception e) { return new Outcome(false, "evaluation threw " + e); }

        if (t.Has("eval_error") || t.Has("any_eval_errors"))
            return result is CelError ? new Outcome(true, result.ToString()) : new Outcome(false, $"expected an error, got {result}");
        if (t.Has("unknown") || t.Has("any_unknowns"))
            return result is CelUnknown ? new Outcome(true, result.ToString()) : new Outcome(false, $"expected unknown, got {result}");
        CelValue? expected = t.Message("value") is { } ev2 ? ExpectedValue.From(ev2)
            : t.Message("typed_result")?.Message("result") is { } tr ? ExpectedValue.From(tr) : CelBool.True;
        if (expected is null) return new Outcome(false, $"expected value not supported: {t.Get("value")}");
        return ExpectedValue.Same(expected, result)
            ? new Outcome(true, result.ToString())
            : new Outcome(false, $"expected {expected}, got {result}");
    }
}

/// <summary>cel.expr.Value (text format) to our values; null when the value needs protobuf messages.</summary>
public static class ExpectedValue
{
    public static CelValue? From(TpMessage v)
    {
        if (v.Fields.Count == 0) return null;
        var (kind, x) = (v.Fields[0].Key, v.Fields[0].Value);
        var s = x as TpScalar;
        switch (kind)
        {
            case "null_value": return CelNull.Instance;
            case "bool_value": return CelBool.Of(s!.Text == "true");
            case "int64_value": return CelInt.Of(long.Parse(s!.Text, CultureInfo.InvariantCulture));
            case "uint64_value": return new CelUint(ulong.Parse(s!.Text, CultureInfo.InvariantCulture));
            case "double_value": return new CelDouble(ParseDouble(s!.Text));
            case "string_value": return new CelString(s!.Text);
            case "bytes_value": return new CelBytes(s!.Bytes!);
            case "type_value": return new CelTypeValue(new CelType(s!.Text));
            case "enum_value": return CelInt.Of(long.Parse(((TpMessage)x).Text("value") ?? "0", CultureInfo.InvariantCulture));
            case "list_value":
            {
                var items = new List<CelValue>();
                foreach (var e in ((TpMessage)x).Messages("values"))
                {
                    if (From(e) is not { } ev) return null;
                    items.Add(ev);
                }
                return new CelList(items);
            }
            case "map_value":
            {
                var m = new CelMap();
                foreach (var e in ((TpMessage)x).Messages("entries"))
                {
                    var k = From(e.Message("key")!);
                    var val = From(e.Message("value")!);
                    if (k is null || val is null) return null;
                    m.TryAdd(k, val);
                }
                return m;
            }
            case "object_value": return FromAny((TpMessage)x);
            default: return null;
        }
    }

    /// <summary>cel.expr.Type (checked.proto) to our types; null for protobuf messages and other unsupported kinds.</summary>
    public static CelType? TypeFrom(TpMessage? t)
    {
        if (t is null || t.Fields.Count == 0) return null;
        var (kind, x) = (t.Fields[0].Key, t.Fields[0].Value);
        string? text = (x as TpScalar)?.Text;
        var m = x as TpMessage;
        switch (kind)
        {
            case "dyn": return CelType.Dyn;
            case "null": return CelType.Null;
            case "primitive":
                return text switch
                {
                    "BOOL" => CelType.Bool, "INT64" => CelType.Int, "UINT64" => CelType.Uint, "DOUBLE" => CelType.Double,
                    "STRING" => CelType.String, "BYTES" => CelType.Bytes, _ => null,
                };
            case "wrapper":
                return text switch
                {
                    "BOOL" => CelType.WrapperOf(CelType.Bool), "INT64" => CelType.WrapperOf(CelType.Int),
                    "UINT64" => CelType.WrapperOf(CelType.Uint), "DOUBLE" => CelType.WrapperOf(CelType.Double),
                    "STRING" => CelType.WrapperOf(CelType.String), "BYTES" => CelType.WrapperOf(CelType.Bytes), _ => null,
                };
            case "well_known":
                return text switch { "DURATION" => CelType.Duration, "TIMESTAMP" => CelType.Timestamp, _ => null };
            case "list_type": return TypeFrom(m?.Message("elem_type")) is { } e ? CelType.ListOf(e) : null;
            case "map_type":
                return TypeFrom(m?.Message("key_type")) is { } k && TypeFrom(m?.Message("value_type")) is { } v ? CelType.MapOf(k, v) : null;
            case "type": return m is null || m.Fields.Count == 0 ? CelType.TypeOf(CelType.Dyn) : TypeFrom(m) is { } tt ? CelType.TypeOf(tt) : null;
            case "type_param": return CelType.Param(text!);
            case "abstract_type":
                if (m?.Text("name") == "optional_type" && m.Messages("parameter_types").FirstOrDefault() is { } op && TypeFrom(op) is { } ot)
                    return CelType.OptionalOf(ot);
                return null;
            case "message_type":
                return text switch
                {
                    "google.protobuf.Duration" => CelType.Duration,
                    "google.protobuf.Timestamp" => CelType.Timestamp,
                    "google.protobuf.Struct" => CelType.MapOf(CelType.String, CelType.Dyn),
                    "google.protobuf.ListValue" => CelType.ListOf(CelType.Dyn),
                    "google.protobuf.Value" => CelType.Dyn,
                    "google.protobuf.Int32Value" or "google.protobuf.Int64Value" => CelType.WrapperOf(CelType.Int),
                    "google.protobuf.UInt32Value" or "google.protobuf.UInt64Value" => CelType.WrapperOf(CelType.Uint),
                    "google.protobuf.FloatValue" or "google.protobuf.DoubleValue" => CelType.WrapperOf(CelType.Double),
                    "google.protobuf.BoolValue" => CelType.WrapperOf(CelType.Bool),
                    "google.protobuf.StringValue" => CelType.WrapperOf(CelType.String),
                    "google.protobuf.BytesValue" => CelType.WrapperOf(CelType.Bytes),
                    _ => null,
                };
            default: return null;
        }
    }

    static CelValue? FromAny(TpMessage any)
    {
        if (any.Fields.Count != 1) return null;
        string url = any.Fields[0].Key.Trim('[', ']');
        var body = any.Fields[0].Value as TpMessage;
        if (body is null) return null;
        string type = url[(url.LastIndexOf('/') + 1)..];
        long L(string f) => long.Parse(body.Text(f) ?? "0", CultureInfo.InvariantCulture);
        switch (type)
        {
            case "google.protobuf.Duration": return new CelDuration(L("seconds") * 1_000_000_000L + L("nanos"));
            case "google.protobuf.Timestamp": return new CelTimestamp(L("seconds"), (int)L("nanos"));
            case "google.protobuf.Int64Value" or "google.protobuf.Int32Value": return CelInt.Of(L("value"));
            case "google.protobuf.UInt64Value" or "google.protobuf.UInt32Value":
                return new CelUint(ulong.Parse(body.Text("value") ?? "0", CultureInfo.InvariantCulture));
            case "google.protobuf.DoubleValue" or "google.protobuf.FloatValue": return new CelDouble(ParseDouble(body.Text("value") ?? "0"));
            case "google.protobuf.BoolValue": return CelBool.Of(body.Text("value") == "true");
            case "google.protobuf.StringValue": return new CelString(body.Text("value") ?? "");
            case "google.protobuf.BytesValue": return new CelBytes((body.Get("value") as TpScalar)?.Bytes ?? []);
            case "google.protobuf.Value": return JsonValue(body);
            case "google.protobuf.Struct": return JsonStruct(body);
            case "google.protobuf.ListValue": return JsonList(body);
            default: return null;
        }
    }

    // google.protobuf.Value, Struct and ListValue messages in text format: JSON values
    static CelValue? JsonValue(TpMessage v)
    {
        if (v.Fields.Count == 0) return CelNull.Instance;
        var (k, x) = (v.Fields[0].Key, v.Fields[0].Value);
        return k switch
        {
            "null_value" => CelNull.Instance,
            "number_value" => new CelDouble(ParseDouble(((TpScalar)x).Text)),
            "string_value" => new CelString(((TpScalar)x).Text),
            "bool_value" => CelBool.Of(((TpScalar)x).Text == "true"),
            "struct_value" => JsonStruct((TpMessage)x),
            "list_value" => JsonList((TpMessage)x),
            _ => null,
        };
    }

    static CelValue? JsonStruct(TpMessage s)
    {
        var m = new CelMap();
        foreach (var f in s.Messages("fields"))
        {
            if (JsonValue(f.Message("value") ?? new TpMessage()) is not { } v) return null;
            m.TryAdd(new CelString(f.Text("key") ?? ""), v);
        }
        return m;
    }

    static CelValue? JsonList(TpMessage l)
    {
        var items = new List<CelValue>();
        foreach (var e in l.Messages("values"))
        {
            if (JsonValue(e) is not { } v) return null;
            items.Add(v);
        }
        return new CelList(items);
    }

    static double ParseDouble(string t) => t.ToLowerInvariant() switch
    {
        "inf" or "infinity" => double.PositiveInfinity,
        "-inf" or "-infinity" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.Parse(t.TrimEnd('f', 'F'), NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    /// <summary>Equal values of the same types (no heterogeneous numeric equality; NaN matches NaN).</summary>
    public static bool Same(CelValue a, CelValue b)
    {
        if (a.GetType() != b.GetType()) return false;
        switch (a)
        {
            case CelDouble x: return double.IsNaN(x.Value) ? double.IsNaN(((CelDouble)b).Value) : x.Value.Equals(((CelDouble)b).Value);
            case CelList x:
            {
                var y = (CelList)b;
                if (x.Items.Count != y.Items.Count) return false;
                for (int i = 0; i < x.Items.Count; i++) if (!Same(x.Items[i], y.Items[i])) return false;
                return true;
            }
            case CelMap x:
            {
                var y = (CelMap)b;
                if (x.Count != y.Count) return false;
                foreach (var kv in x.Entries)
                {
                    var match = y.Entries.FirstOrDefault(e => Same(e.Key, kv.Key));
                    if (match.Key is null || !Same(kv.Value, match.Value)) return false;
                }
                return true;
            }
            case CelTypeValue x: return x.Value.Name == ((CelTypeValue)b).Value.Name;
            default: return a.ToString() == b.ToString();
        }
    }
}

/// <summary>
/// The checked-in list of conformance cases the engine does not pass yet: <c>file/section/name  # why</c>,
/// where a segment may be <c>*</c>.
/// </summary>
public sealed class SkipList(List<(string Pattern, string Reason)> entries)
{
    public IReadOnlyList<(string Pattern, string Reason)> Entries => entries;

    public static SkipList Load(string path)
    {
        var list = new List<(string, string)>();
        if (File.Exists(path))
        {
            foreach (var raw in File.ReadAllLines(path))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                int hash = line.IndexOf(" #", StringComparison.Ordinal);
                string pattern = (hash < 0 ? line : line[..hash]).Trim();
                string reason = hash < 0 ? "" : line[(hash + 2)..].Trim();
                list.Add((pattern, reason));
            }
        }
        return new SkipList(list);
    }

    public string? ReasonFor(ConformanceCase c)
    {
        var parts = new[] { c.File, c.Section, c.Name };
        foreach (var (pattern, reason) in entries)
        {
            var p = pattern.Split('/', 3);
            bool ok = p.Length == 3;
            for (int i = 0; ok && i < 3; i++) ok = p[i] == "*" || p[i] == parts[i];
            if (ok) return reason.Length == 0 ? "(no reason given)" : reason;
        }
        return null;
    }
}
