using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Portcullis.Analysis;

/// <summary>
/// Reads back a 403 message as kube-apiserver writes it (apiserver's
/// endpoints/handlers/responsewriters forbiddenMessage inside apimachinery's NewForbidden):
/// <c>pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "dev"</c>,
/// <c>nodes "n1" is forbidden: User "bob" cannot get resource "nodes" in API group "" at the cluster scope</c>,
/// <c>forbidden: User "bob" cannot get path "/metrics"</c>; a subresource is written
/// <c>resource "pods/log"</c>; the authorizer's reason may follow after <c>": "</c>; kubectl's
/// <c>Error from server (Forbidden): </c> prefix may precede. The user name is a Go %q string;
/// upstream replaces &amp;, &lt; and &gt; with HTML entities in the message, undone here.
/// </summary>
public static partial class ForbiddenMessage
{
    private const string GoString = "\"(?:[^\"\\\\]|\\\\.)*\"";

    [GeneratedRegex("User (?<user>" + GoString + ") cannot (?<verb>\\S+) resource (?<res>" + GoString + ") in API group (?<group>" + GoString + ") (?:in the namespace (?<ns>" + GoString + ")|at the cluster scope)")]
    private static partial Regex ResourceForm();

    [GeneratedRegex("User (?<user>" + GoString + ") cannot (?<verb>\\S+) path (?<path>" + GoString + ")")]
    private static partial Regex PathForm();

    [GeneratedRegex("^(?:Error from server \\(Forbidden\\): )?(?:[^\\s\"]+ (?<name>" + GoString + ") is forbidden: )")]
    private static partial Regex NamePrefix();

    /// <summary>The user and the request the message is about.</summary>
    /// <exception cref="ArgumentException">a text that is not such a message.</exception>
    public static (string User, WhoCanQuery Query) Parse(string text)
    {
        var t = (text ?? "").Trim();
        if (ResourceForm().Match(t) is { Success: true } m)
        {
            var resource = Unquote(m.Groups["res"].Value);
            var slash = resource.IndexOf('/');
            var name = NamePrefix().Match(t) is { Success: true } n ? Unquote(n.Groups["name"].Value) : "";
            return (Unquote(m.Groups["user"].Value), new WhoCanQuery(
                m.Groups["verb"].Value,
                slash >= 0 ? resource[..slash] : resource,
                slash >= 0 ? resource[(slash + 1)..] : "",
                Unquote(m.Groups["group"].Value),
                m.Groups["ns"].Success ? Unquote(m.Groups["ns"].Value) : "",
                name));
        }
        if (PathForm().Match(t) is { Success: true } p)
            return (Unquote(p.Groups["user"].Value), new WhoCanQuery(p.Groups["verb"].Value, NonResourceUrl: Unquote(p.Groups["path"].Value)));
        throw new ArgumentException("not a forbidden message as kube-apiserver writes it (User \"...\" cannot VERB resource \"...\" in API group \"...\" ... or cannot VERB path \"...\")");
    }

    /// <summary>A Go double-quoted string's value, then upstream's HTML sanitizing undone.</summary>
    private static string Unquote(string quoted)
    {
        var s = quoted[1..^1];
        var b = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\' || i + 1 >= s.Length) { b.Append(s[i]); continue; }
            var c = s[++i];
            switch (c)
            {
                case 'n': b.Append('\n'); break;
                case 't': b.Append('\t'); break;
                case 'r': b.Append('\r'); break;
                case 'a': b.Append('\a'); break;
                case 'b': b.Append('\b'); break;
                case 'f': b.Append('\f'); break;
                case 'v': b.Append('\v'); break;
                case 'x' when i + 2 < s.Length: b.Append((char)int.Parse(s.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 2; break;
                case 'u' when i + 4 < s.Length: b.Append((char)int.Parse(s.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 4; break;
                case 'U' when i + 8 < s.Length: b.Append(char.ConvertFromUtf32(int.Parse(s.AsSpan(i + 1, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture))); i += 8; break;
                default: b.Append(c); break;
            }
        }
        return b.ToString().Replace("&lt;", "<").Replace("&gt;", ">").Replace("&amp;", "&");
    }
}
