using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// What upstream's hashutil.DeepHashObject writes for a v1.PodTemplateSpec: go-spew (v1.1.1) printing the Go
/// value with <c>%#v</c> (SortKeys, DisableMethods, SpewKeys): every field of every struct in declaration
/// order with its Go type in parentheses, strings unquoted, nil pointers, slices and maps as <c>&lt;nil&gt;</c>,
/// map keys sorted, elements of slices and maps without their type. The Go types come from
/// <c>PodTemplateSpec.gospew.tsv</c>, generated from k8s.io/api v1.33.0 by reflection (tools/gospew).
/// </summary>
/// <remarks>
/// The value printed is the one kube-controller-manager decodes from the stored JSON: an absent field is Go's
/// zero value, an empty list or map is nil (protobuf, which the controller reads, cannot tell them apart),
/// an empty object for a pointer is a pointer to a zero struct. Quantities are parsed as
/// resource.ParseQuantity does into its int64 form; a value that would need its inf.Dec form (more than 18
/// digits, or finer than nano) or a set time has no reproduction here: <see cref="PodTemplateSpec"/> returns
/// null and the caller falls back.
/// </remarks>
public static class GoSpew
{
    private sealed class GoType(string id, string kind, string display)
    {
        public string Id => id;
        public string Kind => kind;
        public string Display => display;
        public GoType? Elem;
        public GoType? Key;
        public readonly List<GoField> Fields = [];
    }

    private sealed record GoField(string Name, string Json, bool Inline, GoType Type);

    private sealed class Unsupported(string what) : Exception(what);

    private static readonly Lazy<GoType> Root = new(Load);

    /// <summary>The spew text of the template, or null when it holds a value this printer cannot reproduce.</summary>
    public static string? PodTemplateSpec(JsonObject template)
    {
        var sb = new StringBuilder(4096);
        try { Print(sb, Root.Value, template, showType: true); }
        catch (Unsupported) { return null; }
        return sb.ToString();
    }

    private static GoType Load()
    {
        using var s = typeof(GoSpew).Assembly.GetManifestResourceStream("gospew/PodTemplateSpec.tsv")
            ?? throw new InvalidOperationException("the gospew schema is not embedded");
        using var reader = new StreamReader(s);
        var rows = new List<string[]>();
        while (reader.ReadLine() is { } line) if (line.Length > 0) rows.Add(line.Split('\t'));
        var types = new Dictionary<string, GoType>(StringComparer.Ordinal);
        foreach (var r in rows.Where(r => r[0] == "T")) types[r[1]] = new GoType(r[1], r[2], r[3]);
        foreach (var r in rows)
        {
            if (r[0] == "T")
            {
                if (r[4] != "-") types[r[1]].Elem = types[r[4]];
                if (r[5] != "-") types[r[1]].Key = types[r[5]];
            }
            else types[r[1]].Fields.Add(new GoField(r[2], r[3], r[4] == "1", types[r[5]]));
        }
        return types[rows[0][1]];
    }

    private static void Print(StringBuilder sb, GoType t, JsonNode? v, bool showType)
    {
        if (t.Kind == "ptr")
        {
            if (v is null)
            {
                sb.Append(showType ? "(" + t.Display + ")<nil>" : "<nil>");
                return;
            }
            sb.Append(showType ? "(" + t.Display + ")" : "<*>");
            Print(sb, t.Elem!, v, showType: false);
            return;
        }
        if (showType) sb.Append('(').Append(t.Display).Append(')');
        switch (t.Kind)
        {
            case "bool":
                sb.Append(v is null ? "false" : JsonRead.Bool(v) is { } b ? (b ? "true" : "false") : throw new Unsupported("bool"));
                return;
            case "int":
            case "uint":
                sb.Append(v is null ? 0 : JsonRead.Long(v) ?? throw new Unsupported("integer"));
                return;
            case "string":
                sb.Append(v is null ? "" : JsonRead.Str(v) ?? throw new Unsupported("string"));
                return;
            case "slice":
                if (v is null || v is JsonArray { Count: 0 }) { sb.Append("<nil>"); return; }
                if (v is not JsonArray items || t.Elem!.Kind == "uint") throw new Unsupported("slice");
                sb.Append('[');
                for (var i = 0; i < items.Count; i++)
                {
                    if (i > 0) sb.Append(' ');
                    Print(sb, t.Elem!, items[i], showType: false);
                }
                sb.Append(']');
                return;
            case "map":
                if (v is null || v is JsonObject { Count: 0 }) { sb.Append("<nil>"); return; }
                if (v is not JsonObject map || t.Key!.Kind != "string") throw new Unsupported("map");
                sb.Append("map[");
                var first = true;
                foreach (var key in map.Select(kv => kv.Key).Order(StringComparer.Ordinal))
                {
                    if (!first) sb.Append(' ');
                    first = false;
                    sb.Append(key).Append(':');
                    Print(sb, t.Elem!, map[key], showType: false);
                }
                sb.Append(']');
                return;
            case "special" when t.Display == "resource.Quantity":
                Quantity(sb, v);
                return;
            case "special" when t.Display == "v1.Time":
                if (v is not null) throw new Unsupported("time");
                sb.Append("{Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}");
                return;
            case "struct" when t.Display == "intstr.IntOrString":
                IntOrString(sb, t, v);
                return;
            case "struct":
                if (v is not null and not JsonObject) throw new Unsupported("struct");
                var obj = v as JsonObject;
                sb.Append('{');
                for (var i = 0; i < t.Fields.Count; i++)
                {
                    var f = t.Fields[i];
                    if (i > 0) sb.Append(' ');
                    sb.Append(f.Name).Append(':');
                    var value = f.Inline ? obj : f.Json == "-" ? null : obj?[f.Json];
                    // An inlined struct of an absent object is its zero value, as any struct.
                    Print(sb, f.Type, value, showType: true);
                }
                sb.Append('}');
                return;
            default:
                throw new Unsupported(t.Kind);
        }
    }

    /// <summary>intstr.IntOrString: Type 0 with IntVal for a number, Type 1 with StrVal for a string.</summary>
    private static void IntOrString(StringBuilder sb, GoType t, JsonNode? v)
    {
        var (type, intVal, strVal) = JsonRead.IntOrString(v) switch
        {
            null when v is null => (0, 0L, ""),
            { IsInt: true } i => (0, i.Int, ""),
            { } s => (1, 0L, s.Str),
            _ => throw new Unsupported("int-or-string"),
        };
        sb.Append('{')
            .Append(t.Fields[0].Name).Append(":(").Append(t.Fields[0].Type.Display).Append(')').Append(type).Append(' ')
            .Append(t.Fields[1].Name).Append(":(").Append(t.Fields[1].Type.Display).Append(')').Append(intVal).Append(' ')
            .Append(t.Fields[2].Name).Append(":(").Append(t.Fields[2].Type.Display).Append(')').Append(strVal)
            .Append('}');
    }

    /// <summary>resource.Quantity as ParseQuantity leaves it: its int64Amount, no inf.Dec, the string kept when canonical, the format.</summary>
    private static void Quantity(StringBuilder sb, JsonNode? v)
    {
        var (value, scale, s, format) = v is null ? (0L, 0, "", "") : ParseQuantity(JsonRead.Text(v) ?? throw new Unsupported("quantity"));
        sb.Append("{i:(resource.int64Amount){value:(int64)").Append(value.ToString(CultureInfo.InvariantCulture))
            .Append(" scale:(resource.Scale)").Append(scale.ToString(CultureInfo.InvariantCulture))
            .Append("} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)").Append(s)
            .Append(" Format:(resource.Format)").Append(format).Append('}');
    }

    /// <summary>resource.ParseQuantity's int64 path (the inf.Dec path is not reproduced).</summary>
    internal static (long Value, int Scale, string S, string Format) ParseQuantity(string str)
    {
        if (str.Length == 0) throw new Unsupported("quantity");
        if (str == "0") return (0, 0, "0", "DecimalSI");
        var (positive, num, denom, suffix) = SplitQuantity(str);
        var (b, exponent, format) = Suffix(suffix);
        int precision;
        var scale = 0;
        long mantissa = 1;
        if (format is "DecimalExponent" or "DecimalSI")
        {
            scale = exponent;
            precision = 18 - (num.Length + denom.Length);
        }
        else if (exponent >= 0 && denom.Length == 0)
        {
            mantissa <<= exponent;
            precision = 15 - num.Length - (int)((float)exponent * 3 / 10) - 1;
        }
        else precision = -1;
        _ = b;
        if (precision >= 0)
        {
            scale -= denom.Length;
            if (scale >= -9)
            {
                var shifted = num + denom;
                if (!long.TryParse(shifted, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) throw new Unsupported("quantity");
                long result;
                try { result = checked(value * mantissa); }
                catch (OverflowException) { throw new Unsupported("quantity"); }
                if (!positive) result = -result;
                var canonical = format == "BinarySI"
                    ? exponent % 10 == 0 && (value & 0x07) != 0
                    : scale % 3 == 0 && !shifted.EndsWith("000", StringComparison.Ordinal) && shifted[0] != '0';
                return (result, scale, canonical ? str : "", format);
            }
        }
        throw new Unsupported("quantity needing inf.Dec");
    }

    /// <summary>parseQuantityString: sign, numerator (leading zeros stripped), denominator, suffix.</summary>
    private static (bool Positive, string Num, string Denom, string Suffix) SplitQuantity(string str)
    {
        var positive = true;
        var pos = 0;
        if (str[0] is '-' or '+') { positive = str[0] == '+'; pos++; }
        while (pos < str.Length && str[pos] == '0') pos++;
        if (pos >= str.Length) return (positive, "0", "", "");
        var start = pos;
        while (pos < str.Length && char.IsAsciiDigit(str[pos])) pos++;
        var num = pos == start ? "0" : str[start..pos];
        var denom = "";
        if (pos < str.Length && str[pos] == '.')
        {
            var ds = ++pos;
            while (pos < str.Length && char.IsAsciiDigit(str[pos])) pos++;
            denom = str[ds..pos];
        }
        return (positive, num, denom, str[pos..]);
    }

    /// <summary>The quantity suffixer: base, exponent and format of a suffix.</summary>
    private static (int Base, int Exponent, string Format) Suffix(string suffix) => suffix switch
    {
        "" => (10, 0, "DecimalSI"),
        "n" => (10, -9, "DecimalSI"), "u" => (10, -6, "DecimalSI"), "m" => (10, -3, "DecimalSI"),
        "k" => (10, 3, "DecimalSI"), "M" => (10, 6, "DecimalSI"), "G" => (10, 9, "DecimalSI"),
        "T" => (10, 12, "DecimalSI"), "P" => (10, 15, "DecimalSI"), "E" => (10, 18, "DecimalSI"),
        "Ki" => (2, 10, "BinarySI"), "Mi" => (2, 20, "BinarySI"), "Gi" => (2, 30, "BinarySI"),
        "Ti" => (2, 40, "BinarySI"), "Pi" => (2, 50, "BinarySI"), "Ei" => (2, 60, "BinarySI"),
        _ when suffix.Length > 1 && suffix[0] is 'e' or 'E'
            && int.TryParse(suffix.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var e) => (10, e, "DecimalExponent"),
        _ => throw new Unsupported("quantity suffix"),
    };
}
