using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Portcullis.Cel;

/// <summary>A function implementation: receives the (already evaluated, error-free) arguments, the receiver
/// first for a receiver-style call. Return null when no overload matches the argument types.</summary>
public delegate CelValue? CelFunction(ReadOnlySpan<CelValue> args);

/// <summary>The standard library of the CEL language definition (operators, conversions, strings, time).</summary>
internal static partial class Std
{
    public static readonly CelError DivideByZero = new("division by zero");
    public static readonly CelError ModulusByZero = new("modulus by zero");
    public static readonly CelError IntOverflow = new("integer overflow");
    public static readonly CelError UintOverflow = new("unsigned integer overflow");
    public static readonly CelError DurationOverflow = new("duration overflow");
    public static readonly CelError TimestampOverflow = new("timestamp overflow");

    public static CelValue? Call(string fn, bool receiver, CelValue[] a)
    {
        switch (a.Length)
        {
            case 1:
                switch (fn)
                {
                    case "!_": return a[0] is CelBool b ? CelBool.Of(!b.Value) : null;
                    case "-_": return Negate(a[0]);
                    case "size": return Size(a[0]);
                    case "int": return ToInt(a[0]);
                    case "uint": return ToUint(a[0]);
                    case "double": return ToDouble(a[0]);
                    case "string": return ToStr(a[0]);
                    case "bytes": return a[0] switch { CelBytes => a[0], CelString s => new CelBytes(Encoding.UTF8.GetBytes(s.Value)), _ => null };
                    case "bool": return ToBool(a[0]);
                    case "dyn": return a[0];
                    case "type": return new CelTypeValue(a[0].Type);
                    case "duration":
                        return a[0] switch
                        {
                            CelDuration => a[0],
                            CelString s => Time.ParseDuration(s.Value) is { } d ? new CelDuration(d) : ConversionError("string", "google.protobuf.Duration"),
                            _ => null,
                        };
                    case "timestamp":
                        return a[0] switch
                        {
                            CelTimestamp => a[0],
                            CelString s => Time.ParseTimestamp(s.Value) is { } t ? t : ConversionError("string", "google.protobuf.Timestamp"),
                            CelInt i => Time.InRange(i.Value) ? new CelTimestamp(i.Value, 0) : TimestampOverflow,
                            _ => null,
                        };
                    case "optional.of": return new CelOptional(a[0]);
                    case "optional.ofNonZeroValue": return IsZero(a[0]) ? CelOptional.None : new CelOptional(a[0]);
                    case "hasValue" when receiver: return a[0] is CelOptional o ? CelBool.Of(o.HasValue) : null;
                    case "value" when receiver:
                        return a[0] is CelOptional ov ? ov.Value ?? new CelError("optional.none() dereference") : null;
                    case "getFullYear" or "getMonth" or "getDayOfYear" or "getDayOfMonth" or "getDate" or "getDayOfWeek"
                        or "getHours" or "getMinutes" or "getSeconds" or "getMilliseconds" when receiver:
                        return TimeAccessor(fn, a[0], null);
                }
                break;
            case 0:
                if (fn == "optional.none") return CelOptional.None;
                break;
            case 2:
                switch (fn)
                {
                    case "_==_": return CelBool.Of(Equal(a[0], a[1]));
                    case "_!=_": return CelBool.Of(!Equal(a[0], a[1]));
                    case "_<_": return Compare(a[0], a[1]) is { } c1 ? CelBool.Of(c1 < 0 && c1 != Unordered) : null;
                    case "_<=_": return Compare(a[0], a[1]) is { } c2 ? CelBool.Of(c2 <= 0 && c2 != Unordered) : null;
                    case "_>_": return Compare(a[0], a[1]) is { } c3 ? CelBool.Of(c3 > 0 && c3 != Unordered) : null;
                    case "_>=_": return Compare(a[0], a[1]) is { } c4 ? CelBool.Of(c4 >= 0 && c4 != Unordered) : null;
                    case "_+_": return Add(a[0], a[1]);
                    case "_-_": return Sub(a[0], a[1]);
                    case "_*_": return Mul(a[0], a[1]);
                    case "_/_": return Div(a[0], a[1]);
                    case "_%_": return Mod(a[0], a[1]);
                    case "_[_]": return Index(a[0], a[1]);
                    case "_[?_]": return OptIndex(a[0], a[1]);
                    case "_?._": return a[1] is CelString f ? OptSelect(a[0], f.Value) : null;
                    case "@in": return In(a[0], a[1]);
                    case "contains" when receiver:
                        return a[0] is CelString s1 && a[1] is CelString t1 ? CelBool.Of(s1.Value.Contains(t1.Value, StringComparison.Ordinal)) : null;
                    case "startsWith" when receiver:
                        return a[0] is CelString s2 && a[1] is CelString t2 ? CelBool.Of(s2.Value.StartsWith(t2.Value, StringComparison.Ordinal)) : null;
                    case "endsWith" when receiver:
                        return a[0] is CelString s3 && a[1] is CelString t3 ? CelBool.Of(s3.Value.EndsWith(t3.Value, StringComparison.Ordinal)) : null;
                    case "matches":
                        return a[0] is CelString s4 && a[1] is CelString t4 ? Matches(s4.Value, t4.Value) : null;
                    case "getFullYear" or "getMonth" or "getDayOfYear" or "getDayOfMonth" or "getDate" or "getDayOfWeek"
                        or "getHours" or "getMinutes" or "getSeconds" or "getMilliseconds" when receiver:
                        return a[1] is CelString tz ? TimeAccessor(fn, a[0], tz.Value) : null;
                }
                break;
        }
        return null;
    }

    /// <summary>cel-go's text for a failed conversion ("type conversion error from 'string' to 'int'").</summary>
    static CelError ConversionError(string from, string to) => new($"type conversion error from '{from}' to '{to}'");

    static bool IsZero(CelValue v) => v switch
    {
        CelInt i => i.Value == 0,
        CelUint u => u.Value == 0,
        CelDouble d => d.Value == 0,
        CelBool b => !b.Value,
        CelString s => s.Value.Length == 0,
        CelBytes b => b.Value.Length == 0,
        CelNull => true,
        CelList l => l.Items.Count == 0,
        CelMap m => m.Count == 0,
        CelDuration d => d.Nanos == 0,
        CelTimestamp t => t.Seconds == 0 && t.Nanos == 0,
        _ => false,
    };

    // ---------- equality and ordering ----------

    public static bool Equal(CelValue a, CelValue b)
    {
        switch (a)
        {
            case CelInt or CelUint or CelDouble:
                return b is CelInt or CelUint or CelDouble && Compare(a, b) == 0;
            case CelBool x: return b is CelBool y0 && x.Value == y0.Value;
            case CelString x: return b is CelString y1 && x.Value == y1.Value;
            case CelBytes x: return b is CelBytes y2 && x.Value.AsSpan().SequenceEqual(y2.Value);
            case CelNull: return b is CelNull;
            case CelTypeValue x: return b is CelTypeValue y4 && x.Value.Name == y4.Value.Name;
            case CelDuration x: return b is CelDuration y5 && x.Nanos == y5.Nanos;
            case CelTimestamp x: return b is CelTimestamp y6 && x.Seconds == y6.Seconds && x.Nanos == y6.Nanos;
            case CelList x:
                if (b is not CelList yl || x.Items.Count != yl.Items.Count) return false;
                if (x.Kind == CelListKind.Set) return yl.Items.All(v => x.Items.Any(e => Equal(e, v)));
                if (x.Kind == CelListKind.Map)
                {
                    foreach (var v in yl.Items)
                    {
                        var mine = FindByKey(x, v);
                        if (mine is null || !Equal(mine, v)) return false;
                    }
                    return true;
                }
                for (int i = 0; i < x.Items.Count; i++)
                    if (!Equal(x.Items[i], yl.Items[i])) return false;
                return true;
            case CelMap x:
                if (b is not CelMap ym || x.Count != ym.Count) return false;
                foreach (var kv in x.Entries)
                    if (!ym.TryGet(kv.Key, out var yv) || !Equal(kv.Value, yv)) return false;
                return true;
            case CelOptional x:
                return b is CelOptional yo && (x.HasValue ? yo.HasValue && Equal(x.Value!, yo.Value!) : !yo.HasValue);
            case CelOpaque x: return x.EqualTo(b);
            default: return false;
        }
    }

    /// <summary>The element of a map list whose key fields equal those of <paramref name="probe"/>.</summary>
    static CelValue? FindByKey(CelList list, CelValue probe)
    {
        foreach (var e in list.Items)
            if (SameKey(list.MapKeys!, e, probe)) return e;
        return null;
    }

    static bool SameKey(IReadOnlyList<string> keys, CelValue a, CelValue b)
    {
        if (a is not CelMap ma || b is not CelMap mb) return false;
        foreach (var k in keys)
        {
            var key = new CelString(k);
            bool ha = ma.TryGet(key, out var va), hb = mb.TryGet(key, out var vb);
            if (ha != hb || (ha && !Equal(va, vb))) return false;
        }
        return true;
    }

    static CelList Concat(CelList x, CelList y)
    {
        var items = new List<CelValue>(x.Items);
        foreach (var v in y.Items)
        {
            if (x.Kind == CelListKind.Set)
            {
                if (!items.Any(e => Equal(e, v))) items.Add(v);
            }
            else
            {
                int at = items.FindIndex(e => SameKey(x.MapKeys!, e, v));
                if (at >= 0) items[at] = v; else items.Add(v);
            }
        }
        return new CelList(items, x.Kind, x.MapKeys);
    }

    const int Unordered = int.MinValue;

    /// <summary>-1/0/1, <see cref="Unordered"/> for NaN, null when the types are not comparable.</summary>
    public static int? Compare(CelValue a, CelValue b)
    {
        switch (a, b)
        {
            case (CelInt x, CelInt y): return x.Value.CompareTo(y.Value);
            case (CelUint x, CelUint y): return x.Value.CompareTo(y.Value);
            case (CelInt x, CelUint y): return x.Value < 0 ? -1 : ((ulong)x.Value).CompareTo(y.Value);
            case (CelUint x, CelInt y): return y.Value < 0 ? 1 : x.Value.CompareTo((ulong)y.Value);
            case (CelDouble x, CelDouble y): return CmpDouble(x.Value, y.Value);
            case (CelDouble x, CelInt y): return CmpDoubleInt(x.Value, y.Value);
            case (CelInt x, CelDouble y): return Neg(CmpDoubleInt(y.Value, x.Value));
            case (CelDouble x, CelUint y): return CmpDoubleUint(x.Value, y.Value);
            case (CelUint x, CelDouble y): return Neg(CmpDoubleUint(y.Value, x.Value));
            case (CelString x, CelString y): return CompareCodePoints(x.Value, y.Value);
            case (CelBytes x, CelBytes y): return Math.Sign(x.Value.AsSpan().SequenceCompareTo(y.Value));
            case (CelBool x, CelBool y): return x.Value.CompareTo(y.Value);
            case (CelDuration x, CelDuration y): return x.Nanos.CompareTo(y.Nanos);
            case (CelTimestamp x, CelTimestamp y): return x.Seconds != y.Seconds ? x.Seconds.CompareTo(y.Seconds) : x.Nanos.CompareTo(y.Nanos);
            default: return null;
        }
    }

    static int CompareCodePoints(string a, string b)
    {
        // UTF-16 ordinal order differs from code point order only around surrogates; compare by runes.
        var ea = a.EnumerateRunes();
        var eb = b.EnumerateRunes();
        while (true)
        {
            bool ma = ea.MoveNext(), mb = eb.MoveNext();
            if (!ma || !mb) return ma == mb ? 0 : ma ? 1 : -1;
            int c = ea.Current.Value.CompareTo(eb.Current.Value);
            if (c != 0) return Math.Sign(c);
        }
    }

    static int Neg(int c) => c == Unordered ? c : -c;

    static int CmpDouble(double x, double y) => double.IsNaN(x) || double.IsNaN(y) ? Unordered : x.CompareTo(y);

    // cel-go compares a double with an int or uint by converting the integer to double (lossy above 2^53).
    static int CmpDoubleInt(double x, long y) => CmpDouble(x, y);

    static int CmpDoubleUint(double x, ulong y) => CmpDouble(x, y);

    // ---------- arithmetic ----------

    static CelValue? Negate(CelValue v) => v switch
    {
        CelInt i => i.Value == long.MinValue ? IntOverflow : CelInt.Of(-i.Value),
        CelDouble d => new CelDouble(-d.Value),
        _ => null,
    };

    static CelValue? Add(CelValue a, CelValue b)
    {
        switch (a, b)
        {
            case (CelInt x, CelInt y):
                long r = unchecked(x.Value + y.Value);
                return ((x.Value ^ r) & (y.Value ^ r)) < 0 ? IntOverflow : CelInt.Of(r);
            case (CelUint x, CelUint y):
                ulong u = unchecked(x.Value + y.Value);
                return u < x.Value ? UintOverflow : new CelUint(u);
            case (CelDouble x, CelDouble y): return new CelDouble(x.Value + y.Value);
            case (CelString x, CelString y): return new CelString(x.Value + y.Value);
            case (CelBytes x, CelBytes y): return new CelBytes([.. x.Value, .. y.Value]);
            case (CelList x, CelList y):
                if (x.Kind != CelListKind.Ordered) return Concat(x, y);
                if (x.Items.Count == 0) return y;
                if (y.Items.Count == 0) return x;
                var l = new List<CelValue>(x.Items.Count + y.Items.Count);
                l.AddRange(x.Items);
                l.AddRange(y.Items);
                return new CelList(l);
            case (CelDuration x, CelDuration y):
                long d = unchecked(x.Nanos + y.Nanos);
                return ((x.Nanos ^ d) & (y.Nanos ^ d)) < 0 ? DurationOverflow : new CelDuration(d);
            case (CelTimestamp t, CelDuration dd): return (CelValue?)Time.Add(t, dd.Nanos) ?? TimestampOverflow;
            case (CelDuration dd, CelTimestamp t): return (CelValue?)Time.Add(t, dd.Nanos) ?? TimestampOverflow;
            default: return null;
        }
    }

    static CelValue? Sub(CelValue a, CelValue b)
    {
        switch (a, b)
        {
            case (CelInt x, CelInt y):
                long r = unchecked(x.Value - y.Value);
                return ((x.Value ^ y.Value) & (x.Value ^ r)) < 0 ? IntOverflow : CelInt.Of(r);
            case (CelUint x, CelUint y):
                return y.Value > x.Value ? UintOverflow : new CelUint(x.Value - y.Value);
            case (CelDouble x, CelDouble y): return new CelDouble(x.Value - y.Value);
            case (CelDuration x, CelDuration y):
                long d = unchecked(x.Nanos - y.Nanos);
                return ((x.Nanos ^ y.Nanos) & (x.Nanos ^ d)) < 0 ? DurationOverflow : new CelDuration(d);
            case (CelTimestamp t, CelDuration dd): return (CelValue?)Time.Add(t, -(Int128)dd.Nanos) ?? TimestampOverflow;
            case (CelTimestamp x, CelTimestamp y):
                var diff = Time.Diff(x, y);
                return diff > long.MaxValue || diff < long.MinValue ? DurationOverflow : new CelDuration((long)diff);
            default: return null;
        }
    }

    static CelValue? Mul(CelValue a, CelValue b)
    {
        switch (a, b)
        {
            case (CelInt x, CelInt y):
                Int128 r = (Int128)x.Value * y.Value;
                return r > long.MaxValue || r < long.MinValue ? IntOverflow : CelInt.Of((long)r);
            case (CelUint x, CelUint y):
                UInt128 u = (UInt128)x.Value * y.Value;
                return u > ulong.MaxValue ? UintOverflow : new CelUint((ulong)u);
            case (CelDouble x, CelDouble y): return new CelDouble(x.Value * y.Value);
            default: return null;
        }
    }

    static CelValue? Div(CelValue a, CelValue b)
    {
        switch (a, b)
        {
            case (CelInt x, CelInt y):
                if (y.Value == 0) return DivideByZero;
                if (x.Value == long.MinValue && y.Value == -1) return IntOverflow;
                return CelInt.Of(x.Value / y.Value);
            case (CelUint x, CelUint y):
                return y.Value == 0 ? DivideByZero : new CelUint(x.Value / y.Value);
            case (CelDouble x, CelDouble y): return new CelDouble(x.Value / y.Value);
            default: return null;
        }
    }

    static CelValue? Mod(CelValue a, CelValue b)
    {
        switch (a, b)
        {
            case (CelInt x, CelInt y):
                if (y.Value == 0) return ModulusByZero;
                if (x.Value == long.MinValue && y.Value == -1) return IntOverflow;
                return CelInt.Of(x.Value % y.Value);
            case (CelUint x, CelUint y):
                return y.Value == 0 ? ModulusByZero : new CelUint(x.Value % y.Value);
            default: return null;
        }
    }

    // ---------- containers ----------

    static CelValue? Size(CelValue v) => v switch
    {
        CelString s => CelInt.Of(RuneCount(s.Value)),
        CelBytes b => CelInt.Of(b.Value.Length),
        CelList l => CelInt.Of(l.Items.Count),
        CelMap m => CelInt.Of(m.Count),
        _ => null,
    };

    internal static int RuneCount(string s)
    {
        int n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }

    static long? IndexOf(CelValue idx) => idx switch
    {
        CelInt i => i.Value,
        CelUint u => u.Value > long.MaxValue ? long.MaxValue : (long)u.Value,
        CelDouble d when Math.Floor(d.Value) == d.Value && Math.Abs(d.Value) < 9.2e18 => (long)d.Value,
        _ => null,
    };

    static CelValue? Index(CelValue c, CelValue idx)
    {
        switch (c)
        {
            case CelList l:
            {
                if (idx is not (CelInt or CelUint or CelDouble)) return null;
                if (IndexOf(idx) is not { } i) return new CelError($"unsupported index value {Format.Raw(idx)} in list");
                if (i < 0 || i >= l.Items.Count) return new CelError($"index '{i}' out of range in list size '{l.Items.Count}'");
                return l.Items[(int)i];
            }
            case CelMap m:
                if (m.TryGet(idx, out var v)) return v;
                if (idx is not (CelInt or CelUint or CelDouble or CelBool or CelString)) return null;
                return new CelError($"no such key: {Format.Raw(idx)}");
            case CelOptional o:
                if (!o.HasValue) return o;
                return OptIndex(o.Value!, idx);
            default: return null;
        }
    }

    static CelValue? OptIndex(CelValue c, CelValue idx)
    {
        switch (c)
        {
            case CelList l:
                if (IndexOf(idx) is not { } i) return null;
                return i >= 0 && i < l.Items.Count ? new CelOptional(l.Items[(int)i]) : CelOptional.None;
            case CelMap m:
                return m.TryGet(idx, out var v) ? new CelOptional(v) : CelOptional.None;
            case CelOptional o:
                return o.HasValue ? OptIndex(o.Value!, idx) : o;
            default: return null;
        }
    }

    static CelValue? OptSelect(CelValue c, string field) => c switch
    {
        CelMap m => m.TryGet(new CelString(field), out var v) ? new CelOptional(v) : CelOptional.None,
        CelOptional o => o.HasValue ? OptSelect(o.Value!, field) : o,
        _ => null,
    };

    static CelValue? In(CelValue x, CelValue c)
    {
        switch (c)
        {
            case CelList l:
                foreach (var item in l.Items)
                    if (Equal(x, item)) return CelBool.True;
                return CelBool.False;
            case CelMap m:
                return CelBool.Of(m.TryGet(x, out _));
            default: return null;
        }
    }

    // ---------- strings ----------

    static readonly Dictionary<string, Regex> RegexCache = new();

    internal static bool ValidRegex(string pattern)
    {
        try
        {
            _ = new Regex(Re2.ToDotNet(pattern), Re2.Options);
            return true;
        }
        catch (ArgumentException) { return false; }
    }

    static CelValue Matches(string s, string pattern)
    {
        Regex? re;
        lock (RegexCache)
        {
            if (!RegexCache.TryGetValue(pattern, out re))
            {
                try { re = new Regex(Re2.ToDotNet(pattern), Re2.Options, TimeSpan.FromSeconds(1)); }
                catch (ArgumentException e) { return new CelError($"invalid regular expression: {e.Message}"); }
                if (RegexCache.Count > 1000) RegexCache.Clear();
                RegexCache[pattern] = re;
            }
        }
        return CelBool.Of(re.IsMatch(s));
    }
}
