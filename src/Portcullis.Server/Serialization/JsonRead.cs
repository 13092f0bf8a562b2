using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Serialization;

/// <summary>
/// Typed reads of decoded JSON, the one home for what used to be a private <c>Str()</c> in many
/// files. Every read is lenient and never throws: a missing key, a JSON null, a parent that is not
/// an object and a value of another JSON type all read as absent (null, or the fallback of the
/// <c>…OrEmpty</c> forms). Code that must tell those cases apart (decoding, validation messages)
/// looks at the node itself.
/// <list type="bullet">
/// <item><see cref="Str(JsonNode?)"/>: a JSON string only; numbers and bools are not strings.</item>
/// <item><see cref="Text"/>: the field-selector form, which prints bools and numbers as their JSON text.</item>
/// <item><see cref="Long"/>: a number written as an integer (what decoding into an int64 field accepts);
/// <see cref="LongTruncated"/>: any number, a fraction cut toward zero (Go's <c>int64(f)</c>).</item>
/// </list>
/// </summary>
internal static class JsonRead
{
    /// <summary>
    /// The string a JSON string value holds, else null. A value node built from a non-string CLR
    /// value (a DateTime, a char) reads as null rather than throwing.
    /// </summary>
    public static string? Str(JsonNode? value) => value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>The string member <paramref name="key"/> of an object, else null.</summary>
    public static string? Str(JsonNode? obj, string key) => obj is JsonObject o ? Str(o[key]) : null;

    /// <summary><see cref="Str(JsonNode?)"/>, with "" for anything that is not a string (Go's zero string).</summary>
    public static string StrOrEmpty(JsonNode? value) => Str(value) ?? "";

    /// <summary><see cref="Str(JsonNode?, string)"/>, with "" for anything that is not a string.</summary>
    public static string StrOrEmpty(JsonNode? obj, string key) => Str(obj, key) ?? "";

    /// <summary>
    /// A scalar as text, the way field selectors and printers see it: a string as itself, true and
    /// false as words, a number as its JSON text; null for objects, arrays and JSON null.
    /// </summary>
    public static string? Text(JsonNode? value) => value is not JsonValue v ? null : v.GetValueKind() switch
    {
        JsonValueKind.String => Str(v),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => v.ToJsonString(),
    };

    /// <summary>The node reached by following object members <paramref name="keys"/>, else null.</summary>
    public static JsonNode? Path(JsonNode? node, params ReadOnlySpan<string> keys)
    {
        foreach (var k in keys) node = node is JsonObject o ? o[k] : null;
        return node;
    }

    /// <summary>The object member <paramref name="key"/> when it is an object, else null.</summary>
    public static JsonObject? Obj(JsonNode? obj, string key) => obj is JsonObject o ? o[key] as JsonObject : null;

    /// <summary>The object member <paramref name="key"/> when it is an array, else null.</summary>
    public static JsonArray? Arr(JsonNode? obj, string key) => obj is JsonObject o ? o[key] as JsonArray : null;

    /// <summary>true or false for a JSON bool, else null.</summary>
    public static bool? Bool(JsonNode? value) => value is JsonValue v
        ? v.GetValueKind() switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null }
        : null;

    /// <summary>The bool member <paramref name="key"/> of an object, else null.</summary>
    public static bool? Bool(JsonNode? obj, string key) => obj is JsonObject o ? Bool(o[key]) : null;

    /// <summary>
    /// A number whose JSON text is an integer in range (an optional leading minus and digits), else
    /// null: <c>1.5</c> and strings are not integers (JsonParser keeps <c>1e3</c> as the double
    /// 1000, whose text is <c>1000</c>).
    /// </summary>
    public static long? Long(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.Number
        && long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>The integer member <paramref name="key"/> of an object (see <see cref="Long(JsonNode?)"/>), else null.</summary>
    public static long? Long(JsonNode? obj, string key) => obj is JsonObject o ? Long(o[key]) : null;

    /// <summary>
    /// Any number as an int64, a fraction cut toward zero as Go's <c>int64(f)</c> does; null for
    /// anything that is not a number.
    /// </summary>
    public static long? LongTruncated(JsonNode? value)
    {
        if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return null;
        if (v.TryGetValue<long>(out var l)) return l;
        if (v.TryGetValue<double>(out var d)) return (long)d;
        return long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out l) ? l : null;
    }

    /// <summary>A resource.Quantity written as a string (trimmed) or a bare number; null when absent or unparsable.</summary>
    public static Quantity? Quantity(JsonNode? value)
    {
        if (value is not JsonValue v) return null;
        var s = v.GetValueKind() switch { JsonValueKind.String => v.GetValue<string>().Trim(), JsonValueKind.Number => v.ToJsonString(), _ => null };
        return s is not null && Api.Schema.Quantity.TryParse(s, out var q) ? q : null;
    }

    /// <summary>An intstr.IntOrString: (IsInt, IntVal, StrVal), the int truncated as <see cref="LongTruncated"/>; null when neither.</summary>
    public static (bool IsInt, long Int, string Str)? IntOrString(JsonNode? value) => value switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => (false, 0, v.GetValue<string>()),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => (true, LongTruncated(v) ?? 0, ""),
        _ => null,
    };
}
