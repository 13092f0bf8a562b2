using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>
/// The string forms printers use for label maps (labels.FormatLabels) and LabelSelectors
/// (metav1.LabelSelectorAsSelector(...).String() and metav1.FormatLabelSelector).
/// </summary>
internal static class LabelFormatting
{
    /// <summary>"k1=v1,k2=v2" with keys sorted; "&lt;none&gt;" for an empty or absent map.</summary>
    public static string FormatLabels(JsonNode? map)
    {
        if (map is not JsonObject o || o.Count == 0) return "<none>";
        var s = string.Join(",", o.Select(kv => (kv.Key, Value: Str(kv.Value)))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key + "=" + kv.Value));
        return s.Length == 0 ? "<none>" : s;
    }

    /// <summary>FormatLabelSelector: the selector string, "&lt;none&gt;" when it is empty, "&lt;error&gt;" when invalid.</summary>
    public static string FormatLabelSelector(JsonNode? selector)
    {
        var s = SelectorString(selector);
        if (s is null) return "<error>";
        return s.Length == 0 ? "<none>" : s;
    }

    /// <summary>
    /// LabelSelectorAsSelector(selector).String(): requirements sorted by key and comma-joined
    /// ("app=web,tier in (a,b),!legacy"); "" for an absent or empty selector; null when invalid.
    /// </summary>
    public static string? SelectorString(JsonNode? selector)
    {
        if (selector is not JsonObject sel) return "";
        var reqs = new List<(string Key, string Text)>();
        if (sel["matchLabels"] is JsonObject ml)
            foreach (var (k, v) in ml) reqs.Add((k, k + "=" + Str(v)));
        foreach (var e in Objects(sel["matchExpressions"]))
        {
            var key = Str(e["key"]);
            var values = Strings(e["values"]);
            string text;
            switch (Str(e["operator"]))
            {
                case "In":
                case "NotIn":
                    if (values.Count == 0) return null;
                    var op = Str(e["operator"]) == "In" ? " in " : " notin ";
                    text = key + op + "(" + JoinValues(values) + ")";
                    break;
                case "Exists":
                    if (values.Count != 0) return null;
                    text = key;
                    break;
                case "DoesNotExist":
                    if (values.Count != 0) return null;
                    text = "!" + key;
                    break;
                default:
                    return null;
            }
            reqs.Add((key, text));
        }
        return string.Join(",", reqs.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Text));
    }

    private static string JoinValues(List<string> values) =>
        values.Count == 1 ? values[0] : string.Join(",", values.OrderBy(v => v, StringComparer.Ordinal));
}
