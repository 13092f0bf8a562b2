namespace Portcullis.Cel;

/// <summary>The declared signatures of the standard library and the extensions, for the checker
/// (cel-go's stdlib declarations and ext libraries at v0.23.2).</summary>
internal static class Overloads
{
    static readonly string[] Numeric = ["int", "uint", "double"];
    static readonly string[] Ordered = ["int", "uint", "double", "string", "bytes", "bool", "timestamp", "duration"];

    static IEnumerable<string> Signatures()
    {
        yield return "!_(bool) -> bool";
        yield return "-_(int) -> int";
        yield return "-_(double) -> double";
        yield return "_?_:_(bool, A, A) -> A";
        yield return "_==_(A, A) -> bool";
        yield return "_!=_(A, A) -> bool";
        yield return "@not_strictly_false(bool) -> bool";
        foreach (var op in new[] { "_<_", "_<=_", "_>_", "_>=_" })
        {
            foreach (var t in Ordered) yield return $"{op}({t}, {t}) -> bool";
            // cross-type numeric comparisons (Kubernetes enables them; so do the conformance tests)
            foreach (var a in Numeric)
                foreach (var b in Numeric)
                    if (a != b) yield return $"{op}({a}, {b}) -> bool";
        }
        foreach (var t in Numeric)
        {
            yield return $"_+_({t}, {t}) -> {t}";
            yield return $"_-_({t}, {t}) -> {t}";
            yield return $"_*_({t}, {t}) -> {t}";
            yield return $"_/_({t}, {t}) -> {t}";
        }
        yield return "_%_(int, int) -> int";
        yield return "_%_(uint, uint) -> uint";
        yield return "_+_(string, string) -> string";
        yield return "_+_(bytes, bytes) -> bytes";
        yield return "_+_(list(A), list(A)) -> list(A)";
        yield return "_+_(timestamp, duration) -> timestamp";
        yield return "_+_(duration, timestamp) -> timestamp";
        yield return "_+_(duration, duration) -> duration";
        yield return "_-_(timestamp, timestamp) -> duration";
        yield return "_-_(timestamp, duration) -> timestamp";
        yield return "_-_(duration, duration) -> duration";
        yield return "_[_](list(A), int) -> A";
        yield return "_[_](map(A, B), A) -> B";
        yield return "_[_](optional_type(list(A)), int) -> optional_type(A)";
        yield return "_[_](optional_type(map(A, B)), A) -> optional_type(B)";
        yield return "_[?_](list(A), int) -> optional_type(A)";
        yield return "_[?_](map(A, B), A) -> optional_type(B)";
        yield return "_[?_](optional_type(list(A)), int) -> optional_type(A)";
        yield return "_[?_](optional_type(map(A, B)), A) -> optional_type(B)";
        yield return "@in(A, list(A)) -> bool";
        yield return "@in(A, map(A, B)) -> bool";
        foreach (var t in new[] { "string", "bytes", "list(A)", "map(A, B)" })
        {
            yield return $"size({t}) -> int";
            yield return $"{t}.size() -> int";
        }
        foreach (var t in new[] { "int", "uint", "double", "string", "timestamp", "duration" }) yield return $"int({t}) -> int";
        foreach (var t in new[] { "int", "uint", "double", "string" }) yield return $"uint({t}) -> uint";
        foreach (var t in new[] { "int", "uint", "double", "string" }) yield return $"double({t}) -> double";
        foreach (var t in new[] { "int", "uint", "double", "bool", "string", "bytes", "timestamp", "duration" }) yield return $"string({t}) -> string";
        yield return "bytes(bytes) -> bytes";
        yield return "bytes(string) -> bytes";
        yield return "bool(bool) -> bool";
        yield return "bool(string) -> bool";
        yield return "dyn(A) -> dyn";
        yield return "type(A) -> type(A)";
        yield return "duration(string) -> duration";
        yield return "duration(duration) -> duration";
        yield return "timestamp(string) -> timestamp";
        yield return "timestamp(int) -> timestamp";
        yield return "timestamp(timestamp) -> timestamp";
        yield return "string.contains(string) -> bool";
        yield return "string.startsWith(string) -> bool";
        yield return "string.endsWith(string) -> bool";
        yield return "string.matches(string) -> bool";
        yield return "matches(string, string) -> bool";
        foreach (var f in new[] { "getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek", "getHours", "getMinutes", "getSeconds", "getMilliseconds" })
        {
            yield return $"timestamp.{f}() -> int";
            yield return $"timestamp.{f}(string) -> int";
        }
        foreach (var f in new[] { "getHours", "getMinutes", "getSeconds", "getMilliseconds" }) yield return $"duration.{f}() -> int";
        // optionals
        yield return "optional.of(A) -> optional_type(A)";
        yield return "optional.ofNonZeroValue(A) -> optional_type(A)";
        yield return "optional.none() -> optional_type(A)";
        yield return "optional_type(A).hasValue() -> bool";
        yield return "optional_type(A).value() -> A";
        yield return "optional_type(A).or(optional_type(A)) -> optional_type(A)";
        yield return "optional_type(A).orValue(A) -> A";
        // strings extension
        yield return "string.charAt(int) -> string";
        yield return "string.indexOf(string) -> int";
        yield return "string.indexOf(string, int) -> int";
        yield return "string.lastIndexOf(string) -> int";
        yield return "string.lastIndexOf(string, int) -> int";
        yield return "string.lowerAscii() -> string";
        yield return "string.upperAscii() -> string";
        yield return "string.replace(string, string) -> string";
        yield return "string.replace(string, string, int) -> string";
        yield return "string.split(string) -> list(string)";
        yield return "string.split(string, int) -> list(string)";
        yield return "string.substring(int) -> string";
        yield return "string.substring(int, int) -> string";
        yield return "string.trim() -> string";
        yield return "string.reverse() -> string";
        yield return "string.format(list(dyn)) -> string";
        yield return "list(string).join() -> string";
        yield return "list(string).join(string) -> string";
        yield return "strings.quote(string) -> string";
        // encoders
        yield return "base64.encode(bytes) -> string";
        yield return "base64.decode(string) -> bytes";
        // sets, two-variable comprehensions
        yield return "sets.contains(list(A), list(A)) -> bool";
        yield return "sets.equivalent(list(A), list(A)) -> bool";
        yield return "sets.intersects(list(A), list(A)) -> bool";
        yield return "cel.@mapInsert(map(K, V), K, V) -> map(K, V)";
        yield return "cel.@mapInsert(map(K, V), map(K, V)) -> map(K, V)";
        // math (greatest/least are checked by the checker itself: any number of numeric arguments)
        foreach (var t in Numeric)
        {
            yield return $"math.abs({t}) -> {t}";
            yield return $"math.sign({t}) -> {t}";
            yield return $"math.sqrt({t}) -> double";
        }
        foreach (var f in new[] { "ceil", "floor", "round", "trunc" }) yield return $"math.{f}(double) -> double";
        foreach (var f in new[] { "isInf", "isNaN", "isFinite" }) yield return $"math.{f}(double) -> bool";
        foreach (var t in new[] { "int", "uint" })
        {
            yield return $"math.bitAnd({t}, {t}) -> {t}";
            yield return $"math.bitOr({t}, {t}) -> {t}";
            yield return $"math.bitXor({t}, {t}) -> {t}";
            yield return $"math.bitNot({t}) -> {t}";
            yield return $"math.bitShiftLeft({t}, int) -> {t}";
            yield return $"math.bitShiftRight({t}, int) -> {t}";
        }
    }

    static readonly Dictionary<string, List<CelOverload>> Std = Build();

    static Dictionary<string, List<CelOverload>> Build()
    {
        var d = new Dictionary<string, List<CelOverload>>();
        foreach (var sig in Signatures())
        {
            var o = CelOverload.Parse(sig);
            if (!d.TryGetValue(o.Function, out var list)) d[o.Function] = list = [];
            list.Add(o);
        }
        return d;
    }

    /// <summary>Whether a function of the standard table belongs to a library the environment has.</summary>
    static bool Available(string f, CelEnvironment env)
    {
        var libs = env.Libraries;
        if (f.StartsWith("math.", StringComparison.Ordinal)) return libs.HasFlag(CelLibraries.Math);
        if (f.StartsWith("base64.", StringComparison.Ordinal)) return libs.HasFlag(CelLibraries.Encoders);
        if (f.StartsWith("sets.", StringComparison.Ordinal)) return libs.HasFlag(CelLibraries.Sets);
        if (f == "cel.@mapInsert") return libs.HasFlag(CelLibraries.TwoVarComprehensions);
        if (f is "optional.of" or "optional.ofNonZeroValue" or "optional.none" or "hasValue" or "value" or "or" or "orValue" or "_[?_]")
            return libs.HasFlag(CelLibraries.Optionals);
        int stringsVersion = f switch
        {
            "charAt" or "indexOf" or "lastIndexOf" or "lowerAscii" or "upperAscii" or "replace" or "split" or "substring" or "trim" => 0,
            "format" or "strings.quote" => 1,
            "join" => 2,
            "reverse" => 3,
            _ => -1,
        };
        return stringsVersion < 0 || (libs.HasFlag(CelLibraries.Strings) && env.StringsVersion >= stringsVersion);
    }

    public static IReadOnlyList<CelOverload>? For(string function, CelEnvironment env)
    {
        Std.TryGetValue(function, out var std);
        if (std is not null && !Available(function, env)) std = null;
        var custom = env.DeclaredOverloads(function);
        if (custom is null) return std;
        if (std is null) return custom;
        return [.. std, .. custom];
    }
}
