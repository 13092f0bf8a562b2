using System.Text;

namespace Portcullis.Server.Selectors;

public sealed record FieldRequirement(string Field, bool Equal, string Value);

/// <summary>
/// A field selector (<c>metadata.name=x,status.phase!=Running</c>), with upstream's escaping
/// of <c>\,</c>, <c>\=</c> and <c>\\</c> in values.
/// </summary>
public sealed class FieldSelector
{
    public IReadOnlyList<FieldRequirement> Requirements { get; }
    private FieldSelector(IReadOnlyList<FieldRequirement> r) => Requirements = r;

    public static readonly FieldSelector Everything = new([]);
    public bool IsEmpty => Requirements.Count == 0;

    public static bool TryParse(string s, out FieldSelector? selector)
    {
        try { selector = Parse(s); return true; }
        catch (FormatException) { selector = null; return false; }
    }

    public static FieldSelector Parse(string s)
    {
        var reqs = new List<FieldRequirement>();
        if (s.Trim().Length == 0) return Everything;
        foreach (var part in SplitUnescaped(s, ','))
        {
            if (part.Length == 0) continue;
            int idx; bool equal; int opLen;
            if ((idx = IndexUnescaped(part, "!=")) >= 0) { equal = false; opLen = 2; }
            else if ((idx = IndexUnescaped(part, "==")) >= 0) { equal = true; opLen = 2; }
            else if ((idx = IndexUnescaped(part, "=")) >= 0) { equal = true; opLen = 1; }
            else throw new FormatException($"invalid selector: '{s}'; can't understand '{part}'");
            var field = part[..idx].Trim();
            var value = Unescape(part[(idx + opLen)..]);
            reqs.Add(new FieldRequirement(field, equal, value));
        }
        return new FieldSelector(reqs);
    }

    /// <summary>The value if the selector pins <paramref name="field"/> to one value (and nothing else).</summary>
    public string? RequiresExactMatch(string field)
    {
        foreach (var r in Requirements)
            if (r.Field == field && r.Equal) return r.Value;
        return null;
    }

    public bool Matches(Func<string, string?> fields)
    {
        foreach (var r in Requirements)
        {
            var v = fields(r.Field) ?? "";
            if ((v == r.Value) != r.Equal) return false;
        }
        return true;
    }

    private static IEnumerable<string> SplitUnescaped(string s, char sep)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length) { sb.Append(s[i]).Append(s[i + 1]); i++; continue; }
            if (s[i] == sep) { yield return sb.ToString(); sb.Clear(); continue; }
            sb.Append(s[i]);
        }
        yield return sb.ToString();
    }

    private static int IndexUnescaped(string s, string op)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\') { i++; continue; }
            if (string.CompareOrdinal(s, i, op, 0, op.Length) == 0) return i;
        }
        return -1;
    }

    private static string Unescape(string s)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                var n = s[i + 1];
                if (n is '\\' or ',' or '=') { sb.Append(n); i++; continue; }
                throw new FormatException($"invalid field selector: invalid escape sequence: \\{n}");
            }
            if (s[i] is ',' or '=') throw new FormatException($"invalid field selector: unescaped {s[i]}");
            sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
