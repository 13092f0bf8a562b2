using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>policy/v1beta1 PodSecurityPolicy (pkg/apis/policy/validation, Kubernetes 1.24).</summary>
internal static partial class PodSecurityPolicyValidation
{
    /// <summary>psputil.GetAllFSTypesAsSet plus "*", sorted as Go sorts strings.</summary>
    public static readonly string[] AllowedVolumes =
    [
        .. new[]
        {
            "*", "azureFile", "flocker", "flexVolume", "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore",
            "gitRepo", "secret", "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "cinder", "cephFS",
            "downwardAPI", "fc", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk",
            "storageos", "projected", "portworxVolume", "scaleIO", "csi", "ephemeral",
        }.Order(StringComparer.Ordinal),
    ];

    private const string SysctlSegmentFmt = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?";
    private const string SysctlPatternFmt = "(" + SysctlSegmentFmt + "\\.)*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]";
    private const int SysctlMaxLength = 253;

    [GeneratedRegex("^" + SysctlPatternFmt + "$")]
    private static partial Regex SysctlPattern();

    public static List<FieldError> Validate(JsonObject psp, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, psp);
        var spec = J.O(psp, "spec") ?? new JsonObject();

        // runAsUser
        var runAsUser = J.O(spec, "runAsUser");
        Rule(errs, "spec.runAsUser.rule", J.S(runAsUser, "rule"), ["MustRunAs", "MustRunAsNonRoot", "RunAsAny"]);
        Ranges(errs, "spec.runAsUser.ranges", runAsUser);

        // runAsGroup
        if (J.O(spec, "runAsGroup") is { } runAsGroup)
        {
            var rule = J.S(runAsGroup, "rule");
            var n = J.Count(runAsGroup, "ranges");
            switch (rule)
            {
                case "RunAsAny":
                    if (n != 0) errs.Add(Err.InvalidRaw("spec.runAsGroup.ranges", IdRanges(runAsGroup), "Ranges must be empty"));
                    break;
                case "MustRunAs" or "MayRunAs":
                    if (n == 0) errs.Add(Err.InvalidRaw("spec.runAsGroup.ranges", IdRanges(runAsGroup), "must provide at least one range"));
                    Ranges(errs, "spec.runAsGroup.ranges", runAsGroup);
                    break;
                default:
                    errs.Add(Err.NotSupported("spec.runAsGroup.rule", rule, "MustRunAs", "RunAsAny", "MayRunAs"));
                    break;
            }
        }

        Rule(errs, "spec.seLinux.rule", J.S(J.O(spec, "seLinux"), "rule"), ["MustRunAs", "RunAsAny"]);
        var supGroups = J.O(spec, "supplementalGroups");
        Rule(errs, "spec.supplementalGroups.rule", J.S(supGroups, "rule"), ["MayRunAs", "MustRunAs", "RunAsAny"]);
        Ranges(errs, "spec.supplementalGroups.ranges", supGroups);
        var fsGroup = J.O(spec, "fsGroup");
        Rule(errs, "spec.fsGroup.rule", J.S(fsGroup, "rule"), ["MayRunAs", "MustRunAs", "RunAsAny"]);
        Ranges(errs, "spec.fsGroup.ranges", fsGroup);

        foreach (var v in J.Strs(spec, "volumes"))
            if (!AllowedVolumes.Contains(v)) errs.Add(Err.NotSupported("spec.volumes", v, AllowedVolumes));

        var drops = J.Strs(spec, "requiredDropCapabilities");
        var allowed = J.Strs(spec, "allowedCapabilities");
        if (drops.Count > 0 && allowed.Contains("*"))
            errs.Add(Err.InvalidRaw("requiredDropCapabilities", Caps(drops), "must be empty when all capabilities are allowed by a wildcard"));
        if (J.Has(spec, "requiredDropCapabilities"))
        {
            foreach (var (field, caps) in new[] { ("defaultAddCapabilities", J.Strs(spec, "defaultAddCapabilities")), ("allowedCapabilities", allowed) })
                foreach (var c in caps)
                    if (drops.Contains(c)) errs.Add(Err.Invalid(field, c, $"capability is listed in {field} and requiredDropCapabilities"));
        }

        if (J.B(spec, "defaultAllowPrivilegeEscalation") == true && J.B(spec, "allowPrivilegeEscalation") == false)
            errs.Add(Err.InvalidRaw("spec.defaultAllowPrivilegeEscalation", "true", "Cannot set DefaultAllowPrivilegeEscalation to true without also setting AllowPrivilegeEscalation to true"));

        foreach (var (i, pm) in J.Strs(spec, "allowedProcMountTypes").Select((x, i) => (i, x)))
            if (pm is not ("Default" or "Unmasked"))
                errs.Add(Err.NotSupported(P.Index("spec.allowedProcMountTypes", i), pm, "Default", "Unmasked"));

        foreach (var (i, hp) in J.Items(spec, "allowedHostPaths"))
        {
            var prefix = J.S(hp, "pathPrefix");
            if (prefix.Length == 0) { errs.Add(Err.Required(P.Index("spec.allowedHostPaths", i), "is required")); break; }
            if (prefix.Split('/').Contains("..")) errs.Add(Err.Invalid(P.Index("spec.allowedHostPaths", i), prefix, "must not contain '..'"));
        }
        foreach (var (i, fv) in J.Items(spec, "allowedFlexVolumes"))
            if (J.S(fv, "driver").Length == 0)
                errs.Add(Err.Required($"spec.allowedFlexVolumes.allowedFlexVolumes[{i}].driver", "must specify a driver"));
        foreach (var (i, d) in J.Items(spec, "allowedCSIDrivers"))
            if (J.S(d, "name").Length == 0) errs.Add(Err.Required(P.Child(P.Index("spec.allowedCSIDrivers", i), "name")));

        var allowedSysctls = J.Strs(spec, "allowedUnsafeSysctls");
        var forbiddenSysctls = J.Strs(spec, "forbiddenSysctls");
        Sysctls(errs, "spec.allowedUnsafeSysctls", allowedSysctls);
        Sysctls(errs, "spec.forbiddenSysctls", forbiddenSysctls);
        SysctlOverlap(errs, allowedSysctls, forbiddenSysctls);
        RuntimeClass(errs, J.O(spec, "runtimeClass"));
        return errs;
    }

    private static void Rule(List<FieldError> errs, string path, string rule, string[] supported)
    {
        if (!supported.Contains(rule)) errs.Add(Err.NotSupported(path, rule, supported));
    }

    private static void Ranges(List<FieldError> errs, string path, JsonObject? owner)
    {
        foreach (var (i, r) in J.Items(owner, "ranges"))
        {
            var min = J.L(r, "min") ?? 0;
            var max = J.L(r, "max") ?? 0;
            var rp = P.Index(path, i);
            if (min < 0) errs.Add(Err.Invalid(P.Child(rp, "min"), min, "min cannot be negative"));
            if (max < 0) errs.Add(Err.Invalid(P.Child(rp, "max"), max, "max cannot be negative"));
            if (min > max) errs.Add(Err.Invalid(P.Child(rp, "min"), min, "min cannot be greater than max"));
        }
    }

    /// <summary>%#v of []policy.IDRange.</summary>
    public static string IdRanges(JsonObject? owner)
    {
        var items = J.Items(owner, "ranges");
        if (items.Count == 0) return "[]policy.IDRange(nil)";
        return "[]policy.IDRange{" + string.Join(", ", items.Select(x => $"policy.IDRange{{Min:{J.L(x.O, "min") ?? 0}, Max:{J.L(x.O, "max") ?? 0}}}")) + "}";
    }

    /// <summary>%#v of []core.Capability.</summary>
    public static string Caps(IReadOnlyList<string> caps) =>
        caps.Count == 0 ? "[]core.Capability(nil)" : "[]core.Capability{" + string.Join(", ", caps.Select(GoText.Quote)) + "}";

    private static void Sysctls(List<FieldError> errs, string path, List<string> sysctls)
    {
        if (sysctls.Count == 0) return;
        var coversAll = false;
        for (var i = 0; i < sysctls.Count; i++)
        {
            var s = sysctls[i];
            if (s.Length == 0) errs.Add(Err.Invalid(P.Index(path, i), s, "empty sysctl not allowed"));
            else if (s.Length > SysctlMaxLength || !SysctlPattern().IsMatch(s))
                errs.Add(Err.Invalid(P.Index(path, i), s, $"must have at most {SysctlMaxLength} characters and match regex {SysctlPatternFmt}"));
            else if (s[0] == '*') coversAll = true;
        }
        if (coversAll && sysctls.Count > 1) errs.Add(Err.Forbidden(path + ".items", "if '*' is present, must not specify other sysctls"));
    }

    private static void SysctlOverlap(List<FieldError> errs, List<string> allowed, List<string> forbidden)
    {
        for (var i = 0; i < allowed.Count; i++)
        {
            var a = allowed[i];
            var aPattern = a.EndsWith('*');
            var aPrefix = aPattern ? a[..^1] : "";
            for (var j = 0; j < forbidden.Count; j++)
            {
                var f = forbidden[j];
                var fPattern = f.EndsWith('*');
                var fPrefix = fPattern ? f[..^1] : "";
                if (aPattern && fPattern)
                {
                    if (aPrefix.StartsWith(fPrefix, StringComparison.Ordinal)) errs.Add(Err.Invalid(P.Index("spec.allowedUnsafeSysctls", i), a, $"sysctl overlaps with {f}"));
                    else if (fPrefix.StartsWith(aPrefix, StringComparison.Ordinal)) errs.Add(Err.Invalid(P.Index("spec.forbiddenSysctls", j), f, $"sysctl overlaps with {a}"));
                }
                else if (aPattern)
                {
                    if (f.StartsWith(aPrefix, StringComparison.Ordinal)) errs.Add(Err.Invalid(P.Index("spec.forbiddenSysctls", j), f, $"sysctl overlaps with {a}"));
                }
                else if (fPattern)
                {
                    if (a.StartsWith(fPrefix, StringComparison.Ordinal)) errs.Add(Err.Invalid(P.Index("spec.allowedUnsafeSysctls", i), a, $"sysctl overlaps with {f}"));
                }
                else if (a == f) errs.Add(Err.Invalid(P.Index("spec.allowedUnsafeSysctls", i), a, $"sysctl overlaps with {f}"));
            }
        }
    }

    private static void RuntimeClass(List<FieldError> errs, JsonObject? rc)
    {
        if (rc is null) return;
        const string path = "spec.runtimeClass";
        var names = J.Strs(rc, "allowedRuntimeClassNames");
        var allowed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            var np = P.Index(path + ".allowedRuntimeClassNames", i);
            if (name != "*")
                foreach (var m in NameValidation.IsDns1123Subdomain(name)) errs.Add(Err.Invalid(np, name, m));
            if (!allowed.Add(name)) errs.Add(Err.Duplicate(np, name));
        }
        if (J.SN(rc, "defaultRuntimeClassName") is { } def)
        {
            foreach (var m in NameValidation.IsDns1123Subdomain(def)) errs.Add(Err.Invalid(path + ".defaultRuntimeClassName", def, m));
            if (!allowed.Contains(def) && !allowed.Contains("*"))
                errs.Add(Err.Required(path + ".allowedRuntimeClassNames", $"default runtimeclass \"{def}\" must be allowed"));
        }
        if (allowed.Contains("*") && names.Count > 1)
            errs.Add(Err.InvalidRaw(path + ".allowedRuntimeClassNames", Go.Strings(names), "if '*' is present, must not specify other RuntimeClass names"));
    }
}
