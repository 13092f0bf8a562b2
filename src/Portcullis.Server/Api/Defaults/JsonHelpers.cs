using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// Small helpers for defaulting a JSON tree with Go's zero-value semantics: a missing key, a
/// JSON null, an empty string, a numeric zero and <c>false</c> all read as "unset" for
/// non-pointer fields; for pointer fields only a missing key or null is unset. Values of the
/// wrong JSON type are left alone (decoding reports them), never overwritten. The plain reads
/// are <see cref="JsonRead"/>'s; this class keeps the defaulting writes. It stays apart from the
/// validators' J (Api/Validation/Common.cs): their Items differ (this one skips non-objects, that
/// one pairs each item with its index and reads a non-object as {}).
/// </summary>
internal static class J
{
    public static JsonObject? Obj(JsonObject? parent, string key) => JsonRead.Obj(parent, key);

    public static JsonArray? Arr(JsonObject? parent, string key) => JsonRead.Arr(parent, key);

    /// <summary>The objects of an array field (non-object items are skipped).</summary>
    public static IEnumerable<JsonObject> Items(JsonObject? parent, string key)
    {
        if (Arr(parent, key) is not { } arr) yield break;
        foreach (var item in arr.ToArray())
            if (item is JsonObject o) yield return o;
    }

    public static string? Str(JsonObject? o, string key) => JsonRead.Str(o, key);

    public static bool IsTrue(JsonObject? o, string key) => JsonRead.Bool(o, key) == true;

    public static long? Int(JsonObject? o, string key) => JsonRead.Long(o, key);

    /// <summary>A pointer field is unset: absent or null.</summary>
    public static bool IsNull(JsonObject o, string key) => !o.TryGetPropertyValue(key, out var v) || v is null;

    /// <summary>A string field is unset: absent, null or "".</summary>
    public static bool IsEmptyString(JsonObject o, string key)
    {
        if (!o.TryGetPropertyValue(key, out var v) || v is null) return true;
        return v is JsonValue jv && jv.GetValueKind() == JsonValueKind.String && jv.GetValue<string>().Length == 0;
    }

    /// <summary>A number field is unset: absent, null or 0.</summary>
    public static bool IsZeroNumber(JsonObject o, string key)
    {
        if (!o.TryGetPropertyValue(key, out var v) || v is null) return true;
        return v is JsonValue jv && jv.GetValueKind() == JsonValueKind.Number
            && double.TryParse(jv.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == 0;
    }

    /// <summary>An intstr.IntOrString is its zero value: absent, null, 0 or "".</summary>
    public static bool IsZeroIntOrString(JsonObject o, string key) => IsZeroNumber(o, key) || IsEmptyString(o, key);

    /// <summary>A map or slice is empty: absent, null, or with no entries.</summary>
    public static bool IsEmptyCollection(JsonObject o, string key)
    {
        if (!o.TryGetPropertyValue(key, out var v) || v is null) return true;
        return v switch { JsonObject m => m.Count == 0, JsonArray a => a.Count == 0, _ => false };
    }

    public static void DefaultString(JsonObject o, string key, string value)
    {
        if (IsEmptyString(o, key)) o[key] = value;
    }

    public static void DefaultInt(JsonObject o, string key, long value)
    {
        if (IsZeroNumber(o, key)) o[key] = Num(value);
    }

    /// <summary>Sets a pointer field when it is absent or null.</summary>
    public static void DefaultPointer(JsonObject o, string key, JsonNode value)
    {
        if (IsNull(o, key)) o[key] = value is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? Num(v) : value;
    }

    /// <summary>
    /// A number node that reads back as any numeric type, like a parsed one (a node made from an
    /// int only reads back as an int).
    /// </summary>
    public static JsonNode Num(long value) => JsonNode.Parse(value.ToString(CultureInfo.InvariantCulture))!;

    private static JsonNode Num(JsonValue value) => JsonNode.Parse(value.ToJsonString())!;

    /// <summary>
    /// The object at <paramref name="key"/>, created empty when absent or null (a non-pointer
    /// struct in Go, or a pointer the defaulter allocates). Null when the value is not an object.
    /// </summary>
    public static JsonObject? Ensure(JsonObject o, string key)
    {
        if (!o.TryGetPropertyValue(key, out var v) || v is null)
        {
            var created = new JsonObject();
            o[key] = created;
            return created;
        }
        return v as JsonObject;
    }

    /// <summary>
    /// SetDefaults_ResourceList: every quantity is rounded up to milli precision (away from zero),
    /// keeping its format. Quantities already at milli precision are left as written.
    /// </summary>
    public static void RoundResourceList(JsonObject? parent, string key)
    {
        if (Obj(parent, key) is not { } list) return;
        foreach (var (name, value) in list.ToArray())
        {
            if (value is not JsonValue jv) continue;
            string raw;
            switch (jv.GetValueKind())
            {
                case JsonValueKind.String: raw = jv.GetValue<string>().Trim(); break;
                case JsonValueKind.Number: raw = jv.ToJsonString(); break;
                default: continue;
            }
            if (!Quantity.TryParse(raw, out var q)) continue;
            var rem = BigInteger.Remainder(q.Nanos, 1_000_000);
            if (rem.IsZero) continue;
            var rounded = q.Nanos - rem + (q.Nanos.Sign < 0 ? -1_000_000 : 1_000_000);
            list[name] = (q with { Nanos = rounded }).ToCanonicalString();
        }
    }

    /// <summary>Copies of the entries of <paramref name="from"/> missing from <paramref name="to"/>, created when needed.</summary>
    public static void CopyMissing(JsonObject parent, JsonObject? from, string toKey)
    {
        if (from is null || from.Count == 0) return;
        var to = Obj(parent, toKey);
        foreach (var (k, v) in from.ToArray())
        {
            if (to is not null && to.ContainsKey(k)) continue;
            if (to is null)
            {
                if (!IsNull(parent, toKey)) return; // not an object: leave it to decoding
                to = new JsonObject();
                parent[toKey] = to;
            }
            to[k] = v?.DeepClone();
        }
    }
}
