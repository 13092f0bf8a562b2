using System.Text;

namespace Portcullis.Cel;

/// <summary>Rewrites the RE2 syntax that .NET reads differently: named groups <c>(?P&lt;n&gt;</c>, and
/// <c>$</c>, which in RE2 (without the m flag) matches only at the end of the text. Constructs RE2 does
/// not have (lookaround, backreferences, atomic groups, possessive quantifiers) are refused, and patterns
/// run on .NET's non-backtracking engine, so matching stays linear in the input as with RE2.</summary>
internal static class Re2
{
    public const System.Text.RegularExpressions.RegexOptions Options =
        System.Text.RegularExpressions.RegexOptions.CultureInvariant | System.Text.RegularExpressions.RegexOptions.NonBacktracking;

    /// <summary>RE2's ASCII classes ([[:alpha:]] ...) as .NET class contents.</summary>
    static string? Posix(string name) => name switch
    {
        "alnum" => "0-9A-Za-z", "alpha" => "A-Za-z", "ascii" => @"\x00-\x7F", "blank" => @"\t ", "cntrl" => @"\x00-\x1F\x7F",
        "digit" => "0-9", "graph" => @"!-~", "lower" => "a-z", "print" => @" -~", "punct" => @"!-/:-@\[-`{-~",
        "space" => @"\t\n\v\f\r ", "upper" => "A-Z", "word" => "0-9A-Za-z_", "xdigit" => "0-9A-Fa-f",
        _ => null,
    };

    public static string ToDotNet(string pattern)
    {
        if (pattern.Contains("(?=") || pattern.Contains("(?!") || pattern.Contains("(?<=") || pattern.Contains("(?<!") || pattern.Contains("(?>"))
            throw new ArgumentException("invalid or unsupported Perl syntax");
        bool inSet = false;
        for (int k = 0; k + 1 < pattern.Length; k++)
        {
            // Inside a class, repetition characters are literals ("[()*+,]").
            if (inSet)
            {
                if (pattern[k] == '\\') k++;
                else if (pattern[k] == ']') inSet = false;
                continue;
            }
            if (pattern[k] == '[')
            {
                inSet = true;
                if (pattern[k + 1] == '^') k++;
                if (k + 1 < pattern.Length && pattern[k + 1] == ']') k++; // a leading ']' is a literal
                continue;
            }
            if (pattern[k] == '\\')
            {
                // Go's regexp: \1-\7 followed by an octal digit is an octal code; otherwise a backreference (refused)
                char d = pattern[k + 1];
                bool octal = d is >= '1' and <= '7' && k + 2 < pattern.Length && pattern[k + 2] is >= '0' and <= '7';
                if (d is >= '1' and <= '9' && !octal) throw new ArgumentException("invalid escape sequence");
                k++;
            }
            else if (pattern[k] is '+' or '*' or '?' or '}' && pattern[k + 1] == '+') throw new ArgumentException("invalid nested repetition operator");
        }
        var sb = new StringBuilder(pattern.Length + 8);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(c).Append(pattern[++i]);
                continue;
            }
            if (inClass)
            {
                if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                {
                    int end = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (end > 0 && Posix(pattern[(i + 2)..end]) is { } cls)
                    {
                        sb.Append(cls);
                        i = end + 1;
                        continue;
                    }
                }
                if (c == ']') inClass = false;
                sb.Append(c);
                continue;
            }
            if (c == '[')
            {
                inClass = true;
                sb.Append(c);
                if (i + 1 < pattern.Length && pattern[i + 1] == '^') sb.Append(pattern[++i]);
                // a ']' first in a class is a literal
                if (i + 1 < pattern.Length && pattern[i + 1] == ']') { sb.Append(@"\]"); i++; }
                continue;
            }
            if (c == '(' && string.CompareOrdinal(pattern, i, "(?P<", 0, 4) == 0) { sb.Append("(?<"); i += 3; continue; }
            if (c == '$') { sb.Append(@"\z"); continue; }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
