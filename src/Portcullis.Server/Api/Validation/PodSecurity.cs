using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>Pod and container security contexts, sysctls, seccomp, AppArmor and Windows options.</summary>
internal static partial class PodSecurity
{
    /// <summary>ValidateSecurityContext for a container.</summary>
    public static void ContainerContext(List<FieldError> errs, JsonObject? sc, string path, bool hostUsers)
    {
        if (sc is null) return;
        IdRange(errs, sc, "runAsUser", path);
        IdRange(errs, sc, "runAsGroup", path);
        if (J.SN(sc, "procMount") is { } pm)
        {
            if (pm is not ("Default" or "Unmasked")) errs.Add(Err.NotSupported(P.Child(path, "procMount"), pm, "Default", "Unmasked"));
            if (hostUsers && pm == "Unmasked") errs.Add(Err.Invalid(P.Child(path, "procMount"), pm, "`hostUsers` must be false to use `Unmasked`"));
        }
        Seccomp(errs, J.O(sc, "seccompProfile"), P.Child(path, "seccompProfile"));
        if (J.B(sc, "allowPrivilegeEscalation") == false)
        {
            var repr = Go.Value(sc, "core/v1.SecurityContext");
            if (J.True(sc, "privileged"))
                errs.Add(Err.InvalidRaw(path, repr, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
            foreach (var cap in J.Strs(J.O(sc, "capabilities"), "add"))
                if (cap == "CAP_SYS_ADMIN")
                    errs.Add(Err.InvalidRaw(path, repr, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"));
        }
        WindowsOptions(errs, J.O(sc, "windowsOptions"), P.Child(path, "windowsOptions"));
        AppArmor(errs, J.O(sc, "appArmorProfile"), P.Child(path, "appArmorProfile"));
    }

    private static void IdRange(List<FieldError> errs, JsonObject sc, string field, string path)
    {
        if (J.L(sc, field) is { } id)
            foreach (var m in Formats.UserOrGroupID(id)) errs.Add(Err.Invalid(P.Child(path, field), id, m));
    }

    /// <summary>validatePodSpecSecurityContext (host namespace flags live on the v1 spec itself).</summary>
    public static void PodContext(List<FieldError> errs, JsonObject spec, string path, bool onlyRecursiveSeLinux = true)
    {
        var sc = J.O(spec, "securityContext") ?? new JsonObject();
        IdRange(errs, sc, "fsGroup", path);
        IdRange(errs, sc, "runAsUser", path);
        IdRange(errs, sc, "runAsGroup", path);
        if (J.A(sc, "supplementalGroups") is { } groups)
            for (var g = 0; g < groups.Count; g++)
                if (J.Long(groups[g]) is { } gid)
                    foreach (var m in Formats.UserOrGroupID(gid)) errs.Add(Err.Invalid(P.Index(P.Child(path, "supplementalGroups"), g), gid, m));
        if (J.True(spec, "shareProcessNamespace") && J.True(spec, "hostPID"))
            errs.Add(Err.InvalidRaw(P.Child(path, "shareProcessNamespace"), "true", "ShareProcessNamespace and HostPID cannot both be enabled"));
        if (J.Count(sc, "sysctls") > 0) Sysctls(errs, sc, spec, P.Child(path, "sysctls"));
        if (J.SN(sc, "fsGroupChangePolicy") is { } fgp && fgp is not ("Always" or "OnRootMismatch"))
            errs.Add(Err.NotSupported(P.Child(path, "fsGroupChangePolicy"), fgp, "Always", "OnRootMismatch"));
        Seccomp(errs, J.O(sc, "seccompProfile"), P.Child(path, "seccompProfile"));
        WindowsOptions(errs, J.O(sc, "windowsOptions"), P.Child(path, "windowsOptions"));
        AppArmor(errs, J.O(sc, "appArmorProfile"), P.Child(path, "appArmorProfile"));
        if (J.SN(sc, "supplementalGroupsPolicy") is { } sgp && sgp is not ("Merge" or "Strict"))
            errs.Add(Err.NotSupported(P.Child(path, "supplementalGroupsPolicy"), sgp, "Merge", "Strict"));
        // SELinuxMount is off by default in 1.33 (beta), so useOnlyRecursiveSELinuxChangePolicy holds: only Recursive is
        // accepted, unless the old pod already had a policy (then any valid value is).
        if (J.SN(sc, "seLinuxChangePolicy") is { } slp)
        {
            if (onlyRecursiveSeLinux && slp != "Recursive") errs.Add(Err.NotSupported(P.Child(path, "seLinuxChangePolicy"), slp, "Recursive"));
            else if (slp is not ("MountOption" or "Recursive"))
                errs.Add(Err.NotSupported(P.Child(path, "seLinuxChangePolicy"), slp, "MountOption", "Recursive"));
        }
    }

    private const string SysctlFmt = "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$";
    [GeneratedRegex(SysctlFmt)] private static partial Regex SysctlRx();

    private static void Sysctls(List<FieldError> errs, JsonObject sc, JsonObject spec, string path)
    {
        var names = new HashSet<string>();
        foreach (var (i, s) in J.Items(sc, "sysctls"))
        {
            var name = J.S(s, "name");
            var np = P.Child(P.Index(path, i), "name");
            if (name.Length == 0) errs.Add(Err.Required(np));
            else if (name.Length > 253 || !SysctlRx().IsMatch(name))
                errs.Add(Err.Invalid(np, name, $"must have at most 253 characters and match regex {SysctlFmt}"));
            else if (names.Contains(name)) errs.Add(Err.Duplicate(np, name));
            var norm = name.Replace('/', '.');
            var ns = norm.StartsWith("net.", StringComparison.Ordinal) ? "net"
                : norm is "kernel.sem" or "kernel.shmall" or "kernel.shmmax" or "kernel.shmmni" or "kernel.shm_rmid_forced"
                  || norm.StartsWith("kernel.msg", StringComparison.Ordinal) || norm.StartsWith("fs.mqueue.", StringComparison.Ordinal) ? "ipc" : "";
            if (J.True(spec, "hostNetwork") && ns == "net") errs.Add(Err.Invalid(np, name, "may not be specified when 'hostNetwork' is true"));
            else if (J.True(spec, "hostIPC") && ns == "ipc") errs.Add(Err.Invalid(np, name, "may not be specified when 'hostIPC' is true"));
            names.Add(name);
        }
    }

    public static void Seccomp(List<FieldError> errs, JsonObject? sp, string path)
    {
        if (sp is null) return;
        var type = J.S(sp, "type");
        if (type.Length == 0) errs.Add(Err.Required(P.Child(path, "type"), "type is required when seccompProfile is set"));
        else if (type is not ("Localhost" or "RuntimeDefault" or "Unconfined"))
            errs.Add(Err.NotSupported(P.Child(path, "type"), type, "Localhost", "RuntimeDefault", "Unconfined"));
        if (type == "Localhost")
        {
            if (J.SN(sp, "localhostProfile") is not { } lp)
                errs.Add(Err.Required(P.Child(path, "localhostProfile"), "must be set when seccomp type is Localhost"));
            else PodVolumes.LocalDescending(errs, lp, P.Child(path, "localhostProfile"));
        }
        else if (J.Has(sp, "localhostProfile"))
            errs.Add(Err.InvalidRaw(P.Child(path, "localhostProfile"), Go.Value(sp, "core/v1.SeccompProfile"), "can only be set when seccomp type is Localhost"));
    }

    public static void AppArmor(List<FieldError> errs, JsonObject? ap, string path)
    {
        if (ap is null) return;
        var type = J.S(ap, "type");
        switch (type)
        {
            case "Localhost":
                if (J.SN(ap, "localhostProfile") is not { } lp)
                    errs.Add(Err.Required(P.Child(path, "localhostProfile"), "must be set when AppArmor type is Localhost"));
                else
                {
                    if (lp.Trim() != lp) errs.Add(Err.Invalid(P.Child(path, "localhostProfile"), lp, "must not be padded with whitespace"));
                    else if (lp.Length == 0) errs.Add(Err.Required(P.Child(path, "localhostProfile"), "must be set when AppArmor type is Localhost"));
                    if (lp.Length > 4095) errs.Add(Err.TooLong(P.Child(path, "localhostProfile"), 4095));
                }
                break;
            case "RuntimeDefault" or "Unconfined":
                if (J.SN(ap, "localhostProfile") is { } lp2)
                    errs.Add(Err.Invalid(P.Child(path, "localhostProfile"), lp2, "can only be set when AppArmor type is Localhost"));
                break;
            case "":
                errs.Add(Err.Required(P.Child(path, "type"), "type is required when appArmorProfile is set"));
                break;
            default:
                errs.Add(Err.NotSupported(P.Child(path, "type"), type, "Localhost", "RuntimeDefault", "Unconfined"));
                break;
        }
    }

    [GeneratedRegex("[\\x00-\\x1f\\x7f]")] private static partial Regex CtrlRx();
    [GeneratedRegex("^[^\\\\/:\\*\\?\"<>|\\.][^\\\\/:\\*\\?\"<>|]{0,14}$")] private static partial Regex NetBiosRx();
    [GeneratedRegex("^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")] private static partial Regex DnsDomainRx();
    [GeneratedRegex("[\"/\\\\:;|=,\\+\\*\\?<>@\\[\\]]")] private static partial Regex BadUserCharsRx();
    [GeneratedRegex("^[\\. ]+$")] private static partial Regex DotsSpacesRx();

    private static void WindowsOptions(List<FieldError> errs, JsonObject? wo, string path)
    {
        if (wo is null) return;
        if (J.SN(wo, "gmsaCredentialSpecName") is { } gn)
            foreach (var m in NameValidation.IsDns1123Subdomain(gn)) errs.Add(Err.Invalid(P.Child(path, "gmsaCredentialSpecName"), gn, m));
        if (J.SN(wo, "gmsaCredentialSpec") is { } gs)
        {
            if (gs.Length == 0) errs.Add(Err.Invalid(P.Child(path, "gmsaCredentialSpec"), gs, "gmsaCredentialSpec cannot be an empty string"));
            else if (gs.Length > 64 * 1024) errs.Add(Err.Invalid(P.Child(path, "gmsaCredentialSpec"), gs, "gmsaCredentialSpec size must be under 64 KiB"));
        }
        if (J.SN(wo, "runAsUserName") is not { } u) return;
        var up = P.Child(path, "runAsUserName");
        if (u.Length == 0) { errs.Add(Err.Invalid(up, u, "runAsUserName cannot be an empty string")); return; }
        if (CtrlRx().IsMatch(u)) { errs.Add(Err.Invalid(up, u, "runAsUserName cannot contain control characters")); return; }
        var parts = u.Split('\\');
        if (parts.Length > 2) { errs.Add(Err.Invalid(up, u, "runAsUserName cannot contain more than one backslash")); return; }
        var hasDomain = parts.Length == 2;
        var domain = hasDomain ? parts[0] : "";
        var user = hasDomain ? parts[1] : parts[0];
        if (domain.Length >= 256) errs.Add(Err.Invalid(up, u, "runAsUserName's Domain length must be under 256 characters"));
        if (hasDomain && !(NetBiosRx().IsMatch(domain) || DnsDomainRx().IsMatch(domain)))
            errs.Add(Err.Invalid(up, u, "runAsUserName's Domain doesn't match the NetBios nor the DNS format"));
        if (user.Length == 0) errs.Add(Err.Invalid(up, u, "runAsUserName's User cannot be empty"));
        else if (user.Length > 104) errs.Add(Err.Invalid(up, u, "runAsUserName's User length must not be longer than 104 characters"));
        if (DotsSpacesRx().IsMatch(user)) errs.Add(Err.Invalid(up, u, "runAsUserName's User cannot contain only periods or spaces"));
        if (BadUserCharsRx().IsMatch(user)) errs.Add(Err.Invalid(up, u, "runAsUserName's User cannot contain the following characters: \"/\\:;|=,+*?<>@[]"));
    }

    /// <summary>All containers of a spec with their paths (VisitContainersWithPath order).</summary>
    public static IEnumerable<(JsonObject C, string Path)> AllContainers(JsonObject spec, string specPath)
    {
        foreach (var key in new[] { "initContainers", "containers", "ephemeralContainers" })
            foreach (var (i, c) in J.Items(spec, key)) yield return (c, P.Index(P.Child(specPath, key), i));
    }

    /// <summary>validateWindowsHostProcessPod.</summary>
    public static void WindowsHostProcess(List<FieldError> errs, JsonObject spec, string path)
    {
        var podHp = J.B(J.O(J.O(spec, "securityContext"), "windowsOptions"), "hostProcess");
        int count = 0, hpCount = 0;
        foreach (var (c, cp) in AllContainers(spec, path))
        {
            count++;
            var chp = J.B(J.O(J.O(c, "securityContext"), "windowsOptions"), "hostProcess");
            if (podHp is { } ph && chp is { } ch && ph != ch)
                errs.Add(Err.InvalidRaw(P.Child(cp, "securityContext", "windowsOptions") + ".hostProcess", ch ? "true" : "false",
                    $"pod hostProcess value must be identical if both are specified, was {(ph ? "true" : "false")}"));
            if (chp == true || (chp is null && podHp == true)) hpCount++;
        }
        if (hpCount == 0) return;
        if (hpCount != count) errs.Add(Err.Invalid(path, "", "If pod contains any hostProcess containers then all containers must be HostProcess containers"));
        if (!J.True(spec, "hostNetwork")) errs.Add(Err.InvalidRaw(P.Child(path, "hostNetwork"), "false", "hostNetwork must be true if pod contains any hostProcess containers"));
    }

    /// <summary>validateOS and, for a valid OS, validateLinux / validateWindows.</summary>
    public static void OS(List<FieldError> errs, JsonObject spec, string path)
    {
        if (J.O(spec, "os") is not { } os) return;
        var name = J.S(os, "name");
        var op = P.Child(path, "os");
        if (name.Length == 0) { errs.Add(Err.Required(P.Child(op, "name"), "cannot be empty")); return; }
        if (name is not ("linux" or "windows")) { errs.Add(Err.NotSupported(op, name, "linux", "windows")); return; }
        var sc = J.O(spec, "securityContext");
        if (name == "linux")
        {
            if (J.Has(sc, "windowsOptions")) errs.Add(Err.Forbidden(P.Child(path, "securityContext", "windowsOptions"), "windows options cannot be set for a linux pod"));
            foreach (var (c, cp) in AllContainers(spec, path))
                if (J.Has(J.O(c, "securityContext"), "windowsOptions"))
                    errs.Add(Err.Forbidden(P.Child(cp, "securityContext", "windowsOptions"), "windows options cannot be set for a linux pod"));
            return;
        }
        const string no = "cannot be set for a windows pod";
        var scp = P.Child(path, "securityContext");
        if (sc is not null)
        {
            if (J.Has(sc, "appArmorProfile")) errs.Add(Err.Forbidden(P.Child(scp, "appArmorProfile"), no));
            if (J.Has(sc, "seLinuxOptions")) errs.Add(Err.Forbidden(P.Child(scp, "seLinuxOptions"), no));
        }
        if (J.Has(spec, "hostUsers")) errs.Add(Err.Forbidden(P.Child(path, "hostUsers"), no));
        if (J.True(spec, "hostPID")) errs.Add(Err.Forbidden(P.Child(path, "hostPID"), no));
        if (J.True(spec, "hostIPC")) errs.Add(Err.Forbidden(P.Child(path, "hostIPC"), no));
        if (sc is not null)
        {
            foreach (var f in new[] { "seccompProfile", "fsGroup", "fsGroupChangePolicy" })
                if (J.Has(sc, f)) errs.Add(Err.Forbidden(P.Child(scp, f), no));
            if (J.Count(sc, "sysctls") > 0) errs.Add(Err.Forbidden(P.Child(scp, "sysctls"), no));
        }
        if (J.Has(spec, "shareProcessNamespace")) errs.Add(Err.Forbidden(P.Child(path, "shareProcessNamespace"), no));
        if (sc is not null)
            foreach (var f in new[] { "runAsUser", "runAsGroup", "supplementalGroups", "supplementalGroupsPolicy", "seLinuxChangePolicy" })
                if (J.Has(sc, f)) errs.Add(Err.Forbidden(P.Child(scp, f), no));
        foreach (var (c, cp) in AllContainers(spec, path))
        {
            if (J.O(c, "securityContext") is not { } csc) continue;
            var cscp = P.Child(cp, "securityContext");
            foreach (var f in new[] { "appArmorProfile", "seLinuxOptions", "seccompProfile", "capabilities", "readOnlyRootFilesystem", "privileged",
                                      "allowPrivilegeEscalation", "procMount", "runAsUser", "runAsGroup" })
                if (J.Has(csc, f)) errs.Add(Err.Forbidden(P.Child(cscp, f), no));
        }
    }
}
