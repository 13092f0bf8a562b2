using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>What container validation needs to know about the pod spec around it.</summary>
internal sealed class PodCtx
{
    public required JsonObject Spec { get; init; }
    public required Dictionary<string, JsonObject> Volumes { get; init; }
    public required HashSet<string> ClaimNames { get; init; }
    public long? GracePeriod { get; init; }
    public string RestartPolicy { get; init; } = "";
    public bool HostUsers { get; init; } = true;
}

/// <summary>Containers: regular, init and ephemeral, and everything inside them.</summary>
internal static class PodContainers
{
    private static readonly string[] Protocols = ["SCTP", "TCP", "UDP"];
    private static readonly string[] EnvFieldPaths =
        ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"];
    private static readonly string[] ConvertibleFieldPaths =
        ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.restartPolicy",
         "spec.serviceAccountName", "spec.schedulerName", "status.phase", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"];
    private static readonly string[] ResourceFieldPaths =
        ["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"];

    public static void Containers(List<FieldError> errs, PodCtx ctx, string path)
    {
        var list = J.Items(ctx.Spec, "containers");
        if (list.Count == 0) { errs.Add(Err.Required(path)); return; }
        var names = new HashSet<string>();
        foreach (var (i, c) in list)
        {
            var p = P.Index(path, i);
            Common(errs, c, ctx, p);
            var name = J.S(c, "name");
            if (!names.Add(name)) errs.Add(Err.Duplicate(P.Child(p, "name"), name));
            if (J.O(c, "lifecycle") is { } lc) Lifecycle(errs, lc, ctx, P.Child(p, "lifecycle"));
            Probe(errs, J.O(c, "livenessProbe"), P.Child(p, "livenessProbe"), "liveness");
            Probe(errs, J.O(c, "readinessProbe"), P.Child(p, "readinessProbe"), "readiness");
            Probe(errs, J.O(c, "startupProbe"), P.Child(p, "startupProbe"), "startup");
            if (J.Has(c, "restartPolicy")) errs.Add(Err.Forbidden(P.Child(p, "restartPolicy"), "may not be set for non-init containers"));
        }
        HostPortConflicts(errs, list.Select(x => x.O).ToList(), path);
    }

    public static void InitContainers(List<FieldError> errs, PodCtx ctx, string path)
    {
        var names = new HashSet<string>(J.Items(ctx.Spec, "containers").Select(x => J.S(x.O, "name")));
        foreach (var (i, c) in J.Items(ctx.Spec, "initContainers"))
        {
            var p = P.Index(path, i);
            Common(errs, c, ctx, p);
            var always = false;
            if (J.SN(c, "restartPolicy") is { } rp)
            {
                if (rp != "Always") errs.Add(Err.NotSupported(P.Child(p, "restartPolicy"), rp, "Always"));
                always = rp == "Always";
            }
            var name = J.S(c, "name");
            if (names.Contains(name)) errs.Add(Err.Duplicate(P.Child(p, "name"), name));
            else if (name.Length > 0) names.Add(name);
            HostPortConflicts(errs, [c], path);
            if (always)
            {
                if (J.O(c, "lifecycle") is { } lc) Lifecycle(errs, lc, ctx, P.Child(p, "lifecycle"));
                Probe(errs, J.O(c, "livenessProbe"), P.Child(p, "livenessProbe"), "liveness");
                Probe(errs, J.O(c, "readinessProbe"), P.Child(p, "readinessProbe"), "readiness");
                Probe(errs, J.O(c, "startupProbe"), P.Child(p, "startupProbe"), "startup");
            }
            else
            {
                foreach (var f in new[] { "lifecycle", "livenessProbe", "readinessProbe", "startupProbe" })
                    if (J.Has(c, f)) errs.Add(Err.Forbidden(P.Child(p, f), "may not be set for init containers without restartPolicy=Always"));
                // Plain init containers cannot be resized; 1.33 lets sidecars (restartPolicy Always) carry a resizePolicy.
                if (J.Count(c, "resizePolicy") > 0)
                    errs.Add(Err.InvalidRaw(P.Child(p, "resizePolicy"), GoRepr.Slice(J.A(c, "resizePolicy"), "core/v1.ContainerResizePolicy"), "must not be set for init containers"));
            }
        }
    }

    private static readonly HashSet<string> EphemeralAllowed =
    [
        "name", "image", "command", "args", "workingDir", "envFrom", "env", "volumeMounts", "volumeDevices", "terminationMessagePath",
        "terminationMessagePolicy", "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty", "targetContainerName",
    ];

    public static void EphemeralContainers(List<FieldError> errs, PodCtx ctx, string path)
    {
        var list = J.Items(ctx.Spec, "ephemeralContainers");
        if (list.Count == 0) return;
        var others = new HashSet<string>();
        foreach (var key in new[] { "containers", "initContainers" })
            foreach (var (_, c) in J.Items(ctx.Spec, key)) others.Add(J.S(c, "name"));
        var all = new HashSet<string>(others);
        foreach (var (i, c) in list)
        {
            var p = P.Index(path, i);
            Common(errs, c, ctx, p);
            OnlyForPod(errs, c, p);
            var name = J.S(c, "name");
            if (!all.Add(name)) errs.Add(Err.Duplicate(P.Child(p, "name"), name));
            if (J.S(c, "targetContainerName") is { Length: > 0 } t && !others.Contains(t))
                errs.Add(Err.NotFound(P.Child(p, "targetContainerName"), t));
            // validateFieldAllowList walks the struct in Go field order and compares each field with its zero value.
            foreach (var f in Schema.SchemaRegistry.Default.Get("core/v1.EphemeralContainerCommon").Fields)
                if (!EphemeralAllowed.Contains(f.JsonName) && !GoRepr.IsZero(c[f.JsonName], f.Type))
                    errs.Add(Err.Forbidden(P.Child(p, f.JsonName), "cannot be set for an Ephemeral Container"));
            foreach (var (j, vm) in J.Items(c, "volumeMounts"))
            {
                if (J.S(vm, "subPath").Length > 0) errs.Add(Err.Forbidden(P.Child(P.Index(P.Child(p, "volumeMounts"), j), "subPath"), "cannot be set for an Ephemeral Container"));
                if (J.S(vm, "subPathExpr").Length > 0) errs.Add(Err.Forbidden(P.Child(P.Index(P.Child(p, "volumeMounts"), j), "subPathExpr"), "cannot be set for an Ephemeral Container"));
            }
        }
    }

    /// <summary>validateContainerOnlyForPod: no leading or trailing whitespace in the image.</summary>
    public static void OnlyForPod(List<FieldError> errs, JsonObject c, string path)
    {
        var image = J.S(c, "image");
        if (image.Length != image.Trim().Length) errs.Add(Err.Invalid(P.Child(path, "image"), image, "must not have leading or trailing whitespace"));
    }

    private static void Common(List<FieldError> errs, JsonObject c, PodCtx ctx, string path)
    {
        var name = J.S(c, "name");
        if (name.Length == 0) errs.Add(Err.Required(P.Child(path, "name")));
        else Formats.Dns1123Label(errs, P.Child(path, "name"), name);
        if (J.S(c, "image").Length == 0) errs.Add(Err.Required(P.Child(path, "image")));
        var tmp = J.S(c, "terminationMessagePolicy");
        if (tmp.Length == 0) errs.Add(Err.Required(P.Child(path, "terminationMessagePolicy")));
        else if (tmp is not ("File" or "FallbackToLogsOnError"))
            errs.Add(Err.NotSupported(P.Child(path, "terminationMessagePolicy"), tmp, "File", "FallbackToLogsOnError"));
        Ports(errs, c, P.Child(path, "ports"));
        Env(errs, c, P.Child(path, "env"));
        EnvFrom(errs, c, P.Child(path, "envFrom"));
        var devices = J.Items(c, "volumeDevices").Select(x => (Name: J.S(x.O, "name"), Path: J.S(x.O, "devicePath"))).ToList();
        var mounts = J.Items(c, "volumeMounts").Select(x => (Name: J.S(x.O, "name"), Path: J.S(x.O, "mountPath"))).ToList();
        VolumeMounts(errs, c, devices, ctx.Volumes, P.Child(path, "volumeMounts"));
        VolumeDevices(errs, c, mounts, ctx.Volumes, P.Child(path, "volumeDevices"));
        PullPolicy(errs, J.S(c, "imagePullPolicy"), P.Child(path, "imagePullPolicy"));
        Resources.ContainerRequirements(errs, J.O(c, "resources"), ctx.ClaimNames, P.Child(path, "resources"));
        ResizePolicy(errs, c, P.Child(path, "resizePolicy"), ctx.RestartPolicy);
        PodSecurity.ContainerContext(errs, J.O(c, "securityContext"), P.Child(path, "securityContext"), ctx.HostUsers);
    }

    private static void Ports(List<FieldError> errs, JsonObject c, string path)
    {
        var names = new HashSet<string>();
        foreach (var (i, port) in J.Items(c, "ports"))
        {
            var p = P.Index(path, i);
            var name = J.S(port, "name");
            if (name.Length > 0)
            {
                var msgs = Formats.PortName(name);
                if (msgs.Count > 0) foreach (var m in msgs) errs.Add(Err.Invalid(P.Child(p, "name"), name, m));
                else if (!names.Add(name)) errs.Add(Err.Duplicate(P.Child(p, "name"), name));
            }
            var cp = J.L(port, "containerPort") ?? 0;
            if (cp == 0) errs.Add(Err.Required(P.Child(p, "containerPort")));
            else foreach (var m in Formats.PortNum(cp)) errs.Add(Err.Invalid(P.Child(p, "containerPort"), cp, m));
            var hp = J.L(port, "hostPort") ?? 0;
            if (hp != 0) foreach (var m in Formats.PortNum(hp)) errs.Add(Err.Invalid(P.Child(p, "hostPort"), hp, m));
            var proto = J.S(port, "protocol");
            if (proto.Length == 0) errs.Add(Err.Required(P.Child(p, "protocol")));
            else if (!Protocols.Contains(proto)) errs.Add(Err.NotSupported(P.Child(p, "protocol"), proto, Protocols));
        }
    }

    private static void HostPortConflicts(List<FieldError> errs, List<JsonObject> containers, string path)
    {
        var seen = new HashSet<string>();
        for (var ci = 0; ci < containers.Count; ci++)
            foreach (var (pi, port) in J.Items(containers[ci], "ports"))
            {
                var hp = J.L(port, "hostPort") ?? 0;
                if (hp == 0) continue;
                var key = $"{J.S(port, "protocol")}/{J.S(port, "hostIP")}/{hp}";
                if (!seen.Add(key)) errs.Add(Err.Duplicate(P.Child(P.Index(P.Child(P.Index(path, ci), "ports"), pi), "hostPort"), key));
            }
    }

    private static void Env(List<FieldError> errs, JsonObject c, string path)
    {
        foreach (var (i, ev) in J.Items(c, "env"))
        {
            var p = P.Index(path, i);
            var name = J.S(ev, "name");
            if (name.Length == 0) errs.Add(Err.Required(P.Child(p, "name")));
            else foreach (var m in Formats.RelaxedEnvVarName(name)) errs.Add(Err.Invalid(P.Child(p, "name"), name, m));
            if (J.O(ev, "valueFrom") is not { } vf) continue;
            var vp = P.Child(p, "valueFrom");
            var num = 0;
            if (J.O(vf, "fieldRef") is { } fr) { num++; ObjectFieldSelector(errs, fr, EnvFieldPaths, P.Child(vp, "fieldRef")); }
            if (J.O(vf, "resourceFieldRef") is { } rf) { num++; ResourceFieldSelector(errs, rf, P.Child(vp, "resourceFieldRef"), volume: false); }
            if (J.O(vf, "configMapKeyRef") is { } cm) { num++; KeySelector(errs, cm, P.Child(vp, "configMapKeyRef")); }
            if (J.O(vf, "secretKeyRef") is { } sk) { num++; KeySelector(errs, sk, P.Child(vp, "secretKeyRef")); }
            if (num == 0) errs.Add(Err.Invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
            else if (J.S(ev, "value").Length != 0) errs.Add(Err.Invalid(vp, "", "may not be specified when `value` is not empty"));
            else if (num > 1) errs.Add(Err.Invalid(vp, "", "may not have more than one field specified at a time"));
        }
    }

    private static void KeySelector(List<FieldError> errs, JsonObject s, string path)
    {
        var name = J.S(s, "name");
        foreach (var m in NameValidation.IsDns1123Subdomain(name)) errs.Add(Err.Invalid(P.Child(path, "name"), name, m));
        var key = J.S(s, "key");
        if (key.Length == 0) errs.Add(Err.Required(P.Child(path, "key")));
        else foreach (var m in Formats.ConfigMapKey(key)) errs.Add(Err.Invalid(P.Child(path, "key"), key, m));
    }

    public static void ObjectFieldSelector(List<FieldError> errs, JsonObject fs, string[] allowed, string path)
    {
        var apiVersion = J.S(fs, "apiVersion");
        var fieldPath = J.S(fs, "fieldPath");
        if (apiVersion.Length == 0) { errs.Add(Err.Required(P.Child(path, "apiVersion"))); return; }
        if (fieldPath.Length == 0) { errs.Add(Err.Required(P.Child(path, "fieldPath"))); return; }
        var (basePath, subscript, subscripted) = SplitSubscript(fieldPath);
        string? error = null;
        if (apiVersion != "v1") error = "unsupported pod version: " + apiVersion;
        else if (subscripted && basePath is not ("metadata.annotations" or "metadata.labels")) error = "field label does not support subscript: " + fieldPath;
        else if (!subscripted && !ConvertibleFieldPaths.Contains(fieldPath) && fieldPath != "spec.host") error = "field label not supported: " + fieldPath;
        if (error is not null) { errs.Add(Err.Invalid(P.Child(path, "fieldPath"), fieldPath, "error converting fieldPath: " + error)); return; }
        if (subscripted)
        {
            if (basePath == "metadata.annotations") Formats.QualifiedName(errs, path, subscript.ToLowerInvariant());
            else Formats.QualifiedName(errs, path, subscript);
            return;
        }
        var internalPath = fieldPath == "spec.host" ? "spec.nodeName" : fieldPath;
        if (!allowed.Contains(internalPath)) errs.Add(Err.NotSupported(P.Child(path, "fieldPath"), internalPath, allowed));
    }

    private static (string Path, string Subscript, bool Ok) SplitSubscript(string fieldPath)
    {
        if (!fieldPath.EndsWith("']", StringComparison.Ordinal)) return (fieldPath, "", false);
        var s = fieldPath[..^2];
        var idx = s.IndexOf("['", StringComparison.Ordinal);
        if (idx <= 0) return (fieldPath, "", false);
        return (s[..idx], s[(idx + 2)..], true);
    }

    public static void ResourceFieldSelector(List<FieldError> errs, JsonObject fs, string path, bool volume)
    {
        var resource = J.S(fs, "resource");
        if (volume && J.S(fs, "containerName").Length == 0) errs.Add(Err.Required(P.Child(path, "containerName")));
        else if (resource.Length == 0) errs.Add(Err.Required(P.Child(path, "resource")));
        else if (!ResourceFieldPaths.Contains(resource) && !resource.StartsWith("requests.hugepages-", StringComparison.Ordinal)
                 && !resource.StartsWith("limits.hugepages-", StringComparison.Ordinal))
            errs.Add(Err.NotSupported(P.Child(path, "resource"), resource, ResourceFieldPaths));
        if (J.Q(fs["divisor"]) is not { } d || d.Nanos.IsZero) return;
        var ds = d.ToCanonicalString();
        string[] mem = ["1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"];
        var dp = P.Child(path, "divisor");
        if (resource is "limits.cpu" or "requests.cpu" && ds is not ("1m" or "1"))
            errs.Add(Err.Invalid(dp, resource, "only divisor's values 1m and 1 are supported with the cpu resource"));
        else if (resource is "limits.memory" or "requests.memory" && !mem.Contains(ds))
            errs.Add(Err.Invalid(dp, resource, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource"));
        else if (resource is "limits.ephemeral-storage" or "requests.ephemeral-storage" && !mem.Contains(ds))
            errs.Add(Err.Invalid(dp, resource, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource"));
        if ((resource.StartsWith("requests.hugepages-", StringComparison.Ordinal) || resource.StartsWith("limits.hugepages-", StringComparison.Ordinal)) && !mem.Contains(ds))
            errs.Add(Err.Invalid(dp, resource, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the hugepages resource"));
    }

    private static void EnvFrom(List<FieldError> errs, JsonObject c, string path)
    {
        foreach (var (i, ef) in J.Items(c, "envFrom"))
        {
            var p = P.Index(path, i);
            if (J.S(ef, "prefix") is { Length: > 0 } prefix)
                foreach (var m in Formats.RelaxedEnvVarName(prefix)) errs.Add(Err.Invalid(P.Child(p, "prefix"), prefix, m));
            var num = 0;
            foreach (var kind in new[] { "configMapRef", "secretRef" })
            {
                if (J.O(ef, kind) is not { } r) continue;
                num++;
                var name = J.S(r, "name");
                var np = P.Child(P.Child(p, kind), "name");
                if (name.Length == 0) errs.Add(Err.Required(np));
                else
                {
                    var masked = name.Length > 1 && name.EndsWith('-') ? name[..^2] + "a" : name;
                    foreach (var m in NameValidation.IsDns1123Subdomain(masked)) errs.Add(Err.Invalid(np, name, m));
                }
            }
            if (num == 0) errs.Add(Err.Invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"));
            else if (num > 1) errs.Add(Err.Invalid(path, "", "may not have more than one field specified at a time"));
        }
    }

    private static void VolumeMounts(List<FieldError> errs, JsonObject c, List<(string Name, string Path)> devices, Dictionary<string, JsonObject> vols, string path)
    {
        var mountPoints = new HashSet<string>();
        var privileged = J.True(J.O(c, "securityContext"), "privileged");
        foreach (var (i, m) in J.Items(c, "volumeMounts"))
        {
            var p = P.Index(path, i);
            var name = J.S(m, "name");
            var mountPath = J.S(m, "mountPath");
            if (name.Length == 0) errs.Add(Err.Required(P.Child(p, "name")));
            if (!vols.ContainsKey(name)) errs.Add(Err.NotFound(P.Child(p, "name"), name));
            if (mountPath.Length == 0) errs.Add(Err.Required(P.Child(p, "mountPath")));
            if (!mountPoints.Add(mountPath)) errs.Add(Err.Invalid(P.Child(p, "mountPath"), mountPath, "must be unique"));
            if (devices.Any(d => d.Name == name)) errs.Add(Err.Invalid(P.Child(p, "name"), name, "must not already exist in volumeDevices"));
            if (devices.Any(d => d.Path == mountPath)) errs.Add(Err.Invalid(P.Child(p, "mountPath"), mountPath, "must not already exist as a path in volumeDevices"));
            var subPath = J.S(m, "subPath");
            var subPathExpr = J.S(m, "subPathExpr");
            if (vols.TryGetValue(name, out var v) && J.Has(v, "image"))
            {
                if (subPath.Length > 0) errs.Add(Err.Invalid(P.Child(p, "subPath"), subPath, "not allowed in image volume sources"));
                if (subPathExpr.Length > 0) errs.Add(Err.Invalid(P.Child(p, "subPathExpr"), subPathExpr, "not allowed in image volume sources"));
            }
            if (subPath.Length > 0) PodVolumes.LocalDescending(errs, subPath, P.Child(path, "subPath"));
            if (subPathExpr.Length > 0)
            {
                if (subPath.Length > 0) errs.Add(Err.Invalid(P.Child(p, "subPathExpr"), subPathExpr, "subPathExpr and subPath are mutually exclusive"));
                PodVolumes.LocalDescending(errs, subPathExpr, P.Child(path, "subPathExpr"));
            }
            if (J.SN(m, "mountPropagation") is { } mp)
            {
                var pp = P.Child(path, "mountPropagation");
                if (mp is not ("Bidirectional" or "HostToContainer" or "None")) errs.Add(Err.NotSupported(pp, mp, "Bidirectional", "HostToContainer", "None"));
                if (mp == "Bidirectional" && !privileged) errs.Add(Err.Forbidden(pp, "Bidirectional mount propagation is available only to privileged containers"));
            }
            if (J.SN(m, "recursiveReadOnly") is { } rro)
            {
                var rp = P.Child(path, "recursiveReadOnly");
                if (rro is "Enabled" or "IfPossible")
                {
                    if (!J.True(m, "readOnly")) errs.Add(Err.Forbidden(rp, "may only be specified when readOnly is true"));
                    if (J.SN(m, "mountPropagation") is { } mpp && mpp != "None") errs.Add(Err.Forbidden(rp, "may only be specified when mountPropagation is None or not specified"));
                }
                else if (rro != "Disabled") errs.Add(Err.NotSupported(rp, rro, "Disabled", "Enabled", "IfPossible"));
            }
        }
    }

    private static void VolumeDevices(List<FieldError> errs, JsonObject c, List<(string Name, string Path)> mounts, Dictionary<string, JsonObject> vols, string path)
    {
        var paths = new HashSet<string>();
        var names = new HashSet<string>();
        foreach (var (i, d) in J.Items(c, "volumeDevices"))
        {
            var p = P.Index(path, i);
            var name = J.S(d, "name");
            var devPath = J.S(d, "devicePath");
            var matched = vols.TryGetValue(name, out var v);
            var isPvc = matched && (J.Has(v, "persistentVolumeClaim") || J.Has(v, "ephemeral"));
            if (name.Length == 0) errs.Add(Err.Required(P.Child(p, "name")));
            if (names.Contains(name)) errs.Add(Err.Invalid(P.Child(p, "name"), name, "must be unique"));
            if (matched && !isPvc) errs.Add(Err.Invalid(P.Child(p, "name"), name, "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"));
            if (!matched) errs.Add(Err.NotFound(P.Child(p, "name"), name));
            if (devPath.Length == 0) errs.Add(Err.Required(P.Child(p, "devicePath")));
            if (paths.Contains(devPath)) errs.Add(Err.Invalid(P.Child(p, "devicePath"), devPath, "must be unique"));
            if (devPath.Length > 0 && devPath.Split('/').Contains("..")) errs.Add(Err.Invalid(P.Child(p, "devicePath"), devPath, "can not contain backsteps ('..')"));
            else paths.Add(devPath);
            if (mounts.Any(m => m.Name == name)) errs.Add(Err.Invalid(P.Child(p, "name"), name, "must not already exist in volumeMounts"));
            if (mounts.Any(m => m.Path == devPath)) errs.Add(Err.Invalid(P.Child(p, "devicePath"), devPath, "must not already exist as a path in volumeMounts"));
            if (name.Length > 0) names.Add(name);
        }
    }

    public static void PullPolicy(List<FieldError> errs, string policy, string path)
    {
        if (policy.Length == 0) errs.Add(Err.Required(path));
        else if (policy is not ("Always" or "IfNotPresent" or "Never")) errs.Add(Err.NotSupported(path, policy, "Always", "IfNotPresent", "Never"));
    }

    private static void ResizePolicy(List<FieldError> errs, JsonObject c, string path, string podRestartPolicy)
    {
        var seen = new HashSet<string>();
        foreach (var (i, rp) in J.Items(c, "resizePolicy"))
        {
            var name = J.S(rp, "resourceName");
            var policy = J.S(rp, "restartPolicy");
            if (!seen.Add(name)) errs.Add(Err.Duplicate(P.Index(path, i), name));
            if (name.Length == 0) errs.Add(Err.Required(path));
            else if (name is not ("cpu" or "memory")) errs.Add(Err.NotSupported(path, name, "cpu", "memory"));
            if (policy.Length == 0) errs.Add(Err.Required(path));
            else if (policy is not ("NotRequired" or "RestartContainer")) errs.Add(Err.NotSupported(path, policy, "NotRequired", "RestartContainer"));
            if (podRestartPolicy == "Never" && policy != "NotRequired")
                errs.Add(Err.Invalid(path, policy, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
        }
    }

    private static void Probe(List<FieldError> errs, JsonObject? probe, string path, string kind)
    {
        if (probe is null) return;
        Handler(errs, probe, null, path, allowSleep: false);
        foreach (var f in new[] { "initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold" })
            Formats.Nonnegative(errs, P.Child(path, f), J.L(probe, f) ?? 0);
        if (J.L(probe, "terminationGracePeriodSeconds") is { } tg and <= 0)
            errs.Add(Err.Invalid(P.Child(path, "terminationGracePeriodSeconds"), tg, "must be greater than 0"));
        if (kind is "liveness" or "startup" && (J.L(probe, "successThreshold") ?? 0) != 1)
            errs.Add(Err.Invalid(P.Child(path, "successThreshold"), J.L(probe, "successThreshold") ?? 0, "must be 1"));
        if (kind == "readiness" && J.L(probe, "terminationGracePeriodSeconds") is { } rtg)
            errs.Add(Err.Invalid(P.Child(path, "terminationGracePeriodSeconds"), rtg, "must not be set for readinessProbes"));
    }

    private static void Lifecycle(List<FieldError> errs, JsonObject lc, PodCtx ctx, string path)
    {
        if (J.O(lc, "postStart") is { } ps) Handler(errs, ps, ctx.GracePeriod, P.Child(path, "postStart"), allowSleep: true);
        if (J.O(lc, "preStop") is { } pre) Handler(errs, pre, ctx.GracePeriod, P.Child(path, "preStop"), allowSleep: true);
    }

    private static void Handler(List<FieldError> errs, JsonObject h, long? gracePeriod, string path, bool allowSleep)
    {
        var num = 0;
        foreach (var kind in allowSleep ? new[] { "exec", "httpGet", "tcpSocket", "sleep" } : new[] { "exec", "httpGet", "tcpSocket", "grpc" })
        {
            if (J.O(h, kind) is not { } a) continue;
            var kp = P.Child(path, kind);
            if (num > 0) { errs.Add(Err.Forbidden(kp, "may not specify more than 1 handler type")); continue; }
            num++;
            switch (kind)
            {
                case "exec":
                    if (J.Count(a, "command") == 0) errs.Add(Err.Required(P.Child(kp, "command")));
                    break;
                case "httpGet":
                    if (J.S(a, "path").Length == 0) errs.Add(Err.Required(P.Child(kp, "path")));
                    PortNumOrName(errs, a["port"], P.Child(kp, "port"));
                    var scheme = J.S(a, "scheme");
                    if (scheme is not ("HTTP" or "HTTPS")) errs.Add(Err.NotSupported(P.Child(kp, "scheme"), scheme, "HTTP", "HTTPS"));
                    foreach (var (_, hdr) in J.Items(a, "httpHeaders"))
                        foreach (var m in Formats.HttpHeaderName(J.S(hdr, "name"))) errs.Add(Err.Invalid(P.Child(kp, "httpHeaders"), J.S(hdr, "name"), m));
                    break;
                case "tcpSocket":
                    PortNumOrName(errs, a["port"], P.Child(kp, "port"));
                    break;
                case "grpc":
                    var gp = J.L(a, "port") ?? 0;
                    foreach (var m in Formats.PortNum(gp)) errs.Add(Err.Invalid(P.Child(kp, "port"), gp, m));
                    break;
                case "sleep":
                    var secs = J.L(a, "seconds") ?? 0;
                    if (gracePeriod is { } g && (secs < 0 || secs > g))
                        errs.Add(Err.Invalid(kp, secs, $"must be non-negative and less than terminationGracePeriodSeconds ({g})"));
                    break;
            }
        }
        if (num == 0) errs.Add(Err.Required(path, "must specify a handler type"));
    }

    public static void PortNumOrName(List<FieldError> errs, JsonNode? port, string path)
    {
        var v = J.IntOrStr(port) ?? (true, 0, "");
        if (v.IsInt) foreach (var m in Formats.PortNum(v.Int)) errs.Add(Err.Invalid(path, v.Int, m));
        else foreach (var m in Formats.PortName(v.Str)) errs.Add(Err.Invalid(path, v.Str, m));
    }
}
