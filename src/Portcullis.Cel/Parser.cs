using System.Globalization;
using System.Text;

namespace Portcullis.Cel;

/// <summary>A compile (parse or check) error, with cel-go's rendering:
/// <c>ERROR: &lt;input&gt;:1:5: message</c> followed by the source line and a caret.</summary>
public sealed class CelIssue(int line, int column, string message, string sourceLine)
{
    public int Line { get; } = line;
    /// <summary>1-based column.</summary>
    public int Column { get; } = column;
    public string Message { get; } = message;

    public override string ToString()
    {
        if (Line < 1) return $"ERROR: <input>:{Line}:{Column}: {Message}";
        var caret = new StringBuilder();
        for (int i = 1; i < Column; i++) caret.Append('.');
        caret.Append('^');
        return $"ERROR: <input>:{Line}:{Column}: {Message}\n | {sourceLine}\n | {caret}";
    }
}

public sealed class CelCompileException(IReadOnlyList<CelIssue> issues)
    : Exception(string.Join("\n", issues))
{
    public IReadOnlyList<CelIssue> Issues { get; } = issues;
}

internal enum Tok
{
    Eof, Ident, Int, Uint, Double, String, Bytes,
    LParen, RParen, LBracket, RBracket, LBrace, RBrace, Dot, Comma, Colon, Question,
    Plus, Minus, Star, Slash, Percent, Not, Lt, Le, Gt, Ge, EqEq, Ne, AndAnd, OrOr, In,
    True, False, Null, QuestionDot, LBracketQuestion,
}

internal readonly record struct Token(Tok Kind, int Start, int End, string? Text = null, CelValue? Value = null);

/// <summary>Recursive-descent parser for the CEL grammar of cel-spec's langdef.md, with the optional
/// syntax (<c>.?</c>, <c>[?</c>, <c>?elem</c>) and the standard macros expanded into comprehensions.</summary>
public sealed class Parser
{
    static readonly HashSet<string> Reserved =
    [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
        "package", "namespace", "return", "var", "void", "while",
    ];

    public const string AccumulatorName = "@result";
    const int MaxDepth = 250;

    readonly string _src;
    readonly List<Token> _toks = [];
    int _p;
    long _nextId = 1;
    int _depth;
    readonly bool _macros;
    readonly CelLibraries _libs;

    Parser(string src, bool macros, CelLibraries libs)
    {
        _src = src;
        _macros = macros;
        _libs = libs;
    }

    public static Expr Parse(string source, bool enableMacros = true, CelLibraries libraries = CelLibraries.All)
    {
        var p = new Parser(source, enableMacros, libraries);
        p.Lex();
        var e = p.ParseExpr();
        if (p.Peek.Kind != Tok.Eof) throw p.Unexpected(Tok.Eof, "<EOF>");
        // cel-go stops at 250 nested visits (a long chain of binary operators nests as deep as it is long);
        // the checker and evaluator recurse over the tree, so deeper trees are refused here.
        if (Depth(e) > MaxDepth)
            throw new CelCompileException([new CelIssue(-1, 0, "max recursion depth exceeded", "")]);
        return e;
    }

    // ---------- lexer ----------

    void Lex()
    {
        int i = 0;
        while (true)
        {
            while (i < _src.Length)
            {
                char c = _src[i];
                if (c is ' ' or '\t' or '\n' or '\r' or '\f') i++;
                else if (c == '/' && i + 1 < _src.Length && _src[i + 1] == '/') { while (i < _src.Length && _src[i] != '\n') i++; }
                else break;
            }
            if (i >= _src.Length) { _toks.Add(new Token(Tok.Eof, i, i)); return; }
            int s = i;
            char ch = _src[i];
            char nx = i + 1 < _src.Length ? _src[i + 1] : '\0';
            if (char.IsAsciiLetter(ch) || ch == '_')
            {
                // string prefixes r, b, rb, br (any case)
                int j = i;
                bool raw = false, bytes = false;
                while (j < _src.Length && j - i < 2 && _src[j] is 'r' or 'R' or 'b' or 'B')
                {
                    if (_src[j] is 'r' or 'R') { if (raw) break; raw = true; } else { if (bytes) break; bytes = true; }
                    j++;
                }
                if (j > i && j < _src.Length && _src[j] is '"' or '\'')
                {
                    i = LexString(j, raw, bytes, s);
                    continue;
                }
                while (i < _src.Length && (char.IsAsciiLetterOrDigit(_src[i]) || _src[i] == '_')) i++;
                string id = _src[s..i];
                Tok k = id switch { "true" => Tok.True, "false" => Tok.False, "null" => Tok.Null, "in" => Tok.In, _ => Tok.Ident };
                _toks.Add(new Token(k, s, i, id));
                continue;
            }
            if (char.IsAsciiDigit(ch) || (ch == '.' && char.IsAsciiDigit(nx)))
            {
                i = LexNumber(i);
                continue;
            }
            if (ch is '"' or '\'') { i = LexString(i, false, false, s); continue; }
            Tok kind;
            int len = 1;
            switch (ch)
            {
                case '(': kind = Tok.LParen; break;
                case ')': kind = Tok.RParen; break;
                case '[':
                    if (nx == '?') { kind = Tok.LBracketQuestion; len = 2; }
                    else kind = Tok.LBracket;
                    break;
                case ']': kind = Tok.RBracket; break;
                case '{': kind = Tok.LBrace; break;
                case '}': kind = Tok.RBrace; break;
                case '.':
                    if (nx == '?') { kind = Tok.QuestionDot; len = 2; }
                    else kind = Tok.Dot;
                    break;
                case ',': kind = Tok.Comma; break;
                case ':': kind = Tok.Colon; break;
                case '?': kind = Tok.Question; break;
                case '+': kind = Tok.Plus; break;
                case '-': kind = Tok.Minus; break;
                case '*': kind = Tok.Star; break;
                case '/': kind = Tok.Slash; break;
                case '%': kind = Tok.Percent; break;
                case '!':
                    if (nx == '=') { kind = Tok.Ne; len = 2; } else kind = Tok.Not;
                    break;
                case '<':
                    if (nx == '=') { kind = Tok.Le; len = 2; } else kind = Tok.Lt;
                    break;
                case '>':
                    if (nx == '=') { kind = Tok.Ge; len = 2; } else kind = Tok.Gt;
                    break;
                case '=':
                    if (nx == '=') { kind = Tok.EqEq; len = 2; break; }
                    throw Error(i, $"Syntax error: token recognition error at: '{ch}'");
                case '&':
                    if (nx == '&') { kind = Tok.AndAnd; len = 2; break; }
                    throw Error(i, $"Syntax error: token recognition error at: '{ch}'");
                case '|':
                    if (nx == '|') { kind = Tok.OrOr; len = 2; break; }
                    throw Error(i, $"Syntax error: token recognition error at: '{ch}'");
                default:
                    throw Error(i, $"Syntax error: token recognition error at: '{ch}'");
            }
            _toks.Add(new Token(kind, i, i + len));
            i += len;
        }
    }

    int LexNumber(int i)
    {
        int s = i;
        if (_src[i] == '0' && i + 1 < _src.Length && _src[i + 1] is 'x' or 'X')
        {
            i += 2;
            int ds = i;
            while (i < _src.Length && char.IsAsciiHexDigit(_src[i])) i++;
            string hex = _src[ds..i];
            bool isUint = i < _src.Length && _src[i] is 'u' or 'U';
            if (isUint)
            {
                i++;
                if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong u)) throw Error(s, "invalid uint literal");
                _toks.Add(new Token(Tok.Uint, s, i, Value: new CelUint(u)));
            }
            else
            {
                if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong u) || u > (ulong)long.MaxValue + 1) throw Error(s, "invalid int literal");
                _toks.Add(new Token(Tok.Int, s, i, _src[s..i], Value: null));
            }
            return i;
        }
        while (i < _src.Length && char.IsAsciiDigit(_src[i])) i++;
        bool isDouble = false;
        if (i + 1 < _src.Length && _src[i] == '.' && char.IsAsciiDigit(_src[i + 1]))
        {
            isDouble = true;
            i++;
            while (i < _src.Length && char.IsAsciiDigit(_src[i])) i++;
        }
        if (i < _src.Length && _src[i] is 'e' or 'E')
        {
            int j = i + 1;
            if (j < _src.Length && _src[j] is '+' or '-') j++;
            if (j < _src.Length && char.IsAsciiDigit(_src[j]))
            {
                isDouble = true;
                i = j;
                while (i < _src.Length && char.IsAsciiDigit(_src[i])) i++;
            }
        }
        if (isDouble)
        {
            double d = double.Parse(_src.AsSpan(s, i - s), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (!double.IsFinite(d)) throw Error(s, "invalid double literal");
            _toks.Add(new Token(Tok.Double, s, i, Value: new CelDouble(d)));
            return i;
        }
        string digits = _src[s..i];
        if (i < _src.Length && _src[i] is 'u' or 'U')
        {
            i++;
            if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong u)) throw Error(s, "invalid uint literal");
            _toks.Add(new Token(Tok.Uint, s, i, Value: new CelUint(u)));
            return i;
        }
        _toks.Add(new Token(Tok.Int, s, i, digits));
        return i;
    }

    int LexString(int i, bool raw, bool bytes, int tokenStart)
    {
        char q = _src[i];
        bool triple = i + 2 < _src.Length && _src[i + 1] == q && _src[i + 2] == q;
        i += triple ? 3 : 1;
        var sb = new StringBuilder();
        var bb = bytes ? new List<byte>() : null;
        void AddChar(int cp)
        {
            if (bb is not null) bb.AddRange(Encoding.UTF8.GetBytes(char.ConvertFromUtf32(cp)));
            else sb.Append(char.ConvertFromUtf32(cp));
        }
        while (true)
        {
            if (i >= _src.Length) throw Error(tokenStart, "Syntax error: token recognition error at: '" + _src[tokenStart..] + "'");
            char c = _src[i];
            if (triple)
            {
                if (c == q && i + 2 < _src.Length && _src[i + 1] == q && _src[i + 2] == q) { i += 3; break; }
            }
            else
            {
                if (c == q) { i++; break; }
                if (c is '\n' or '\r') throw Error(tokenStart, "Syntax error: token recognition error at: '" + _src[tokenStart..i] + "'");
            }
            if (c == '\\' && !raw)
            {
                if (i + 1 >= _src.Length) throw Error(i, "Syntax error: invalid escape");
                char e = _src[i + 1];
                i += 2;
                switch (e)
                {
                    case 'a': AddChar(7); break;
                    case 'b': AddChar(8); break;
                    case 'f': AddChar(12); break;
                    case 'n': AddChar('\n'); break;
                    case 'r': AddChar('\r'); break;
                    case 't': AddChar('\t'); break;
                    case 'v': AddChar(11); break;
                    case '\\': AddChar('\\'); break;
                    case '?': AddChar('?'); break;
                    case '"': AddChar('"'); break;
                    case '\'': AddChar('\''); break;
                    case '`': AddChar('`'); break;
                    case 'x':
                    case 'X':
                    {
                        int v = Hex(i, 2, tokenStart);
                        i += 2;
                        if (bb is not null) bb.Add((byte)v); else AddChar(v);
                        break;
                    }
                    case 'u':
                    case 'U':
                    {
                        if (bytes) throw Error(tokenStart, "Syntax error: invalid escape sequence in bytes literal");
                        int n = e == 'u' ? 4 : 8;
                        int v = Hex(i, n, tokenStart);
                        i += n;
                        if (v < 0 || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) throw Error(tokenStart, "Syntax error: invalid unicode code point");
                        AddChar(v);
                        break;
                    }
                    default:
                        if (e is >= '0' and <= '3' && i + 1 < _src.Length && _src[i] is >= '0' and <= '7' && _src[i + 1] is >= '0' and <= '7')
                        {
                            int v = (e - '0') * 64 + (_src[i] - '0') * 8 + (_src[i + 1] - '0');
                            i += 2;
                            if (bb is not null) bb.Add((byte)v); else AddChar(v);
                            break;
                        }
                        throw Error(i - 2, "Syntax error: token recognition error at: '" + _src[tokenStart..i] + "'");
                }
                continue;
            }
            if (char.IsSurrogate(c))
            {
                // a lone surrogate is no character (the text is not valid UTF-8 for cel-go)
                if (!(i + 1 < _src.Length && char.IsSurrogatePair(c, _src[i + 1])))
                    throw Error(i, "Syntax error: token recognition error at: '" + _src[tokenStart..i] + "'");
                AddChar(char.ConvertToUtf32(c, _src[i + 1]));
                i += 2;
                continue;
            }
            AddChar(c);
            i++;
        }
        _toks.Add(bytes
            ? new Token(Tok.Bytes, tokenStart, i, Value: new CelBytes(bb!.ToArray()))
            : new Token(Tok.String, tokenStart, i, Value: new CelString(sb.ToString())));
        return i;
    }

    int Hex(int i, int n, int tokenStart)
    {
        if (i + n > _src.Length) throw Error(tokenStart, "Syntax error: invalid escape");
        long v = 0;
        for (int k = 0; k < n; k++)
        {
            char c = _src[i + k];
            if (!char.IsAsciiHexDigit(c)) throw Error(tokenStart, "Syntax error: invalid escape");
            v = v * 16 + Convert.ToInt32(c.ToString(), 16);
        }
        return v > int.MaxValue ? -1 : (int)v;
    }

    // ---------- parser ----------

    Token Peek => _toks[_p];
    Token Next() => _toks[_p++];

    bool Accept(Tok k)
    {
        if (Peek.Kind != k) return false;
        _p++;
        return true;
    }

    Token Expect(Tok k, string what)
    {
        if (Peek.Kind != k) throw Unexpected(k, what);
        return Next();
    }

    /// <summary>ANTLR's wording: "extraneous input" when dropping the offending token would let the parse go
    /// on (the token after it is the one expected), "mismatched input" otherwise.</summary>
    CelCompileException Unexpected(Tok expected, string what)
    {
        var t = Peek;
        bool extraneous = t.Kind != Tok.Eof && _p + 1 < _toks.Count && _toks[_p + 1].Kind == expected;
        return Error(t.Start, $"Syntax error: {(extraneous ? "extraneous" : "mismatched")} input '{TokText(t)}' expecting {what}");
    }

    string TokText(Token t) => t.Kind == Tok.Eof ? "<EOF>" : _src[t.Start..t.End];

    T Node<T>(T e, int offset) where T : Expr
    {
        e.Id = _nextId++;
        e.Offset = offset;
        return e;
    }

    CallExpr Call(int offset, string fn, params Expr[] args) => Node(new CallExpr(null, fn, args), offset);

    Expr ParseExpr()
    {
        if (++_depth > MaxDepth) throw RecursionLimit();
        try
        {
            var cond = ParseOr();
            if (Peek.Kind != Tok.Question) return cond;
            int at = Next().Start;
            var t = ParseOr();
            Expect(Tok.Colon, "':'");
            var f = ParseExpr();
            return Call(at, "_?_:_", cond, t, f);
        }
        finally { _depth--; }
    }

    Expr ParseOr()
    {
        var l = ParseAnd();
        while (Peek.Kind == Tok.OrOr)
        {
            int at = Next().Start;
            l = Call(at, "_||_", l, ParseAnd());
        }
        return l;
    }

    Expr ParseAnd()
    {
        var l = ParseRelation();
        while (Peek.Kind == Tok.AndAnd)
        {
            int at = Next().Start;
            l = Call(at, "_&&_", l, ParseRelation());
        }
        return l;
    }

    Expr ParseRelation()
    {
        var l = ParseAddition();
        while (true)
        {
            string? fn = Peek.Kind switch
            {
                Tok.Lt => "_<_", Tok.Le => "_<=_", Tok.Gt => "_>_", Tok.Ge => "_>=_", Tok.EqEq => "_==_", Tok.Ne => "_!=_", Tok.In => "@in",
                _ => null,
            };
            if (fn is null) return l;
            int at = Next().Start;
            l = Call(at, fn, l, ParseAddition());
        }
    }

    Expr ParseAddition()
    {
        var l = ParseMultiplication();
        while (Peek.Kind is Tok.Plus or Tok.Minus)
        {
            var t = Next();
            l = Call(t.Start, t.Kind == Tok.Plus ? "_+_" : "_-_", l, ParseMultiplication());
        }
        return l;
    }

    Expr ParseMultiplication()
    {
        var l = ParseUnary();
        while (Peek.Kind is Tok.Star or Tok.Slash or Tok.Percent)
        {
            var t = Next();
            l = Call(t.Start, t.Kind switch { Tok.Star => "_*_", Tok.Slash => "_/_", _ => "_%_" }, l, ParseUnary());
        }
        return l;
    }

    Expr ParseUnary()
    {
        if (Peek.Kind == Tok.Not)
        {
            var ops = new List<int>();
            while (Peek.Kind == Tok.Not) ops.Add(Next().Start);
            var e = ParseMember();
            for (int i = ops.Count - 1; i >= 0; i--) e = Call(ops[i], "!_", e);
            return e;
        }
        if (Peek.Kind == Tok.Minus)
        {
            var ops = new List<int>();
            while (Peek.Kind == Tok.Minus) ops.Add(Next().Start);
            Expr e;
            // A '-' directly before a number literal is part of the literal (so -9223372036854775808 parses).
            if (Peek.Kind is Tok.Int or Tok.Double)
            {
                var lit = Next();
                int at = ops[^1];
                ops.RemoveAt(ops.Count - 1);
                e = lit.Kind == Tok.Int ? IntLiteral(lit, negative: true, at) : Node(new ConstExpr(new CelDouble(-((CelDouble)lit.Value!).Value)), at);
                e = ParseMemberSuffix(e);
            }
            else e = ParseMember();
            for (int i = ops.Count - 1; i >= 0; i--) e = Call(ops[i], "-_", e);
            return e;
        }
        return ParseMember();
    }

    Expr IntLiteral(Token t, bool negative, int offset)
    {
        string text = t.Text!;
        ulong mag;
        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out mag)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out mag);
        if (!ok || mag > (negative ? (ulong)long.MaxValue + 1 : long.MaxValue))
            throw Error(offset, "invalid int literal");
        long v = negative ? (mag == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)mag) : (long)mag;
        return Node(new ConstExpr(CelInt.Of(v)), offset);
    }

    Expr ParseMember() => ParseMemberSuffix(ParsePrimary());

    Expr ParseMemberSuffix(Expr e)
    {
        while (true)
        {
            var t = Peek;
            if (t.Kind is Tok.Dot or Tok.QuestionDot)
            {
                _p++;
                var id = Expect(Tok.Ident, "IDENTIFIER");
                string name = id.Text!;
                if (t.Kind == Tok.QuestionDot)
                {
                    if (!_libs.HasFlag(CelLibraries.Optionals)) throw Error(t.Start, "unsupported syntax '.?'");
                    e = Call(t.Start, "_?._", e, Node(new ConstExpr(new CelString(name)), id.Start));
                    continue;
                }
                if (Peek.Kind == Tok.LParen)
                {
                    int open = Next().Start;
                    var args = ParseArgs(Tok.RParen);
                    e = MakeCall(id.Start, e, name, args, open);
                }
                else e = Node(new SelectExpr(e, name, false), t.Start);
            }
            else if (t.Kind is Tok.LBracket or Tok.LBracketQuestion)
            {
                if (t.Kind == Tok.LBracketQuestion && !_libs.HasFlag(CelLibraries.Optionals)) throw Error(t.Start, "unsupported syntax '[?'");
                _p++;
                var idx = ParseExpr();
                Expect(Tok.RBracket, "']'");
                e = Call(t.Start, t.Kind == Tok.LBracket ? "_[_]" : "_[?_]", e, idx);
            }
            else if (t.Kind == Tok.LBrace && QualifiedName(e) is { } typeName && !(e is IdentExpr { Name: var n } && n.StartsWith('@')))
            {
                _p++;
                e = ParseStruct(typeName, t.Start);
            }
            else return e;
        }
    }

    static string? QualifiedName(Expr e) => e switch
    {
        IdentExpr i => i.Name,
        SelectExpr { TestOnly: false } s when QualifiedName(s.Operand) is { } p => p + "." + s.Field,
        _ => null,
    };

    Expr ParseStruct(string typeName, int at)
    {
        var fields = new List<StructFieldExpr>();
        while (Peek.Kind != Tok.RBrace)
        {
            bool opt = Accept(Tok.Question);
            var f = Expect(Tok.Ident, "IDENTIFIER");
            Expect(Tok.Colon, "':'");
            fields.Add(new StructFieldExpr(f.Text!, ParseExpr(), opt));
            if (!Accept(Tok.Comma)) break;
        }
        Expect(Tok.RBrace, "'}'");
        return Node(new StructExpr(typeName, fields.ToArray()), at);
    }

    List<Expr> ParseArgs(Tok close)
    {
        var args = new List<Expr>();
        if (Accept(close)) return args;
        while (true)
        {
            args.Add(ParseExpr());
            if (Accept(Tok.Comma)) continue;
            Expect(close, close == Tok.RParen ? "')'" : "']'");
            return args;
        }
    }

    Expr ParsePrimary()
    {
        if (++_depth > MaxDepth) throw RecursionLimit();
        try { return ParsePrimaryInner(); }
        finally { _depth--; }
    }

    Expr ParsePrimaryInner()
    {
        var t = Next();
        switch (t.Kind)
        {
            case Tok.Int: return IntLiteral(t, false, t.Start);
            case Tok.Uint:
            case Tok.Double:
            case Tok.String:
            case Tok.Bytes:
                return Node(new ConstExpr(t.Value!), t.Start);
            case Tok.True: return Node(new ConstExpr(CelBool.True), t.Start);
            case Tok.False: return Node(new ConstExpr(CelBool.False), t.Start);
            case Tok.Null: return Node(new ConstExpr(CelNull.Instance), t.Start);
            case Tok.LParen:
            {
                var e = ParseExpr();
                Expect(Tok.RParen, "')'");
                return e;
            }
            case Tok.LBracket:
            case Tok.LBracketQuestion:
            {
                var elems = new List<Expr>();
                var opts = new List<bool>();
                bool firstOptional = t.Kind == Tok.LBracketQuestion;
                while (Peek.Kind != Tok.RBracket || firstOptional)
                {
                    opts.Add(firstOptional || Accept(Tok.Question));
                    firstOptional = false;
                    elems.Add(ParseExpr());
                    if (!Accept(Tok.Comma)) break;
                }
                Expect(Tok.RBracket, "']'");
                return Node(new ListExpr(elems.ToArray(), opts.ToArray()), t.Start);
            }
            case Tok.LBrace:
            {
                var entries = new List<MapEntryExpr>();
                while (Peek.Kind != Tok.RBrace)
                {
                    bool opt = Accept(Tok.Question);
                    var k = ParseExpr();
                    Expect(Tok.Colon, "':'");
                    entries.Add(new MapEntryExpr(k, ParseExpr(), opt));
                    if (!Accept(Tok.Comma)) break;
                }
                Expect(Tok.RBrace, "'}'");
                return Node(new MapExpr(entries.ToArray()), t.Start);
            }
            case Tok.Dot:
            {
                var id = Expect(Tok.Ident, "IDENTIFIER");
                CheckReserved(id);
                if (Peek.Kind == Tok.LParen)
                {
                    int open = Next().Start;
                    return MakeCall(id.Start, null, "." + id.Text, ParseArgs(Tok.RParen), open);
                }
                return Node(new IdentExpr("." + id.Text), id.Start);
            }
            case Tok.Ident:
            {
                CheckReserved(t);
                if (Peek.Kind == Tok.LParen)
                {
                    int open = Next().Start;
                    return MakeCall(t.Start, null, t.Text!, ParseArgs(Tok.RParen), open);
                }
                return Node(new IdentExpr(t.Text!), t.Start);
            }
            default:
                throw Error(t.Start, $"Syntax error: mismatched input '{TokText(t)}' expecting {{'[', '{{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}}");
        }
    }

    void CheckReserved(Token t)
    {
        if (Reserved.Contains(t.Text!)) throw Error(t.Start, $"reserved identifier: {t.Text}");
    }

    // ---------- macros ----------

    Expr MakeCall(int at, Expr? target, string fn, List<Expr> args, int open)
    {
        if (_macros)
        {
            var m = ExpandMacro(at, target, fn, args);
            if (m is not null) return m;
        }
        // cel-go places a call (global or receiver-style) at its opening parenthesis
        var call = Node(new CallExpr(target, fn, args.ToArray()), open);
        return call;
    }

    Expr? ExpandMacro(int at, Expr? target, string fn, List<Expr> args)
    {
        if (target is not null && fn is "optMap" or "optFlatMap" && args.Count == 2 && _libs.HasFlag(CelLibraries.Optionals))
        {
            if (args[0] is not IdentExpr { Name: var ov } || ov.StartsWith('.')) throw Error(args[0].Offset, $"{fn}() variable name must be a simple identifier");
            Expr bound = Bind(at, ov, Node(new CallExpr(target, "value", []), at), args[1]);
            if (fn == "optMap") bound = Node(new CallExpr(Node(new IdentExpr("optional"), at), "of", [bound]), at);
            return Call(at, "_?_:_", Node(new CallExpr(target, "hasValue", []), at), bound,
                Node(new CallExpr(Node(new IdentExpr("optional"), at), "none", []), at));
        }
        if (target is IdentExpr { Name: "cel" } && _libs.HasFlag(CelLibraries.Block))
        {
            // cel.block([e0, e1, ...], result) with cel.index(i) for ei and cel.iterVar/accuVar(i, j) for
            // comprehension variables: the form of cel-go's common subexpression elimination.
            if (fn is "index" && args.Count == 1 && args[0] is ConstExpr { Value: CelInt bi })
                return Node(new IdentExpr("@index" + bi.Value), at);
            if (fn is "iterVar" or "accuVar" && args.Count == 2 && args[0] is ConstExpr { Value: CelInt vi } && args[1] is ConstExpr { Value: CelInt vj })
                return Node(new IdentExpr($"@{(fn == "iterVar" ? "it" : "ac")}:{vi.Value}:{vj.Value}"), at);
            if (fn == "block" && args.Count == 2 && args[0] is ListExpr block)
            {
                Expr body = args[1];
                for (int i = block.Elements.Length - 1; i >= 0; i--) body = Bind(at, "@index" + i, block.Elements[i], body);
                return body;
            }
        }
        if (target is IdentExpr { Name: "cel" } && fn == "bind" && args.Count == 3 && _libs.HasFlag(CelLibraries.Bindings))
        {
            if (args[0] is not IdentExpr { Name: var bv } || bv.StartsWith('.')) throw Error(args[0].Offset, "cel.bind() variable names must be simple identifiers");
            return Bind(at, bv, args[1], args[2]);
        }
        if (target is null)
        {
            if (fn == "has" && args.Count == 1)
            {
                if (args[0] is not SelectExpr { TestOnly: false } s) throw Error(args[0].Offset, "invalid argument to has() macro");
                return Node(new SelectExpr(s.Operand, s.Field, true), at);
            }
            return null;
        }
        if (_libs.HasFlag(CelLibraries.TwoVarComprehensions) && ExpandTwoVarMacro(at, target, fn, args) is { } twoVar) return twoVar;
        switch (fn)
        {
            case "all" when args.Count == 2:
            case "exists" when args.Count == 2:
            case "exists_one" when args.Count == 2:
            case "existsOne" when args.Count == 2:
            case "map" when args.Count is 2 or 3:
            case "filter" when args.Count == 2:
                break;
            default:
                return null;
        }
        if (args[0] is not IdentExpr { Name: var v } || v.StartsWith('.'))
            throw Error(args[0].Offset, fn is "map" or "filter" ? "argument is not an identifier" : "argument must be a simple name");
        if (v is AccumulatorName or "__result__")
            throw Error(args[0].Offset, "iteration variable overwrites accumulator variable");
        Expr Acc() => Node(new IdentExpr(AccumulatorName), at);
        Expr Lit(CelValue c) => Node(new ConstExpr(c), at);
        switch (fn)
        {
            case "all":
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Lit(CelBool.True),
                    Call(at, "@not_strictly_false", Acc()), Call(at, "_&&_", Acc(), args[1]), Acc()), at);
            case "exists":
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Lit(CelBool.False),
                    Call(at, "@not_strictly_false", Call(at, "!_", Acc())), Call(at, "_||_", Acc(), args[1]), Acc()), at);
            case "exists_one":
            case "existsOne":
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Lit(CelInt.Of(0)), Lit(CelBool.True),
                    Call(at, "_?_:_", args[1], Call(at, "_+_", Acc(), Lit(CelInt.Of(1))), Acc()),
                    Call(at, "_==_", Acc(), Lit(CelInt.Of(1)))), at);
            case "map":
            {
                Expr fnExpr = args.Count == 3 ? args[2] : args[1];
                Expr step = Call(at, "_+_", Acc(), Node(new ListExpr([fnExpr], [false]), at));
                if (args.Count == 3) step = Call(at, "_?_:_", args[1], step, Acc());
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Node(new ListExpr([], []), at), Lit(CelBool.True), step, Acc()), at);
            }
            default: // filter
            {
                Expr step = Call(at, "_?_:_", args[1], Call(at, "_+_", Acc(), Node(new ListExpr([Node(new IdentExpr(v), at)], [false]), at)), Acc());
                return Node(new ComprehensionExpr(v, target, AccumulatorName, Node(new ListExpr([], []), at), Lit(CelBool.True), step, Acc()), at);
            }
        }
    }

    /// <summary>cel-go's ext.TwoVarComprehensions (Kubernetes 1.32+): <c>all/exists/existsOne(i, v, p)</c>,
    /// <c>transformList(i, v, [filter,] e)</c>, <c>transformMap(k, v, [filter,] e)</c>,
    /// <c>transformMapEntry(k, v, [filter,] e)</c>.</summary>
    Expr? ExpandTwoVarMacro(int at, Expr target, string fn, List<Expr> args)
    {
        bool quantifier = fn is "all" or "exists" or "existsOne" or "exists_one" && args.Count == 3;
        bool transform = fn is "transformList" or "transformMap" or "transformMapEntry" && args.Count is 3 or 4;
        if (!quantifier && !transform) return null;
        if (args[0] is not IdentExpr { Name: var v1 } || v1.StartsWith('.')) throw Error(args[0].Offset, "argument must be a simple name");
        if (args[1] is not IdentExpr { Name: var v2 } || v2.StartsWith('.')) throw Error(args[1].Offset, "argument must be a simple name");
        if (v1 == v2) throw Error(args[1].Offset, $"duplicate variable name: {v1}");
        if (v1 is AccumulatorName or "__result__") throw Error(args[0].Offset, "iteration variable overwrites accumulator variable");
        if (v2 is AccumulatorName or "__result__") throw Error(args[1].Offset, "iteration variable overwrites accumulator variable");
        Expr Acc() => Node(new IdentExpr(AccumulatorName), at);
        Expr Lit(CelValue c) => Node(new ConstExpr(c), at);
        Expr Comp(Expr init, Expr cond, Expr step, Expr result) =>
            Node(new ComprehensionExpr(v1, target, AccumulatorName, init, cond, step, result, v2), at);
        switch (fn)
        {
            case "all":
                return Comp(Lit(CelBool.True), Call(at, "@not_strictly_false", Acc()), Call(at, "_&&_", Acc(), args[2]), Acc());
            case "exists":
                return Comp(Lit(CelBool.False), Call(at, "@not_strictly_false", Call(at, "!_", Acc())), Call(at, "_||_", Acc(), args[2]), Acc());
            case "existsOne":
            case "exists_one":
                return Comp(Lit(CelInt.Of(0)), Lit(CelBool.True),
                    Call(at, "_?_:_", args[2], Call(at, "_+_", Acc(), Lit(CelInt.Of(1))), Acc()),
                    Call(at, "_==_", Acc(), Lit(CelInt.Of(1))));
        }
        Expr? filter = args.Count == 4 ? args[2] : null;
        Expr body = args[^1];
        Expr step;
        Expr init;
        if (fn == "transformList")
        {
            init = Node(new ListExpr([], []), at);
            step = Call(at, "_+_", Acc(), Node(new ListExpr([body], [false]), at));
        }
        else
        {
            init = Node(new MapExpr([]), at);
            step = fn == "transformMap"
                ? Call(at, "cel.@mapInsert", Acc(), Node(new IdentExpr(v1), at), body)
                : Call(at, "cel.@mapInsert", Acc(), body);
        }
        if (filter is not null) step = Call(at, "_?_:_", filter, step, Acc());
        return Comp(init, Lit(CelBool.True), step, Acc());
    }

    /// <summary>A local binding, as cel-go's cel.bind: a comprehension over an empty list whose
    /// accumulator is the bound variable.</summary>
    Expr Bind(int at, string name, Expr init, Expr body) =>
        Node(new ComprehensionExpr("#unused", Node(new ListExpr([], []), at), name, init,
            Node(new ConstExpr(CelBool.False), at), Node(new IdentExpr(name), at), body), at);

    static CelCompileException RecursionLimit() =>
        new([new CelIssue(-1, 0, $"expression recursion limit exceeded: {MaxDepth}", "")]);

    /// <summary>The depth of the tree, without recursion.</summary>
    static int Depth(Expr root)
    {
        int max = 0;
        var stack = new Stack<(Expr E, int D)>();
        stack.Push((root, 1));
        while (stack.Count > 0)
        {
            var (e, d) = stack.Pop();
            if (d > max) max = d;
            if (d > MaxDepth) return d;
            switch (e)
            {
                case SelectExpr s: stack.Push((s.Operand, d + 1)); break;
                case CallExpr c:
                    if (c.Target is not null) stack.Push((c.Target, d + 1));
                    foreach (var a in c.Args) stack.Push((a, d + 1));
                    break;
                case ListExpr l: foreach (var x in l.Elements) stack.Push((x, d + 1)); break;
                case MapExpr m: foreach (var en in m.Entries) { stack.Push((en.Key, d + 1)); stack.Push((en.Value, d + 1)); } break;
                case StructExpr st: foreach (var f in st.Fields) stack.Push((f.Value, d + 1)); break;
                case ComprehensionExpr c:
                    stack.Push((c.IterRange, d + 1));
                    stack.Push((c.AccuInit, d + 1));
                    stack.Push((c.LoopCondition, d + 1));
                    stack.Push((c.LoopStep, d + 1));
                    stack.Push((c.Result, d + 1));
                    break;
            }
        }
        return max;
    }

    CelCompileException Error(int offset, string message)
    {
        int line = 1, lineStart = 0;
        for (int i = 0; i < offset && i < _src.Length; i++)
            if (_src[i] == '\n') { line++; lineStart = i + 1; }
        int lineEnd = _src.IndexOf('\n', lineStart);
        string text = lineEnd < 0 ? _src[lineStart..] : _src[lineStart..lineEnd];
        return new CelCompileException([new CelIssue(line, offset - lineStart + 1, message, text)]);
    }
}
