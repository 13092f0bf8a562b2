namespace Portcullis.Cel;

/// <summary>A function overload for the checker: <c>name(args) -&gt; result</c>, receiver-style or global,
/// with type parameters written as single capital letters (A, B).</summary>
public sealed class CelOverload
{
    public string Function { get; }
    public bool IsMember { get; }
    public IReadOnlyList<CelType> Args { get; }
    public CelType Result { get; }

    public CelOverload(string function, bool isMember, CelType[] args, CelType result)
    {
        Function = function;
        IsMember = isMember;
        Args = args;
        Result = result;
    }

    /// <summary>Parses <c>"size(list(A)) -&gt; int"</c> or <c>"string.contains(string) -&gt; bool"</c>.</summary>
    public static CelOverload Parse(string signature)
    {
        var p = new SigParser(signature);
        return p.Overload();
    }

    sealed class SigParser(string s)
    {
        int _i;

        public CelOverload Overload()
        {
            // [receiverType '.'] name '(' args ')' '->' result ; the receiver type has no '(' before the name's '('
            int open = FindCallParen();
            string head = s[..open].Trim();
            CelType? receiver = null;
            string name = head;
            int dot = head.LastIndexOf('.');
            if (dot > 0)
            {
                string recv = head[..dot];
                string fn = head[(dot + 1)..];
                // namespaced global functions (optional.of, math.greatest) have lowercase single-word prefixes
                if (!IsNamespace(recv))
                {
                    receiver = new SigParser(recv).Type();
                    name = fn;
                }
            }
            _i = open + 1;
            var args = new List<CelType>();
            if (receiver is not null) args.Add(receiver);
            Ws();
            if (s[_i] != ')')
            {
                while (true)
                {
                    args.Add(Type());
                    Ws();
                    if (s[_i] == ',') { _i++; continue; }
                    break;
                }
            }
            Expect(')');
            Ws();
            Expect('-');
            Expect('>');
            var result = Type();
            return new CelOverload(name, receiver is not null, args.ToArray(), result);
        }

        static bool IsNamespace(string recv) => recv is "optional" or "math" or "strings" or "base64" or "sets" or "lists" or "cel";

        int FindCallParen()
        {
            // the argument list ends at the last ')' before "->"; walk back to its '('
            int arrow = s.IndexOf("->", StringComparison.Ordinal);
            int close = s.LastIndexOf(')', arrow < 0 ? s.Length - 1 : arrow);
            int depth = 0;
            for (int k = close; k >= 0; k--)
            {
                if (s[k] == ')') depth++;
                else if (s[k] == '(' && --depth == 0) return k;
            }
            throw new FormatException("no argument list in " + s);
        }

        public CelType Type()
        {
            Ws();
            int st = _i;
            while (_i < s.Length && (char.IsLetterOrDigit(s[_i]) || s[_i] is '_' or '.')) _i++;
            string n = s[st.._i];
            Ws();
            var ps = new List<CelType>();
            if (_i < s.Length && s[_i] == '(')
            {
                _i++;
                while (true)
                {
                    ps.Add(Type());
                    Ws();
                    if (s[_i] == ',') { _i++; continue; }
                    break;
                }
                Expect(')');
            }
            if (n.Length == 1 && char.IsUpper(n[0])) return CelType.Param(n);
            return n switch
            {
                "list" => CelType.ListOf(ps[0]),
                "map" => CelType.MapOf(ps[0], ps[1]),
                "type" => ps.Count == 1 ? CelType.TypeOf(ps[0]) : CelType.TypeOf(CelType.Dyn),
                "optional_type" => CelType.OptionalOf(ps[0]),
                "timestamp" => CelType.Timestamp,
                "duration" => CelType.Duration,
                _ => Checker.TypeByName(n) ?? new CelType(n),
            };
        }

        void Ws() { while (_i < s.Length && s[_i] == ' ') _i++; }

        void Expect(char c)
        {
            Ws();
            if (_i >= s.Length || s[_i] != c) throw new FormatException($"expected '{c}' at {_i} in {s}");
            _i++;
        }
    }
}
