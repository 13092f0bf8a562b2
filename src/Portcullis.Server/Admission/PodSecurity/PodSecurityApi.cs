using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.PodSecurity;

/// <summary>The three Pod Security Standards levels (k8s.io/pod-security-admission/api).</summary>
public enum PodSecurityLevel
{
    Privileged,
    Baseline,
    Restricted,
}

/// <summary>
/// A policy version: "latest" or "v1.x". Latest is newer than every numbered version, even future ones.
/// </summary>
public readonly record struct PolicyVersion(int Major, int Minor, bool IsLatest)
{
    public static readonly PolicyVersion Latest = new(0, 0, true);

    public static PolicyVersion Of(int minor) => new(1, minor, false);

    /// <summary>True when this version is strictly older than <paramref name="other"/>.</summary>
    public bool Older(PolicyVersion other)
    {
        if (IsLatest) return false;
        if (other.IsLatest) return true;
        if (Major != other.Major) return Major < other.Major;
        return Minor < other.Minor;
    }

    public PolicyVersion NextMinor() => IsLatest ? this : new(Major, Minor + 1, false);

    public override string ToString() => IsLatest ? "latest" : $"v{Major}.{Minor}";
}

/// <summary>A level paired with the policy version it is evaluated at ("restricted:latest").</summary>
public readonly record struct LevelVersion(PodSecurityLevel Level, PolicyVersion Version)
{
    public override string ToString() => $"{PodSecurityLabels.LevelName(Level)}:{Version}";

    /// <summary>Both privileged (any version), or the same level and version.</summary>
    public bool Equivalent(LevelVersion other) =>
        (Level == PodSecurityLevel.Privileged && other.Level == PodSecurityLevel.Privileged) ||
        (Level == other.Level && Version == other.Version);
}

/// <summary>The enforce, audit and warn level-versions in force for a namespace.</summary>
public readonly record struct PodSecurityPolicy(LevelVersion Enforce, LevelVersion Audit, LevelVersion Warn)
{
    public static readonly PodSecurityPolicy AllPrivileged = new(
        new(PodSecurityLevel.Privileged, PolicyVersion.Latest),
        new(PodSecurityLevel.Privileged, PolicyVersion.Latest),
        new(PodSecurityLevel.Privileged, PolicyVersion.Latest));

    public bool FullyPrivileged =>
        Enforce.Level == PodSecurityLevel.Privileged &&
        Audit.Level == PodSecurityLevel.Privileged &&
        Warn.Level == PodSecurityLevel.Privileged;

    public bool Equivalent(PodSecurityPolicy other) =>
        Enforce.Equivalent(other.Enforce) && Audit.Equivalent(other.Audit) && Warn.Equivalent(other.Warn);
}

/// <summary>
/// The namespace labels, their parsing and the resolution of labels plus defaults into a policy,
/// with upstream's error texts.
/// </summary>
public static partial class PodSecurityLabels
{
    public const string Prefix = "pod-security.kubernetes.io/";
    public const string EnforceLevel = Prefix + "enforce";
    public const string EnforceVersion = Prefix + "enforce-version";
    public const string AuditLevel = Prefix + "audit";
    public const string AuditVersion = Prefix + "audit-version";
    public const string WarnLevel = Prefix + "warn";
    public const string WarnVersion = Prefix + "warn-version";

    public const string LevelError = "must be one of privileged, baseline, restricted";
    public const string VersionError = "must be \"latest\" or \"v1.x\"";

    [GeneratedRegex(@"^v1\.([0-9]|[1-9][0-9]*)\z")]
    private static partial Regex VersionRx();

    public static string LevelName(PodSecurityLevel level) => level switch
    {
        PodSecurityLevel.Privileged => "privileged",
        PodSecurityLevel.Baseline => "baseline",
        _ => "restricted",
    };

    /// <summary>Parses a level; an unknown value yields restricted and an error.</summary>
    public static PodSecurityLevel ParseLevel(string value, out string? error)
    {
        error = null;
        switch (value)
        {
            case "privileged": return PodSecurityLevel.Privileged;
            case "baseline": return PodSecurityLevel.Baseline;
            case "restricted": return PodSecurityLevel.Restricted;
            default:
                error = LevelError;
                return PodSecurityLevel.Restricted;
        }
    }

    /// <summary>Parses "latest" or "v1.x"; anything else yields latest and an error.</summary>
    public static PolicyVersion ParseVersion(string value, out string? error)
    {
        error = null;
        if (value == "latest") return PolicyVersion.Latest;
        var m = VersionRx().Match(value);
        if (!m.Success || !int.TryParse(m.Groups[1].Value, out var minor) || minor < 0)
        {
            error = VersionError;
            return PolicyVersion.Latest;
        }
        return PolicyVersion.Of(minor);
    }

    /// <summary>The string labels of an object's metadata.</summary>
    public static Dictionary<string, string> LabelsOf(JsonObject? obj)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj?["metadata"] is JsonObject meta && meta["labels"] is JsonObject labels)
        {
            foreach (var (k, v) in labels)
                if (v is JsonValue jv && jv.TryGetValue<string>(out var s)) result[k] = s;
        }
        return result;
    }

    /// <summary>
    /// Resolves the namespace labels against the defaults. A usable policy always comes back: a bad
    /// enforce level reads as restricted, a bad audit or warn level as privileged (they fail open),
    /// a bad version as latest; the errors name the offending labels.
    /// </summary>
    public static PodSecurityPolicy PolicyToEvaluate(IReadOnlyDictionary<string, string> labels, PodSecurityPolicy defaults,
        out List<FieldError> errors)
    {
        errors = [];
        var p = defaults;
        if (labels.Count == 0) return p;

        var hasEnforceLevel = false;
        if (labels.TryGetValue(EnforceLevel, out var v))
        {
            p = p with { Enforce = p.Enforce with { Level = ParseLevel(v, out var err) } };
            hasEnforceLevel = err is null; // a bad enforce label does not default warn
            AddError(errors, err, EnforceLevel, v);
        }
        if (labels.TryGetValue(EnforceVersion, out v))
        {
            p = p with { Enforce = p.Enforce with { Version = ParseVersion(v, out var err) } };
            AddError(errors, err, EnforceVersion, v);
        }
        if (labels.TryGetValue(AuditLevel, out v))
        {
            var level = ParseLevel(v, out var err);
            p = p with { Audit = p.Audit with { Level = err is null ? level : PodSecurityLevel.Privileged } };
            AddError(errors, err, AuditLevel, v);
        }
        if (labels.TryGetValue(AuditVersion, out v))
        {
            p = p with { Audit = p.Audit with { Version = ParseVersion(v, out var err) } };
            AddError(errors, err, AuditVersion, v);
        }
        if (labels.TryGetValue(WarnLevel, out v))
        {
            var level = ParseLevel(v, out var err);
            p = p with { Warn = p.Warn with { Level = err is null ? level : PodSecurityLevel.Privileged } };
            AddError(errors, err, WarnLevel, v);
        }
        if (labels.TryGetValue(WarnVersion, out v))
        {
            p = p with { Warn = p.Warn with { Version = ParseVersion(v, out var err) } };
            AddError(errors, err, WarnVersion, v);
        }

        // Warn defaults to the enforce level (and, unless its own version label is set, the enforce
        // version) when enforce is explicitly set stricter and warn has no level label. Audit does not.
        if (!labels.ContainsKey(WarnLevel) && hasEnforceLevel && CompareLevels(p.Enforce.Level, p.Warn.Level) > 0)
        {
            p = p with { Warn = p.Warn with { Level = p.Enforce.Level } };
            if (!labels.ContainsKey(WarnVersion))
                p = p with { Warn = p.Warn with { Version = p.Enforce.Version } };
        }
        return p;
    }

    private static void AddError(List<FieldError> errors, string? err, string label, string value)
    {
        if (err is not null) errors.Add(FieldError.Invalid($"metadata.labels[{label}]", value, err));
    }

    /// <summary>0 when equal, -1 when <paramref name="a"/> is less strict than <paramref name="b"/>, +1 when stricter.</summary>
    public static int CompareLevels(PodSecurityLevel a, PodSecurityLevel b) => a == b ? 0 : a < b ? -1 : 1;
}
