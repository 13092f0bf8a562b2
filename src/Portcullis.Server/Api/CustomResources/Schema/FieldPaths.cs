using System.Text;

namespace Portcullis.Server.Api.CustomResources.Schema;

/// <summary>
/// apiextensions' cel.ValidFieldPath: the fieldPath of an x-kubernetes-validations rule (".spec.x",
/// "['a.b']", ".labels['k']") resolved against the schema the rule sits on. A name under properties
/// is a child ("spec.x"), under additionalProperties a key ("labels[k]").
/// </summary>
public static class FieldPaths
{
    /// <summary>The field path as field.Path prints it, and the schema found there; or the error text upstream gives.</summary>
    public static (string? Path, JsonSchemaProps? Schema, string? Error) Resolve(string jsonPath, JsonSchemaProps schema, bool allowArrayNotation = true)
    {
        var tokens = Tokens(jsonPath);
        var path = "";
        var hasPath = false;
        JsonSchemaProps? s = schema;
        var i = 0;
        string? Append(string name, bool named)
        {
            if (!named)
            {
                path += "[" + name + "]";
                hasPath = true;
                s = s!.AdditionalPropertiesSchema;
                return null;
            }
            path = hasPath ? path + "." + name : name;
            hasPath = true;
            s = s!.Property(name);
            return s is null ? "does not refer to a valid field" : null;
        }
        bool? Named() => s is null ? null : s.Properties is not null ? true : s.HasAdditionalProperties ? false : null;
        while (i < tokens.Count)
        {
            var tok = tokens[i++];
            switch (tok)
            {
                case "[":
                {
                    if (!allowArrayNotation) return (null, null, "array notation is not allowed");
                    if (i >= tokens.Count) return (null, null, "unexpected end of JSON path");
                    tok = tokens[i++];
                    if (tok.Length < 2 || tok[0] != '\'' || tok[^1] != '\'') return (null, null, "expected single quoted string but got " + tok);
                    var (unescaped, err) = UnescapeSingleQuote(tok[1..^1]);
                    if (err is not null) return (null, null, "invalid string literal: " + err);
                    if (Named() is not { } named) return (null, null, "does not refer to a valid field");
                    if (Append(unescaped, named) is { } e) return (null, null, e);
                    if (i >= tokens.Count) return (null, null, "unexpected end of JSON path");
                    tok = tokens[i++];
                    if (tok != "]") return (null, null, "expected ] but got " + tok);
                    break;
                }
                case ".":
                {
                    if (i >= tokens.Count) return (null, null, "unexpected end of JSON path");
                    tok = tokens[i++];
                    if (Named() is not { } named) return (null, null, "does not refer to a valid field");
                    if (Append(tok, named) is { } e) return (null, null, e);
                    break;
                }
                default:
                    return (null, null, "expected [ or . but got: " + tok);
            }
        }
        return (hasPath ? path : "<nil>", s, null);
    }

    // The bufio.Scanner split of ValidFieldPath: '.', '[' and ']' alone; a token starting with a quote runs to the next unescaped quote.
    private static List<string> Tokens(string s)
    {
        var tokens = new List<string>();
        var pos = 0;
        while (pos < s.Length)
        {
            if (s[pos] == '\'')
            {
                var end = -1;
                for (var j = pos + 1; j < s.Length; j++)
                    if (s[j] == '\'' && s[j - 1] != '\\') { end = j; break; }
                var stop = end < 0 ? s.Length : end + 1;
                tokens.Add(s[pos..stop]);
                pos = stop;
                continue;
            }
            if (s[pos] is '.' or '[' or ']')
            {
                tokens.Add(s[pos].ToString());
                pos++;
                continue;
            }
            var k = pos;
            while (k < s.Length && s[k] is not ('.' or '[' or ']')) k++;
            tokens.Add(s[pos..k]);
            pos = k;
        }
        return tokens;
    }

    private static (string, string?) UnescapeSingleQuote(string s)
    {
        var sb = new StringBuilder(s.Length);
        string? err = null;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\' || i + 1 >= s.Length) { sb.Append(s[i]); continue; }
            var d = s[++i];
            switch (d)
            {
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case '\'': sb.Append('\''); break;
                case '\\': sb.Append('\\'); break;
                default: err ??= "invalid escape char \\" + d; break;
            }
        }
        return (sb.ToString(), err);
    }
}
