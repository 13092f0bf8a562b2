using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.CustomResources;

/// <summary>
/// The JSONPath subset CRDs use in additionalPrinterColumns and selectableFields (client-go's jsonpath
/// with missing keys allowed): <c>.a.b</c>, <c>['a.b']</c>, <c>[0]</c>, <c>[-1]</c>, <c>[*]</c> and
/// filters <c>[?(@.type=="Ready")]</c> with <c>==</c> or <c>!=</c> against a string or number. A
/// path that does not parse is refused by <see cref="TryParse"/>; a path that finds nothing yields nothing.
/// </summary>
public sealed class ColumnPath
{
    private abstract record Step;
    private sealed record Field(string Name) : Step;
    private sealed record Index(int At) : Step;
    private sealed record All : Step;
    private sealed record Filter(string[] Path, bool Equal, JsonNode? Value) : Step;

    private readonly Step[] _steps;
    private ColumnPath(Step[] steps) => _steps = steps;

    public static ColumnPath? TryParse(string path)
    {
        var p = path.Trim();
        if (p.StartsWith('{') && p.EndsWith('}')) p = p[1..^1];
        if (p.StartsWith('$')) p = p[1..];
        var steps = new List<Step>();
        var i = 0;
        while (i < p.Length)
        {
            if (p[i] == '.')
            {
                i++;
                var start = i;
                while (i < p.Length && p[i] is not ('.' or '[')) i++;
                if (i == start) return null;
                steps.Add(new Field(p[start..i]));
            }
            else if (p[i] == '[')
            {
                var end = p.IndexOf(']', i);
                if (end < 0) return null;
                var inner = p[(i + 1)..end].Trim();
                if (inner.StartsWith("?(", StringComparison.Ordinal))
                {
                    // A filter may hold ']' inside quotes: find the closing ")]".
                    end = p.IndexOf(")]", i, StringComparison.Ordinal);
                    if (end < 0) return null;
                    inner = p[(i + 1)..(end + 1)].Trim();
                    if (ParseFilter(inner[2..^1]) is not { } f) return null;
                    steps.Add(f);
                    i = end + 2;
                    continue;
                }
                if (inner == "*") steps.Add(new All());
                else if (inner.Length >= 2 && inner[0] is '\'' or '"' && inner[^1] == inner[0]) steps.Add(new Field(inner[1..^1]));
                else if (int.TryParse(inner, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) steps.Add(new Index(n));
                else return null;
                i = end + 1;
            }
            else return null;
        }
        return new ColumnPath([.. steps]);
    }

    private static Filter? ParseFilter(string s)
    {
        var op = s.Contains("!=", StringComparison.Ordinal) ? "!=" : s.Contains("==", StringComparison.Ordinal) ? "==" : null;
        if (op is null) return null;
        var at = s.IndexOf(op, StringComparison.Ordinal);
        var left = s[..at].Trim();
        var right = s[(at + 2)..].Trim();
        if (!left.StartsWith("@.", StringComparison.Ordinal)) return null;
        JsonNode? value;
        if (right.Length >= 2 && right[0] is '\'' or '"' && right[^1] == right[0]) value = JsonValue.Create(right[1..^1]);
        else if (double.TryParse(right, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) value = JsonValue.Create(d);
        else if (right is "true" or "false") value = JsonValue.Create(right == "true");
        else return null;
        return new Filter(left[2..].Split('.'), op == "==", value);
    }

    /// <summary>Every value the path finds, in document order.</summary>
    public List<JsonNode?> Find(JsonNode? root)
    {
        var current = new List<JsonNode?> { root };
        foreach (var step in _steps)
        {
            var next = new List<JsonNode?>();
            foreach (var n in current)
            {
                switch (step)
                {
                    case Field f when n is JsonObject o && o.TryGetPropertyValue(f.Name, out var v):
                        next.Add(v);
                        break;
                    case Index ix when n is JsonArray a:
                        var at = ix.At < 0 ? a.Count + ix.At : ix.At;
                        if (at >= 0 && at < a.Count) next.Add(a[at]);
                        break;
                    case All when n is JsonArray a:
                        next.AddRange(a);
                        break;
                    case All when n is JsonObject o:
                        next.AddRange(o.Select(kv => kv.Value));
                        break;
                    case Filter f when n is JsonArray a:
                        foreach (var item in a)
                        {
                            JsonNode? x = item;
                            foreach (var part in f.Path) x = x is JsonObject xo ? xo[part] : null;
                            if (x is null) continue;
                            if (Same(x, f.Value) == f.Equal) next.Add(item);
                        }
                        break;
                }
            }
            current = next;
        }
        return current;
    }

    private static bool Same(JsonNode x, JsonNode? v)
    {
        if (x is JsonValue xv && v is JsonValue vv)
        {
            if (xv.GetValueKind() == JsonValueKind.Number && vv.GetValueKind() == JsonValueKind.Number)
                return xv.GetValue<double>() == vv.GetValue<double>();
        }
        return JsonNode.DeepEquals(x, v);
    }

    /// <summary>A value as jsonpath prints it in text: strings bare, other scalars as JSON, lists and maps as JSON.</summary>
    public static string Text(JsonNode? value) => value switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => value.ToJsonString(),
    };

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var s in _steps) sb.Append(s);
        return sb.ToString();
    }
}
