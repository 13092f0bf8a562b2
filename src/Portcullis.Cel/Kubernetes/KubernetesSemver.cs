using System.Globalization;

namespace Portcullis.Cel;

/// <summary>CEL's kubernetes.Semver (apiserver pkg/cel/semver.go): a blang/semver v4 Version; equality and
/// order by semver precedence (build metadata ignored).</summary>
public sealed class CelSemver : CelOpaque
{
    public static readonly CelType SemverType = new("kubernetes.Semver");

    internal CelSemver(ulong major, ulong minor, ulong patch, IReadOnlyList<(bool IsNum, ulong Num, string Str)> pre)
    {
        Major = major; Minor = minor; Patch = patch; Pre = pre;
    }

    public ulong Major { get; }
    public ulong Minor { get; }
    public ulong Patch { get; }
    internal IReadOnlyList<(bool IsNum, ulong Num, string Str)> Pre { get; }
    public override CelType Type => SemverType;
    public override bool EqualTo(CelValue other) => other is CelSemver s && Compare(this, s) == 0;
    public override string ToString() => $"semver({Major}.{Minor}.{Patch})";

    const string Numbers = "0123456789";
    const string Alphanum = "-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    static bool ContainsOnly(string s, string set) => s.All(c => set.Contains(c));
    static bool HasLeadingZeroes(string s) => s.Length > 1 && s[0] == '0';

    static ulong? ParseUint(string s, out string? error)
    {
        error = null;
        if (ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v)) return v;
        error = s.Length == 0 || !ContainsOnly(s, Numbers)
            ? $"strconv.ParseUint: parsing {Ext.Quote(s)}: invalid syntax"
            : $"strconv.ParseUint: parsing {Ext.Quote(s)}: value out of range";
        return null;
    }

    /// <summary>semver.Parse (blang/semver v4), with its error texts.</summary>
    public static CelSemver? Parse(string s, out string? error)
    {
        error = null;
        if (s.Length == 0) { error = "Version string empty"; return null; }
        var parts = s.Split('.', 3);
        if (parts.Length != 3) { error = "No Major.Minor.Patch elements found"; return null; }
        var nums = new ulong[3];
        string[] names = ["major", "minor"];
        for (int i = 0; i < 2; i++)
        {
            if (!ContainsOnly(parts[i], Numbers)) { error = $"Invalid character(s) found in {names[i]} number {Ext.Quote(parts[i])}"; return null; }
            if (HasLeadingZeroes(parts[i])) { error = $"{char.ToUpperInvariant(names[i][0])}{names[i][1..]} number must not contain leading zeroes {Ext.Quote(parts[i])}"; return null; }
            if (ParseUint(parts[i], out error) is not { } n) return null;
            nums[i] = n;
        }
        string patchStr = parts[2];
        string[] build = [], pre = [];
        int plus = patchStr.IndexOf('+');
        if (plus >= 0) { build = patchStr[(plus + 1)..].Split('.'); patchStr = patchStr[..plus]; }
        int dash = patchStr.IndexOf('-');
        if (dash >= 0) { pre = patchStr[(dash + 1)..].Split('.'); patchStr = patchStr[..dash]; }
        if (!ContainsOnly(patchStr, Numbers)) { error = $"Invalid character(s) found in patch number {Ext.Quote(patchStr)}"; return null; }
        if (HasLeadingZeroes(patchStr)) { error = $"Patch number must not contain leading zeroes {Ext.Quote(patchStr)}"; return null; }
        if (ParseUint(patchStr, out error) is not { } patch) return null;
        var prs = new List<(bool, ulong, string)>();
        foreach (var p in pre)
        {
            if (p.Length == 0) { error = "Prerelease is empty"; return null; }
            if (ContainsOnly(p, Numbers))
            {
                if (HasLeadingZeroes(p)) { error = $"Numeric PreRelease version must not contain leading zeroes {Ext.Quote(p)}"; return null; }
                if (ParseUint(p, out error) is not { } pn) return null;
                prs.Add((true, pn, ""));
            }
            else if (ContainsOnly(p, Alphanum)) prs.Add((false, 0, p));
            else { error = $"Invalid character(s) found in prerelease {Ext.Quote(p)}"; return null; }
        }
        foreach (var b in build)
        {
            if (b.Length == 0) { error = "Build meta data is empty"; return null; }
            if (!ContainsOnly(b, Alphanum)) { error = $"Invalid character(s) found in build meta data {Ext.Quote(b)}"; return null; }
        }
        return new CelSemver(nums[0], nums[1], patch, prs);
    }

    /// <summary>semverlib.go normalizeAndParse: a leading "v" dropped, leading zeros trimmed, missing minor/patch as 0.</summary>
    public static CelSemver? NormalizeAndParse(string s, out string? error)
    {
        if (s.StartsWith('v')) s = s[1..];
        var parts = s.Split('.', 3).ToList();
        for (int i = 0; i < parts.Count; i++)
        {
            string p = parts[i];
            if (p.Length > 1)
            {
                p = p.TrimStart('0');
                if (p.Length == 0 || !char.IsAsciiDigit(p[0])) p = "0" + p;
                parts[i] = p;
            }
        }
        if (parts.Count < 3)
        {
            if (parts[^1].IndexOfAny(['+', '-']) >= 0) { error = "short version cannot contain PreRelease/Build meta data"; return null; }
            while (parts.Count < 3) parts.Add("0");
        }
        return Parse(string.Join('.', parts), out error);
    }

    /// <summary>Version.Compare.</summary>
    public static int Compare(CelSemver v, CelSemver o)
    {
        if (v.Major != o.Major) return v.Major > o.Major ? 1 : -1;
        if (v.Minor != o.Minor) return v.Minor > o.Minor ? 1 : -1;
        if (v.Patch != o.Patch) return v.Patch > o.Patch ? 1 : -1;
        if (v.Pre.Count == 0 && o.Pre.Count == 0) return 0;
        if (v.Pre.Count == 0) return 1;
        if (o.Pre.Count == 0) return -1;
        int i = 0;
        for (; i < v.Pre.Count && i < o.Pre.Count; i++)
        {
            var (a, b) = (v.Pre[i], o.Pre[i]);
            int c = a.IsNum && !b.IsNum ? -1 : !a.IsNum && b.IsNum ? 1
                : a.IsNum ? a.Num.CompareTo(b.Num) : Math.Sign(string.CompareOrdinal(a.Str, b.Str));
            if (c != 0) return c > 0 ? 1 : -1;
        }
        if (i == v.Pre.Count && i == o.Pre.Count) return 0;
        return i == v.Pre.Count ? -1 : 1;
    }
}

/// <summary>semverlib.go (kubernetes.Semver), version 1 (with the normalizing overloads). Kubernetes 1.33 puts it
/// in the base environment at 1.33, so it is not part of <see cref="CelEnvironment.Kubernetes"/> (new
/// expressions compile at the 1.32 compatibility version); <see cref="KubernetesLibraries.AddSemver"/> adds it.</summary>
internal static class KubernetesSemverLib
{
    public static void Add(CelEnvironment env)
    {
        const string S = "kubernetes.Semver";
        env.DeclareType(CelSemver.SemverType);
        env.DeclareFunction($"semver(string) -> {S}");
        env.DeclareFunction($"semver(string, bool) -> {S}");
        env.DeclareFunction("isSemver(string) -> bool");
        env.DeclareFunction("isSemver(string, bool) -> bool");
        env.DeclareFunction($"{S}.isGreaterThan({S}) -> bool");
        env.DeclareFunction($"{S}.isLessThan({S}) -> bool");
        env.DeclareFunction($"{S}.compareTo({S}) -> int");
        foreach (var f in new[] { "major", "minor", "patch" }) env.DeclareFunction($"{S}.{f}() -> int");

        static CelSemver? Parse(ReadOnlySpan<CelValue> a, out string? error, out bool applicable)
        {
            error = null;
            applicable = a.Length is 1 or 2 && a[0] is CelString && (a.Length == 1 || a[1] is CelBool);
            if (!applicable) return null;
            string s = ((CelString)a[0]).Value;
            bool normalize = a.Length == 2 && ((CelBool)a[1]).Value;
            return normalize ? CelSemver.NormalizeAndParse(s, out error) : CelSemver.Parse(s, out error);
        }
        env.AddFunction("semver", a => Parse(a, out var err, out bool ok) is { } v ? v : ok ? new CelError(err!) : null);
        env.AddFunction("isSemver", a => Parse(a, out _, out bool ok) is not null ? CelBool.True : ok ? CelBool.False : null);
        env.AddMemberFunction("isGreaterThan", a => a.Length == 2 && a[0] is CelSemver x && a[1] is CelSemver y ? CelBool.Of(CelSemver.Compare(x, y) == 1) : null);
        env.AddMemberFunction("isLessThan", a => a.Length == 2 && a[0] is CelSemver x && a[1] is CelSemver y ? CelBool.Of(CelSemver.Compare(x, y) == -1) : null);
        env.AddMemberFunction("compareTo", a => a.Length == 2 && a[0] is CelSemver x && a[1] is CelSemver y ? CelInt.Of(CelSemver.Compare(x, y)) : null);
        env.AddMemberFunction("major", a => a.Length == 1 && a[0] is CelSemver v ? CelInt.Of((long)v.Major) : null);
        env.AddMemberFunction("minor", a => a.Length == 1 && a[0] is CelSemver v ? CelInt.Of((long)v.Minor) : null);
        env.AddMemberFunction("patch", a => a.Length == 1 && a[0] is CelSemver v ? CelInt.Of((long)v.Patch) : null);
    }
}
