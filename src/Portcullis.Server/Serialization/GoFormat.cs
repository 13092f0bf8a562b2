using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Serialization;

/// <summary>
/// Go's fmt <c>%v</c> of a value decoded from JSON into interface{} (map[string]interface{},
/// []interface{}, string, float64, bool, nil), for error messages that upstream builds that way.
/// </summary>
internal static class GoFormat
{
    public static string Value(JsonNode? node, bool preserveInts = false)
    {
        var sb = new StringBuilder();
        Write(sb, node, preserveInts);
        return sb.ToString();
    }

    /// <summary>reflect.TypeOf(v) printed with %s.</summary>
    public static string TypeName(JsonNode? node) => node switch
    {
        null => "%!s(<nil>)",
        JsonObject => "map[string]interface {}",
        JsonArray => "[]interface {}",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "float64",
            JsonValueKind.True or JsonValueKind.False => "bool",
            _ => "%!s(<nil>)",
        },
        _ => "%!s(<nil>)",
    };

    private static void Write(StringBuilder sb, JsonNode? node, bool ints)
    {
        switch (node)
        {
            case null:
                sb.Append("<nil>");
                break;
            case JsonObject o:
                sb.Append("map[");
                var first = true;
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(' ');
                    first = false;
                    sb.Append(k).Append(':');
                    Write(sb, v, ints);
                }
                sb.Append(']');
                break;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(' ');
                    Write(sb, a[i], ints);
                }
                sb.Append(']');
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: sb.Append(v.GetValue<string>()); break;
                    case JsonValueKind.True: sb.Append("true"); break;
                    case JsonValueKind.False: sb.Append("false"); break;
                    case JsonValueKind.Number when ints && Api.Schema.ObjectShaper.TryInt(v, out var l): sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                    case JsonValueKind.Number: sb.Append(GoText.Float(Number(v))); break;
                    default: sb.Append("<nil>"); break;
                }
                break;
        }
    }

    public static double Number(JsonValue v) =>
        v.TryGetValue<double>(out var d) ? d : double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
}
