using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Schema;

public static partial class ObjectShaper
{
    /// <summary>
    /// <see cref="Shape"/> for an object its caller gives up, which is usually in shape already: the
    /// store shapes a write once, and then again after defaulting, admission and the strategy,
    /// which change a few fields. The result equals <see cref="Shape"/>'s (same keys, order, values
    /// and value forms), but the parts already in shape are kept rather than copied: an object
    /// wholly in shape is returned as it is, after a walk that allocates nothing, and otherwise
    /// <paramref name="input"/> itself is rebuilt, field by field, keeping the fields in shape, going
    /// down into structs and lists of structs, and copying only the rest through <see cref="Shape"/>'s
    /// rules. No problems are collected: the object was decoded already.
    /// </summary>
    public static JsonObject Reshape(JsonObject input, StructSchema schema) =>
        IsShapedStruct(input, schema) ? input : ReshapeStruct(input, schema);

    /// <summary>Whether <see cref="Shape"/> would give back an equal tree: the fields it emits, in its order, in its forms, and nothing else.</summary>
    internal static bool IsShapedStruct(JsonObject o, StructSchema schema)
    {
        var next = 0;
        foreach (var f in schema.Fields)
        {
            JsonNode? value = null;
            var present = false;
            if (next < o.Count)
            {
                var (key, v) = o.GetAt(next);
                if (key == f.JsonName) (present, value) = (true, v);
            }
            if (!IsShapedField(present, value, f)) return false;
            if (present) next++;
        }
        // A key left over is unknown to the type or out of the type's order.
        return next == o.Count;
    }

    /// <summary>Whether a field (absent, null or a value) is as <see cref="ShapeField"/> would emit it.</summary>
    private static bool IsShapedField(bool present, JsonNode? value, FieldSchema f)
    {
        var t = f.Type;
        switch (t.Kind)
        {
            case TypeKind.Pointer:
                if (value is null) return present != f.OmitEmpty;
                return IsShapedValue(value, t.Elem!);
            case TypeKind.Slice:
            case TypeKind.Map:
            case TypeKind.Bytes:
                if (value is null) return present != f.OmitEmpty;
                return !IsEmptyCollection(value) && IsShapedValue(value, t);
            case TypeKind.Struct:
                return value is JsonObject o && IsShapedStruct(o, t.Struct!);
            case TypeKind.Time:
            case TypeKind.MicroTime:
                // Always emitted; null is its zero value.
                return value is null ? present : IsShapedValue(value, t);
            case TypeKind.RawExtension:
            case TypeKind.Json:
            case TypeKind.FieldsV1:
                return value is null ? present != f.OmitEmpty : true;
            default:
                if (value is null)
                {
                    // Absent or null becomes the zero value, written unless omitempty drops it: a
                    // quantity's "0" is always written (omitempty keeps a struct), a duration (no zero
                    // value) is null.
                    if (t.Kind == TypeKind.Quantity) return false;
                    var hasZero = t.Kind is TypeKind.String or TypeKind.Bool or TypeKind.Int32 or TypeKind.Int64
                        or TypeKind.Float64 or TypeKind.IntOrString;
                    return f.OmitEmpty ? !present : !hasZero && present;
                }
                return IsShapedValue(value, t) && !(f.OmitEmpty && IsZeroScalar(value));
        }
    }

    /// <summary>Whether <see cref="ShapeValue"/> would give back an equal, non-null node.</summary>
    private static bool IsShapedValue(JsonNode value, TypeRef t)
    {
        switch (t.Kind)
        {
            case TypeKind.Pointer:
                return IsShapedValue(value, t.Elem!);
            case TypeKind.Struct:
                return value is JsonObject o && IsShapedStruct(o, t.Struct!);
            case TypeKind.Slice:
            {
                if (value is not JsonArray a) return false;
                foreach (var item in a)
                    if (item is null ? !NullElementIsZero(t.Elem!) : !IsShapedValue(item, t.Elem!)) return false;
                return true;
            }
            case TypeKind.Map:
            {
                if (value is not JsonObject m) return false;
                string? previous = null;
                foreach (var (k, item) in m)
                {
                    // Go writes map keys sorted by their bytes.
                    if (previous is not null && string.CompareOrdinal(previous, k) >= 0) return false;
                    previous = k;
                    if (item is null ? !NullElementIsZero(t.Elem!) : !IsShapedValue(item, t.Elem!)) return false;
                }
                return true;
            }
            case TypeKind.String:
            case TypeKind.Duration:
                return value is JsonValue sv && sv.GetValueKind() == JsonValueKind.String;
            case TypeKind.Bool:
                return value is JsonValue b && b.GetValueKind() is JsonValueKind.True or JsonValueKind.False;
            case TypeKind.Int32:
            case TypeKind.Int64:
                // Shape writes integers as a long; another CLR form is rewritten.
                return value is JsonValue n && n.TryGetValue(out long l) && (t.Kind == TypeKind.Int64 || l is >= int.MinValue and <= int.MaxValue);
            case TypeKind.Float64:
                return value is JsonValue fv && fv.GetValueKind() == JsonValueKind.Number && !Serialization.JsonParser.IsNonFinite(fv);
            case TypeKind.Time:
            case TypeKind.MicroTime:
            {
                if (value is not JsonValue tv || tv.GetValueKind() != JsonValueKind.String) return false;
                var s = tv.GetValue<string>();
                return s.Length > 0
                    && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dt)
                    && s == (t.Kind == TypeKind.Time ? FormatTime(dt) : FormatMicroTime(dt));
            }
            case TypeKind.Quantity:
            {
                if (value is not JsonValue qv || qv.GetValueKind() != JsonValueKind.String) return false;
                var s = qv.GetValue<string>();
                return Quantity.TryNormalize(s.Trim(), out var text) && text == s;
            }
            case TypeKind.IntOrString:
                return value is JsonValue iv && (iv.GetValueKind() == JsonValueKind.String
                    || iv.TryGetValue(out long il) && il is >= int.MinValue and <= int.MaxValue);
            case TypeKind.Bytes:
                // Base64 is checked by copying: such a field takes the copying path.
                return false;
            default:
                return true; // RawExtension, JSON, FieldsV1: copied as they are
        }
    }

    /// <summary>A null element stays null (<see cref="ZeroOfElement"/> of a pointer, slice or map).</summary>
    private static bool NullElementIsZero(TypeRef elem) => elem.Kind is TypeKind.Pointer or TypeKind.Slice or TypeKind.Map;

    private static JsonObject ReshapeStruct(JsonObject input, StructSchema schema)
    {
        var fields = schema.Fields;
        var values = new JsonNode?[fields.Length];
        var present = new bool[fields.Length];
        for (var i = 0; i < fields.Length; i++) present[i] = input.TryGetPropertyValue(fields[i].JsonName, out values[i]);
        // Detaches every value (unknown fields are dropped with it); the object is filled again in the type's order.
        input.Clear();
        for (var i = 0; i < fields.Length; i++)
        {
            var f = fields[i];
            var value = values[i];
            if (IsShapedField(present[i], value, f))
            {
                if (present[i]) input[f.JsonName] = value;
                continue;
            }
            var deref = f.Type.Deref;
            if (value is JsonObject o && deref.Kind == TypeKind.Struct)
            {
                // A struct (or a pointer to one) given as an object is always written.
                input[f.JsonName] = ReshapeStruct(o, deref.Struct!);
                continue;
            }
            if (value is JsonArray { Count: > 0 } a && f.Type.Kind == TypeKind.Slice)
            {
                input[f.JsonName] = ReshapeSlice(a, f.Type.Elem!, schema);
                continue;
            }
            var shaped = ShapeField(value, f, "", "", null, schema);
            if (shaped.Emit) input[f.JsonName] = shaped.Node;
        }
        return input;
    }

    private static JsonArray ReshapeSlice(JsonArray a, TypeRef elem, StructSchema owner)
    {
        var items = a.ToArray();
        a.Clear();
        foreach (var item in items)
        {
            if (item is null) a.Add(ZeroOfElement(elem));
            else if (IsShapedValue(item, elem)) a.Add(item);
            else if (item is JsonObject o && elem.Deref.Kind == TypeKind.Struct) a.Add((JsonNode)ReshapeStruct(o, elem.Deref.Struct!));
            else a.Add(ShapeValue(item, elem, "", "", null, owner, null));
        }
        return a;
    }
}
