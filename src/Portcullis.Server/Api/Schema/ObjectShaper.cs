using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Schema;

/// <summary>What decoding a body against a schema found wrong.</summary>
public sealed class DecodeProblems
{
    /// <summary>Paths of fields the type does not have (<c>spec.foo</c>).</summary>
    public List<string> UnknownFields { get; } = [];
    /// <summary>Paths of keys given twice.</summary>
    public List<string> DuplicateFields { get; } = [];
    /// <summary>Type mismatches, worded like Go's json errors; always fatal.</summary>
    public List<string> TypeErrors { get; } = [];
    /// <summary>The value and the type of the first type mismatch (strategic merge patches word it otherwise).</summary>
    public (JsonNode? Value, TypeRef Type)? FirstMismatch { get; set; }
}

/// <summary>
/// Shapes a JSON tree into what upstream would write after decoding it into the Go type and
/// encoding it again: fields in Go declaration order, unknown fields dropped (and reported),
/// map keys sorted, <c>omitempty</c> and pointer rules applied, zero values written for
/// fields without <c>omitempty</c>, and empty lists and maps treated as absent (upstream
/// stores built-in kinds as protobuf, where an empty list and a missing one are the same).
/// </summary>
public static partial class ObjectShaper
{
    public static JsonObject Shape(JsonObject input, StructSchema schema, DecodeProblems? problems = null)
        => (JsonObject)ShapeStruct(input, schema, "", "", problems)!;

    // Two paths travel down: `path` names the value exactly (spec.containers[0].name: unknown fields),
    // `goPath` is what Go's decoder names in type errors: struct fields only, no indices, no map keys.
    // Only a caller that collects problems reads them, so without one they stay empty (not built).
    private static JsonObject ShapeStruct(JsonObject input, StructSchema schema, string path, string goPath, DecodeProblems? problems)
    {
        var output = new JsonObject();
        foreach (var f in schema.Fields)
        {
            input.TryGetPropertyValue(f.JsonName, out var value);
            var shaped = problems is null
                ? ShapeField(value, f, "", "", null, schema)
                : ShapeField(value, f, Join(path, f.JsonName), Join(goPath, f.JsonName), problems, schema);
            if (shaped.Emit) output[f.JsonName] = shaped.Node;
        }
        if (problems is not null)
        {
            foreach (var (k, _) in input)
                if (!schema.ByName.ContainsKey(k)) problems.UnknownFields.Add(Join(path, k));
        }
        return output;
    }

    private readonly record struct Shaped(bool Emit, JsonNode? Node);

    private static Shaped ShapeField(JsonNode? value, FieldSchema f, string path, string goPath, DecodeProblems? problems, StructSchema owner)
    {
        var t = f.Type;
        var isNull = value is null;
        switch (t.Kind)
        {
            case TypeKind.Pointer:
                if (isNull) return f.OmitEmpty ? default : new Shaped(true, null);
                return new Shaped(true, ShapeValue(value!, t.Elem!, path, goPath, problems, owner, f) ?? ZeroOf(t.Elem!));
            case TypeKind.Slice:
            case TypeKind.Map:
            case TypeKind.Bytes:
            {
                var v = isNull ? null : ShapeValue(value!, t, path, goPath, problems, owner, f);
                if (v is null || IsEmptyCollection(v)) return f.OmitEmpty ? default : new Shaped(true, null);
                return new Shaped(true, v);
            }
            case TypeKind.Struct:
            {
                // A non-pointer struct is always written, even with omitempty.
                var v = isNull ? null : ShapeValue(value!, t, path, goPath, problems, owner, f);
                return new Shaped(true, v ?? ShapeStruct(new JsonObject(), t.Struct!, path, goPath, null));
            }
            case TypeKind.Time:
            case TypeKind.MicroTime:
            {
                // metav1.Time is a struct: omitempty never drops it, and its zero value is null.
                var v = isNull ? null : ShapeValue(value!, t, path, goPath, problems, owner, f);
                return new Shaped(true, v);
            }
            case TypeKind.RawExtension:
            case TypeKind.Json:
            case TypeKind.FieldsV1:
                if (isNull) return f.OmitEmpty ? default : new Shaped(true, null);
                return new Shaped(true, value!.DeepClone());
            default:
            {
                var v = isNull ? null : ShapeValue(value!, t, path, goPath, problems, owner, f);
                v ??= ZeroOf(t);
                if (f.OmitEmpty && IsZeroScalar(v)) return default;
                return new Shaped(true, v);
            }
        }
    }

    private static JsonNode? ShapeValue(JsonNode value, TypeRef t, string path, string goPath, DecodeProblems? problems, StructSchema owner, FieldSchema? f)
    {
        JsonNode? Mismatch(JsonNode v, TypeRef ty) => ObjectShaper.Mismatch(v, ty, goPath, problems, owner);
        switch (t.Kind)
        {
            case TypeKind.Pointer:
                return ShapeValue(value, t.Elem!, path, goPath, problems, owner, f);
            case TypeKind.Struct:
                if (value is JsonObject o) return ShapeStruct(o, t.Struct!, path, goPath, problems);
                return Mismatch(value, t);
            case TypeKind.Slice:
            {
                if (value is not JsonArray a) return Mismatch(value, t);
                var result = new JsonArray();
                for (var i = 0; i < a.Count; i++)
                {
                    var ip = problems is null ? "" : $"{path}[{i}]";
                    var item = a[i];
                    JsonNode? v = item is null ? ZeroOfElement(t.Elem!) : ShapeValue(item, t.Elem!, ip, goPath, problems, owner, null);
                    result.Add(v);
                }
                return result;
            }
            case TypeKind.Map:
            {
                if (value is not JsonObject m) return Mismatch(value, t);
                var keys = m.Select(kv => kv.Key).ToList();
                keys.Sort(StringComparer.Ordinal); // Go sorts map keys by their bytes
                var result = new JsonObject();
                foreach (var k in keys)
                {
                    var item = m[k];
                    result[k] = item is null ? ZeroOfElement(t.Elem!) : ShapeValue(item, t.Elem!, problems is null ? "" : Join(path, k), goPath, problems, owner, null);
                }
                return result;
            }
            case TypeKind.String:
                return value is JsonValue sv && sv.GetValueKind() == JsonValueKind.String ? sv.DeepClone() : Mismatch(value, t);
            case TypeKind.Bool:
                return value is JsonValue bv && bv.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? bv.DeepClone() : Mismatch(value, t);
            case TypeKind.Int32:
            case TypeKind.Int64:
            {
                if (value is JsonValue nv && nv.GetValueKind() == JsonValueKind.Number && TryInt(nv, out var l))
                {
                    if (t.Kind == TypeKind.Int32 && (l < int.MinValue || l > int.MaxValue)) return Mismatch(value, t);
                    return JsonValue.Create(l);
                }
                return Mismatch(value, t);
            }
            case TypeKind.Float64:
                return value is JsonValue fv && fv.GetValueKind() == JsonValueKind.Number && !Serialization.JsonParser.IsNonFinite(fv) ? fv.DeepClone() : Mismatch(value, t);
            case TypeKind.Bytes:
            {
                if (value is JsonValue bs && bs.GetValueKind() == JsonValueKind.String)
                {
                    var s = bs.GetValue<string>();
                    var buf = new byte[s.Length];
                    if (Convert.TryFromBase64String(s, buf, out _)) return JsonValue.Create(s);
                    problems?.TypeErrors.Add($"illegal base64 data at input byte {BadBase64Offset(s)}");
                    return null;
                }
                return Mismatch(value, t);
            }
            case TypeKind.Time:
            case TypeKind.MicroTime:
            {
                if (value is JsonValue tv && tv.GetValueKind() == JsonValueKind.String)
                {
                    var s = tv.GetValue<string>();
                    if (s.Length == 0) return null;
                    if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dt))
                        return JsonValue.Create(t.Kind == TypeKind.Time ? FormatTime(dt) : FormatMicroTime(dt));
                    // time.ParseError quotes with the time package's quote (non-ASCII bytes as \xNN).
                    var quoted = Serialization.GoText.TimeQuote(System.Text.Encoding.UTF8.GetBytes(s));
                    problems?.TypeErrors.Add($"parsing time {quoted} as \"2006-01-02T15:04:05Z07:00\": cannot parse {quoted} as \"2006\"");
                    return null;
                }
                return Mismatch(value, t);
            }
            case TypeKind.Duration:
                return value is JsonValue dv && dv.GetValueKind() == JsonValueKind.String ? dv.DeepClone() : Mismatch(value, t);
            case TypeKind.Quantity:
            {
                if (value is JsonValue qv && qv.GetValueKind() == JsonValueKind.String)
                {
                    var s = qv.GetValue<string>().Trim(); // Quantity.UnmarshalJSON trims spaces first
                    if (Quantity.TryNormalize(s, out var text)) return JsonValue.Create(text);
                    problems?.TypeErrors.Add($"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
                    return null;
                }
                if (value is JsonValue qn && qn.GetValueKind() == JsonValueKind.Number)
                {
                    var raw = qn.ToJsonString();
                    if (Quantity.TryNormalize(raw, out var text)) return JsonValue.Create(text);
                }
                return Mismatch(value, t);
            }
            case TypeKind.IntOrString:
            {
                if (value is JsonValue iv && iv.GetValueKind() == JsonValueKind.String) return iv.DeepClone();
                if (value is JsonValue inv && inv.GetValueKind() == JsonValueKind.Number && TryInt(inv, out var n) && n is >= int.MinValue and <= int.MaxValue)
                    return JsonValue.Create(n);
                return Mismatch(value, t);
            }
            default:
                return value.DeepClone();
        }
    }

    private static JsonNode? Mismatch(JsonNode value, TypeRef t, string path, DecodeProblems? problems, StructSchema owner)
    {
        var kind = value switch
        {
            JsonObject => "object",
            JsonArray => "array",
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => "string",
                // Go names the literal only when it failed to fit an integer type ("number 1.5");
                // a number where a string, bool or struct belongs is just "number".
                // Go names the literal too when it overflowed a float64 ("number 1e400").
                JsonValueKind.Number => t.Deref.Kind is TypeKind.Int32 or TypeKind.Int64
                    || (t.Deref.Kind == TypeKind.Float64 && Serialization.JsonParser.IsNonFinite(v)) ? "number " + v.ToJsonString() : "number",
                JsonValueKind.True or JsonValueKind.False => "bool",
                _ => "value",
            },
            _ => "value",
        };
        // Go: json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container
        if (problems is not null) problems.FirstMismatch ??= (value, t);
        problems?.TypeErrors.Add($"json: cannot unmarshal {kind} into Go struct field {owner.Name}.{path} of type {GoTypeName(t)}");
        return null;
    }

    internal static string GoTypeName(TypeRef t) => t.Kind switch
    {
        TypeKind.Pointer => GoTypeName(t.Elem!),
        TypeKind.Slice => "[]" + GoTypeName(t.Elem!),
        TypeKind.Map => "map[string]" + GoTypeName(t.Elem!),
        TypeKind.Struct => t.Struct!.Package[(t.Struct.Package.IndexOf('/') + 1)..] + "." + t.Struct.Name,
        TypeKind.String => "string",
        TypeKind.Bool => "bool",
        TypeKind.Int32 => "int32",
        TypeKind.Int64 => "int64",
        TypeKind.Float64 => "float64",
        TypeKind.Bytes => "[]uint8",
        TypeKind.IntOrString => "intstr.IntOrString",
        TypeKind.Quantity => "resource.Quantity",
        TypeKind.Time => "v1.Time",
        _ => t.Kind.ToString(),
    };

    private static int BadBase64Offset(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c == '+' || c == '/' || c == '=')) return i;
        }
        return s.Length - s.Length % 4;
    }

    /// <summary>An integral number as long, whatever CLR type the node holds (parsed or built in code).</summary>
    public static bool TryInt(JsonValue v, out long l)
    {
        if (v.TryGetValue(out l)) return true;
        if (v.TryGetValue(out int i)) { l = i; return true; }
        if (v.TryGetValue(out short sh)) { l = sh; return true; }
        if (v.TryGetValue(out uint ui)) { l = ui; return true; }
        if (v.TryGetValue(out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out l)) return true;
        if (v.TryGetValue(out double d) && d == Math.Floor(d) && d is >= long.MinValue and <= long.MaxValue) { l = (long)d; return true; }
        l = 0;
        return false;
    }

    private static double TryDouble(JsonValue v) =>
        v.TryGetValue(out double d) ? d : v.TryGetValue(out float f) ? f : v.TryGetValue(out decimal m) ? (double)m
        : v.TryGetValue(out JsonElement e) && e.TryGetDouble(out var ed) ? ed : double.NaN;

    public static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    public static string FormatMicroTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static bool IsEmptyCollection(JsonNode n) => n switch
    {
        JsonArray a => a.Count == 0,
        JsonObject o => o.Count == 0,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().Length == 0, // []byte
        _ => false,
    };

    private static bool IsZeroScalar(JsonNode? n) => n switch
    {
        null => true,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>().Length == 0,
            JsonValueKind.False => true,
            JsonValueKind.Number => TryInt(v, out var l) ? l == 0 : TryDouble(v) == 0,
            _ => false,
        },
        _ => false,
    };

    /// <summary>The JSON of a Go zero value of a non-pointer type.</summary>
    private static JsonNode? ZeroOf(TypeRef t) => t.Kind switch
    {
        TypeKind.String => JsonValue.Create(""),
        TypeKind.Bool => JsonValue.Create(false),
        TypeKind.Int32 or TypeKind.Int64 => JsonValue.Create(0L),
        TypeKind.Float64 => JsonValue.Create(0L),
        TypeKind.Quantity => JsonValue.Create("0"),
        TypeKind.IntOrString => JsonValue.Create(0L),
        TypeKind.Struct => ShapeStruct(new JsonObject(), t.Struct!, "", "", null),
        _ => null,
    };

    private static JsonNode? ZeroOfElement(TypeRef t) => t.Kind is TypeKind.Pointer or TypeKind.Slice or TypeKind.Map ? null : ZeroOf(t);

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;
}
