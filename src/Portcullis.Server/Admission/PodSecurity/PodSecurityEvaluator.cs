using System.Text.Json.Nodes;

namespace Portcullis.Server.Admission.PodSecurity;

/// <summary>One revision of a check: applies from <see cref="MinimumVersion"/> until the next revision.</summary>
public sealed record VersionedCheck(PolicyVersion MinimumVersion, Func<PodSecurityTarget, CheckResult> CheckPod,
    IReadOnlyList<string>? OverrideCheckIds = null);

/// <summary>
/// A check of a level. A restricted revision may override baseline checks: those do not run at
/// restricted while it is in force (it checks the same fields more strictly).
/// </summary>
public sealed record PolicyCheck(string Id, PodSecurityLevel Level, IReadOnlyList<VersionedCheck> Versions);

/// <summary>
/// Upstream's check registry (policy/registry.go): the checks of each level at each policy version,
/// baseline checks first, each level's in ID order. Versions above the newest revision of any check,
/// and "latest", evaluate at that newest version.
/// </summary>
public sealed class PodSecurityEvaluator
{
    /// <summary>Upstream's DefaultChecks as of Kubernetes 1.33.</summary>
    public static IReadOnlyList<PolicyCheck> DefaultChecks { get; } =
    [
        new("hostNamespaces", PodSecurityLevel.Baseline, [new(PolicyVersion.Of(0), BaselineChecks.HostNamespaces)]),
        new("privileged", PodSecurityLevel.Baseline, [new(PolicyVersion.Of(0), BaselineChecks.Privileged)]),
        new("capabilities_baseline", PodSecurityLevel.Baseline, [new(PolicyVersion.Of(0), BaselineChecks.CapabilitiesBaseline)]),
        new("hostPathVolumes", PodSecurityLevel.Baseline, [new(PolicyVersion.Of(0), BaselineChecks.HostPathVolumes)]),
        new("hostPorts", PodSecurityLevel.Baseline, [new(PolicyVersion.Of(0), BaselineChecks.HostPorts)]),
        new("appArmorProfile", PodSecurityLevel.Baseline, [new(PolicyVersion.Of(0), BaselineChecks.AppArmorProfile)]),
        new("seLinuxOptions", PodSecurityLevel.Baseline,
        [
            new(PolicyVersion.Of(0), BaselineChecks2.SELinuxOptions1_0),
            new(PolicyVersion.Of(31), BaselineChecks2.SELinuxOptions1_31),
        ]),
        new("procMount", PodSecurityLevel.Baseline, [new(PolicyVersion.Of(0), BaselineChecks2.ProcMount)]),
        new("seccompProfile_baseline", PodSecurityLevel.Baseline,
        [
            new(PolicyVersion.Of(0), BaselineChecks2.SeccompProfileBaseline1_0),
            new(PolicyVersion.Of(19), BaselineChecks2.SeccompProfileBaseline1_19),
        ]),
        new("sysctls", PodSecurityLevel.Baseline,
        [
            new(PolicyVersion.Of(0), BaselineChecks2.SysctlsV1_0),
            new(PolicyVersion.Of(27), BaselineChecks2.SysctlsV1_27),
            new(PolicyVersion.Of(29), BaselineChecks2.SysctlsV1_29),
            new(PolicyVersion.Of(32), BaselineChecks2.SysctlsV1_32),
        ]),
        new("windowsHostProcess", PodSecurityLevel.Baseline, [new(PolicyVersion.Of(0), BaselineChecks2.WindowsHostProcess)]),

        new("restrictedVolumes", PodSecurityLevel.Restricted,
            [new(PolicyVersion.Of(0), RestrictedChecks.RestrictedVolumes, ["hostPathVolumes"])]),
        new("allowPrivilegeEscalation", PodSecurityLevel.Restricted,
        [
            new(PolicyVersion.Of(8), RestrictedChecks.AllowPrivilegeEscalation1_8),
            new(PolicyVersion.Of(25), RestrictedChecks.AllowPrivilegeEscalation1_25),
        ]),
        new("runAsNonRoot", PodSecurityLevel.Restricted, [new(PolicyVersion.Of(0), RestrictedChecks.RunAsNonRoot)]),
        new("runAsUser", PodSecurityLevel.Restricted, [new(PolicyVersion.Of(23), RestrictedChecks.RunAsUser1_23)]),
        new("seccompProfile_restricted", PodSecurityLevel.Restricted,
        [
            new(PolicyVersion.Of(19), RestrictedChecks.SeccompProfileRestricted1_19, ["seccompProfile_baseline"]),
            new(PolicyVersion.Of(25), RestrictedChecks.SeccompProfileRestricted1_25, ["seccompProfile_baseline"]),
        ]),
        new("capabilities_restricted", PodSecurityLevel.Restricted,
        [
            new(PolicyVersion.Of(22), RestrictedChecks.CapabilitiesRestricted1_22, ["capabilities_baseline"]),
            new(PolicyVersion.Of(25), RestrictedChecks.CapabilitiesRestricted1_25, ["capabilities_baseline"]),
        ]),
    ];

    private readonly Dictionary<int, List<(string Id, Func<PodSecurityTarget, CheckResult> Fn)>> _baseline = [];
    private readonly Dictionary<int, List<(string Id, Func<PodSecurityTarget, CheckResult> Fn)>> _restricted = [];
    private readonly bool _relaxForUserNamespacePods;

    /// <summary>The newest policy version with its own check revisions; newer versions evaluate as this one.</summary>
    public PolicyVersion MaxVersion { get; }

    /// <param name="checks">The checks (default: <see cref="DefaultChecks"/>).</param>
    /// <param name="relaxForUserNamespacePods">
    /// Upstream's RelaxPolicyForUserNamespacePods (feature gate UserNamespacesPodSecurityStandards, alpha and off
    /// in 1.33): runAsNonRoot and runAsUser pass for pods with hostUsers=false.
    /// </param>
    /// <param name="emulationVersion">Lowers the newest version evaluated (the API server's emulated version).</param>
    public PodSecurityEvaluator(IReadOnlyList<PolicyCheck>? checks = null, bool relaxForUserNamespacePods = false,
        PolicyVersion? emulationVersion = null)
    {
        checks ??= DefaultChecks;
        Validate(checks);
        _relaxForUserNamespacePods = relaxForUserNamespacePods;

        var max = 0;
        foreach (var c in checks) max = Math.Max(max, c.Versions[^1].MinimumVersion.Minor);

        var baselineIds = checks.Where(c => c.Level == PodSecurityLevel.Baseline).Select(c => c.Id).Order(StringComparer.Ordinal).ToList();
        var restrictedIds = checks.Where(c => c.Level == PodSecurityLevel.Restricted).Select(c => c.Id).Order(StringComparer.Ordinal).ToList();
        var byId = checks.ToDictionary(c => c.Id);

        for (var v = 0; v <= max; v++)
        {
            var overrides = new HashSet<string>(StringComparer.Ordinal);
            var restrictedAtV = new List<(string, Func<PodSecurityTarget, CheckResult>)>();
            foreach (var id in restrictedIds)
            {
                if (RevisionAt(byId[id], v) is not { } rev) continue;
                restrictedAtV.Add((id, rev.CheckPod));
                foreach (var o in rev.OverrideCheckIds ?? []) overrides.Add(o);
            }
            var baselineAtV = new List<(string, Func<PodSecurityTarget, CheckResult>)>();
            foreach (var id in baselineIds)
                if (RevisionAt(byId[id], v) is { } rev) baselineAtV.Add((id, rev.CheckPod));

            _baseline[v] = baselineAtV;
            _restricted[v] = [.. baselineAtV.Where(b => !overrides.Contains(b.Item1)), .. restrictedAtV];
        }

        MaxVersion = PolicyVersion.Of(max);
        if (emulationVersion is { IsLatest: false } ev && ev.Older(MaxVersion)) MaxVersion = ev;
    }

    private static VersionedCheck? RevisionAt(PolicyCheck check, int minor)
    {
        VersionedCheck? found = null;
        foreach (var rev in check.Versions)
            if (rev.MinimumVersion.Minor <= minor) found = rev;
        return found;
    }

    private static void Validate(IReadOnlyList<PolicyCheck> checks)
    {
        var levels = new Dictionary<string, PodSecurityLevel>(StringComparer.Ordinal);
        foreach (var check in checks)
        {
            if (!levels.TryAdd(check.Id, check.Level))
                throw new ArgumentException($"multiple checks registered for ID {check.Id}");
            if (check.Level is not (PodSecurityLevel.Baseline or PodSecurityLevel.Restricted))
                throw new ArgumentException($"check {check.Id}: invalid level {PodSecurityLabels.LevelName(check.Level)}");
            if (check.Versions.Count == 0) throw new ArgumentException($"check {check.Id}: empty");
            var previous = -1;
            foreach (var rev in check.Versions)
            {
                if (rev.MinimumVersion.IsLatest) throw new ArgumentException($"check {check.Id}: version cannot be 'latest'");
                if (rev.MinimumVersion.Minor <= previous)
                    throw new ArgumentException($"check {check.Id}: versions must be strictly increasing");
                previous = rev.MinimumVersion.Minor;
            }
        }
        foreach (var check in checks)
        foreach (var rev in check.Versions)
        {
            if (rev.OverrideCheckIds is not { Count: > 0 } overrides) continue;
            if (check.Level != PodSecurityLevel.Restricted)
                throw new ArgumentException($"check {check.Id}: only restricted checks may set overrides");
            foreach (var o in overrides)
                if (levels.TryGetValue(o, out var l) && l != PodSecurityLevel.Baseline)
                    throw new ArgumentException($"check {check.Id}: overrides {PodSecurityLabels.LevelName(l)} check {o}");
        }
    }

    private List<(string Id, Func<PodSecurityTarget, CheckResult> Fn)> ChecksFor(LevelVersion lv)
    {
        if (lv.Level == PodSecurityLevel.Privileged) return [];
        var minor = MaxVersion.Older(lv.Version) ? MaxVersion.Minor : lv.Version.Minor;
        var table = lv.Level == PodSecurityLevel.Baseline ? _baseline : _restricted;
        return table.TryGetValue(minor, out var list) ? list : [];
    }

    /// <summary>The IDs of the checks run for a level and version, in evaluation order.</summary>
    public IReadOnlyList<string> CheckIds(LevelVersion lv) => ChecksFor(lv).Select(c => c.Id).ToList();

    /// <summary>Runs every check of the level at the version against the pod (privileged: none).</summary>
    public IReadOnlyList<CheckResult> EvaluatePod(LevelVersion lv, JsonObject? podMetadata, JsonObject? podSpec)
    {
        var checks = ChecksFor(lv);
        if (checks.Count == 0) return [];
        var view = new PodSecurityTarget(podMetadata, podSpec, _relaxForUserNamespacePods);
        var results = new List<CheckResult>(checks.Count);
        foreach (var (_, fn) in checks) results.Add(fn(view));
        return results;
    }

    /// <summary>Evaluates and aggregates the refusals.</summary>
    public AggregateCheckResult Evaluate(LevelVersion lv, JsonObject? podMetadata, JsonObject? podSpec) =>
        AggregateCheckResult.From(EvaluatePod(lv, podMetadata, podSpec));
}
