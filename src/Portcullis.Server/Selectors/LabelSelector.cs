using System.Text;

namespace Portcullis.Server.Selectors;

public enum SelectorOp { Equals, NotEquals, In, NotIn, Exists, DoesNotExist, GreaterThan, LessThan }

public sealed record LabelRequirement(string Key, SelectorOp Op, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        var has = labels.TryGetValue(Key, out var v);
        return Op switch
        {
            SelectorOp.Equals or SelectorOp.In => has && Values.Contains(v!),
            SelectorOp.NotEquals or SelectorOp.NotIn => !has || !Values.Contains(v!),
            SelectorOp.Exists => has,
            SelectorOp.DoesNotExist => !has,
            SelectorOp.GreaterThan => has && long.TryParse(v, out var a) && a > long.Parse(Values[0]),
            SelectorOp.LessThan => has && long.TryParse(v, out var b) && b < long.Parse(Values[0]),
            _ => false,
        };
    }
}

/// <summary>
/// A label selector in upstream's string syntax (k8s.io/apimachinery/pkg/labels):
/// <c>a=b,c!=d,e in (f,g),h notin (i),j,!k</c>. An empty selector matches everything.
/// </summary>
public sealed class LabelSelector
{
    public IReadOnlyList<LabelRequirement> Requirements { get; }
    private LabelSelector(IReadOnlyList<LabelRequirement> r) => Requirements = r;

    public static readonly LabelSelector Everything = new([]);

    /// <summary>A selector of the given requirements (all must hold).</summary>
    public static LabelSelector Of(IReadOnlyList<LabelRequirement> requirements) => new(requirements);
    public bool IsEmpty => Requirements.Count == 0;

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var r in Requirements) if (!r.Matches(labels)) return false;
        return true;
    }

    /// <exception cref="FormatException">with upstream's wording (labels.Parse's error text).</exception>
    public static LabelSelector Parse(string s)
    {
        var lexer = new Lexer(s);
        var reqs = new List<LabelRequirement>();
        while (true)
        {
            var t = lexer.Peek();
            if (t.Kind == Tok.End) break;
            if (!IsIdent(t) && t.Kind != Tok.Bang)
                throw new FormatException($"found '{t.Text}', expected: !, identifier, or 'end of string'");
            try { reqs.Add(ParseRequirement(lexer)); }
            catch (FormatException e) { throw new FormatException($"unable to parse requirement: {e.Message}", e); }
            t = lexer.Next();
            if (t.Kind == Tok.End) break;
            if (t.Kind != Tok.Comma) throw new FormatException($"found '{t.Text}', expected: ',' or 'end of string'");
            var after = lexer.Peek();
            if (!IsIdent(after) && after.Kind != Tok.Bang)
                throw new FormatException($"found '{after.Text}', expected: identifier after ','");
        }
        reqs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new LabelSelector(reqs);
    }

    /// <summary>In value position upstream reads the keywords <c>in</c> and <c>notin</c> as identifiers.</summary>
    private static bool IsIdent(Token t) => t.Kind is Tok.Ident or Tok.In or Tok.NotIn;

    private static LabelRequirement ParseRequirement(Lexer l)
    {
        var t = l.Next();
        var doesNotExist = false;
        if (t.Kind == Tok.Bang) { doesNotExist = true; t = l.Next(); }
        if (!IsIdent(t)) throw new FormatException($"found '{t.Text}', expected: identifier");
        var key = t.Text;
        // parseKeyAndInferOperator validates the key with a nil field path.
        if (KeyError(key, "<nil>") is { } keyErr) throw new FormatException(keyErr);
        var next = l.Peek();
        if (doesNotExist || next.Kind is Tok.End or Tok.Comma)
            return NewRequirement(key, doesNotExist ? SelectorOp.DoesNotExist : SelectorOp.Exists, []);
        var op = l.Next();
        SelectorOp kind;
        switch (op.Kind)
        {
            case Tok.In: kind = SelectorOp.In; break;
            case Tok.NotIn: kind = SelectorOp.NotIn; break;
            case Tok.Eq or Tok.DoubleEq: kind = SelectorOp.Equals; break;
            case Tok.NotEq: kind = SelectorOp.NotEquals; break;
            case Tok.Gt: kind = SelectorOp.GreaterThan; break;
            case Tok.Lt: kind = SelectorOp.LessThan; break;
            default: throw new FormatException($"found '{op.Text}', expected: in, notin, =, ==, !=, gt, lt");
        }
        if (kind is SelectorOp.In or SelectorOp.NotIn) return NewRequirement(key, kind, ParseValues(l));
        var v = l.Peek();
        if (v.Kind is Tok.End or Tok.Comma) return NewRequirement(key, kind, [""]);
        l.Next();
        if (!IsIdent(v)) throw new FormatException($"found '{v.Text}', expected: identifier");
        return NewRequirement(key, kind, [v.Text]);
    }

    /// <summary>A parenthesised value set; values form a sorted set, and <c>()</c> is the set {""}.</summary>
    private static List<string> ParseValues(Lexer l)
    {
        var open = l.Next();
        if (open.Kind != Tok.Open) throw new FormatException($"found '{open.Text}' expected: '('");
        var first = l.Peek();
        var set = new SortedSet<string>(StringComparer.Ordinal);
        if (first.Kind == Tok.Close) { l.Next(); set.Add(""); return [.. set]; }
        if (!IsIdent(first) && first.Kind != Tok.Comma)
            throw new FormatException($"found '{first.Text}', expected: ',', ')' or identifier");
        while (true)
        {
            var t = l.Next();
            if (IsIdent(t))
            {
                set.Add(t.Text);
                var after = l.Peek();
                if (after.Kind == Tok.Comma) continue;
                if (after.Kind == Tok.Close) break;
                throw new FormatException($"found '{after.Text}', expected: ',' or ')'");
            }
            if (t.Kind == Tok.Comma)
            {
                if (set.Count == 0) set.Add(""); // "(,"
                var after = l.Peek();
                if (after.Kind == Tok.Close) { set.Add(""); break; } // ",)"
                if (after.Kind == Tok.Comma) set.Add(""); // ",,"
                continue;
            }
            throw new FormatException($"found '{t.Text}', expected: ',', or identifier");
        }
        if (l.Next().Kind != Tok.Close) throw new FormatException($"found '{first.Text}', expected: ')'");
        return [.. set];
    }

    /// <summary>labels.NewRequirement: every problem, aggregated as field.ErrorList.ToAggregate prints them.</summary>
    private static LabelRequirement NewRequirement(string key, SelectorOp op, List<string> values)
    {
        var errs = new List<string>();
        if (KeyError(key, "key") is { } ke) errs.Add(ke);
        if (op is SelectorOp.GreaterThan or SelectorOp.LessThan)
            for (var i = 0; i < values.Count; i++)
                if (!long.TryParse(values[i], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _))
                    errs.Add($"values[{i}]: Invalid value: \"{values[i]}\": for 'Gt', 'Lt' operators, the value must be an integer");
        for (var i = 0; i < values.Count; i++)
        {
            var ve = Api.Validation.NameValidation.LabelValue(values[i]);
            if (ve.Count > 0) errs.Add($"values[{i}][{key}]: Invalid value: \"{values[i]}\": {string.Join("; ", ve)}");
        }
        var distinct = errs.Distinct().ToList();
        if (distinct.Count == 1) throw new FormatException(distinct[0]);
        if (distinct.Count > 1) throw new FormatException("[" + string.Join(", ", distinct) + "]");
        return new LabelRequirement(key, op, values);
    }

    private static string? KeyError(string key, string path)
    {
        var errs = Api.Validation.NameValidation.QualifiedName(key);
        return errs.Count > 0 ? $"{path}: Invalid value: \"{key}\": {string.Join("; ", errs)}" : null;
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var r in Requirements)
        {
            if (sb.Length > 0) sb.Append(',');
            sb.Append(r.Op switch
            {
                SelectorOp.Exists => r.Key,
                SelectorOp.DoesNotExist => "!" + r.Key,
                SelectorOp.Equals => $"{r.Key}={r.Values[0]}",
                SelectorOp.NotEquals => $"{r.Key}!={r.Values[0]}",
                SelectorOp.In => $"{r.Key} in ({string.Join(",", r.Values)})",
                SelectorOp.NotIn => $"{r.Key} notin ({string.Join(",", r.Values)})",
                SelectorOp.GreaterThan => $"{r.Key}>{r.Values[0]}",
                _ => $"{r.Key}<{r.Values[0]}",
            });
        }
        return sb.ToString();
    }

    private enum Tok { Ident, Comma, Eq, DoubleEq, NotEq, Bang, In, NotIn, Open, Close, Gt, Lt, End }

    private readonly record struct Token(Tok Kind, string Text);

    private sealed class Lexer(string s)
    {
        private int _pos;
        private Token? _peeked;

        public Token Peek() => _peeked ??= Read();
        public Token Next()
        {
            var t = Peek();
            _peeked = null;
            return t;
        }

        private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

        private Token Read()
        {
            while (_pos < s.Length && IsSpace(s[_pos])) _pos++;
            if (_pos >= s.Length) return new(Tok.End, ""); // upstream's end-of-string literal is empty
            var c = s[_pos];
            switch (c)
            {
                case ',': _pos++; return new(Tok.Comma, ",");
                case '(': _pos++; return new(Tok.Open, "(");
                case ')': _pos++; return new(Tok.Close, ")");
                case '>': _pos++; return new(Tok.Gt, ">");
                case '<': _pos++; return new(Tok.Lt, "<");
                case '=':
                    if (_pos + 1 < s.Length && s[_pos + 1] == '=') { _pos += 2; return new(Tok.DoubleEq, "=="); }
                    _pos++; return new(Tok.Eq, "=");
                case '!':
                    if (_pos + 1 < s.Length && s[_pos + 1] == '=') { _pos += 2; return new(Tok.NotEq, "!="); }
                    _pos++; return new(Tok.Bang, "!");
            }
            var start = _pos;
            while (_pos < s.Length && !IsSpace(s[_pos]) && s[_pos] is not (',' or '(' or ')' or '=' or '!' or '<' or '>')) _pos++;
            var word = s[start.._pos];
            return word switch
            {
                "in" => new(Tok.In, word),
                "notin" => new(Tok.NotIn, word),
                _ => new(Tok.Ident, word),
            };
        }
    }
}
