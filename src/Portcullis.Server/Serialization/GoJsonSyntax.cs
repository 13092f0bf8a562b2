namespace Portcullis.Server.Serialization;

/// <summary>
/// The syntax error Go's encoding/json reports for bytes that are not JSON (its scanner, which
/// checkValid runs before json.Unmarshal decodes anything): <c>invalid character 'a' looking for
/// beginning of value</c>, <c>unexpected end of JSON input</c>. Null when the bytes are JSON.
/// </summary>
public static class GoJsonSyntax
{
    private enum P { ObjectKey, ObjectValue, ArrayValue }

    private enum S
    {
        BeginValue, BeginValueOrEmpty, BeginStringOrEmpty, BeginString, EndValue, EndTop,
        InString, InStringEsc, U1, U2, U3, U4,
        Neg, N1, N0, Dot, Dot0, E, ESign, E0,
        T, Tr, Tru, F, Fa, Fal, Fals, Nu, Nul, Nl,
    }

    private sealed class Scanner
    {
        public readonly Stack<P> Parse = new();
        public S Step = S.BeginValue;
        public bool EndTop;
        public string? Err;

        private static bool Space(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

        private void Fail(byte c, string context) => Err = $"invalid character {GoText.JsonQuoteChar(c)} {context}";

        private void Push(P p, S next)
        {
            Parse.Push(p);
            Step = next;
            if (Parse.Count > 10000) Err = "exceeded max depth";
        }

        private void Pop()
        {
            Parse.Pop();
            if (Parse.Count == 0) { Step = S.EndTop; EndTop = true; }
            else Step = S.EndValue;
        }

        private static bool Digit(byte c) => c is >= (byte)'0' and <= (byte)'9';

        public void Feed(byte c)
        {
            switch (Step)
            {
                case S.BeginValueOrEmpty:
                    if (Space(c)) return;
                    if (c == ']') { EndValue(c); return; }
                    Step = S.BeginValue;
                    Feed(c);
                    return;
                case S.BeginValue:
                    if (Space(c)) return;
                    switch (c)
                    {
                        case (byte)'{': Push(P.ObjectKey, S.BeginStringOrEmpty); return;
                        case (byte)'[': Push(P.ArrayValue, S.BeginValueOrEmpty); return;
                        case (byte)'"': Step = S.InString; return;
                        case (byte)'-': Step = S.Neg; return;
                        case (byte)'0': Step = S.N0; return;
                        case (byte)'t': Step = S.T; return;
                        case (byte)'f': Step = S.F; return;
                        case (byte)'n': Step = S.Nu; return;
                    }
                    if (c is >= (byte)'1' and <= (byte)'9') { Step = S.N1; return; }
                    Fail(c, "looking for beginning of value");
                    return;
                case S.BeginStringOrEmpty:
                    if (Space(c)) return;
                    if (c == '}')
                    {
                        Parse.Pop();
                        Parse.Push(P.ObjectValue);
                        EndValue(c);
                        return;
                    }
                    Step = S.BeginString;
                    Feed(c);
                    return;
                case S.BeginString:
                    if (Space(c)) return;
                    if (c == '"') { Step = S.InString; return; }
                    Fail(c, "looking for beginning of object key string");
                    return;
                case S.EndValue: EndValue(c); return;
                case S.EndTop:
                    if (!Space(c)) Fail(c, "after top-level value");
                    return;
                case S.InString:
                    if (c == '"') Step = S.EndValue;
                    else if (c == '\\') Step = S.InStringEsc;
                    else if (c < 0x20) Fail(c, "in string literal");
                    return;
                case S.InStringEsc:
                    if (c is (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t' or (byte)'\\' or (byte)'/' or (byte)'"') Step = S.InString;
                    else if (c == 'u') Step = S.U1;
                    else Fail(c, "in string escape code");
                    return;
                case S.U1 or S.U2 or S.U3 or S.U4:
                    if (!Uri.IsHexDigit((char)c)) { Fail(c, "in \\u hexadecimal character escape"); return; }
                    Step = Step == S.U4 ? S.InString : Step + 1;
                    return;
                case S.Neg:
                    if (c == '0') Step = S.N0;
                    else if (c is >= (byte)'1' and <= (byte)'9') Step = S.N1;
                    else Fail(c, "in numeric literal");
                    return;
                case S.N1:
                    if (Digit(c)) return;
                    Step = S.N0;
                    Feed(c);
                    return;
                case S.N0:
                    if (c == '.') Step = S.Dot;
                    else if (c is (byte)'e' or (byte)'E') Step = S.E;
                    else EndValue(c);
                    return;
                case S.Dot:
                    if (Digit(c)) Step = S.Dot0;
                    else Fail(c, "after decimal point in numeric literal");
                    return;
                case S.Dot0:
                    if (Digit(c)) return;
                    if (c is (byte)'e' or (byte)'E') Step = S.E;
                    else EndValue(c);
                    return;
                case S.E:
                    if (c is (byte)'+' or (byte)'-') { Step = S.ESign; return; }
                    Step = S.ESign;
                    Feed(c);
                    return;
                case S.ESign:
                    if (Digit(c)) Step = S.E0;
                    else Fail(c, "in exponent of numeric literal");
                    return;
                case S.E0:
                    if (!Digit(c)) EndValue(c);
                    return;
                case S.T: Lit(c, 'r', S.Tr, "true"); return;
                case S.Tr: Lit(c, 'u', S.Tru, "true"); return;
                case S.Tru: Lit(c, 'e', S.EndValue, "true"); return;
                case S.F: Lit(c, 'a', S.Fa, "false"); return;
                case S.Fa: Lit(c, 'l', S.Fal, "false"); return;
                case S.Fal: Lit(c, 's', S.Fals, "false"); return;
                case S.Fals: Lit(c, 'e', S.EndValue, "false"); return;
                case S.Nu: Lit(c, 'u', S.Nul, "null"); return;
                case S.Nul: Lit(c, 'l', S.Nl, "null"); return;
                case S.Nl: Lit(c, 'l', S.EndValue, "null"); return;
            }
        }

        private void Lit(byte c, char want, S next, string literal)
        {
            if (c == want) Step = next;
            else Fail(c, $"in literal {literal} (expecting '{want}')");
        }

        private void EndValue(byte c)
        {
            if (Parse.Count == 0)
            {
                Step = S.EndTop;
                EndTop = true;
                Feed(c);
                return;
            }
            if (Space(c)) { Step = S.EndValue; return; }
            switch (Parse.Peek())
            {
                case P.ObjectKey:
                    if (c == ':') { Parse.Pop(); Parse.Push(P.ObjectValue); Step = S.BeginValue; return; }
                    Fail(c, "after object key");
                    return;
                case P.ObjectValue:
                    if (c == ',') { Parse.Pop(); Parse.Push(P.ObjectKey); Step = S.BeginString; return; }
                    if (c == '}') { Pop(); return; }
                    Fail(c, "after object key:value pair");
                    return;
                default:
                    if (c == ',') { Step = S.BeginValue; return; }
                    if (c == ']') { Pop(); return; }
                    Fail(c, "after array element");
                    return;
            }
        }
    }

    public static string? Error(ReadOnlySpan<byte> data)
    {
        var s = new Scanner();
        foreach (var c in data)
        {
            s.Feed(c);
            if (s.Err is not null) return s.Err;
        }
        // scanner.eof: a number may still be open; a space ends it.
        if (s.EndTop) return null;
        s.Feed((byte)' ');
        if (s.Err is not null) return s.Err;
        return s.EndTop ? null : "unexpected end of JSON input";
    }
}
