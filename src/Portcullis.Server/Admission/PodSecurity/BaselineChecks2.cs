using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Admission.PodSecurity;

/// <summary>
/// Baseline checks, part two: SELinux options, procMount, seccomp, sysctls and Windows host
/// processes, with their versioned variants.
/// </summary>
internal static class BaselineChecks2
{
    public static readonly HashSet<string> SELinuxTypes1_0 = ["", "container_t", "container_init_t", "container_kvm_t"];
    public static readonly HashSet<string> SELinuxTypes1_31 = [.. SELinuxTypes1_0, "container_engine_t"];

    public static CheckResult SELinuxOptions1_0(PodSecurityTarget pod) => SELinuxOptions(pod, SELinuxTypes1_0);

    public static CheckResult SELinuxOptions1_31(PodSecurityTarget pod) => SELinuxOptions(pod, SELinuxTypes1_31);

    /// <summary>seLinuxOptions.type must be in the allowed set; user and role must be empty.</summary>
    private static CheckResult SELinuxOptions(PodSecurityTarget pod, HashSet<string> allowedTypes)
    {
        var setters = new List<string>();
        var badTypes = new List<string>();
        bool setUser = false, setRole = false;

        bool Valid(JsonObject opts)
        {
            var valid = true;
            var type = Json.Str(opts, "type");
            if (!allowedTypes.Contains(type))
            {
                valid = false;
                badTypes.Add(type);
            }
            if (Json.Str(opts, "user").Length > 0)
            {
                valid = false;
                setUser = true;
            }
            if (Json.Str(opts, "role").Length > 0)
            {
                valid = false;
                setRole = true;
            }
            return valid;
        }

        if (Json.Obj(pod.PodSecurityContext, "seLinuxOptions") is { } podOpts && !Valid(podOpts)) setters.Add("pod");

        var badContainers = new List<string>();
        foreach (var c in pod.Containers())
            if (Json.Obj(Json.Obj(c, "securityContext"), "seLinuxOptions") is { } opts && !Valid(opts))
                badContainers.Add(Json.Str(c, "name"));
        if (badContainers.Count > 0)
            setters.Add($"{Text.Pluralize("container", "containers", badContainers.Count)} {Text.JoinQuote(badContainers)}");

        if (setters.Count == 0) return CheckResult.Allow;
        var data = new List<string>();
        var types = Text.SortedSet(badTypes);
        if (types.Count > 0) data.Add($"{Text.Pluralize("type", "types", types.Count)} {Text.JoinQuote(types)}");
        if (setUser) data.Add("user may not be set");
        if (setRole) data.Add("role may not be set");
        return CheckResult.Forbid("seLinuxOptions",
            $"{string.Join(" and ", setters)} set forbidden securityContext.seLinuxOptions: {string.Join("; ", data)}");
    }

    /// <summary>securityContext.procMount must be unset or "Default".</summary>
    public static CheckResult ProcMount(PodSecurityTarget pod)
    {
        var bad = new List<string>();
        var types = new List<string>();
        foreach (var c in pod.Containers())
        {
            var procMount = Json.StrOrNull(Json.Obj(c, "securityContext"), "procMount");
            if (procMount is null || procMount == "Default") continue;
            bad.Add(Json.Str(c, "name"));
            types.Add(procMount);
        }
        if (bad.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid("procMount",
            $"{Text.Pluralize("container", "containers", bad.Count)} {Text.JoinQuote(bad)} must not set securityContext.procMount to " +
            Text.JoinQuote(Text.SortedSet(types)));
    }

    public const string SeccompPodAnnotation = "seccomp.security.alpha.kubernetes.io/pod";
    public const string SeccompContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/";

    public static bool ValidSeccompType(string t) => t is "Localhost" or "RuntimeDefault";

    private static bool ValidSeccompAnnotation(string v) =>
        v == "runtime/default" || v == "docker/default" || v.StartsWith("localhost/", StringComparison.Ordinal);

    /// <summary>Before 1.19, the seccomp annotations must name runtime/default, docker/default or localhost/*.</summary>
    public static CheckResult SeccompProfileBaseline1_0(PodSecurityTarget pod)
    {
        var forbidden = new List<string>();
        if (pod.Annotation(SeccompPodAnnotation) is { } podValue && !ValidSeccompAnnotation(podValue))
            forbidden.Add($"{SeccompPodAnnotation}={GoText.Quote(podValue)}");
        foreach (var c in pod.Containers())
        {
            var key = SeccompContainerAnnotationPrefix + Json.Str(c, "name");
            if (pod.Annotation(key) is { } value && !ValidSeccompAnnotation(value))
                forbidden.Add($"{key}={GoText.Quote(value)}");
        }
        var list = Text.SortedSet(forbidden);
        if (list.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid("seccompProfile",
            $"forbidden {Text.Pluralize("annotation", "annotations", list.Count)} {string.Join(", ", list)}");
    }

    /// <summary>From 1.19, a seccompProfile.type that is set must be RuntimeDefault or Localhost.</summary>
    public static CheckResult SeccompProfileBaseline1_19(PodSecurityTarget pod)
    {
        var setters = new List<string>();
        var badValues = new List<string>();
        if (Json.Obj(pod.PodSecurityContext, "seccompProfile") is { } podProfile)
        {
            var t = Json.Str(podProfile, "type");
            if (!ValidSeccompType(t))
            {
                setters.Add("pod");
                badValues.Add(t);
            }
        }
        var badContainers = new List<string>();
        foreach (var c in pod.Containers())
        {
            if (Json.Obj(Json.Obj(c, "securityContext"), "seccompProfile") is not { } profile) continue;
            var t = Json.Str(profile, "type");
            if (ValidSeccompType(t)) continue;
            badContainers.Add(Json.Str(c, "name"));
            badValues.Add(t);
        }
        if (badContainers.Count > 0)
            setters.Add($"{Text.Pluralize("container", "containers", badContainers.Count)} {Text.JoinQuote(badContainers)}");
        if (setters.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid("seccompProfile",
            $"{string.Join(" and ", setters)} must not set securityContext.seccompProfile.type to {Text.JoinQuote(Text.SortedSet(badValues))}");
    }

    public static readonly HashSet<string> Sysctls1_0 =
    [
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ];

    public static readonly HashSet<string> Sysctls1_27 = [.. Sysctls1_0, "net.ipv4.ip_local_reserved_ports"];

    public static readonly HashSet<string> Sysctls1_29 =
    [
        .. Sysctls1_27,
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    ];

    public static readonly HashSet<string> Sysctls1_32 = [.. Sysctls1_29, "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

    public static CheckResult SysctlsV1_0(PodSecurityTarget pod) => Sysctls(pod, Sysctls1_0);
    public static CheckResult SysctlsV1_27(PodSecurityTarget pod) => Sysctls(pod, Sysctls1_27);
    public static CheckResult SysctlsV1_29(PodSecurityTarget pod) => Sysctls(pod, Sysctls1_29);
    public static CheckResult SysctlsV1_32(PodSecurityTarget pod) => Sysctls(pod, Sysctls1_32);

    /// <summary>Only the namespaced, isolated ("safe") sysctls may be set.</summary>
    private static CheckResult Sysctls(PodSecurityTarget pod, HashSet<string> allowed)
    {
        var forbidden = new List<string>();
        if (Json.Arr(pod.PodSecurityContext, "sysctls") is { } arr)
        {
            foreach (var s in arr)
            {
                var name = Json.Str(s, "name");
                if (!allowed.Contains(name)) forbidden.Add(name);
            }
        }
        return forbidden.Count > 0 ? CheckResult.Forbid("forbidden sysctls", string.Join(", ", forbidden)) : CheckResult.Allow;
    }

    /// <summary>Neither pod nor containers may set windowsOptions.hostProcess=true.</summary>
    public static CheckResult WindowsHostProcess(PodSecurityTarget pod)
    {
        var badContainers = pod.Containers()
            .Where(c => Json.Bool(Json.Obj(Json.Obj(c, "securityContext"), "windowsOptions"), "hostProcess") == true)
            .Select(c => Json.Str(c, "name")).ToList();
        var setters = new List<string>();
        if (Json.Bool(Json.Obj(pod.PodSecurityContext, "windowsOptions"), "hostProcess") == true) setters.Add("pod");
        if (badContainers.Count > 0)
            setters.Add($"{Text.Pluralize("container", "containers", badContainers.Count)} {Text.JoinQuote(badContainers)}");
        if (setters.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid("hostProcess",
            $"{string.Join(" and ", setters)} must not set securityContext.windowsOptions.hostProcess=true");
    }
}
