using System.Text;

namespace Portcullis.Cel;

/// <summary>Rewrites the RE2 syntax that .NET reads differently: named groups <c>(?P&lt;n&gt;</c>, and
/// <c>$</c>, which in RE2 (without the m flag) matches only at the end of the text.</summary>
internal static class Re2
{
    public static string ToDotNet(string pattern)
    {
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
                if (c == ']') inClass = false;
                sb.Append(c);
                continue;
            }
            if (c == '[') { inClass = true; sb.Append(c); if (i + 1 < pattern.Length && pattern[i + 1] == ']') sb.Append(pattern[++i]); continue; }
            if (c == '(' && string.CompareOrdinal(pattern, i, "(?P<", 0, 4) == 0) { sb.Append("(?<"); i += 3; continue; }
            if (c == '$') { sb.Append(@"\z"); continue; }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
