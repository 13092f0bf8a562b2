using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.CustomResources.Schema;

/// <summary>
/// A decoded JSON value seen as the Go value apimachinery's unstructured decoding makes of it:
/// map[string]interface{}, []interface{}, string, bool, nil, and numbers as int64 when the literal
/// is an integer that fits, float64 otherwise. Printing follows fmt's %v and %#v, and equality
/// reflect.DeepEqual (int64(1) and float64(1) differ).
/// </summary>
internal static class JsonValues
{
    public enum Kind { Null, String, Bool, Int, Float, Array, Object }

    public static Kind KindOf(JsonNode? n) => n switch
    {
        null => Kind.Null,
        JsonObject => Kind.Object,
        JsonArray => Kind.Array,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => Kind.String,
            JsonValueKind.True or JsonValueKind.False => Kind.Bool,
            JsonValueKind.Number => TryInt64(v, out _) ? Kind.Int : Kind.Float,
            _ => Kind.Null,
        },
        _ => Kind.Null,
    };

    /// <summary>The JSON-schema type name of a value (kube-openapi's typeValidator.schemaInfoForType).</summary>
    public static string SchemaType(Kind k) => k switch
    {
        Kind.Null => "null",
        Kind.String => "string",
        Kind.Bool => "boolean",
        Kind.Int => "integer",
        Kind.Float => "number",
        Kind.Array => "array",
        _ => "object",
    };

    /// <summary>An integer literal that fits int64 (utiljson's convertNumber: Int64 first, then Float64).</summary>
    public static bool TryInt64(JsonValue v, out long l)
    {
        if (v.TryGetValue(out JsonElement e))
        {
            if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out l)) return true;
            l = 0;
            return false;
        }
        if (v.TryGetValue(out l)) return true;
        if (v.TryGetValue(out int i)) { l = i; return true; }
        if (v.TryGetValue(out uint ui)) { l = ui; return true; }
        if (v.TryGetValue(out short sh)) { l = sh; return true; }
        if (v.TryGetValue(out ulong ul) && ul <= long.MaxValue) { l = (long)ul; return true; }
        l = 0;
        return false;
    }

    public static double AsDouble(JsonValue v)
    {
        if (v.TryGetValue(out JsonElement e)) return e.TryGetDouble(out var d) ? d : double.Parse(e.GetRawText(), CultureInfo.InvariantCulture);
        if (v.TryGetValue(out double dd)) return dd;
        if (v.TryGetValue(out float f)) return f;
        if (v.TryGetValue(out long l)) return l;
        if (v.TryGetValue(out int i)) return i;
        if (v.TryGetValue(out decimal m)) return (double)m;
        return double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
    }

    public static string Str(JsonNode n) => n.GetValue<string>();

    /// <summary>fmt's %v of an int64 or float64 value.</summary>
    public static string Number(JsonValue v) => TryInt64(v, out var l) ? l.ToString(CultureInfo.InvariantCulture) : GoText.Float(AsDouble(v));

    /// <summary>reflect.DeepEqual of two unstructured values.</summary>
    public static bool DeepEqual(JsonNode? a, JsonNode? b)
    {
        var ka = KindOf(a);
        if (ka != KindOf(b)) return false;
        switch (ka)
        {
            case Kind.Null: return true;
            case Kind.String: return Str(a!) == Str(b!);
            case Kind.Bool: return a!.GetValue<bool>() == b!.GetValue<bool>();
            case Kind.Int: TryInt64((JsonValue)a!, out var x); TryInt64((JsonValue)b!, out var y); return x == y;
            case Kind.Float: return AsDouble((JsonValue)a!) == AsDouble((JsonValue)b!);
            case Kind.Array:
                var aa = (JsonArray)a!; var ba = (JsonArray)b!;
                if (aa.Count != ba.Count) return false;
                for (var i = 0; i < aa.Count; i++) if (!DeepEqual(aa[i], ba[i])) return false;
                return true;
            default:
                var ao = (JsonObject)a!; var bo = (JsonObject)b!;
                if (ao.Count != bo.Count) return false;
                foreach (var (k, v) in ao)
                    if (!bo.TryGetPropertyValue(k, out var w) || !DeepEqual(v, w)) return false;
                return true;
        }
    }

    /// <summary>encoding/json's Marshal of an unstructured value (map keys sorted).</summary>
    public static string Marshal(JsonNode? n)
    {
        var sb = new StringBuilder();
        WriteJson(sb, n);
        return sb.ToString();
    }

    private static void WriteJson(StringBuilder sb, JsonNode? n)
    {
        switch (KindOf(n))
        {
            case Kind.Null: sb.Append("null"); break;
            case Kind.String: sb.Append(GoJsonWriter.ToString(n)); break;
            case Kind.Bool: sb.Append(n!.GetValue<bool>() ? "true" : "false"); break;
            case Kind.Int: TryInt64((JsonValue)n!, out var l); sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case Kind.Float: sb.Append(GoText.JsonFloat(AsDouble((JsonValue)n!))); break;
            case Kind.Array:
                sb.Append('[');
                var a = (JsonArray)n!;
                for (var i = 0; i < a.Count; i++) { if (i > 0) sb.Append(','); WriteJson(sb, a[i]); }
                sb.Append(']');
                break;
            default:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in ((JsonObject)n!).OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append(GoJsonWriter.ToString(JsonValue.Create(k))).Append(':');
                    WriteJson(sb, v);
                }
                sb.Append('}');
                break;
        }
    }

    /// <summary>fmt's %v of an unstructured value (map[a:1 b:x], [1 2], strings bare).</summary>
    public static string GoV(JsonNode? n)
    {
        var sb = new StringBuilder();
        WriteV(sb, n);
        return sb.ToString();
    }

    private static void WriteV(StringBuilder sb, JsonNode? n)
    {
        switch (KindOf(n))
        {
            case Kind.Null: sb.Append("<nil>"); break;
            case Kind.String: sb.Append(Str(n!)); break;
            case Kind.Bool: sb.Append(n!.GetValue<bool>() ? "true" : "false"); break;
            case Kind.Int or Kind.Float: sb.Append(Number((JsonValue)n!)); break;
            case Kind.Array:
                sb.Append('[');
                var a = (JsonArray)n!;
                for (var i = 0; i < a.Count; i++) { if (i > 0) sb.Append(' '); WriteV(sb, a[i]); }
                sb.Append(']');
                break;
            default:
                sb.Append("map[");
                var first = true;
                foreach (var (k, v) in ((JsonObject)n!).OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(' ');
                    first = false;
                    sb.Append(k).Append(':');
                    WriteV(sb, v);
                }
                sb.Append(']');
                break;
        }
    }

    /// <summary>fmt's %#v of an unstructured value: <c>map[string]interface {}{"a":1}</c>, <c>[]interface {}{"x", 2}</c>.</summary>
    public static string GoSharpV(JsonNode? n)
    {
        var sb = new StringBuilder();
        WriteSharpV(sb, n, top: true);
        return sb.ToString();
    }

    private static void WriteSharpV(StringBuilder sb, JsonNode? n, bool top)
    {
        switch (KindOf(n))
        {
            case Kind.Null: sb.Append(top ? "<nil>" : "interface {}(nil)"); break;
            case Kind.String: sb.Append(GoText.Quote(Str(n!))); break;
            case Kind.Bool: sb.Append(n!.GetValue<bool>() ? "true" : "false"); break;
            case Kind.Int or Kind.Float: sb.Append(Number((JsonValue)n!)); break;
            case Kind.Array:
                sb.Append("[]interface {}{");
                var a = (JsonArray)n!;
                for (var i = 0; i < a.Count; i++) { if (i > 0) sb.Append(", "); WriteSharpV(sb, a[i], false); }
                sb.Append('}');
                break;
            default:
                sb.Append("map[string]interface {}{");
                var first = true;
                foreach (var (k, v) in ((JsonObject)n!).OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(GoText.Quote(k)).Append(':');
                    WriteSharpV(sb, v, false);
                }
                sb.Append('}');
                break;
        }
    }

    /// <summary>
    /// A value as field.Error prints its BadValue: strings quoted (the FieldError quotes them), numbers and
    /// bools with %v, nil as the string "null" (field.Error.ErrorBody swaps nil for "null", then quotes it),
    /// maps and slices with %#v.
    /// </summary>
    public static (string Text, bool IsString) BadValue(JsonNode? n) => KindOf(n) switch
    {
        Kind.Null => ("null", true),
        Kind.String => (Str(n!), true),
        Kind.Bool or Kind.Int or Kind.Float => (GoV(n), false),
        _ => (GoSharpV(n), false),
    };
}
