using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Admission.Psp;

/// <summary>
/// One PodSecurityPolicy as upstream's simpleProvider (pkg/security/podsecuritypolicy, Kubernetes
/// 1.24): <see cref="MutatePod"/> fills in what the policy generates (supplemental groups, fsGroup,
/// SELinux options, seccomp, runtime class, and per container runAsUser, runAsGroup, runAsNonRoot,
/// capabilities, readOnlyRootFilesystem, allowPrivilegeEscalation), <see cref="ValidatePod"/>
/// checks the pod against every rule with upstream's field errors. Works on the pod's JSON.
/// AppArmor annotations are not interpreted.
/// </summary>
public sealed class PspProvider
{
    public const string SeccompPodAnnotation = "seccomp.security.alpha.kubernetes.io/pod";
    public const string SeccompContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/";
    public const string SeccompAllowedProfilesAnnotation = "seccomp.security.alpha.kubernetes.io/allowedProfileNames";
    public const string SeccompDefaultProfileAnnotation = "seccomp.security.alpha.kubernetes.io/defaultProfileName";

    /// <summary>The sysctls upstream 1.24 deems safe (always allowed unless forbidden).</summary>
    private static readonly string[] SafeSysctls =
        ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"];

    /// <summary>Pod volume source keys → the PSP volume (FSType) names.</summary>
    private static readonly Dictionary<string, string> VolumeFsTypes = new(StringComparer.Ordinal)
    {
        ["hostPath"] = "hostPath", ["emptyDir"] = "emptyDir", ["gcePersistentDisk"] = "gcePersistentDisk",
        ["awsElasticBlockStore"] = "awsElasticBlockStore", ["gitRepo"] = "gitRepo", ["secret"] = "secret", ["nfs"] = "nfs",
        ["iscsi"] = "iscsi", ["glusterfs"] = "glusterfs", ["persistentVolumeClaim"] = "persistentVolumeClaim", ["rbd"] = "rbd",
        ["flexVolume"] = "flexVolume", ["cinder"] = "cinder", ["cephfs"] = "cephFS", ["flocker"] = "flocker",
        ["downwardAPI"] = "downwardAPI", ["fc"] = "fc", ["azureFile"] = "azureFile", ["configMap"] = "configMap",
        ["vsphereVolume"] = "vsphereVolume", ["quobyte"] = "quobyte", ["azureDisk"] = "azureDisk",
        ["photonPersistentDisk"] = "photonPersistentDisk", ["projected"] = "projected", ["portworxVolume"] = "portworxVolume",
        ["scaleIO"] = "scaleIO", ["storageos"] = "storageos", ["csi"] = "csi", ["ephemeral"] = "ephemeral",
    };

    private readonly JsonObject _spec;
    private readonly string _runAsUserRule, _runAsGroupRule, _fsGroupRule, _supGroupsRule, _seLinuxRule;
    private readonly List<(long Min, long Max)> _userRanges, _groupRanges, _fsRanges, _supRanges;
    private readonly JsonObject? _seLinuxOptions;
    private readonly HashSet<string> _allowedSeccomp = new(StringComparer.Ordinal);
    private readonly bool _allowAnySeccomp;
    private readonly string _allowedSeccompString;
    private readonly string _defaultSeccomp;

    public string Name { get; }

    private PspProvider(string name, JsonObject spec, JsonObject? annotations)
    {
        Name = name;
        _spec = spec;
        _runAsUserRule = JsonRead.StrOrEmpty(Obj(spec, "runAsUser"), "rule");
        _runAsGroupRule = Obj(spec, "runAsGroup") is { } rg ? JsonRead.StrOrEmpty(rg, "rule") : "RunAsAny";
        _fsGroupRule = JsonRead.StrOrEmpty(Obj(spec, "fsGroup"), "rule");
        _supGroupsRule = JsonRead.StrOrEmpty(Obj(spec, "supplementalGroups"), "rule");
        _seLinuxRule = JsonRead.StrOrEmpty(Obj(spec, "seLinux"), "rule");
        _userRanges = Ranges(Obj(spec, "runAsUser"));
        _groupRanges = Ranges(Obj(spec, "runAsGroup"));
        _fsRanges = Ranges(Obj(spec, "fsGroup"));
        _supRanges = Ranges(Obj(spec, "supplementalGroups"));
        _seLinuxOptions = Obj(Obj(spec, "seLinux"), "seLinuxOptions");
        var allowed = annotations?[SeccompAllowedProfilesAnnotation] is JsonValue av ? JsonRead.StrOrEmpty(av) : "";
        _allowedSeccompString = allowed;
        foreach (var p in allowed.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (p == "*") _allowAnySeccomp = true;
            else _allowedSeccomp.Add(p);
        }
        _defaultSeccomp = annotations?[SeccompDefaultProfileAnnotation] is JsonValue dv ? JsonRead.StrOrEmpty(dv) : "";
    }

    /// <summary>NewSimpleProvider: null with the reason when the policy's strategies cannot be built.</summary>
    public static PspProvider? Create(JsonObject psp, out string? error)
    {
        error = null;
        var meta = Obj(psp, "metadata");
        var name = JsonRead.StrOrEmpty(meta, "name");
        var spec = Obj(psp, "spec") ?? new JsonObject();
        var p = new PspProvider(name, spec, Obj(meta, "annotations"));
        error = p._runAsUserRule switch
        {
            "MustRunAs" when p._userRanges.Count == 0 => "ranges must be supplied for MustRunAs",
            "MustRunAs" or "MustRunAsNonRoot" or "RunAsAny" => null,
            var r => $"Unrecognized RunAsUser strategy type {r}",
        };
        error ??= GroupStrategyError("RunAsGroup", p._runAsGroupRule, p._groupRanges);
        error ??= p._seLinuxRule switch
        {
            "MustRunAs" when p._seLinuxOptions is null => "MustRunAs requires SELinuxContextStrategyOptions",
            "MustRunAs" or "RunAsAny" => null,
            var r => $"Unrecognized SELinuxContext strategy type {r}",
        };
        error ??= GroupStrategyError("FSGroup", p._fsGroupRule, p._fsRanges);
        error ??= GroupStrategyError("SupplementalGroups", p._supGroupsRule, p._supRanges);
        if (error is not null) error = $"error creating provider for PSP {name}: {error}";
        return error is null ? p : null;
    }

    private static string? GroupStrategyError(string what, string rule, List<(long, long)> ranges) => rule switch
    {
        "MustRunAs" or "MayRunAs" when ranges.Count == 0 => $"ranges must be supplied for {rule}",
        "MustRunAs" or "MayRunAs" or "RunAsAny" => null,
        _ => $"Unrecognized {what} strategy type {rule}",
    };

    // ---- mutation -------------------------------------------------------------------------

    public void MutatePod(JsonObject pod)
    {
        var spec = EnsureObj(pod, "spec");
        var sc = Obj(spec, "securityContext");

        if (IsNull(sc, "supplementalGroups") && _supGroupsRule == "MustRunAs")
            EnsureSc(spec)["supplementalGroups"] = new JsonArray(JsonValue.Create(_supRanges[0].Min));
        if (IsNull(Obj(spec, "securityContext"), "fsGroup") && _fsGroupRule == "MustRunAs")
            EnsureSc(spec)["fsGroup"] = _fsRanges[0].Min;
        if (IsNull(Obj(spec, "securityContext"), "seLinuxOptions") && _seLinuxRule == "MustRunAs")
            EnsureSc(spec)["seLinuxOptions"] = _seLinuxOptions!.DeepClone();

        var seccomp = GenerateSeccomp(pod);
        if (seccomp.Length > 0) EnsureObj(EnsureObj(pod, "metadata"), "annotations")[SeccompPodAnnotation] = seccomp;

        if (Obj(_spec, "runtimeClass") is { } rc && IsNull(spec, "runtimeClassName") && rc["defaultRuntimeClassName"] is JsonValue def)
            spec["runtimeClassName"] = def.DeepClone();

        foreach (var (c, _) in Containers(spec)) MutateContainer(spec, c);
    }

    private string GenerateSeccomp(JsonObject pod)
    {
        var annotations = Obj(Obj(pod, "metadata"), "annotations");
        if (annotations?[SeccompPodAnnotation] is JsonValue v && JsonRead.StrOrEmpty(v).Length > 0) return JsonRead.StrOrEmpty(v);
        if (Obj(Obj(Obj(pod, "spec"), "securityContext"), "seccompProfile") is { } profile) return SeccompAnnotationValue(profile);
        return _defaultSeccomp;
    }

    /// <summary>podutil.SeccompAnnotationValueForField.</summary>
    private static string SeccompAnnotationValue(JsonObject profile) => JsonRead.StrOrEmpty(profile, "type") switch
    {
        "Unconfined" => "unconfined",
        "RuntimeDefault" => "runtime/default",
        "Localhost" => "localhost/" + JsonRead.StrOrEmpty(profile, "localhostProfile"),
        _ => "",
    };

    private void MutateContainer(JsonObject podSpec, JsonObject c)
    {
        var podSc = Obj(podSpec, "securityContext");
        if (Effective(podSc, c, "runAsUser") is null && _runAsUserRule == "MustRunAs")
            SetContainer(c, "runAsUser", JsonValue.Create(_userRanges[0].Min));
        if (Effective(podSc, c, "runAsGroup") is null && _runAsGroupRule == "MustRunAs")
            SetContainer(c, "runAsGroup", JsonValue.Create(_groupRanges[0].Min));
        if (Effective(podSc, c, "seLinuxOptions") is null && _seLinuxRule == "MustRunAs")
            SetContainer(c, "seLinuxOptions", _seLinuxOptions!.DeepClone());
        if (Effective(podSc, c, "runAsNonRoot") is null && Effective(podSc, c, "runAsUser") is null && _runAsUserRule == "MustRunAsNonRoot")
            SetContainer(c, "runAsNonRoot", JsonValue.Create(true));

        var caps = GenerateCapabilities(c, out var changed);
        if (changed) SetContainer(c, "capabilities", caps);

        var csc = Obj(c, "securityContext");
        if (Bool(_spec, "readOnlyRootFilesystem") == true && IsNull(csc, "readOnlyRootFilesystem"))
            SetContainer(c, "readOnlyRootFilesystem", JsonValue.Create(true));
        if (Bool(_spec, "defaultAllowPrivilegeEscalation") is { } dape && IsNull(Obj(c, "securityContext"), "allowPrivilegeEscalation"))
            SetContainer(c, "allowPrivilegeEscalation", JsonValue.Create(dape));
        if (Bool(_spec, "allowPrivilegeEscalation") == false && IsNull(Obj(c, "securityContext"), "allowPrivilegeEscalation"))
            SetContainer(c, "allowPrivilegeEscalation", JsonValue.Create(false));
    }

    /// <summary>capabilities.Generate: default adds (unless dropped) and required drops merged into the container's.</summary>
    private JsonObject? GenerateCapabilities(JsonObject c, out bool changed)
    {
        var defaultAdd = new SortedSet<string>(Strings(_spec, "defaultAddCapabilities"), StringComparer.Ordinal);
        var requiredDrop = new SortedSet<string>(Strings(_spec, "requiredDropCapabilities"), StringComparer.Ordinal);
        var current = Obj(Obj(c, "securityContext"), "capabilities");
        var containerAdd = new SortedSet<string>(Strings(current, "add"), StringComparer.Ordinal);
        var containerDrop = new SortedSet<string>(Strings(current, "drop"), StringComparer.Ordinal);
        defaultAdd.ExceptWith(containerDrop);
        var combinedAdd = new SortedSet<string>(defaultAdd.Concat(containerAdd), StringComparer.Ordinal);
        var combinedDrop = new SortedSet<string>(requiredDrop.Concat(containerDrop), StringComparer.Ordinal);
        if (combinedAdd.Count == containerAdd.Count && combinedDrop.Count == containerDrop.Count)
        {
            changed = false;
            return current;
        }
        changed = true;
        var result = new JsonObject();
        if (combinedAdd.Count > 0) result["add"] = new JsonArray([.. combinedAdd.Select(x => (JsonNode)JsonValue.Create(x))]);
        if (combinedDrop.Count > 0) result["drop"] = new JsonArray([.. combinedDrop.Select(x => (JsonNode)JsonValue.Create(x))]);
        return result;
    }

    // ---- validation -----------------------------------------------------------------------

    public List<FieldError> ValidatePod(JsonObject pod)
    {
        var errs = new List<FieldError>();
        var spec = Obj(pod, "spec") ?? new JsonObject();
        var sc = Obj(spec, "securityContext");
        const string scPath = "spec.securityContext";

        var fsGroups = Long(sc, "fsGroup") is { } fs ? new List<long> { fs } : [];
        ValidateGroups(errs, scPath + ".fsGroup", _fsGroupRule, _fsRanges, fsGroups);
        ValidateGroups(errs, scPath + ".supplementalGroups", _supGroupsRule, _supRanges, Longs(sc, "supplementalGroups"));
        ValidatePodSeccomp(errs, pod);
        ValidateSeLinux(errs, scPath + ".seLinuxOptions", Obj(sc, "seLinuxOptions"));

        if (Bool(_spec, "hostNetwork") != true && Bool(spec, "hostNetwork") == true)
            errs.Add(FieldError.Invalid(scPath + ".hostNetwork", "true", "Host network is not allowed to be used", quoted: false));
        if (Bool(_spec, "hostPID") != true && Bool(spec, "hostPID") == true)
            errs.Add(FieldError.Invalid(scPath + ".hostPID", "true", "Host PID is not allowed to be used", quoted: false));
        if (Bool(_spec, "hostIPC") != true && Bool(spec, "hostIPC") == true)
            errs.Add(FieldError.Invalid(scPath + ".hostIPC", "true", "Host IPC is not allowed to be used", quoted: false));

        ValidateSysctls(errs, sc);
        ValidateVolumes(errs, spec);
        if (Obj(_spec, "runtimeClass") is { } rc && spec["runtimeClassName"] is JsonValue rcn)
        {
            var actual = JsonRead.StrOrEmpty(rcn);
            var names = Strings(rc, "allowedRuntimeClassNames");
            if (!names.Contains("*") && !names.Contains(actual))
                errs.Add(FieldError.Invalid("spec.runtimeClassName", actual, ""));
        }

        foreach (var (c, path) in Containers(spec)) ValidateContainer(errs, pod, spec, c, path);
        return errs;
    }

    private static void ValidateGroups(List<FieldError> errs, string path, string rule, List<(long Min, long Max)> ranges, List<long> groups)
    {
        if (rule is not ("MustRunAs" or "MayRunAs")) return;
        if (rule == "MustRunAs" && groups.Count == 0 && ranges.Count > 0)
            errs.Add(FieldError.Invalid(path, GoInt64s(groups), "unable to validate empty groups against required ranges", quoted: false));
        foreach (var g in groups)
            if (!ranges.Any(r => g >= r.Min && g <= r.Max))
                errs.Add(FieldError.Invalid(path, GoInt64s(groups), $"group {g} must be in the ranges: {GoRanges(ranges)}", quoted: false));
    }

    private void ValidateSeLinux(List<FieldError> errs, string path, JsonObject? seLinux)
    {
        if (_seLinuxRule != "MustRunAs") return;
        if (seLinux is null)
        {
            errs.Add(FieldError.Required(path));
            return;
        }
        foreach (var key in new[] { "level", "role", "type", "user" })
        {
            var want = JsonRead.StrOrEmpty(_seLinuxOptions, key);
            var got = JsonRead.StrOrEmpty(seLinux, key);
            var equal = key == "level" ? LevelsEqual(want, got) : want == got;
            if (!equal) errs.Add(FieldError.Invalid(path + "." + key, got, $"must be {want}"));
        }
    }

    /// <summary>SELinux levels compare by sensitivity and the set of categories.</summary>
    private static bool LevelsEqual(string a, string b)
    {
        if (a == b) return true;
        static (string, HashSet<string>) Parse(string l)
        {
            var parts = l.Split(':', 2);
            return (parts[0], parts.Length > 1 ? parts[1].Split(',').ToHashSet() : []);
        }
        var (sa, ca) = Parse(a);
        var (sb, cb) = Parse(b);
        return sa == sb && ca.SetEquals(cb);
    }

    private bool SeccompProfileAllowed(string profile) =>
        (_allowedSeccomp.Count == 0 && profile.Length == 0) || _allowAnySeccomp || _allowedSeccomp.Contains(profile);

    private void ValidatePodSeccomp(List<FieldError> errs, JsonObject pod)
    {
        const string path = "pod.metadata.annotations[" + SeccompPodAnnotation + "]";
        var profile = Obj(Obj(pod, "metadata"), "annotations")?[SeccompPodAnnotation] is JsonValue v ? JsonRead.StrOrEmpty(v) : "";
        if (profile.Length == 0 && Obj(Obj(Obj(pod, "spec"), "securityContext"), "seccompProfile") is { } field)
            profile = SeccompAnnotationValue(field);
        if (!_allowAnySeccomp && _allowedSeccomp.Count == 0 && profile.Length > 0)
        {
            errs.Add(FieldError.Forbidden(path, "seccomp may not be set"));
            return;
        }
        if (!SeccompProfileAllowed(profile))
            errs.Add(FieldError.Forbidden(path, $"{profile} is not an allowed seccomp profile. Valid values are {_allowedSeccompString}"));
    }

    private void ValidateContainerSeccomp(List<FieldError> errs, JsonObject pod, JsonObject c)
    {
        var name = JsonRead.StrOrEmpty(c, "name");
        var path = "pod.metadata.annotations[" + SeccompContainerAnnotationPrefix + name + "]";
        var profile = Obj(Obj(pod, "metadata"), "annotations")?[SeccompContainerAnnotationPrefix + name] is JsonValue v ? JsonRead.StrOrEmpty(v) : "";
        if (profile.Length == 0 && Obj(Obj(c, "securityContext"), "seccompProfile") is { } field) profile = SeccompAnnotationValue(field);
        if (profile.Length == 0) return;
        if (!_allowAnySeccomp && _allowedSeccomp.Count == 0)
        {
            errs.Add(FieldError.Forbidden(path, "seccomp may not be set"));
            return;
        }
        if (!SeccompProfileAllowed(profile))
            errs.Add(FieldError.Forbidden(path, $"{profile} is not an allowed seccomp profile. Valid values are {_allowedSeccompString}"));
    }

    private void ValidateSysctls(List<FieldError> errs, JsonObject? sc)
    {
        var forbidden = Strings(_spec, "forbiddenSysctls");
        var allowedUnsafe = Strings(_spec, "allowedUnsafeSysctls");
        var i = 0;
        foreach (var s in Arr(sc, "sysctls")?.OfType<JsonObject>() ?? [])
        {
            var name = JsonRead.StrOrEmpty(s, "name");
            var path = $"pod.spec.securityContext.sysctls[{i++}]";
            if (Matches(forbidden, name)) errs.Add(FieldError.Forbidden(path, $"sysctl \"{name}\" is not allowed"));
            else if (SafeSysctls.Contains(name) || Matches(allowedUnsafe, name)) continue;
            else errs.Add(FieldError.Forbidden(path, $"unsafe sysctl \"{name}\" is not allowed"));
        }

        static bool Matches(List<string> patterns, string name) => patterns.Any(p =>
            p.EndsWith('*') ? name.StartsWith(p[..^1], StringComparison.Ordinal) : p == name);
    }

    private void ValidateVolumes(List<FieldError> errs, JsonObject spec)
    {
        var allowed = Strings(_spec, "volumes");
        var allowAll = allowed.Contains("*");
        var i = 0;
        foreach (var v in new PodSpecView(spec).Volumes)
        {
            var path = $"spec.volumes[{i++}]";
            var fsType = v.Select(kv => kv.Key).Where(VolumeFsTypes.ContainsKey).Select(k => VolumeFsTypes[k]).FirstOrDefault();
            if (fsType is null)
            {
                errs.Add(FieldError.Invalid(path, "", "unknown volume type for volume"));
                continue;
            }
            if (!allowAll && !allowed.Contains(fsType))
            {
                errs.Add(FieldError.Invalid(path, fsType, $"{fsType} volumes are not allowed to be used"));
                continue;
            }
            switch (fsType)
            {
                case "hostPath":
                    var hostPath = JsonRead.StrOrEmpty(Obj(v, "hostPath"), "path");
                    var (allows, readOnly) = AllowsHostPath(hostPath);
                    if (!allows) errs.Add(FieldError.Invalid(path + ".hostPath.pathPrefix", hostPath, "is not allowed to be used"));
                    else if (readOnly)
                    {
                        var volumeName = JsonRead.StrOrEmpty(v, "name");
                        foreach (var (c, cpath) in Containers(spec))
                        {
                            var m = 0;
                            foreach (var mount in Arr(c, "volumeMounts")?.OfType<JsonObject>() ?? [])
                            {
                                if (JsonRead.StrOrEmpty(mount, "name") == volumeName && Bool(mount, "readOnly") != true)
                                    errs.Add(FieldError.Invalid($"{cpath}.volumeMounts[{m}].readOnly", "false", "must be read-only", quoted: false));
                                m++;
                            }
                        }
                    }
                    break;
                case "flexVolume":
                    var drivers = Arr(_spec, "allowedFlexVolumes")?.OfType<JsonObject>().Select(d => JsonRead.StrOrEmpty(d, "driver")).ToList() ?? [];
                    var driver = JsonRead.StrOrEmpty(Obj(v, "flexVolume"), "driver");
                    if (drivers.Count > 0 && !drivers.Contains(driver))
                        errs.Add(FieldError.Invalid(path + ".driver", driver, "Flexvolume driver is not allowed to be used"));
                    break;
                case "csi":
                    var csiDrivers = Arr(_spec, "allowedCSIDrivers")?.OfType<JsonObject>().Select(d => JsonRead.StrOrEmpty(d, "name")).ToList() ?? [];
                    var csiDriver = JsonRead.StrOrEmpty(Obj(v, "csi"), "driver");
                    if (csiDrivers.Count > 0 && !csiDrivers.Contains(csiDriver))
                        errs.Add(FieldError.Invalid(path + ".csi.driver", csiDriver, "Inline CSI driver is not allowed to be used"));
                    break;
            }
        }
    }

    /// <summary>psputil.AllowsHostVolumePath.</summary>
    private (bool Allows, bool ReadOnly) AllowsHostPath(string hostPath)
    {
        var allowed = Arr(_spec, "allowedHostPaths")?.OfType<JsonObject>().ToList() ?? [];
        if (allowed.Count == 0) return (true, false);
        var allows = false;
        var readOnly = false;
        foreach (var a in allowed)
        {
            if (!HasPathPrefix(hostPath, JsonRead.StrOrEmpty(a, "pathPrefix"))) continue;
            if (Bool(a, "readOnly") != true) return (true, false);
            allows = true;
            readOnly = true;
        }
        return (allows, readOnly);
    }

    /// <summary>psputil.hasPathPrefix: prefix by whole path segments, trailing slashes ignored.</summary>
    private static bool HasPathPrefix(string s, string prefix)
    {
        s = Clean(s);
        prefix = Clean(prefix);
        if (prefix.Length > 1 && prefix.EndsWith('/')) prefix = prefix[..^1];
        if (!s.StartsWith(prefix, StringComparison.Ordinal)) return false;
        if (s.Length == prefix.Length || prefix.EndsWith('/')) return true;
        return s[prefix.Length] == '/';

        static string Clean(string p)
        {
            if (p.Length == 0) return ".";
            var rooted = p.StartsWith('/');
            var parts = new List<string>();
            foreach (var seg in p.Split('/'))
            {
                if (seg is "" or ".") continue;
                if (seg == ".." && parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
                else if (seg != ".." || !rooted) parts.Add(seg);
            }
            var joined = string.Join('/', parts);
            return rooted ? "/" + joined : joined.Length == 0 ? "." : joined;
        }
    }

    private void ValidateContainer(List<FieldError> errs, JsonObject pod, JsonObject podSpec, JsonObject c, string containerPath)
    {
        var podSc = Obj(podSpec, "securityContext");
        var sc = Obj(c, "securityContext");
        var scPath = containerPath + ".securityContext";

        // RunAsUser strategy
        var runAsUser = Long(EffectiveObj(podSc, c), "runAsUser");
        var runAsNonRoot = Bool(EffectiveObj(podSc, c), "runAsNonRoot");
        switch (_runAsUserRule)
        {
            case "MustRunAs":
                if (runAsUser is null) errs.Add(FieldError.Required(scPath + ".runAsUser"));
                else if (!_userRanges.Any(r => runAsUser >= r.Min && runAsUser <= r.Max))
                    errs.Add(FieldError.Invalid(scPath + ".runAsUser", Num(runAsUser.Value), $"must be in the ranges: {GoRanges(_userRanges)}", quoted: false));
                break;
            case "MustRunAsNonRoot":
                if (runAsNonRoot is null && runAsUser is null) errs.Add(FieldError.Required(scPath + ".runAsNonRoot", "must be true"));
                else if (runAsNonRoot == false) errs.Add(FieldError.Invalid(scPath + ".runAsNonRoot", "false", "must be true", quoted: false));
                else if (runAsUser == 0) errs.Add(FieldError.Invalid(scPath + ".runAsUser", "0", "running with the root UID is forbidden", quoted: false));
                break;
        }

        var runAsGroup = Long(EffectiveObj(podSc, c), "runAsGroup");
        ValidateGroups(errs, scPath, _runAsGroupRule, _groupRanges, runAsGroup is { } g ? [g] : []);
        ValidateSeLinux(errs, scPath + ".seLinuxOptions", EffectiveObj(podSc, c)["seLinuxOptions"] as JsonObject);
        ValidateContainerSeccomp(errs, pod, c);

        if (Bool(_spec, "privileged") != true && Bool(sc, "privileged") == true)
            errs.Add(FieldError.Invalid(scPath + ".privileged", "true", "Privileged containers are not allowed", quoted: false));

        var procMount = sc?["procMount"] is JsonValue pm ? JsonRead.StrOrEmpty(pm) : "Default";
        var allowedProcMounts = Strings(_spec, "allowedProcMountTypes");
        if (allowedProcMounts.Count == 0) allowedProcMounts = ["Default"];
        if (!allowedProcMounts.Contains(procMount))
            errs.Add(FieldError.Invalid(scPath + ".procMount", procMount, "ProcMountType is not allowed"));

        ValidateCapabilities(errs, scPath + ".capabilities", Obj(sc, "capabilities"));

        foreach (var port in Arr(c, "ports")?.OfType<JsonObject>() ?? [])
        {
            var hostPort = Long(port, "hostPort") ?? 0;
            if (hostPort > 0 && !(Arr(_spec, "hostPorts")?.OfType<JsonObject>().Any(r => hostPort >= (Long(r, "min") ?? 0) && hostPort <= (Long(r, "max") ?? 0)) ?? false))
                errs.Add(FieldError.Invalid(containerPath + ".hostPort", Num(hostPort),
                    $"Host port {hostPort} is not allowed to be used. Allowed ports: [{HostPortRanges()}]", quoted: false));
        }

        if (Bool(_spec, "readOnlyRootFilesystem") == true)
        {
            var ro = Bool(sc, "readOnlyRootFilesystem");
            if (ro is null) errs.Add(FieldError.Invalid(scPath + ".readOnlyRootFilesystem", "null", "ReadOnlyRootFilesystem may not be nil and must be set to true", quoted: false));
            else if (ro == false) errs.Add(FieldError.Invalid(scPath + ".readOnlyRootFilesystem", "false", "ReadOnlyRootFilesystem must be set to true", quoted: false));
        }

        var allowEscalation = Bool(sc, "allowPrivilegeEscalation");
        if (Bool(_spec, "allowPrivilegeEscalation") == false && allowEscalation != false)
            errs.Add(FieldError.Invalid(scPath + ".allowPrivilegeEscalation", allowEscalation is null ? "null" : "true",
                "Allowing privilege escalation for containers is not allowed", quoted: false));
    }

    private void ValidateCapabilities(List<FieldError> errs, string path, JsonObject? caps)
    {
        var requiredDrop = Strings(_spec, "requiredDropCapabilities");
        if (caps is null)
        {
            if (requiredDrop.Count > 0) errs.Add(FieldError.Invalid(path, "null", "required capabilities are not set on the securityContext", quoted: false));
            return;
        }
        var allowed = Strings(_spec, "allowedCapabilities");
        if (allowed.Contains("*")) return;
        var defaultAdd = Strings(_spec, "defaultAddCapabilities");
        foreach (var add in Strings(caps, "add"))
            if (!defaultAdd.Contains(add) && !allowed.Contains(add))
                errs.Add(FieldError.Invalid(path + ".add", add, "capability may not be added"));
        var drops = Strings(caps, "drop");
        foreach (var rd in requiredDrop)
            if (!drops.Contains(rd))
                errs.Add(FieldError.Invalid(path + ".drop", GoCaps(caps["drop"] is JsonArray ? drops : null), $"{rd} is required to be dropped but was not found", quoted: false));
    }

    private string HostPortRanges() => string.Join(",", Arr(_spec, "hostPorts")?.OfType<JsonObject>().Select(r =>
    {
        var min = Long(r, "min") ?? 0;
        var max = Long(r, "max") ?? 0;
        return min == max ? Num(min) : $"{Num(min)}-{Num(max)}";
    }) ?? []);

    // ---- helpers --------------------------------------------------------------------------

    /// <summary>Init containers, containers, ephemeral containers, with their field paths (pods.VisitContainersWithPath).</summary>
    private static IEnumerable<(JsonObject Container, string Path)> Containers(JsonObject podSpec)
    {
        foreach (var key in new[] { "initContainers", "containers", "ephemeralContainers" })
        {
            var i = 0;
            foreach (var c in Arr(podSpec, key)?.OfType<JsonObject>() ?? [])
                yield return (c, $"spec.{key}[{i++}]");
        }
    }

    /// <summary>The container's value of a field that may also be set pod-wide, else the pod's.</summary>
    private static JsonNode? Effective(JsonObject? podSc, JsonObject c, string key)
    {
        var csc = Obj(c, "securityContext");
        if (csc?[key] is { } v) return v;
        return podSc?[key];
    }

    private static JsonObject EffectiveObj(JsonObject? podSc, JsonObject c)
    {
        var o = new JsonObject();
        foreach (var key in new[] { "runAsUser", "runAsGroup", "runAsNonRoot", "seLinuxOptions" })
            if (Effective(podSc, c, key) is { } v) o[key] = v.DeepClone();
        return o;
    }

    /// <summary>Sets a container security context field, unless the effective value is already that.</summary>
    private static void SetContainer(JsonObject c, string key, JsonNode? value)
    {
        if (value is null)
        {
            if (Obj(c, "securityContext") is { } existing && existing.ContainsKey(key)) existing[key] = null;
            return;
        }
        EnsureObj(c, "securityContext")[key] = value;
    }

    private static JsonObject EnsureSc(JsonObject podSpec) => EnsureObj(podSpec, "securityContext");

    private static JsonObject EnsureObj(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject o) return o;
        var created = new JsonObject();
        parent[key] = created;
        return created;
    }

    private static bool IsNull(JsonObject? o, string key) => o?[key] is null;
    private static JsonObject? Obj(JsonObject? o, string key) => JsonRead.Obj(o, key);
    private static JsonArray? Arr(JsonObject? o, string key) => JsonRead.Arr(o, key);
    private static bool? Bool(JsonObject? o, string key) => JsonRead.Bool(o, key);
    private static long? Long(JsonObject? o, string key) => JsonRead.Long(o, key);
    private static List<string> Strings(JsonObject? o, string key) => Arr(o, key)?.OfType<JsonValue>().Select(v => JsonRead.StrOrEmpty(v)).ToList() ?? [];
    private static List<long> Longs(JsonObject? o, string key) => Arr(o, key)?.OfType<JsonValue>()
        .Select(v => long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : 0).ToList() ?? [];
    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static List<(long, long)> Ranges(JsonObject? strategy) =>
        Arr(strategy, "ranges")?.OfType<JsonObject>().Select(r => (Long(r, "min") ?? 0, Long(r, "max") ?? 0)).ToList() ?? [];

    /// <summary>%v of []policy.IDRange: <c>[{1 65535}]</c>.</summary>
    private static string GoRanges(List<(long Min, long Max)> ranges) =>
        "[" + string.Join(" ", ranges.Select(r => $"{{{Num(r.Min)} {Num(r.Max)}}}")) + "]";

    /// <summary>%#v of []int64.</summary>
    private static string GoInt64s(List<long> values) =>
        values.Count == 0 ? "[]int64(nil)" : "[]int64{" + string.Join(", ", values.Select(Num)) + "}";

    /// <summary>%#v of []core.Capability.</summary>
    private static string GoCaps(List<string>? caps) =>
        caps is null ? "[]core.Capability(nil)" : "[]core.Capability{" + string.Join(", ", caps.Select(c => "\"" + c + "\"")) + "}";
}
