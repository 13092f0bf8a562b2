using System.Globalization;
using System.Numerics;
using System.Text;

namespace Portcullis.Cel;

/// <summary>cel-go's extension libraries: strings (ext.Strings), math (ext.Math), encoders (ext.Encoders).
/// Indexes in strings count code points, as cel-go's.</summary>
internal static class Ext
{
    public static readonly HashSet<string> Namespaced =
    [
        "strings.quote", "base64.encode", "base64.decode",
        "math.greatest", "math.least", "math.abs", "math.sign", "math.ceil", "math.floor", "math.round", "math.trunc",
        "math.isInf", "math.isNaN", "math.isFinite", "math.bitAnd", "math.bitOr", "math.bitXor", "math.bitNot",
        "math.bitShiftLeft", "math.bitShiftRight", "math.sqrt",
        "sets.contains", "sets.equivalent", "sets.intersects",
    ];

    public static CelValue? Call(string fn, bool receiver, CelValue[] a)
    {
        if (receiver && a.Length > 0 && a[0] is CelString s)
        {
            switch (fn, a.Length)
            {
                case ("charAt", 2) when a[1] is CelInt i: return CharAt(s.Value, i.Value);
                case ("indexOf", 2) when a[1] is CelString sub: return IndexOf(s.Value, sub.Value, 0);
                case ("indexOf", 3) when a[1] is CelString sub && a[2] is CelInt off: return IndexOf(s.Value, sub.Value, off.Value);
                case ("lastIndexOf", 2) when a[1] is CelString sub: return LastIndexOf(s.Value, sub.Value, null);
                case ("lastIndexOf", 3) when a[1] is CelString sub && a[2] is CelInt off: return LastIndexOf(s.Value, sub.Value, off.Value);
                case ("lowerAscii", 1): return new CelString(AsciiMap(s.Value, lower: true));
                case ("upperAscii", 1): return new CelString(AsciiMap(s.Value, lower: false));
                case ("replace", 3) when a[1] is CelString o && a[2] is CelString n: return new CelString(Replace(s.Value, o.Value, n.Value, -1));
                case ("replace", 4) when a[1] is CelString o && a[2] is CelString n && a[3] is CelInt k: return new CelString(Replace(s.Value, o.Value, n.Value, k.Value));
                case ("split", 2) when a[1] is CelString sep: return Split(s.Value, sep.Value, -1);
                case ("split", 3) when a[1] is CelString sep && a[2] is CelInt k: return Split(s.Value, sep.Value, k.Value);
                case ("substring", 2) when a[1] is CelInt st: return Substring(s.Value, st.Value, null);
                case ("substring", 3) when a[1] is CelInt st && a[2] is CelInt en: return Substring(s.Value, st.Value, en.Value);
                case ("trim", 1): return new CelString(s.Value.Trim());
                case ("reverse", 1): return new CelString(Reverse(s.Value));
                case ("format", 2) when a[1] is CelList args: return StringFormat.Format(s.Value, args.Items);
            }
        }
        if (receiver && fn == "join" && a.Length is 1 or 2 && a[0] is CelList l)
        {
            string sep = "";
            if (a.Length == 2) { if (a[1] is CelString ss) sep = ss.Value; else return null; }
            var parts = new List<string>(l.Items.Count);
            foreach (var item in l.Items)
            {
                if (item is not CelString str) return null;
                parts.Add(str.Value);
            }
            return new CelString(string.Join(sep, parts));
        }
        if (!receiver)
        {
            switch (fn)
            {
                case "strings.quote" when a.Length == 1 && a[0] is CelString q: return new CelString(Quote(q.Value));
                case "base64.encode" when a.Length == 1 && a[0] is CelBytes b: return new CelString(Convert.ToBase64String(b.Value));
                case "base64.decode" when a.Length == 1 && a[0] is CelString b64: return Base64Decode(b64.Value);
            }
            if (fn.StartsWith("math.", StringComparison.Ordinal)) return MathCall(fn[5..], a);
            if (fn.StartsWith("sets.", StringComparison.Ordinal) && a.Length == 2 && a[0] is CelList x && a[1] is CelList y)
            {
                bool Has(CelList l, CelValue v) => l.Items.Any(i => Std.Equal(i, v));
                return fn switch
                {
                    "sets.contains" => CelBool.Of(y.Items.All(v => Has(x, v))),
                    "sets.equivalent" => CelBool.Of(y.Items.All(v => Has(x, v)) && x.Items.All(v => Has(y, v))),
                    "sets.intersects" => CelBool.Of(y.Items.Any(v => Has(x, v))),
                    _ => null,
                };
            }
            if (fn == "cel.@mapInsert" && a.Length is 2 or 3 && a[0] is CelMap target)
            {
                var result = new CelMap();
                foreach (var kv in target.Entries) result.TryAdd(kv.Key, kv.Value);
                var inserts = a.Length == 3 ? [new KeyValuePair<CelValue, CelValue>(a[1], a[2])]
                    : a[1] is CelMap um ? um.Entries : null;
                if (inserts is null) return null;
                foreach (var kv in inserts)
                {
                    if (!CelMap.IsValidKey(kv.Key)) return new CelError("unsupported key type");
                    if (!result.TryAdd(kv.Key, kv.Value)) return new CelError($"insert failed: key {Format.Raw(kv.Key)} already exists");
                }
                return result;
            }
        }
        return null;
    }

    static int[] Runes(string s)
    {
        var list = new List<int>(s.Length);
        foreach (var r in s.EnumerateRunes()) list.Add(r.Value);
        return list.ToArray();
    }

    static string FromRunes(ReadOnlySpan<int> runes)
    {
        var sb = new StringBuilder(runes.Length);
        foreach (int r in runes) sb.Append(char.ConvertFromUtf32(r));
        return sb.ToString();
    }

    static CelValue CharAt(string s, long i)
    {
        var r = Runes(s);
        if (i < 0 || i > r.Length) return new CelError($"index out of range: {i}");
        return new CelString(i == r.Length ? "" : char.ConvertFromUtf32(r[i]));
    }

    // cel-go ext/strings.go: an empty substring is found at the offset; a negative offset is an error; an
    // offset at or past the end finds nothing.
    static CelValue IndexOf(string s, string sub, long offset)
    {
        if (sub.Length == 0) return CelInt.Of(offset);
        if (offset < 0) return new CelError($"index out of range: {offset}");
        var r = Runes(s);
        var t = Runes(sub);
        if (offset >= r.Length) return CelInt.Of(-1);
        for (long i = offset; i + t.Length <= r.Length; i++)
            if (r.AsSpan((int)i, t.Length).SequenceEqual(t)) return CelInt.Of(i);
        return CelInt.Of(-1);
    }

    static CelValue LastIndexOf(string s, string sub, long? offset)
    {
        var r = Runes(s);
        long off = offset ?? r.Length;
        if (sub.Length == 0) return CelInt.Of(off);
        if (off < 0) return new CelError($"index out of range: {off}");
        var t = Runes(sub);
        if (offset is not null && off >= r.Length) return CelInt.Of(-1);
        for (long i = Math.Min(off, r.Length - t.Length); i >= 0; i--)
            if (r.AsSpan((int)i, t.Length).SequenceEqual(t)) return CelInt.Of(i);
        return CelInt.Of(-1);
    }

    static string AsciiMap(string s, bool lower)
    {
        var c = s.ToCharArray();
        for (int i = 0; i < c.Length; i++)
        {
            if (lower && c[i] is >= 'A' and <= 'Z') c[i] = (char)(c[i] + 32);
            else if (!lower && c[i] is >= 'a' and <= 'z') c[i] = (char)(c[i] - 32);
        }
        return new string(c);
    }

    static string Replace(string s, string old, string @new, long n)
    {
        if (n == 0) return s;
        if (old.Length == 0)
        {
            // Go: an empty old matches at the start and after each rune
            var sb = new StringBuilder();
            long done = 0;
            var runes = Runes(s);
            for (int i = 0; i <= runes.Length; i++)
            {
                if (n < 0 || done < n) { sb.Append(@new); done++; }
                if (i < runes.Length) sb.Append(char.ConvertFromUtf32(runes[i]));
            }
            return sb.ToString();
        }
        var o = new StringBuilder();
        int pos = 0;
        long count = 0;
        while (n < 0 || count < n)
        {
            int at = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0) break;
            o.Append(s, pos, at - pos).Append(@new);
            pos = at + old.Length;
            count++;
        }
        o.Append(s, pos, s.Length - pos);
        return o.ToString();
    }

    static CelValue Split(string s, string sep, long n)
    {
        if (n == 0) return CelList.Empty;
        List<string> parts;
        if (sep.Length == 0)
        {
            var runes = Runes(s);
            parts = [];
            for (int i = 0; i < runes.Length; i++)
            {
                if (n > 0 && parts.Count == n - 1) { parts.Add(FromRunes(runes.AsSpan(i))); break; }
                parts.Add(char.ConvertFromUtf32(runes[i]));
            }
        }
        else
        {
            parts = n < 0 ? [.. s.Split(sep)] : [.. s.Split(sep, (int)Math.Min(n, int.MaxValue))];
        }
        return new CelList(parts.Select(p => (CelValue)new CelString(p)).ToArray());
    }

    static CelValue Substring(string s, long start, long? end)
    {
        var r = Runes(s);
        long e = end ?? r.Length;
        if (start < 0 || start > r.Length) return new CelError($"index out of range: {start}");
        if (e < 0 || e > r.Length) return new CelError($"index out of range: {e}");
        if (start > e) return new CelError($"invalid substring range. start: {start}, end: {e}");
        return new CelString(FromRunes(r.AsSpan((int)start, (int)(e - start))));
    }

    static string Reverse(string s)
    {
        var r = Runes(s);
        Array.Reverse(r);
        return FromRunes(r);
    }

    /// <summary>Go's strconv.Quote as cel-go's strings.quote uses it.</summary>
    internal static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var rune in s.EnumerateRunes())
        {
            int c = rune.Value;
            switch (c)
            {
                case 7: sb.Append("\\a"); break;
                case 8: sb.Append("\\b"); break;
                case 12: sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case 11: sb.Append("\\v"); break;
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                default:
                    if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(rune.ToString());
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    static CelValue Base64Decode(string s)
    {
        try { return new CelBytes(Convert.FromBase64String(s)); }
        catch (FormatException)
        {
            // cel-go also accepts unpadded input
            string padded = s + new string('=', (4 - s.Length % 4) % 4);
            try { return new CelBytes(Convert.FromBase64String(padded)); }
            catch (FormatException) { return new CelError("illegal base64 data"); }
        }
    }

    // ---------- math ----------

    static CelValue? MathCall(string fn, CelValue[] a)
    {
        switch (fn)
        {
            case "greatest":
            case "least":
            {
                IReadOnlyList<CelValue> items = a.Length == 1 && a[0] is CelList l ? l.Items : a;
                if (items.Count == 0) return new CelError($"math.{fn}() requires at least one argument");
                CelValue best = items[0];
                foreach (var v in items)
                {
                    if (v is not (CelInt or CelUint or CelDouble)) return null;
                    var c = Std.Compare(v, best);
                    if (c is null) return null;
                    if (fn == "greatest" ? c > 0 : c < 0 && c != int.MinValue) best = v;
                }
                if (best is not (CelInt or CelUint or CelDouble)) return null;
                return best;
            }
            case "abs" when a.Length == 1:
                return a[0] switch
                {
                    CelInt i => i.Value == long.MinValue ? Std.IntOverflow : CelInt.Of(Math.Abs(i.Value)),
                    CelUint => a[0],
                    CelDouble d => new CelDouble(Math.Abs(d.Value)),
                    _ => null,
                };
            case "sign" when a.Length == 1:
                return a[0] switch
                {
                    CelInt i => CelInt.Of(Math.Sign(i.Value)),
                    CelUint u => new CelUint(u.Value == 0 ? 0UL : 1UL),
                    CelDouble d => new CelDouble(double.IsNaN(d.Value) ? double.NaN : Math.Sign(d.Value)),
                    _ => null,
                };
            case "ceil" when a.Length == 1 && a[0] is CelDouble d1: return new CelDouble(Math.Ceiling(d1.Value));
            case "floor" when a.Length == 1 && a[0] is CelDouble d2: return new CelDouble(Math.Floor(d2.Value));
            case "round" when a.Length == 1 && a[0] is CelDouble d3: return new CelDouble(Math.Round(d3.Value, MidpointRounding.AwayFromZero));
            case "trunc" when a.Length == 1 && a[0] is CelDouble d4: return new CelDouble(Math.Truncate(d4.Value));
            case "sqrt" when a.Length == 1:
                return a[0] switch
                {
                    CelDouble d => new CelDouble(Math.Sqrt(d.Value)),
                    CelInt i => new CelDouble(Math.Sqrt(i.Value)),
                    CelUint u => new CelDouble(Math.Sqrt(u.Value)),
                    _ => null,
                };
            case "isInf" when a.Length == 1 && a[0] is CelDouble d5: return CelBool.Of(double.IsInfinity(d5.Value));
            case "isNaN" when a.Length == 1 && a[0] is CelDouble d6: return CelBool.Of(double.IsNaN(d6.Value));
            case "isFinite" when a.Length == 1 && a[0] is CelDouble d7: return CelBool.Of(double.IsFinite(d7.Value));
            case "bitNot" when a.Length == 1:
                return a[0] switch { CelInt i => CelInt.Of(~i.Value), CelUint u => new CelUint(~u.Value), _ => null };
            case "bitAnd" or "bitOr" or "bitXor" when a.Length == 2:
                switch (a[0], a[1])
                {
                    case (CelInt x, CelInt y): return CelInt.Of(fn == "bitAnd" ? x.Value & y.Value : fn == "bitOr" ? x.Value | y.Value : x.Value ^ y.Value);
                    case (CelUint x, CelUint y): return new CelUint(fn == "bitAnd" ? x.Value & y.Value : fn == "bitOr" ? x.Value | y.Value : x.Value ^ y.Value);
                    default: return null;
                }
            case "bitShiftLeft" or "bitShiftRight" when a.Length == 2 && a[1] is CelInt sh:
                if (sh.Value < 0) return new CelError($"math.{fn}() negative offset: {sh.Value}");
                bool left = fn == "bitShiftLeft";
                return a[0] switch
                {
                    CelInt i => CelInt.Of(sh.Value > 63 ? 0 : left ? i.Value << (int)sh.Value : (long)((ulong)i.Value >> (int)sh.Value)),
                    CelUint u => new CelUint(sh.Value > 63 ? 0 : left ? u.Value << (int)sh.Value : u.Value >> (int)sh.Value),
                    _ => null,
                };
        }
        return null;
    }
}
