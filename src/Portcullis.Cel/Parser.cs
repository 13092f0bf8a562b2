using System.Globalization;
using System.Text;

namespace Portcullis.Cel;

/// <summary>Recursive-descent parser for the CEL grammar of cel-spec's langdef.md, with the optional
/// syntax (<c>.?</c>, <c>[?</c>, <c>?elem</c>) and the standard macros expanded into comprehensions.</summary>
public sealed partial class Parser
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
}
