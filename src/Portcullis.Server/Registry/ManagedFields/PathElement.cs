using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>The four kinds of step in a field path, in the order upstream sorts them.</summary>
public enum PathElementKind { Field = 0, Key = 1, Value = 2, Index = 3 }

/// <summary>
/// One step of a field path (structured-merge-diff's fieldpath.PathElement): a struct field or
/// map key (<c>f:name</c>), an item of a list-map selected by its key fields
/// (<c>k:{"name":"x"}</c>), an item of a set (<c>v:"a"</c>), or a position in an atomic list
/// (<c>i:0</c>). Immutable; ordered and compared as upstream does.
/// </summary>
public sealed class PathElement : IComparable<PathElement>, IEquatable<PathElement>
{
    public PathElementKind Kind { get; }
    /// <summary>The field name (Field).</summary>
    public string? Name { get; }
    /// <summary>The key fields sorted by name (Key); values are JSON values, null meaning JSON null.</summary>
    public IReadOnlyList<KeyValuePair<string, JsonNode?>>? KeyFields { get; }
    /// <summary>The item value (Value); null means JSON null.</summary>
    public JsonNode? Value { get; }
    public int Index { get; }

    private string? _text;

    private PathElement(PathElementKind kind, string? name, IReadOnlyList<KeyValuePair<string, JsonNode?>>? key, JsonNode? value, int index)
    {
        Kind = kind;
        Name = name;
        KeyFields = key;
        Value = value;
        Index = index;
    }

    public static PathElement Field(string name) => new(PathElementKind.Field, name, null, null, 0);
    public static PathElement Item(int index) => new(PathElementKind.Index, null, null, null, index);
    public static PathElement SetItem(JsonNode? value) => new(PathElementKind.Value, null, null, value?.DeepClone(), 0);

    /// <summary>A list-map item key; the fields are sorted by name as upstream stores them.</summary>
    public static PathElement Key(IEnumerable<KeyValuePair<string, JsonNode?>> fields)
    {
        var list = fields.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value?.DeepClone())).ToList();
        list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new PathElement(PathElementKind.Key, null, list, null, 0);
    }

    public static PathElement Key(params (string Name, JsonNode? Value)[] fields) =>
        Key(fields.Select(f => new KeyValuePair<string, JsonNode?>(f.Name, f.Value)));

    public int CompareTo(PathElement? other)
    {
        if (other is null) return 1;
        if (Kind != other.Kind) return Kind < other.Kind ? -1 : 1;
        switch (Kind)
        {
            case PathElementKind.Field: return Math.Sign(string.CompareOrdinal(Name, other.Name));
            case PathElementKind.Value: return JsonValues.Compare(Value, other.Value);
            case PathElementKind.Index: return Index.CompareTo(other.Index);
            default:
            {
                var a = KeyFields!;
                var b = other.KeyFields!;
                for (var i = 0; ; i++)
                {
                    if (i >= a.Count && i >= b.Count) return 0;
                    if (i >= a.Count) return -1;
                    if (i >= b.Count) return 1;
                    var c = Math.Sign(string.CompareOrdinal(a[i].Key, b[i].Key));
                    if (c != 0) return c;
                    c = JsonValues.Compare(a[i].Value, b[i].Value);
                    if (c != 0) return c;
                }
            }
        }
    }

    public bool Equals(PathElement? other)
    {
        if (other is null || Kind != other.Kind) return false;
        return Kind switch
        {
            PathElementKind.Field => Name == other.Name,
            PathElementKind.Index => Index == other.Index,
            PathElementKind.Value => JsonValues.Equal(Value, other.Value),
            _ => KeyFields!.Count == other.KeyFields!.Count
                 && KeyFields.Zip(other.KeyFields).All(p => p.First.Key == p.Second.Key && JsonValues.Equal(p.First.Value, p.Second.Value)),
        };
    }

    public override bool Equals(object? obj) => obj is PathElement pe && Equals(pe);
    public override int GetHashCode() => Serialize().GetHashCode(StringComparison.Ordinal); // equal elements serialize alike

    /// <summary>The FieldsV1 key of this element, written as upstream writes it.</summary>
    public string Serialize() => _text ??= Kind switch
    {
        PathElementKind.Field => "f:" + Name,
        PathElementKind.Index => "i:" + Index.ToString(CultureInfo.InvariantCulture),
        PathElementKind.Value => "v:" + JsonValues.Serialize(Value),
        _ => SerializeKey(),
    };

    private string SerializeKey()
    {
        var sb = new StringBuilder("k:{");
        var first = true;
        foreach (var (name, value) in KeyFields!)
        {
            if (!first) sb.Append(',');
            first = false;
            JsonValues.WriteString(sb, name, html: false);
            sb.Append(':');
            sb.Append(JsonValues.Serialize(value));
        }
        return sb.Append('}').ToString();
    }

    public override string ToString() => Serialize();

    /// <summary>Whether a FieldsV1 key has a prefix this version does not know (upstream skips those).</summary>
    internal static bool IsUnknownKind(string s) => s.Length >= 2 && s[1] == ':' && s[0] is not ('f' or 'k' or 'v' or 'i');

    /// <summary>Parses a FieldsV1 key; throws <see cref="ManagedFieldsException"/> on malformed input.</summary>
    public static PathElement Parse(string s)
    {
        if (s.Length < 2) throw new ManagedFieldsException("key must be 2 characters long");
        if (s[1] != ':') throw new ManagedFieldsException($"missing colon: {s}");
        var rest = s[2..];
        switch (s[0])
        {
            case 'f':
                return Field(rest);
            case 'i':
                if (!int.TryParse(rest, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i))
                    throw new ManagedFieldsException($"invalid index: {s}");
                return Item(i);
            case 'v':
                return new PathElement(PathElementKind.Value, null, null, ParseJson(rest), 0);
            case 'k':
                if (ParseJson(rest) is not JsonObject o) throw new ManagedFieldsException($"invalid key: {s}");
                return Key(o.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value)));
            default:
                throw new ManagedFieldsException("unknown path element type");
        }
    }

    private static JsonNode? ParseJson(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new ManagedFieldsException("parsing path element: " + e.Message);
        }
    }
}

/// <summary>A managed-fields computation that upstream would fail (and then leave managedFields alone).</summary>
public sealed class ManagedFieldsException(string message) : Exception(message);
