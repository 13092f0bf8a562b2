using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Serialization;

/// <summary>
/// Renders decoded JSON the way Go's <c>%#v</c> prints the internal type upstream validates, for
/// the struct values upstream puts into field errors (<c>rbac.RoleRef{APIGroup:"…", Kind:"Role", Name:"x"}</c>),
/// and the way go-cmp prints values in a diff. Field names come from the schema in Go declaration order.
/// </summary>
internal static class GoRepr
{
    public static string Render(JsonNode? value, string schemaType)
    {
        var s = SchemaRegistry.Default.Get(schemaType);
        return Struct(value as JsonObject, s);
    }

    /// <summary>%#v of a slice of a schema struct type.</summary>
    public static string Slice(JsonNode? value, string schemaType)
    {
        var s = SchemaRegistry.Default.Get(schemaType);
        if (value is not JsonArray a || a.Count == 0) return "[]" + Pkg(s) + "." + s.Name + "(nil)";
        return "[]" + Pkg(s) + "." + s.Name + "{" + string.Join(", ", a.Select(x => Struct(x as JsonObject, s))) + "}";
    }

    /// <summary>The package name %#v prints: internal packages for API groups, <c>v1</c> for meta.</summary>
    public static string Pkg(StructSchema s)
    {
        var group = s.Package.Split('/')[0];
        return group == "meta" ? "v1" : group.Split('.')[0];
    }

    public static string TypeName(TypeRef t) => t.Kind switch
    {
        TypeKind.Pointer => "*" + TypeName(t.Elem!),
        TypeKind.Slice => "[]" + TypeName(t.Elem!),
        TypeKind.Map => "map[string]" + TypeName(t.Elem!),
        TypeKind.Struct => Pkg(t.Struct!) + "." + t.Struct!.Name,
        TypeKind.String => "string",
        TypeKind.Bool => "bool",
        TypeKind.Int32 => "int32",
        TypeKind.Int64 => "int64",
        TypeKind.Float64 => "float64",
        TypeKind.Bytes => "[]uint8",
        TypeKind.IntOrString => "intstr.IntOrString",
        TypeKind.Quantity => "resource.Quantity",
        TypeKind.Time or TypeKind.MicroTime => "v1.Time",
        TypeKind.Duration => "v1.Duration",
        _ => "runtime.RawExtension",
    };

    private static string Struct(JsonObject? o, StructSchema s)
    {
        var parts = s.Fields.Select(f => GoName(f.JsonName) + ":" + Value(o?[f.JsonName], f.Type));
        return Pkg(s) + "." + s.Name + "{" + string.Join(", ", parts) + "}";
    }

    private static string Value(JsonNode? v, TypeRef t)
    {
        switch (t.Kind)
        {
            case TypeKind.Pointer:
                if (v is null) return "(" + TypeName(t) + ")(nil)";
                if (t.Elem!.Kind == TypeKind.Struct) return "&" + Value(v, t.Elem);
                return "(" + TypeName(t) + ")(0xc000010000)";
            case TypeKind.Struct:
                return Struct(v as JsonObject, t.Struct!);
            case TypeKind.Slice:
                if (v is not JsonArray a || a.Count == 0) return TypeName(t) + "(nil)";
                return TypeName(t) + "{" + string.Join(", ", a.Select(x => Value(x, t.Elem!))) + "}";
            case TypeKind.Map:
                if (v is not JsonObject m) return TypeName(t) + "(nil)";
                return TypeName(t) + "{" + string.Join(", ", m.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => GoText.Quote(kv.Key) + ":" + Value(kv.Value, t.Elem!))) + "}";
            case TypeKind.String:
                return GoText.Quote(JsonRead.Str(v) ?? "");
            case TypeKind.Bool:
                return v is JsonValue b && b.GetValueKind() == JsonValueKind.True ? "true" : "false";
            case TypeKind.Int32:
            case TypeKind.Int64:
                return (JsonRead.LongTruncated(v) ?? 0).ToString(CultureInfo.InvariantCulture);
            case TypeKind.Float64:
                return v is JsonValue f && f.GetValueKind() == JsonValueKind.Number ? f.ToJsonString() : "0";
            case TypeKind.IntOrString:
            {
                var ios = JsonRead.IntOrString(v);
                return ios is null ? "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}"
                    : ios.Value.IsInt ? $"intstr.IntOrString{{Type:0, IntVal:{ios.Value.Int}, StrVal:\"\"}}"
                    : $"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{GoText.Quote(ios.Value.Str)}}}";
            }
            case TypeKind.Quantity:
                return JsonRead.Quantity(v) is { } q ? GoText.Quote(q.ToCanonicalString()) : "\"0\"";
            case TypeKind.Time:
            case TypeKind.MicroTime:
                return "v1.Time{Time:" + GoTime(JsonRead.Str(v)) + "}";
            default:
                return v is null ? "nil" : GoText.Quote(v.ToJsonString());
        }
    }

    private static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static string GoTime(string? s)
    {
        var t = s is not null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d)
            ? d.UtcDateTime : DateTime.MinValue;
        return $"time.Date({t.Year}, time.{Months[t.Month - 1]}, {t.Day}, {t.Hour}, {t.Minute}, {t.Second}, {t.Ticks % TimeSpan.TicksPerSecond * 100}, time.UTC)";
    }

    private static readonly (string Json, string Go)[] Acronyms =
    [
        ("apiVersion", "APIVersion"), ("apiGroup", "APIGroup"), ("uid", "UID"), ("ip", "IP"), ("ips", "IPs"),
        ("ipFamilies", "IPFamilies"), ("ipFamilyPolicy", "IPFamilyPolicy"), ("ipMode", "IPMode"), ("httpGet", "HTTPGet"),
        ("httpHeaders", "HTTPHeaders"), ("tcpSocket", "TCPSocket"), ("grpc", "GRPC"), ("dnsPolicy", "DNSPolicy"),
        ("dnsConfig", "DNSConfig"), ("os", "OS"), ("tty", "TTY"), ("fsGroup", "FSGroup"), ("fsGroupChangePolicy", "FSGroupChangePolicy"),
        ("seLinuxOptions", "SELinuxOptions"), ("seLinuxChangePolicy", "SELinuxChangePolicy"), ("url", "URL"),
        ("metadata", "ObjectMeta"), ("serviceAccount", "DeprecatedServiceAccount"),
    ];

    /// <summary>The Go field name for a JSON name (capitalised, with the usual initialisms).</summary>
    public static string GoName(string json)
    {
        foreach (var (j, g) in Acronyms) if (json == j) return g;
        return json.Length == 0 ? json : char.ToUpperInvariant(json[0]) + json[1..];
    }

    // ---- go-cmp style, for the pod update diff ----

    /// <summary>A value as go-cmp's reporter prints it: type names elided, zero fields left out.</summary>
    public static string Cmp(JsonNode? v, TypeRef t)
    {
        switch (t.Kind)
        {
            case TypeKind.Pointer:
                if (v is null) return "nil";
                return "&" + Cmp(v, t.Elem!);
            case TypeKind.Struct:
            {
                if (v is not JsonObject o) return "{}";
                var parts = new List<string>();
                foreach (var f in t.Struct!.Fields)
                    if (!IsZero(o[f.JsonName], f.Type)) parts.Add(GoName(f.JsonName) + ": " + Cmp(o[f.JsonName], f.Type));
                return "{" + string.Join(", ", parts) + "}";
            }
            case TypeKind.Slice:
                if (v is not JsonArray a || a.Count == 0) return "nil";
                return "{" + string.Join(", ", a.Select(x => Cmp(x, t.Elem!))) + "}";
            case TypeKind.Map:
                if (v is not JsonObject m || m.Count == 0) return "nil";
                return "{" + string.Join(", ", m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => GoText.Quote(kv.Key) + ": " + Cmp(kv.Value, t.Elem!))) + "}";
            default:
            {
                var s = Value(v, t);
                return s;
            }
        }
    }

    public static bool IsZero(JsonNode? v, TypeRef t) => v switch
    {
        null => true,
        JsonArray a => a.Count == 0,
        JsonObject o => t.Kind != TypeKind.Pointer && o.Count == 0,
        JsonValue jv => t.Kind != TypeKind.Pointer && jv.GetValueKind() switch
        {
            JsonValueKind.String => jv.GetValue<string>().Length == 0,
            JsonValueKind.False => true,
            JsonValueKind.Number => JsonRead.LongTruncated(jv) == 0,
            _ => false,
        },
        _ => false,
    };

    /// <summary>
    /// cmp.Diff(old, new) for one struct, approximately: changed fields as -/+ lines, unchanged runs
    /// collapsed to "... // N identical fields".
    /// </summary>
    public static string Diff(JsonObject oldV, JsonObject newV, string schemaType)
    {
        var s = SchemaRegistry.Default.Get(schemaType);
        var so = ObjectShaper.Shape(oldV, s);
        var sn = ObjectShaper.Shape(newV, s);
        var sb = new StringBuilder();
        sb.Append("  ").Append(Pkg(s)).Append('.').Append(s.Name).Append("{\n");
        var same = 0;
        void Flush()
        {
            if (same == 0) return;
            sb.Append("  \t... // ").Append(same).Append(same == 1 ? " identical field\n" : " identical fields\n");
            same = 0;
        }
        foreach (var f in s.Fields)
        {
            var a = so[f.JsonName];
            var b = sn[f.JsonName];
            if (JsonNode.DeepEquals(a, b)) { same++; continue; }
            Flush();
            var name = GoName(f.JsonName);
            sb.Append("- \t").Append(name).Append(": ").Append(Cmp(a, f.Type)).Append(",\n");
            sb.Append("+ \t").Append(name).Append(": ").Append(Cmp(b, f.Type)).Append(",\n");
        }
        Flush();
        sb.Append("  }\n");
        return sb.ToString();
    }
}

/// <summary>Go's %#v of the plain values upstream hands to field errors (maps, string slices, schema types).</summary>
internal static class Go
{
    /// <summary>%#v of a map[string]string.</summary>
    public static string Map(IDictionary<string, string>? m) =>
        m is null ? "map[string]string(nil)" : "map[string]string{" + string.Join(", ", m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => GoText.Quote(kv.Key) + ":" + GoText.Quote(kv.Value))) + "}";

    /// <summary>%#v of a []string (or a named string slice type).</summary>
    public static string Strings(IReadOnlyList<string>? list, string type = "[]string") =>
        list is null || list.Count == 0 ? type + "(nil)" : type + "{" + string.Join(", ", list.Select(GoText.Quote)) + "}";

    public static string Strings(JsonNode? owner, string key, string type = "[]string") =>
        JsonRead.Arr(owner, key) is { } a ? Strings(a.Select(x => JsonRead.Str(x) ?? "").ToList(), type) : type + "(nil)";

    /// <summary>%#v of a value of a schema type, e.g. <c>v1.LabelSelector{MatchLabels:…}</c>.</summary>
    public static string Value(JsonNode? value, string schemaType) => GoRepr.Render(value, schemaType);
}
