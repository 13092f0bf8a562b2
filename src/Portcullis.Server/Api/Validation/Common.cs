using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>Field paths as upstream's field.Path prints them: <c>spec.containers[0].name</c>, <c>data[key]</c>.</summary>
internal static class P
{
    public static string Child(string path, string name) => path.Length == 0 ? name : path + "." + name;
    public static string Child(string path, string a, string b) => Child(Child(path, a), b);
    public static string Index(string path, int i) => path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]";
    public static string Key(string path, string key) => path + "[" + key + "]";
}

/// <summary>Constructors for field errors, including the kinds FieldError has no factory for.</summary>
internal static class Err
{
    public static FieldError Required(string f, string detail = "") => FieldError.Required(f, detail);
    public static FieldError Invalid(string f, string value, string detail) => FieldError.Invalid(f, value, detail);
    /// <summary>An invalid value printed as is (numbers, booleans, Go values).</summary>
    public static FieldError InvalidRaw(string f, string raw, string detail) => FieldError.Invalid(f, raw, detail, quoted: false);
    public static FieldError Invalid(string f, long value, string detail) => InvalidRaw(f, value.ToString(CultureInfo.InvariantCulture), detail);
    public static FieldError Forbidden(string f, string detail) => FieldError.Forbidden(f, detail);
    public static FieldError Duplicate(string f, string value) => FieldError.Duplicate(f, value);
    public static FieldError DuplicateRaw(string f, string raw) => new(FieldErrorType.Duplicate, f, raw, "", false);
    public static FieldError NotFound(string f, string value, string detail = "") => new(FieldErrorType.NotFound, f, value, detail);
    public static FieldError NotSupported(string f, string value, params string[] valid) => FieldError.NotSupported(f, value, valid);
    public static FieldError NotSupportedRaw(string f, string raw, IEnumerable<string> valid) =>
        new(FieldErrorType.NotSupported, f, raw, Supported(valid), false);
    /// <summary>Upstream prints a nil bad value as the string "null".</summary>
    public static FieldError NotSupportedNull(string f, IEnumerable<string> valid) =>
        new(FieldErrorType.NotSupported, f, "null", Supported(valid));
    public static FieldError TooLong(string f, int max) => FieldError.TooLong(f, $"may not be more than {max} bytes");
    // FieldError prints no value for "Too many", so the count travels in the detail.
    public static FieldError TooMany(string f, int actual, int max) => new(FieldErrorType.TooMany, f, null, $"{actual}: must have at most {max} items");

    private static string Supported(IEnumerable<string> valid)
    {
        var list = valid.ToList();
        return list.Count == 0 ? "" : "supported values: " + string.Join(", ", list.Select(GoText.Quote));
    }
}

/// <summary>Reading the decoded JSON the way Go's zero values read: absent is "", 0, false, nil.</summary>
internal static class J
{
    public static JsonObject? O(JsonNode? n, string key) => JsonRead.Obj(n, key);
    public static JsonArray? A(JsonNode? n, string key) => JsonRead.Arr(n, key);
    public static int Count(JsonNode? n, string key) => n is JsonObject o ? o[key] switch { JsonArray a => a.Count, JsonObject m => m.Count, _ => 0 } : 0;
    public static bool Has(JsonNode? n, string key) => n is JsonObject o && o.TryGetPropertyValue(key, out var v) && v is not null;

    /// <summary>The objects of an array field with their indices (non-objects read as empty objects).</summary>
    public static List<(int I, JsonObject O)> Items(JsonNode? n, string key)
    {
        var list = new List<(int, JsonObject)>();
        if (A(n, key) is { } a)
            for (var i = 0; i < a.Count; i++) list.Add((i, a[i] as JsonObject ?? new JsonObject()));
        return list;
    }

    public static string S(JsonNode? n, string key) => JsonRead.StrOrEmpty(n, key);
    /// <summary>A string field that may be absent (a Go *string).</summary>
    public static string? SN(JsonNode? n, string key) => JsonRead.Str(n, key);
    public static string? Str(JsonNode? v) => JsonRead.Str(v);

    public static long? L(JsonNode? n, string key) => n is JsonObject o ? Long(o[key]) : null;
    public static long? Long(JsonNode? v) => JsonRead.LongTruncated(v);

    public static bool? B(JsonNode? n, string key) => JsonRead.Bool(n, key);
    public static bool True(JsonNode? n, string key) => B(n, key) == true;

    public static List<string> Strs(JsonNode? n, string key)
    {
        var list = new List<string>();
        if (A(n, key) is { } a) foreach (var x in a) list.Add(Str(x) ?? "");
        return list;
    }

    /// <summary>A map[string]string, keys in Go's sorted order; null when absent.</summary>
    public static SortedDictionary<string, string>? Map(JsonNode? n, string key) =>
        n is JsonObject o && o[key] is JsonObject m ? ToMap(m) : null;

    public static SortedDictionary<string, string> ToMap(JsonObject m)
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in m) d[k] = Str(v) ?? (v is null ? "" : v.ToJsonString());
        return d;
    }

    /// <summary>A resource.Quantity field (string or bare number).</summary>
    public static Quantity? Q(JsonNode? v) => JsonRead.Quantity(v);

    /// <summary>The quantities of a ResourceList, keys sorted.</summary>
    public static List<(string Name, Quantity Q)> Resources(JsonNode? n, string key)
    {
        var list = new List<(string, Quantity)>();
        if (O(n, key) is { } m)
            foreach (var (k, v) in m.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                list.Add((k, Q(v) ?? new Quantity(0, QuantityFormat.DecimalSI)));
        return list;
    }

    /// <summary>An intstr.IntOrString: (IsInt, IntVal, StrVal); null when absent.</summary>
    public static (bool IsInt, long Int, string Str)? IntOrStr(JsonNode? v) => JsonRead.IntOrString(v);
}

/// <summary>Comparisons with Go's semantics for the decoded objects.</summary>
internal static class Sem
{
    /// <summary>apiequality.Semantic.DeepEqual of two values of a schema type (shaped, so absent and zero agree).</summary>
    public static bool Equal(JsonNode? a, JsonNode? b, string schemaType)
    {
        var schema = SchemaRegistry.Default.Get(schemaType);
        var sa = a is JsonObject oa ? ObjectShaper.Shape(oa, schema) : null;
        var sb = b is JsonObject ob ? ObjectShaper.Shape(ob, schema) : null;
        if (sa is null || sb is null) return sa is null && sb is null;
        return JsonNode.DeepEquals(sa, sb);
    }

    /// <summary>Equality of loose JSON values where null, absent, [] and {} are the same (nil and empty agree).</summary>
    public static bool Loose(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(Norm(a), Norm(b));

    private static JsonNode? Norm(JsonNode? n) => n switch
    {
        JsonArray { Count: 0 } => null,
        JsonObject { Count: 0 } => null,
        JsonObject o => NormObject(o),
        JsonArray a => new JsonArray(a.Select(Norm).ToArray()),
        _ => n?.DeepClone(),
    };

    private static JsonObject NormObject(JsonObject o)
    {
        var r = new JsonObject();
        foreach (var (k, v) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (Norm(v) is { } nv) r[k] = nv;
        return r;
    }
}
