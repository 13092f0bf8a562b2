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
        if (s.Length == 0) return Everything;
        var parts = SplitUnescaped(s, ',').ToList();
        parts.Sort(StringComparer.Ordinal); // upstream sorts the terms before parsing them
        foreach (var part in parts)
        {
            if (part.Length == 0) continue;
            // The first operator by position wins; the field (lhs) knows no escaping and is not trimmed.
            var (idx, opLen, equal) = FindOperator(part);
            if (idx < 0) throw new FormatException($"invalid selector: '{s}'; can't understand '{part}'");
            var field = part[..idx];
            var value = Unescape(part[(idx + opLen)..]);
            reqs.Add(new FieldRequirement(field, equal, value));
        }
        return new FieldSelector(reqs);
    }

    private static (int Index, int Length, bool Equal) FindOperator(string term)
    {
        for (var i = 0; i < term.Length; i++)
        {
            if (string.CompareOrdinal(term, i, "!=", 0, 2) == 0) return (i, 2, false);
            if (string.CompareOrdinal(term, i, "==", 0, 2) == 0) return (i, 2, true);
            if (term[i] == '=') return (i, 1, true);
        }
        return (-1, 0, false);
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

    private static string Unescape(string s)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\')
            {
                // A lone trailing backslash is an invalid sequence too.
                if (i + 1 >= s.Length) throw new FormatException("invalid field selector: invalid escape sequence: \\");
                var n = s[i + 1];
                if (n is '\\' or ',' or '=') { sb.Append(n); i++; continue; }
                throw new FormatException($"invalid field selector: invalid escape sequence: \\{n}");
            }
            // Go formats the rune with %v, i.e. as its number ('=' is 61).
            if (s[i] is ',' or '=') throw new FormatException($"invalid field selector: unescaped character in value: {(int)s[i]}");
            sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
