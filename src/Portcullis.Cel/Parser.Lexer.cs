using System.Globalization;
using System.Text;

namespace Portcullis.Cel;

// The lexer: CEL's tokens, literals and escapes.
public sealed partial class Parser
{
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

}
