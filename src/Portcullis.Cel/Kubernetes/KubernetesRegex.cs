using System.Text.RegularExpressions;

namespace Portcullis.Cel;

/// <summary>regex.go (kubernetes.regex): string.find(regex), string.findAll(regex[, limit]), with Go's
/// regexp semantics (leftmost-first; findAll skips an empty match right after the previous match).</summary>
internal static class KubernetesRegex
{
    static readonly Dictionary<string, Regex> Cache = new(StringComparer.Ordinal);

    public static void Add(CelEnvironment env)
    {
        env.DeclareFunction("string.find(string) -> string");
        env.DeclareFunction("string.findAll(string) -> list(string)");
        env.DeclareFunction("string.findAll(string, int) -> list(string)");
        env.AddMemberFunction("find", a =>
        {
            if (a.Length != 2 || a[0] is not CelString s || a[1] is not CelString p) return null;
            if (Compile(p.Value, out var err) is not { } re) return err;
            var m = re.Match(s.Value);
            return new CelString(m.Success ? m.Value : "");
        });
        env.AddMemberFunction("findAll", a =>
        {
            if (a.Length is not (2 or 3) || a[0] is not CelString s || a[1] is not CelString p) return null;
            long n = -1;
            if (a.Length == 3) { if (a[2] is CelInt k) n = k.Value; else return null; }
            if (Compile(p.Value, out var err) is not { } re) return err;
            return FindAll(re, s.Value, n);
        });
    }

    static Regex? Compile(string pattern, out CelError? error)
    {
        error = null;
        lock (Cache)
        {
            if (Cache.TryGetValue(pattern, out var re)) return re;
            try { re = new Regex(Re2.ToDotNet(pattern), Re2.Options, TimeSpan.FromSeconds(1)); }
            catch (ArgumentException e)
            {
                error = new CelError("Illegal regex: " + e.Message);
                return null;
            }
            if (Cache.Count > 1000) Cache.Clear();
            Cache[pattern] = re;
            return re;
        }
    }

    // Go's Regexp.FindAllString(s, n): n < 0 all matches, else at most n; an empty match that abuts the
    // previous match is not reported.
    static CelValue FindAll(Regex re, string s, long n)
    {
        var result = new List<CelValue>();
        if (n == 0) return new CelList(result);
        int prevEnd = -1;
        for (var m = re.Match(s); m.Success; m = m.NextMatch())
        {
            if (m.Length == 0 && m.Index == prevEnd) continue;
            result.Add(new CelString(m.Value));
            prevEnd = m.Index + m.Length;
            if (n > 0 && result.Count >= n) break;
        }
        return new CelList(result);
    }
}
