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
    public bool IsEmpty => Requirements.Count == 0;

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var r in Requirements) if (!r.Matches(labels)) return false;
        return true;
    }

    /// <exception cref="FormatException">with upstream's wording where it has one.</exception>
    public static LabelSelector Parse(string s)
    {
        var lexer = new Lexer(s);
        var reqs = new List<LabelRequirement>();
        while (true)
        {
            var t = lexer.Peek();
            if (t.Kind == Tok.End) break;
            reqs.Add(ParseRequirement(lexer));
            t = lexer.Next();
            if (t.Kind == Tok.End) break;
            if (t.Kind != Tok.Comma) throw new FormatException($"found '{t.Text}', expected: ',' or 'end of string'");
            if (lexer.Peek().Kind == Tok.End) throw new FormatException("found 'end of string', expected: identifier");
        }
        reqs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new LabelSelector(reqs);
    }

    private static LabelRequirement ParseRequirement(Lexer l)
    {
        var t = l.Next();
        if (t.Kind == Tok.Bang)
        {
            var key = l.Next();
            if (key.Kind != Tok.Ident) throw new FormatException($"found '{key.Text}', expected: identifier");
            ValidateKey(key.Text);
            return new LabelRequirement(key.Text, SelectorOp.DoesNotExist, []);
        }
        if (t.Kind != Tok.Ident) throw new FormatException($"found '{t.Text}', expected: !, identifier, or 'end of string'");
        ValidateKey(t.Text);
        var op = l.Peek();
        switch (op.Kind)
        {
            case Tok.End:
            case Tok.Comma:
                return new LabelRequirement(t.Text, SelectorOp.Exists, []);
            case Tok.Eq:
            case Tok.DoubleEq:
            case Tok.NotEq:
            case Tok.Gt:
            case Tok.Lt:
            {
                l.Next();
                var v = l.Peek();
                string value = "";
                if (v.Kind == Tok.Ident) { l.Next(); value = v.Text; }
                else if (v.Kind is not (Tok.End or Tok.Comma)) throw new FormatException($"found '{v.Text}', expected: identifier");
                var kind = op.Kind switch { Tok.NotEq => SelectorOp.NotEquals, Tok.Gt => SelectorOp.GreaterThan, Tok.Lt => SelectorOp.LessThan, _ => SelectorOp.Equals };
                if (kind is SelectorOp.GreaterThan or SelectorOp.LessThan)
                {
                    if (!long.TryParse(value, out _)) throw new FormatException($"for 'Gt', 'Lt' operators, the value must be an integer");
                }
                else ValidateValue(value);
                return new LabelRequirement(t.Text, kind, [value]);
            }
            case Tok.In:
            case Tok.NotIn:
            {
                l.Next();
                var open = l.Next();
                if (open.Kind != Tok.Open) throw new FormatException($"found '{open.Text}', expected: '('");
                var values = new List<string>();
                while (true)
                {
                    var v = l.Next();
                    if (v.Kind == Tok.Close && values.Count == 0) break;
                    if (v.Kind == Tok.Ident) { ValidateValue(v.Text); values.Add(v.Text); v = l.Next(); }
                    else if (v.Kind is Tok.Comma or Tok.Close) values.Add("");
                    else throw new FormatException($"found '{v.Text}', expected: ',', ')' or identifier");
                    if (v.Kind == Tok.Close) break;
                    if (v.Kind != Tok.Comma) throw new FormatException($"found '{v.Text}', expected: ',' or ')'");
                }
                if (values.Count == 0) throw new FormatException("for 'in', 'notin' operators, values set can't be empty");
                return new LabelRequirement(t.Text, op.Kind == Tok.In ? SelectorOp.In : SelectorOp.NotIn, values);
            }
            default:
                throw new FormatException($"found '{op.Text}', expected: in, notin, =, ==, !=, gt, lt");
        }
    }

    private static void ValidateKey(string key)
    {
        var errs = Validation.NameValidation.QualifiedName(key);
        if (errs.Count > 0) throw new FormatException($"key: Invalid value: \"{key}\": {string.Join("; ", errs)}");
    }

    private static void ValidateValue(string v)
    {
        var errs = Validation.NameValidation.LabelValue(v);
        if (errs.Count > 0) throw new FormatException($"values[0][{v}]: Invalid value: \"{v}\": {string.Join("; ", errs)}");
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

        private Token Read()
        {
            while (_pos < s.Length && char.IsWhiteSpace(s[_pos])) _pos++;
            if (_pos >= s.Length) return new(Tok.End, "end of string");
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
            while (_pos < s.Length && !char.IsWhiteSpace(s[_pos]) && s[_pos] is not (',' or '(' or ')' or '=' or '!' or '<' or '>')) _pos++;
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
