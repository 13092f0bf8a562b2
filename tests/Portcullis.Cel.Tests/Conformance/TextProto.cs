using System.Globalization;
using System.Text;

namespace Portcullis.Cel.Tests.Conformance;

/// <summary>A field value in a protobuf text-format message: a nested message or a scalar token.</summary>
public abstract class TpValue;

/// <summary>A scalar: a quoted string (kept as its bytes) or a bare token (number, identifier, enum name).</summary>
public sealed class TpScalar(string? token, byte[]? bytes) : TpValue
{
    public string? Token { get; } = token;
    public byte[]? Bytes { get; } = bytes;
    public bool IsString => Bytes is not null;
    public string Text => Bytes is not null ? Encoding.UTF8.GetString(Bytes) : Token!;
    public override string ToString() => Bytes is not null ? "\"" + Text + "\"" : Token!;
}

/// <summary>A message: its fields in order; a repeated field appears once per element.</summary>
public sealed class TpMessage : TpValue
{
    public List<KeyValuePair<string, TpValue>> Fields { get; } = [];

    public IEnumerable<TpValue> All(string name) => Fields.Where(f => f.Key == name).Select(f => f.Value);
    public TpValue? Get(string name) => Fields.FirstOrDefault(f => f.Key == name).Value;
    public TpMessage? Message(string name) => Get(name) as TpMessage;
    public IEnumerable<TpMessage> Messages(string name) => All(name).OfType<TpMessage>();
    public string? Text(string name) => (Get(name) as TpScalar)?.Text;
    public bool Has(string name) => Fields.Any(f => f.Key == name);
    public bool Bool(string name) => Text(name) is "true" or "True" or "t" or "1";
}

/// <summary>
/// A reader for the protobuf text format, enough for the cel-spec conformance files: fields as
/// <c>name: value</c>, <c>name { ... }</c> or <c>name: { ... }</c>, <c>[type.url] { ... }</c> (Any and
/// extensions), lists in <c>[ ]</c>, <c>&lt; &gt;</c> message delimiters, <c>#</c> comments, adjacent string
/// concatenation and the C-style escapes of quoted strings (octal and hex escapes give raw bytes).
/// </summary>
public sealed class TextProtoReader
{
    readonly string _s;
    int _p;

    TextProtoReader(string s) => _s = s;

    public static TpMessage Parse(string text)
    {
        var r = new TextProtoReader(text);
        var m = r.ReadFields(end: '\0');
        return m;
    }

    TpMessage ReadFields(char end)
    {
        var m = new TpMessage();
        while (true)
        {
            SkipWs();
            if (_p >= _s.Length)
            {
                if (end != '\0') throw Error("unexpected end of input");
                return m;
            }
            if (_s[_p] == end) { _p++; return m; }
            string name;
            if (_s[_p] == '[')
            {
                int close = _s.IndexOf(']', _p);
                name = "[" + _s[(_p + 1)..close].Trim() + "]";
                _p = close + 1;
            }
            else name = ReadIdent();
            SkipWs();
            bool colon = false;
            if (Peek() == ':') { _p++; colon = true; SkipWs(); }
            if (Peek() == '[')
            {
                _p++;
                while (true)
                {
                    SkipWs();
                    if (Peek() == ']') { _p++; break; }
                    m.Fields.Add(new(name, ReadValue()));
                    SkipWs();
                    if (Peek() == ',') _p++;
                }
            }
            else if (!colon && Peek() is not '{' and not '<') throw Error($"expected ':' after {name}");
            else m.Fields.Add(new(name, ReadValue()));
            SkipWs();
            if (Peek() is ',' or ';') _p++;
        }
    }

    TpValue ReadValue()
    {
        SkipWs();
        char c = Peek();
        if (c == '{') { _p++; return ReadFields('}'); }
        if (c == '<') { _p++; return ReadFields('>'); }
        if (c is '"' or '\'')
        {
            var bytes = new List<byte>();
            while (Peek() is '"' or '\'')
            {
                ReadString(bytes);
                SkipWs();
            }
            return new TpScalar(null, bytes.ToArray());
        }
        int start = _p;
        if (c == '-') { _p++; SkipWs(); }
        int body = _p;
        while (_p < _s.Length)
        {
            char ch = _s[_p];
            if (char.IsLetterOrDigit(ch) || ch is '.' or '_') { _p++; continue; }
            // a sign only inside a number's exponent
            if (ch is '+' or '-' && _p > body && _s[_p - 1] is 'e' or 'E' && (char.IsDigit(_s[body]) || _s[body] == '.')) { _p++; continue; }
            break;
        }
        if (_p == start) throw Error("expected a value");
        return new TpScalar(_s[start.._p].Replace(" ", ""), null);
    }

    void ReadString(List<byte> o)
    {
        char q = _s[_p++];
        Span<byte> buf = stackalloc byte[4];
        while (true)
        {
            if (_p >= _s.Length) throw Error("unterminated string");
            char c = _s[_p++];
            if (c == q) return;
            if (c != '\\')
            {
                if (char.IsHighSurrogate(c))
                {
                    o.AddRange(Encoding.UTF8.GetBytes(new[] { c, _s[_p++] }));
                }
                else
                {
                    int n = Encoding.UTF8.GetBytes([c], buf);
                    for (int i = 0; i < n; i++) o.Add(buf[i]);
                }
                continue;
            }
            char e = _s[_p++];
            switch (e)
            {
                case 'n': o.Add((byte)'\n'); break;
                case 't': o.Add((byte)'\t'); break;
                case 'r': o.Add((byte)'\r'); break;
                case 'a': o.Add(7); break;
                case 'b': o.Add(8); break;
                case 'f': o.Add(12); break;
                case 'v': o.Add(11); break;
                case '?': o.Add((byte)'?'); break;
                case '\\': o.Add((byte)'\\'); break;
                case '\'': o.Add((byte)'\''); break;
                case '"': o.Add((byte)'"'); break;
                case 'x':
                case 'X':
                {
                    int v = 0, k = 0;
                    while (k < 2 && _p < _s.Length && Uri.IsHexDigit(_s[_p])) { v = v * 16 + Convert.ToInt32(_s[_p].ToString(), 16); _p++; k++; }
                    o.Add((byte)v);
                    break;
                }
                case 'u':
                case 'U':
                {
                    int len = e == 'u' ? 4 : 8;
                    int cp = int.Parse(_s.AsSpan(_p, len), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    _p += len;
                    o.AddRange(Encoding.UTF8.GetBytes(char.ConvertFromUtf32(cp)));
                    break;
                }
                default:
                    if (e is >= '0' and <= '7')
                    {
                        int v = e - '0', k = 1;
                        while (k < 3 && _p < _s.Length && _s[_p] is >= '0' and <= '7') { v = v * 8 + (_s[_p] - '0'); _p++; k++; }
                        o.Add((byte)v);
                        break;
                    }
                    throw Error($"unknown escape \\{e}");
            }
        }
    }

    string ReadIdent()
    {
        int start = _p;
        while (_p < _s.Length && (char.IsLetterOrDigit(_s[_p]) || _s[_p] == '_')) _p++;
        if (_p == start) throw Error("expected a field name");
        return _s[start.._p];
    }

    char Peek() => _p < _s.Length ? _s[_p] : '\0';

    void SkipWs()
    {
        while (_p < _s.Length)
        {
            if (char.IsWhiteSpace(_s[_p])) _p++;
            else if (_s[_p] == '#') { while (_p < _s.Length && _s[_p] != '\n') _p++; }
            else break;
        }
    }

    FormatException Error(string what)
    {
        int line = 1 + _s.AsSpan(0, Math.Min(_p, _s.Length)).Count('\n');
        return new FormatException($"textproto line {line}: {what}");
    }
}
