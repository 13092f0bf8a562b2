using System.Globalization;
using System.Text;

namespace Portcullis.Cel;

/// <summary>A CEL runtime value. Errors and unknowns are values too, so they can flow through the
/// commutative logical operators as the language definition requires.</summary>
public abstract class CelValue
{
    public abstract CelType Type { get; }

    public bool IsError => this is CelError;
    public bool IsUnknown => this is CelUnknown;

    public static CelValue Of(long v) => CelInt.Of(v);
    public static CelValue Of(ulong v) => new CelUint(v);
    public static CelValue Of(double v) => new CelDouble(v);
    public static CelValue Of(bool v) => CelBool.Of(v);
    public static CelValue Of(string v) => new CelString(v);
    public static CelValue Of(byte[] v) => new CelBytes(v);
    public static CelValue Null => CelNull.Instance;

    public override string ToString() => Format.Debug(this);
}

public sealed class CelInt(long value) : CelValue
{
    static readonly CelInt[] Small = Enumerable.Range(-128, 1152).Select(i => new CelInt(i)).ToArray();
    public long Value { get; } = value;
    public override CelType Type => CelType.Int;
    public static new CelInt Of(long v) => v >= -128 && v < 1024 ? Small[v + 128] : new CelInt(v);
}

public sealed class CelUint(ulong value) : CelValue
{
    public ulong Value { get; } = value;
    public override CelType Type => CelType.Uint;
}

public sealed class CelDouble(double value) : CelValue
{
    public double Value { get; } = value;
    public override CelType Type => CelType.Double;
}

public sealed class CelBool : CelValue
{
    public static readonly CelBool True = new(true), False = new(false);
    CelBool(bool v) => Value = v;
    public bool Value { get; }
    public override CelType Type => CelType.Bool;
    public static new CelBool Of(bool v) => v ? True : False;
}

public sealed class CelString(string value) : CelValue
{
    public string Value { get; } = value;
    public override CelType Type => CelType.String;
}

public sealed class CelBytes(byte[] value) : CelValue
{
    public byte[] Value { get; } = value;
    public override CelType Type => CelType.Bytes;
}

public sealed class CelNull : CelValue
{
    public static readonly CelNull Instance = new();
    public override CelType Type => CelType.Null;
}

/// <summary>How a list compares and concatenates: in order (CEL's lists), or as Kubernetes binds
/// <c>x-kubernetes-list-type</c> set and map lists (apiserver pkg/cel/common/values.go): a set list equals a
/// list with the same elements in any order and <c>+</c> adds only new elements; a map list equals a list with
/// the same entries by key, and <c>+</c> replaces entries with the same key in place and appends the others.
/// The left operand decides.</summary>
public enum CelListKind { Ordered, Set, Map }

public sealed class CelList : CelValue
{
    public static readonly CelList Empty = new([]);

    public CelList(IReadOnlyList<CelValue> items) : this(items, CelListKind.Ordered, null) { }

    public CelList(IReadOnlyList<CelValue> items, CelListKind kind, IReadOnlyList<string>? mapKeys = null)
    {
        Items = items;
        Kind = kind;
        MapKeys = kind == CelListKind.Map ? mapKeys ?? throw new ArgumentException("a map list needs its key names") : null;
    }

    public IReadOnlyList<CelValue> Items { get; }
    public CelListKind Kind { get; }
    /// <summary>The (escaped) key field names of a map list.</summary>
    public IReadOnlyList<string>? MapKeys { get; }
    public override CelType Type => CelType.List;
}

/// <summary>A map with int, uint, bool or string keys; numeric keys compare across int/uint/double as
/// CEL's heterogeneous equality says (<c>{1: 'a'}[1u]</c> finds the entry).</summary>
public sealed class CelMap : CelValue
{
    readonly Dictionary<MapKey, int> _index = new();
    readonly List<KeyValuePair<CelValue, CelValue>> _entries = new();

    public static readonly CelMap Empty = new();
    public override CelType Type => CelType.Map;
    public IReadOnlyList<KeyValuePair<CelValue, CelValue>> Entries => _entries;
    public int Count => _entries.Count;

    /// <summary>Adds an entry; false when an equal key is already there.</summary>
    public bool TryAdd(CelValue key, CelValue value)
    {
        var k = MapKey.From(key) ?? throw new ArgumentException("unsupported key type");
        if (_index.ContainsKey(k)) return false;
        _index[k] = _entries.Count;
        _entries.Add(new(key, value));
        return true;
    }

    public bool TryGet(CelValue key, out CelValue value)
    {
        var k = MapKey.From(key);
        if (k is not null && _index.TryGetValue(k.Value, out int i)) { value = _entries[i].Value; return true; }
        value = null!;
        return false;
    }

    public static bool IsValidKey(CelValue v) => v is CelInt or CelUint or CelBool or CelString;

    readonly record struct MapKey(int Kind, Int128 Num, string? Str)
    {
        public static MapKey? From(CelValue v) => v switch
        {
            CelInt i => new MapKey(0, i.Value, null),
            CelUint u => new MapKey(0, u.Value, null),
            CelDouble d when double.IsFinite(d.Value) && Math.Floor(d.Value) == d.Value && d.Value >= -9.3e18 && d.Value <= 1.85e19 => new MapKey(0, (Int128)d.Value, null),
            CelBool b => new MapKey(1, b.Value ? 1 : 0, null),
            CelString s => new MapKey(2, 0, s.Value),
            _ => null,
        };
    }
}

public sealed class CelTypeValue(CelType value) : CelValue
{
    public CelType Value { get; } = value;
    public override CelType Type => CelType.TypeType;
}

/// <summary>A duration in nanoseconds (the range of Go's time.Duration, as cel-go).</summary>
public sealed class CelDuration(long nanos) : CelValue
{
    public long Nanos { get; } = nanos;
    public override CelType Type => CelType.Duration;
}

/// <summary>A timestamp: seconds since the Unix epoch and nanoseconds, between years 1 and 9999.</summary>
public sealed class CelTimestamp(long seconds, int nanos) : CelValue
{
    public long Seconds { get; } = seconds;
    public int Nanos { get; } = nanos;
    public override CelType Type => CelType.Timestamp;
    public const long MinSeconds = -62135596800L, MaxSeconds = 253402300799L;
}

public sealed class CelOptional(CelValue? value) : CelValue
{
    public static readonly CelOptional None = new(null);
    public CelValue? Value { get; } = value;
    public bool HasValue => Value is not null;
    public override CelType Type => CelType.Optional;
}

/// <summary>A value of a library type (Kubernetes' Quantity, URL, IP, CIDR): equality is the type's own.</summary>
public abstract class CelOpaque : CelValue
{
    public abstract bool EqualTo(CelValue other);
}

public sealed class CelError(string message) : CelValue
{
    public string Message { get; } = message;
    public override CelType Type => CelType.Error;
    public override string ToString() => "error: " + Message;
}

/// <summary>A value that is not known yet: the ids of the expressions that depended on unknown input.</summary>
public sealed class CelUnknown(IReadOnlyList<long> ids) : CelValue
{
    public IReadOnlyList<long> Ids { get; } = ids;
    public override CelType Type => CelType.Unknown;
    public CelUnknown Merge(CelUnknown other) => new(Ids.Concat(other.Ids).Distinct().ToArray());
}

/// <summary>A CEL type, as <c>type(x)</c> returns it and the checker uses it. Object types (a
/// Kubernetes schema's objects) carry their fields; type parameters appear in function signatures.</summary>
public sealed class CelType : IEquatable<CelType>
{
    public string Name { get; }
    public IReadOnlyList<CelType> Params { get; }
    /// <summary>The fields of an object type (null for other types).</summary>
    public IReadOnlyDictionary<string, CelType>? Fields { get; }
    public bool IsTypeParam { get; }

    public CelType(string name, params CelType[] parameters) { Name = name; Params = parameters; }

    CelType(string name, IReadOnlyDictionary<string, CelType>? fields, bool isParam)
    {
        Name = name;
        Params = [];
        Fields = fields;
        IsTypeParam = isParam;
    }

    public static readonly CelType Int = new("int"), Uint = new("uint"), Double = new("double"), Bool = new("bool"),
        String = new("string"), Bytes = new("bytes"), Null = new("null_type"), List = new("list"), Map = new("map"),
        TypeType = new("type"), Duration = new("google.protobuf.Duration"), Timestamp = new("google.protobuf.Timestamp"),
        Optional = new("optional_type"), Error = new("*error*"), Unknown = new("*unknown*"), Dyn = new("dyn");

    public static CelType ListOf(CelType elem) => new("list", elem);

    /// <summary>A list bound as x-kubernetes-list-type=set (the same CEL type as <see cref="ListOf"/>).</summary>
    public static CelType SetListOf(CelType elem) => new("list", [elem]) { ListKind = CelListKind.Set };

    /// <summary>A list bound as x-kubernetes-list-type=map with its key fields (escaped names).</summary>
    public static CelType MapListOf(CelType elem, IReadOnlyList<string> keys) => new("list", [elem]) { ListKind = CelListKind.Map, MapKeys = keys };

    /// <summary>For list types: how values bound to it compare and concatenate (not part of the type's identity).</summary>
    public CelListKind ListKind { get; private init; }
    public IReadOnlyList<string>? MapKeys { get; private init; }
    public static CelType MapOf(CelType key, CelType value) => new("map", key, value);
    public static CelType OptionalOf(CelType value) => new("optional_type", value);
    public static CelType TypeOf(CelType value) => new("type", value);
    public static CelType Param(string name) => new(name, null, true);
    /// <summary>A protobuf wrapper type (google.protobuf.Int64Value ...): the primitive or null.</summary>
    public static CelType WrapperOf(CelType primitive) => new("wrapper", primitive);

    /// <summary>An object type with named fields, as cel-go's struct types: selecting another field is the
    /// compile error "undefined field 'x'".</summary>
    public static CelType Object(string name, IReadOnlyDictionary<string, CelType> fields) => new(name, fields, false);

    public bool IsDyn => Name == "dyn" && !IsTypeParam;
    public bool IsError => Name == "*error*";

    public bool Equals(CelType? other) => other is not null && other.Name == Name; // runtime types compare by name
    public override bool Equals(object? obj) => obj is CelType t && Equals(t);
    public override int GetHashCode() => Name.GetHashCode();

    /// <summary>cel-go's rendering of a type in checker messages (FormatCELType).</summary>
    public override string ToString()
    {
        if (IsTypeParam) return Name;
        string n = Name switch
        {
            "google.protobuf.Duration" => "duration",
            "google.protobuf.Timestamp" => "timestamp",
            "null_type" => "null",
            "*error*" => "!error!",
            _ => Name,
        };
        return Params.Count == 0 ? n : $"{n}({string.Join(", ", Params)})";
    }
}

internal static class Format
{
    public static string Debug(CelValue v) => v switch
    {
        CelInt i => i.Value.ToString(CultureInfo.InvariantCulture),
        CelUint u => u.Value.ToString(CultureInfo.InvariantCulture) + "u",
        CelDouble d => FormatDouble(d.Value),
        CelBool b => b.Value ? "true" : "false",
        CelString s => Quote(s.Value),
        CelBytes b => "b" + Quote(Encoding.UTF8.GetString(b.Value)),
        CelNull => "null",
        CelList l => "[" + string.Join(", ", l.Items.Select(Debug)) + "]",
        CelMap m => "{" + string.Join(", ", m.Entries.Select(e => Debug(e.Key) + ": " + Debug(e.Value))) + "}",
        CelTypeValue t => t.Value.Name,
        CelDuration d => "duration(\"" + Time.FormatDuration(d.Nanos) + "\")",
        CelTimestamp t => "timestamp(\"" + Time.FormatTimestamp(t) + "\")",
        CelOptional o => o.HasValue ? "optional.of(" + Debug(o.Value!) + ")" : "optional.none()",
        CelError e => "error: " + e.Message,
        CelUnknown u => "unknown" + "{" + string.Join(",", u.Ids) + "}",
        CelOpaque o => o.ToString()!,
        _ => v.GetType().Name,
    };

    /// <summary>A value as Go's %v prints cel-go's values in error messages: strings unquoted.</summary>
    public static string Raw(CelValue v) => v switch
    {
        CelString s => s.Value,
        CelUint u => u.Value.ToString(CultureInfo.InvariantCulture),
        _ => Debug(v),
    };

    public static string FormatDouble(double d)
    {
        if (double.IsPositiveInfinity(d)) return "+Inf";
        if (double.IsNegativeInfinity(d)) return "-Inf";
        if (double.IsNaN(d)) return "NaN";
        return d.ToString("R", CultureInfo.InvariantCulture);
    }

    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }
}
