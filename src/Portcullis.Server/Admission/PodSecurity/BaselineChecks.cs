using System.Globalization;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Admission.PodSecurity;

/// <summary>
/// Baseline checks, part one: host namespaces, privileged, capabilities, hostPath volumes, host
/// ports and AppArmor (upstream policy/check_*.go, messages verbatim).
/// </summary>
internal static class BaselineChecks
{
    /// <summary>spec.hostNetwork / hostPID / hostIPC must be unset or false.</summary>
    public static CheckResult HostNamespaces(PodSecurityTarget pod)
    {
        var found = new List<string>();
        if (Json.Bool(pod.Spec, "hostNetwork") == true) found.Add("hostNetwork=true");
        if (Json.Bool(pod.Spec, "hostPID") == true) found.Add("hostPID=true");
        if (Json.Bool(pod.Spec, "hostIPC") == true) found.Add("hostIPC=true");
        return found.Count > 0 ? CheckResult.Forbid("host namespaces", string.Join(", ", found)) : CheckResult.Allow;
    }

    /// <summary>No container may set securityContext.privileged=true.</summary>
    public static CheckResult Privileged(PodSecurityTarget pod)
    {
        var bad = pod.Containers()
            .Where(c => Json.Bool(Json.Obj(c, "securityContext"), "privileged") == true)
            .Select(c => Json.Str(c, "name")).ToList();
        if (bad.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid("privileged",
            $"{Text.Pluralize("container", "containers", bad.Count)} {Text.JoinQuote(bad)} must not set securityContext.privileged=true");
    }

    private static readonly HashSet<string> DefaultCapabilities =
    [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    ];

    /// <summary>capabilities.add may only hold the container runtime's default set.</summary>
    public static CheckResult CapabilitiesBaseline(PodSecurityTarget pod)
    {
        var bad = new List<string>();
        var nonDefault = new List<string>();
        foreach (var c in pod.Containers())
        {
            var caps = Json.Obj(Json.Obj(c, "securityContext"), "capabilities");
            if (caps is null) continue;
            var valid = true;
            foreach (var cap in Json.Strings(caps, "add"))
            {
                if (DefaultCapabilities.Contains(cap)) continue;
                valid = false;
                nonDefault.Add(cap);
            }
            if (!valid) bad.Add(Json.Str(c, "name"));
        }
        if (bad.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid("non-default capabilities",
            $"{Text.Pluralize("container", "containers", bad.Count)} {Text.JoinQuote(bad)} must not include " +
            $"{Text.JoinQuote(Text.SortedSet(nonDefault))} in securityContext.capabilities.add");
    }

    /// <summary>No hostPath volumes.</summary>
    public static CheckResult HostPathVolumes(PodSecurityTarget pod)
    {
        var bad = pod.Volumes().Where(v => Json.Has(v, "hostPath")).Select(v => Json.Str(v, "name")).ToList();
        if (bad.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid("hostPath volumes", $"{Text.Pluralize("volume", "volumes", bad.Count)} {Text.JoinQuote(bad)}");
    }

    /// <summary>No container port may set a hostPort.</summary>
    public static CheckResult HostPorts(PodSecurityTarget pod)
    {
        var bad = new List<string>();
        var ports = new List<string>();
        foreach (var c in pod.Containers())
        {
            var valid = true;
            if (Json.Arr(c, "ports") is { } arr)
            {
                foreach (var p in arr)
                {
                    var hostPort = Json.Int(p, "hostPort") ?? 0;
                    if (hostPort == 0) continue;
                    valid = false;
                    ports.Add(hostPort.ToString(CultureInfo.InvariantCulture));
                }
            }
            if (!valid) bad.Add(Json.Str(c, "name"));
        }
        if (bad.Count == 0) return CheckResult.Allow;
        var sorted = Text.SortedSet(ports);
        return CheckResult.Forbid("hostPort",
            $"{Text.Pluralize("container", "containers", bad.Count)} {Text.JoinQuote(bad)} " +
            $"{Text.Pluralize("uses", "use", bad.Count)} {Text.Pluralize("hostPort", "hostPorts", sorted.Count)} {string.Join(", ", sorted)}");
    }

    private const string AppArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/";

    private static bool AllowedAppArmorAnnotation(string v) =>
        v.Length == 0 || v == "runtime/default" || v.StartsWith("localhost/", StringComparison.Ordinal);

    private static bool AllowedAppArmorType(string t) => t is "RuntimeDefault" or "Localhost";

    /// <summary>
    /// AppArmor may not be unconfined: appArmorProfile.type (pod and containers) must be RuntimeDefault or
    /// Localhost, and the beta annotations must be empty, runtime/default or localhost/*.
    /// </summary>
    public static CheckResult AppArmorProfile(PodSecurityTarget pod)
    {
        var setters = new List<string>();
        var badValues = new List<string>();

        if (Json.Obj(pod.PodSecurityContext, "appArmorProfile") is { } podProfile)
        {
            var t = Json.Str(podProfile, "type");
            if (!AllowedAppArmorType(t))
            {
                setters.Add("pod");
                badValues.Add(t);
            }
        }

        var badContainers = new List<string>();
        foreach (var c in pod.Containers())
        {
            if (Json.Obj(Json.Obj(c, "securityContext"), "appArmorProfile") is not { } profile) continue;
            var t = Json.Str(profile, "type");
            if (AllowedAppArmorType(t)) continue;
            badContainers.Add(Json.Str(c, "name"));
            badValues.Add(t);
        }
        if (badContainers.Count > 0)
            setters.Add($"{Text.Pluralize("container", "containers", badContainers.Count)} {Text.JoinQuote(badContainers)}");

        var forbiddenAnnotations = new List<string>();
        if (pod.Annotations is { } annotations)
        {
            foreach (var (k, node) in annotations)
            {
                if (!k.StartsWith(AppArmorAnnotationPrefix, StringComparison.Ordinal)) continue;
                var v = node is System.Text.Json.Nodes.JsonValue jv && jv.TryGetValue<string>(out var s) ? s : "";
                if (!AllowedAppArmorAnnotation(v)) forbiddenAnnotations.Add($"{k}={GoText.Quote(v)}");
            }
        }

        var valueList = Text.SortedSet(badValues);
        if (forbiddenAnnotations.Count > 0)
        {
            forbiddenAnnotations.Sort(StringComparer.Ordinal);
            valueList.AddRange(forbiddenAnnotations);
            setters.Add(Text.Pluralize("annotation", "annotations", forbiddenAnnotations.Count));
        }

        if (setters.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid(
            Text.Pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", valueList.Count),
            $"{string.Join(" and ", setters)} must not set AppArmor profile type to {Text.JoinQuote(valueList)}");
    }
}
