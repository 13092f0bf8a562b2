using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Portcullis.Server.Serialization;

/// <summary>
/// YAML in and out. Requests: YAML is converted to JSON first, as upstream does. Responses:
/// upstream converts JSON to YAML through a map, so keys come out sorted.
/// </summary>
public static class YamlCodec
{
    /// <exception cref="FormatException">malformed YAML, with the parser's position.</exception>
    public static JsonNode? ToJson(string yaml)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlException e) { throw new FormatException($"error converting YAML to JSON: yaml: line {e.Start.Line}: {e.Message}", e); }
        if (stream.Documents.Count == 0) return null;
        return Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode m:
            {
                var o = new JsonObject();
                foreach (var (k, v) in m.Children)
                {
                    var key = k is YamlScalarNode ks ? ks.Value ?? "" : k.ToString();
                    o[key] = Convert(v);
                }
                return o;
            }
            case YamlSequenceNode s:
            {
                var a = new JsonArray();
                foreach (var c in s.Children) a.Add(Convert(c));
                return a;
            }
            case YamlScalarNode sc:
                return Scalar(sc);
            default:
                return null;
        }
    }

    private static JsonNode? Scalar(YamlScalarNode s)
    {
        var v = s.Value ?? "";
        if (s.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
            return JsonValue.Create(v);
        if (!s.Tag.IsEmpty && !s.Tag.IsNonSpecific && s.Tag.Value == "tag:yaml.org,2002:str") return JsonValue.Create(v);
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return JsonValue.Create(true);
            case "false" or "False" or "FALSE": return JsonValue.Create(false);
        }
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (v.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(v[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hx)) return JsonValue.Create(hx);
        if (System.Text.RegularExpressions.Regex.IsMatch(v, @"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
            && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(v);
    }

    public static string ToYaml(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, 0, false);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node, int indent, bool inSeq)
    {
        switch (node)
        {
            case JsonObject o when o.Count > 0:
            {
                var first = true;
                foreach (var (k, v) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (!(first && inSeq)) sb.Append(' ', indent);
                    first = false;
                    sb.Append(Quote(k)).Append(':');
                    WriteChild(sb, v, indent);
                }
                break;
            }
            case JsonArray a when a.Count > 0:
                foreach (var item in a)
                {
                    sb.Append(' ', indent).Append("- ");
                    if (item is JsonObject io && io.Count > 0) Write(sb, io, indent + 2, true);
                    else if (item is JsonArray ia && ia.Count > 0) { sb.Append('\n'); Write(sb, ia, indent + 2, false); }
                    else sb.Append(ScalarText(item)).Append('\n');
                }
                break;
            default:
                sb.Append(ScalarText(node)).Append('\n');
                break;
        }
    }

    private static void WriteChild(StringBuilder sb, JsonNode? v, int indent)
    {
        switch (v)
        {
            case JsonObject co when co.Count > 0:
                sb.Append('\n');
                Write(sb, co, indent + 2, false);
                break;
            case JsonArray ca when ca.Count > 0:
                sb.Append('\n');
                Write(sb, ca, indent, false); // sigs.k8s.io/yaml does not indent sequences under keys
                break;
            default:
                sb.Append(' ').Append(ScalarText(v)).Append('\n');
                break;
        }
    }

    private static string ScalarText(JsonNode? n) => n switch
    {
        null => "null",
        JsonObject => "{}",
        JsonArray => "[]",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => Quote(v.GetValue<string>()),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => v.ToJsonString(),
        },
        _ => "null",
    };

    private static readonly string[] Reserved = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"];

    private static string Quote(string s)
    {
        var needs = s.Length == 0
            || Reserved.Contains(s.ToLowerInvariant())
            || double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            || s.IndexOfAny([':', '#', '\n', '"', '\'', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '%', '@', '`', '\t']) >= 0
            || char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1]) || s[0] is '-' or '?';
        if (!needs) return s;
        if (s.Contains('\n')) return JsonSerializer.Serialize(s, SerializationContext.Default.String);
        return "'" + s.Replace("'", "''") + "'";
    }
}
