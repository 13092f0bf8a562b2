using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// A resource.Quantity as quota and limit arithmetic sees it: the exact value, and the text it was
/// written with while untouched (upstream keeps a parsed quantity's string until arithmetic clears it,
/// then prints the canonical form).
/// </summary>
internal readonly record struct Qty(Quantity Value, string? Text)
{
    public static Qty Zero => new(new Quantity(BigInteger.Zero, QuantityFormat.DecimalSI), null);

    public static Qty Of(long n) => new(new Quantity(new BigInteger(n) * 1_000_000_000, QuantityFormat.DecimalSI), null);

    /// <summary>resource.MustParse of a literal: keeps its text.</summary>
    public static Qty Parse(string s)
    {
        Quantity.TryNormalize(s, out var text);
        Quantity.TryParse(s, out var q);
        return new Qty(q, text);
    }

    public BigInteger Nanos => Value.Nanos;
    public bool IsZero => Value.Nanos.IsZero;
    public int Sign => Value.Nanos.Sign;

    /// <summary>Quantity.Value(): whole units, rounded up.</summary>
    public BigInteger Units => Value.Value;

    /// <summary>Quantity.MilliValue(): milli-units, rounded up.</summary>
    public BigInteger Milli => Value.MilliValue;

    public override string ToString() => Text ?? Value.ToCanonicalString();

    /// <summary>Quantity.Add: the receiver's format, unless it is zero.</summary>
    public Qty Add(Qty y) => new(new Quantity(Nanos + y.Nanos, IsZero ? y.Value.Format : Value.Format), null);

    public Qty Sub(Qty y) => new(new Quantity(Nanos - y.Nanos, IsZero ? y.Value.Format : Value.Format), null);

    public int CompareTo(Qty y) => Nanos.CompareTo(y.Nanos);

    /// <summary>Quantity.RoundUp(0): whole units, keeping the format; the same value (and text) when already whole.</summary>
    public Qty RoundUpToUnits()
    {
        var rem = BigInteger.Remainder(Nanos, 1_000_000_000);
        if (rem.IsZero) return this;
        var whole = Nanos - rem + (Nanos.Sign > 0 ? 1_000_000_000 : 0);
        return new Qty(new Quantity(whole, Value.Format), null);
    }

    /// <summary>Reads a quantity written as a string or a bare number.</summary>
    public static bool TryRead(JsonNode? node, out Qty q)
    {
        q = default;
        if (node is not JsonValue v) return false;
        var raw = v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>().Trim(),
            JsonValueKind.Number => v.ToJsonString(),
            _ => null,
        };
        if (raw is null || !Quantity.TryParse(raw, out var value) || !Quantity.TryNormalize(raw, out var text)) return false;
        q = new Qty(value, text);
        return true;
    }
}

/// <summary>corev1.ResourceList arithmetic (k8s.io/apiserver/pkg/quota/v1 resources helpers) over <see cref="Qty"/>.</summary>
internal static class ResourceLists
{
    public static Dictionary<string, Qty> Read(JsonNode? map)
    {
        var result = new Dictionary<string, Qty>(StringComparer.Ordinal);
        if (map is not JsonObject o) return result;
        foreach (var (k, v) in o)
            if (Qty.TryRead(v, out var q)) result[k] = q;
        return result;
    }

    /// <summary>A JSON map with keys in Go's (sorted) order.</summary>
    public static JsonObject ToJson(IReadOnlyDictionary<string, Qty> list)
    {
        var o = new JsonObject();
        foreach (var k in list.Keys.Order(StringComparer.Ordinal)) o[k] = list[k].ToString();
        return o;
    }

    /// <summary>quota.Add: the sum of both, keys of either.</summary>
    public static Dictionary<string, Qty> Add(IReadOnlyDictionary<string, Qty> a, IReadOnlyDictionary<string, Qty> b)
    {
        var result = new Dictionary<string, Qty>(StringComparer.Ordinal);
        foreach (var (k, v) in a) result[k] = b.TryGetValue(k, out var o) ? v.Add(o) : v;
        foreach (var (k, v) in b) result.TryAdd(k, v);
        return result;
    }

    /// <summary>quota.SubtractWithNonNegativeResult.</summary>
    public static Dictionary<string, Qty> SubtractNonNegative(IReadOnlyDictionary<string, Qty> a, IReadOnlyDictionary<string, Qty> b)
    {
        var zero = Qty.Parse("0");
        var result = new Dictionary<string, Qty>(StringComparer.Ordinal);
        foreach (var (k, v) in a)
        {
            var q = b.TryGetValue(k, out var o) ? v.Sub(o) : v;
            result[k] = q.Sign > 0 ? q : zero;
        }
        foreach (var k in b.Keys) result.TryAdd(k, zero);
        return result;
    }

    /// <summary>quota.Mask: only the named resources.</summary>
    public static Dictionary<string, Qty> Mask(IReadOnlyDictionary<string, Qty> list, IEnumerable<string> names)
    {
        var result = new Dictionary<string, Qty>(StringComparer.Ordinal);
        foreach (var n in names)
            if (list.TryGetValue(n, out var q)) result[n] = q;
        return result;
    }

    /// <summary>quota.LessThanOrEqual: whether every value of a named in b is at most b's, and those that are not.</summary>
    public static (bool Ok, List<string> Exceeded) LessThanOrEqual(IReadOnlyDictionary<string, Qty> a, IReadOnlyDictionary<string, Qty> b)
    {
        var exceeded = new List<string>();
        foreach (var (k, v) in a)
            if (b.TryGetValue(k, out var o) && v.CompareTo(o) > 0) exceeded.Add(k);
        return (exceeded.Count == 0, exceeded);
    }

    /// <summary>quota.Equals: the same keys with equal values.</summary>
    public static bool Equal(IReadOnlyDictionary<string, Qty> a, IReadOnlyDictionary<string, Qty> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var o) && o.CompareTo(kv.Value) == 0);

    public static bool IsZero(IReadOnlyDictionary<string, Qty> list) => list.Values.All(q => q.IsZero);

    public static List<string> Negative(IReadOnlyDictionary<string, Qty> list) =>
        list.Where(kv => kv.Value.Sign < 0).Select(kv => kv.Key).ToList();

    /// <summary>addResourceList: sums into <paramref name="list"/>.</summary>
    public static void AddInto(Dictionary<string, Qty> list, IReadOnlyDictionary<string, Qty>? add)
    {
        if (add is null) return;
        foreach (var (k, v) in add) list[k] = list.TryGetValue(k, out var cur) ? cur.Add(v) : v;
    }

    /// <summary>maxResourceList: the greater of each into <paramref name="list"/>.</summary>
    public static void MaxInto(Dictionary<string, Qty> list, IReadOnlyDictionary<string, Qty>? other)
    {
        if (other is null) return;
        foreach (var (k, v) in other)
            if (!list.TryGetValue(k, out var cur) || v.CompareTo(cur) > 0) list[k] = v;
    }

    /// <summary>The per-resource maximum of several lists (null lists skipped).</summary>
    public static Dictionary<string, Qty> Max(IReadOnlyDictionary<string, Qty>? a, params IReadOnlyDictionary<string, Qty>?[] others)
    {
        var result = a is null ? new Dictionary<string, Qty>(StringComparer.Ordinal) : new Dictionary<string, Qty>(a, StringComparer.Ordinal);
        foreach (var o in others) MaxInto(result, o);
        return result;
    }

    /// <summary>prettyPrint: <c>a=1,b=2</c> in key order.</summary>
    public static string Pretty(IReadOnlyDictionary<string, Qty> list) =>
        string.Join(",", list.Keys.Order(StringComparer.Ordinal).Select(k => k + "=" + list[k]));

    public static string PrettyNames(IEnumerable<string> names) => string.Join(",", names.Order(StringComparer.Ordinal));
}
