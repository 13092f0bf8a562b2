using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>Pod volumes, volume sources, mounts and devices (ValidateVolumes and friends).</summary>
internal static partial class PodVolumes
{
    private const string FileModeMsg = "must be a number between 0 and 0777 (octal), both inclusive";

    // Each source: its JSON key, the name upstream uses in "more than 1 volume type", and the path it validates under.
    private static readonly (string Key, string Dup, string Sub)[] Sources =
    [
        ("emptyDir", "emptyDir", "emptyDir"), ("hostPath", "hostPath", "hostPath"), ("gitRepo", "gitRepo", "gitRepo"),
        ("gcePersistentDisk", "gcePersistentDisk", "persistentDisk"), ("awsElasticBlockStore", "awsElasticBlockStore", "awsElasticBlockStore"),
        ("secret", "secret", "secret"), ("nfs", "nfs", "nfs"), ("iscsi", "iscsi", "iscsi"), ("glusterfs", "glusterfs", "glusterfs"),
        ("flocker", "flocker", "flocker"), ("persistentVolumeClaim", "persistentVolumeClaim", "persistentVolumeClaim"),
        ("rbd", "rbd", "rbd"), ("cinder", "cinder", "cinder"), ("cephfs", "cephFS", "cephfs"), ("quobyte", "quobyte", "quobyte"),
        ("downwardAPI", "downwarAPI", "downwardAPI"), ("fc", "fc", "fc"), ("flexVolume", "flexVolume", "flexVolume"),
        ("configMap", "configMap", "configMap"), ("azureFile", "azureFile", "azureFile"), ("vsphereVolume", "vsphereVolume", "vsphereVolume"),
        ("photonPersistentDisk", "photonPersistentDisk", "photonPersistentDisk"), ("portworxVolume", "portworxVolume", "portworxVolume"),
        ("azureDisk", "azureDisk", "azureDisk"), ("storageos", "storageos", "storageos"), ("projected", "projected", "projected"),
        ("scaleIO", "scaleIO", "scaleIO"), ("csi", "csi", "csi"), ("ephemeral", "ephemeral", "ephemeral"), ("image", "image", "image"),
    ];

    private static readonly string[] HostPathTypes = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"];

    /// <summary>ValidateVolumes; returns the valid volumes by name (their sources).</summary>
    public static Dictionary<string, JsonObject> Validate(List<FieldError> errs, JsonObject spec, JsonObject? podMeta, string path, bool resourceIsPod)
    {
        var vols = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var podName = podMeta is null ? "" : J.S(podMeta, "name");
        var createdPvcs = new HashSet<string>();
        if (podName.Length > 0)
            foreach (var (_, v) in J.Items(spec, "volumes"))
                if (J.Has(v, "ephemeral")) createdPvcs.Add(podName + "-" + J.S(v, "name"));
        foreach (var (i, vol) in J.Items(spec, "volumes"))
        {
            var ip = P.Index(path, i);
            var np = P.Child(ip, "name");
            var name = J.S(vol, "name");
            var el = new List<FieldError>();
            Source(el, vol, ip, name, podName, resourceIsPod);
            if (name.Length == 0) el.Add(Err.Required(np));
            else Formats.Dns1123Label(el, np, name);
            if (vols.ContainsKey(name)) el.Add(Err.Duplicate(np, name));
            if (el.Count == 0) vols[name] = vol;
            else errs.AddRange(el);
            if (J.O(vol, "persistentVolumeClaim") is { } pvc && createdPvcs.Contains(J.S(pvc, "claimName")))
                errs.Add(Err.Invalid(P.Child(ip, "persistentVolumeClaim", "claimName"), J.S(pvc, "claimName"),
                    "must not reference a PVC that gets created for an ephemeral volume"));
        }
        return vols;
    }

    private static void Source(List<FieldError> errs, JsonObject vol, string path, string volName, string podName, bool resourceIsPod)
    {
        var num = 0;
        foreach (var (key, dup, sub) in Sources)
        {
            if (J.O(vol, key) is not { } src) continue;
            if (num > 0 && key != "emptyDir") { errs.Add(Err.Forbidden(P.Child(path, dup), "may not specify more than 1 volume type")); continue; }
            num++;
            var sp = P.Child(path, sub);
            switch (key)
            {
                case "emptyDir":
                    if (J.Q(src["sizeLimit"]) is { } sl && sl.Nanos.Sign < 0)
                        errs.Add(Err.Forbidden(P.Child(path, "emptyDir", "sizeLimit"), "SizeLimit field must be a valid resource quantity"));
                    break;
                case "hostPath":
                    var hp = J.S(src, "path");
                    if (hp.Length == 0) { errs.Add(Err.Required(P.Child(sp, "path"))); break; }
                    NoBacksteps(errs, hp, P.Child(sp, "path"));
                    if (J.SN(src, "type") is { } t && !HostPathTypes.Contains(t)) errs.Add(Err.NotSupported(P.Child(sp, "type"), t, HostPathTypes));
                    break;
                case "gitRepo":
                    Need(errs, src, sp, "repository");
                    LocalDescending(errs, J.S(src, "directory"), P.Child(sp, "directory"));
                    break;
                case "gcePersistentDisk":
                    Need(errs, src, sp, "pdName");
                    Partition(errs, src, sp);
                    break;
                case "awsElasticBlockStore":
                    Need(errs, src, sp, "volumeID");
                    Partition(errs, src, sp);
                    break;
                case "secret":
                    Need(errs, src, sp, "secretName");
                    Mode(errs, src, "defaultMode", sp);
                    foreach (var (j, kp) in J.Items(src, "items")) KeyToPath(errs, kp, P.Index(P.Child(sp, "items"), j));
                    break;
                case "configMap":
                    Need(errs, src, sp, "name");
                    Mode(errs, src, "defaultMode", sp);
                    foreach (var (j, kp) in J.Items(src, "items")) KeyToPath(errs, kp, P.Index(P.Child(sp, "items"), j));
                    break;
                case "nfs":
                    Need(errs, src, sp, "server");
                    Need(errs, src, sp, "path");
                    if (!J.S(src, "path").StartsWith('/')) errs.Add(Err.Invalid(P.Child(sp, "path"), J.S(src, "path"), "must be an absolute path"));
                    break;
                case "iscsi":
                    Need(errs, src, sp, "targetPortal");
                    var iqn = J.S(src, "iqn");
                    if (iqn.Length == 0) errs.Add(Err.Required(P.Child(sp, "iqn")));
                    else if (!IscsiPrefixed(iqn))
                        errs.Add(Err.Invalid(P.Child(sp, "iqn"), iqn, "must be valid format starting with iqn, eui, or naa"));
                    else if (!IscsiWellFormed(iqn)) errs.Add(Err.Invalid(P.Child(sp, "iqn"), iqn, "must be valid format"));
                    if (J.L(src, "lun") is < 0 or > 255) errs.Add(Err.Invalid(P.Child(sp, "lun"), J.L(src, "lun")!.Value, Formats.RangeError(0, 255)));
                    if ((J.True(src, "chapAuthDiscovery") || J.True(src, "chapAuthSession")) && !J.Has(src, "secretRef"))
                        errs.Add(Err.Required(P.Child(sp, "secretRef")));
                    if (J.SN(src, "initiatorName") is { } initiator)
                    {
                        // Upstream spells this path in lower case.
                        var ipath = P.Child(sp, "initiatorname");
                        if (!IscsiPrefixed(initiator)) errs.Add(Err.Invalid(ipath, initiator, "must be valid format starting with iqn, eui, or naa"));
                        if (!IscsiWellFormed(initiator)) errs.Add(Err.Invalid(ipath, initiator, "must be valid format"));
                    }
                    if (J.Has(src, "initiatorName") && (volName + ":" + J.S(src, "targetPortal")).Length > 64)
                        errs.Add(Err.Invalid(P.Child(path, "name"), volName, "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified."));
                    break;
                case "glusterfs":
                    Need(errs, src, sp, "endpoints");
                    Need(errs, src, sp, "path");
                    break;
                case "flocker":
                    var dn = J.S(src, "datasetName");
                    var du = J.S(src, "datasetUUID");
                    if (dn.Length == 0 && du.Length == 0) errs.Add(Err.Required(sp, "one of datasetName and datasetUUID is required"));
                    if (dn.Length > 0 && du.Length > 0) errs.Add(Err.Invalid(sp, "resource", "datasetName and datasetUUID can not be specified simultaneously"));
                    if (dn.Contains('/')) errs.Add(Err.Invalid(P.Child(sp, "datasetName"), dn, "must not contain '/'"));
                    break;
                case "persistentVolumeClaim":
                    Need(errs, src, sp, "claimName");
                    break;
                case "rbd":
                    if (J.Count(src, "monitors") == 0) errs.Add(Err.Required(P.Child(sp, "monitors")));
                    Need(errs, src, sp, "image");
                    break;
                case "cinder":
                    Need(errs, src, sp, "volumeID");
                    if (J.O(src, "secretRef") is { } cref && J.S(cref, "name").Length == 0) errs.Add(Err.Required(P.Child(sp, "secretRef", "name")));
                    break;
                case "cephfs":
                    if (J.Count(src, "monitors") == 0) errs.Add(Err.Required(P.Child(sp, "monitors")));
                    break;
                case "quobyte":
                    if (J.S(src, "registry").Length == 0)
                        errs.Add(Err.Required(P.Child(sp, "registry"), "must be a host:port pair or multiple pairs separated by commas"));
                    Need(errs, src, sp, "volume");
                    break;
                case "downwardAPI":
                    Mode(errs, src, "defaultMode", sp);
                    foreach (var (_, f) in J.Items(src, "items")) DownwardAPIFile(errs, f, sp);
                    break;
                case "fc":
                    var wwns = J.Count(src, "targetWWNs");
                    var wwids = J.Count(src, "wwids");
                    if (wwns < 1 && wwids < 1) errs.Add(Err.Required(P.Child(sp, "targetWWNs"), "must specify either targetWWNs or wwids, but not both"));
                    if (wwns != 0 && wwids != 0)
                        errs.Add(Err.InvalidRaw(P.Child(sp, "targetWWNs"), Go.Strings(src, "targetWWNs"), "targetWWNs and wwids can not be specified simultaneously"));
                    if (wwns != 0)
                    {
                        if (J.L(src, "lun") is not { } lun) errs.Add(Err.Required(P.Child(sp, "lun"), "lun is required if targetWWNs is specified"));
                        else if (lun is < 0 or > 255) errs.Add(Err.Invalid(P.Child(sp, "lun"), lun, Formats.RangeError(0, 255)));
                    }
                    break;
                case "flexVolume":
                    Need(errs, src, sp, "driver");
                    foreach (var k in (J.Map(src, "options") ?? []).Keys)
                    {
                        var ns = k.Contains('/') ? k[..k.IndexOf('/')] : k;
                        var norm = "." + ns.ToLowerInvariant();
                        if (norm.EndsWith(".kubernetes.io", StringComparison.Ordinal) || norm.EndsWith(".k8s.io", StringComparison.Ordinal))
                            errs.Add(Err.Invalid(P.Key(P.Child(sp, "options"), k), k, "kubernetes.io and k8s.io namespaces are reserved"));
                    }
                    break;
                case "azureFile":
                    Need(errs, src, sp, "secretName");
                    Need(errs, src, sp, "shareName");
                    break;
                case "vsphereVolume": Need(errs, src, sp, "volumePath"); break;
                case "photonPersistentDisk": Need(errs, src, sp, "pdID"); break;
                case "portworxVolume": Need(errs, src, sp, "volumeID"); break;
                case "azureDisk":
                    Need(errs, src, sp, "diskName");
                    Need(errs, src, sp, "diskURI");
                    if (J.SN(src, "cachingMode") is { } cm && cm is not ("None" or "ReadOnly" or "ReadWrite"))
                        errs.Add(Err.NotSupported(P.Child(sp, "cachingMode"), cm, "None", "ReadOnly", "ReadWrite"));
                    if (J.SN(src, "kind") is { } kind && kind is not ("Dedicated" or "Managed" or "Shared"))
                        errs.Add(Err.NotSupported(P.Child(sp, "kind"), kind, "Dedicated", "Managed", "Shared"));
                    break;
                case "storageos":
                    var svn = J.S(src, "volumeName");
                    if (svn.Length == 0) errs.Add(Err.Required(P.Child(sp, "volumeName")));
                    else Formats.Dns1123Label(errs, P.Child(sp, "volumeName"), svn);
                    if (J.S(src, "volumeNamespace") is { Length: > 0 } svns) Formats.Dns1123Label(errs, P.Child(sp, "volumeNamespace"), svns);
                    if (J.O(src, "secretRef") is { } sref && J.S(sref, "name").Length == 0) errs.Add(Err.Required(P.Child(sp, "secretRef", "name")));
                    break;
                case "projected":
                    Mode(errs, src, "defaultMode", sp);
                    Projected(errs, src, sp);
                    break;
                case "scaleIO":
                    Need(errs, src, sp, "gateway");
                    Need(errs, src, sp, "system");
                    Need(errs, src, sp, "volumeName");
                    break;
                case "csi":
                    CsiDriverName(errs, J.S(src, "driver"), P.Child(sp, "driver"));
                    if (J.O(src, "nodePublishSecretRef") is { } npr)
                    {
                        var n = J.S(npr, "name");
                        if (n.Length == 0) errs.Add(Err.Required(P.Child(sp, "nodePublishSecretRef", "name")));
                        else Formats.Dns1123Subdomain(errs, P.Child(sp, "name"), n);
                    }
                    break;
                case "ephemeral":
                    if (J.O(src, "volumeClaimTemplate") is not { } tpl) errs.Add(Err.Required(P.Child(sp, "volumeClaimTemplate")));
                    else ClaimTemplate(errs, tpl, P.Child(sp, "volumeClaimTemplate"));
                    if (podName.Length > 0 && volName.Length > 0)
                    {
                        var pvcName = podName + "-" + volName;
                        foreach (var m in NameValidation.IsDns1123Subdomain(pvcName))
                            errs.Add(Err.Invalid(P.Child(path, "name"), volName, $"PVC name \"{pvcName}\": {m}"));
                    }
                    break;
                case "image":
                    if (resourceIsPod && J.S(src, "reference").Length == 0) errs.Add(Err.Required(P.Child(sp, "reference")));
                    PodContainers.PullPolicy(errs, J.S(src, "pullPolicy"), P.Child(sp, "pullPolicy"));
                    break;
            }
        }
        if (num == 0) errs.Add(Err.Required(path, "must specify a volume type"));
    }

    // Go's iscsiInitiator{Iqn,Eui,Naa}Regex; the iqn one is not anchored at the start, as upstream's.
    [GeneratedRegex(@"iqn\.[0-9]{4}-[0-9]{2}\.([a-zA-Z0-9\-.]+)(:[^,;*&$|\t\n\f\r ]+)\z")] private static partial Regex IqnRx();
    [GeneratedRegex(@"^eui.[a-zA-Z0-9]{16}\z")] private static partial Regex EuiRx();
    [GeneratedRegex(@"^naa.[a-zA-Z0-9]{32}\z")] private static partial Regex NaaRx();

    private static bool IscsiPrefixed(string v) =>
        v.StartsWith("iqn", StringComparison.Ordinal) || v.StartsWith("eui", StringComparison.Ordinal) || v.StartsWith("naa", StringComparison.Ordinal);

    /// <summary>False only for a value with a known prefix that does not match that prefix's pattern.</summary>
    private static bool IscsiWellFormed(string v) =>
        v.StartsWith("iqn", StringComparison.Ordinal) ? IqnRx().IsMatch(v)
        : v.StartsWith("eui", StringComparison.Ordinal) ? EuiRx().IsMatch(v)
        : !v.StartsWith("naa", StringComparison.Ordinal) || NaaRx().IsMatch(v);

    private static void Need(List<FieldError> errs, JsonObject src, string path, string field)
    {
        if (J.S(src, field).Length == 0) errs.Add(Err.Required(P.Child(path, field)));
    }

    private static void Partition(List<FieldError> errs, JsonObject src, string path)
    {
        if (J.L(src, "partition") is { } p and (< 0 or > 255)) errs.Add(Err.Invalid(P.Child(path, "partition"), p, Formats.RangeError(1, 255)));
    }

    private static void Mode(List<FieldError> errs, JsonObject src, string field, string path)
    {
        if (J.L(src, field) is { } m and (< 0 or > 511)) errs.Add(Err.Invalid(P.Child(path, field), m, FileModeMsg));
    }

    public static void NoBacksteps(List<FieldError> errs, string target, string path)
    {
        if (target.Split('/').Contains("..")) errs.Add(Err.Invalid(path, target, "must not contain '..'"));
    }

    public static void LocalDescending(List<FieldError> errs, string target, string path)
    {
        if (target.StartsWith('/')) errs.Add(Err.Invalid(path, target, "must be a relative path"));
        NoBacksteps(errs, target, path);
    }

    public static void LocalNonReserved(List<FieldError> errs, string target, string path)
    {
        LocalDescending(errs, target, path);
        if (target.StartsWith("..", StringComparison.Ordinal) && !target.StartsWith("../", StringComparison.Ordinal))
            errs.Add(Err.Invalid(path, target, "must not start with '..'"));
    }

    private static void KeyToPath(List<FieldError> errs, JsonObject kp, string path)
    {
        if (J.S(kp, "key").Length == 0) errs.Add(Err.Required(P.Child(path, "key")));
        if (J.S(kp, "path").Length == 0) errs.Add(Err.Required(P.Child(path, "path")));
        LocalNonReserved(errs, J.S(kp, "path"), P.Child(path, "path"));
        Mode(errs, kp, "mode", path);
    }

    private static readonly string[] VolumeFieldPaths = ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"];

    private static void DownwardAPIFile(List<FieldError> errs, JsonObject f, string path)
    {
        if (J.S(f, "path").Length == 0) errs.Add(Err.Required(P.Child(path, "path")));
        LocalNonReserved(errs, J.S(f, "path"), P.Child(path, "path"));
        if (J.O(f, "fieldRef") is { } fr)
        {
            PodContainers.ObjectFieldSelector(errs, fr, VolumeFieldPaths, P.Child(path, "fieldRef"));
            if (J.Has(f, "resourceFieldRef")) errs.Add(Err.Invalid(path, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"));
        }
        else if (J.O(f, "resourceFieldRef") is { } rf) PodContainers.ResourceFieldSelector(errs, rf, P.Child(path, "resourceFieldRef"), volume: true);
        else errs.Add(Err.Required(path, "one of fieldRef and resourceFieldRef is required"));
        Mode(errs, f, "mode", path);
    }

    private static void Projected(List<FieldError> errs, JsonObject proj, string path)
    {
        var all = new HashSet<string>();
        void Track(string p, string value)
        {
            if (!all.Add(p)) errs.Add(Err.Invalid(path, value, "conflicting duplicate paths"));
        }
        foreach (var (i, s) in J.Items(proj, "sources"))
        {
            var sp = P.Index(P.Child(path, "sources"), i);
            var num = 0;
            foreach (var kind in new[] { "secret", "configMap" })
            {
                if (J.O(s, kind) is not { } src) continue;
                num++;
                var kp = P.Child(sp, kind);
                if (J.S(src, "name").Length == 0) errs.Add(Err.Required(P.Child(kp, "name")));
                foreach (var (j, item) in J.Items(src, "items"))
                {
                    KeyToPath(errs, item, P.Index(P.Child(kp, "items"), j));
                    if (J.S(item, "path") is { Length: > 0 } ip) Track(ip, J.S(src, "name"));
                }
            }
            if (J.O(s, "downwardAPI") is { } dapi)
            {
                num++;
                foreach (var (_, f) in J.Items(dapi, "items"))
                {
                    DownwardAPIFile(errs, f, P.Child(sp, "downwardAPI"));
                    if (J.S(f, "path") is { Length: > 0 } fp) Track(fp, fp);
                }
            }
            if (J.O(s, "serviceAccountToken") is { } sat)
            {
                num++;
                var exp = J.L(sat, "expirationSeconds") ?? 0;
                var ep = P.Child(sp, "serviceAccountToken", "expirationSeconds");
                if (exp < 600) errs.Add(Err.Invalid(ep, exp, "may not specify a duration less than 10 minutes"));
                if (exp > 1L << 32) errs.Add(Err.Invalid(ep, exp, "may not specify a duration larger than 2^32 seconds"));
                if (J.S(sat, "path").Length == 0) errs.Add(Err.Required(P.Child(path, "path")));
                else LocalNonReserved(errs, J.S(sat, "path"), P.Child(path, "path"));
            }
            if (J.O(s, "clusterTrustBundle") is { } ctb)
            {
                num++;
                var cp = P.Child(sp, "clusterTrustBundle");
                var hasName = J.Has(ctb, "name");
                var hasSigner = J.Has(ctb, "signerName");
                if (hasName && hasSigner) errs.Add(Err.InvalidRaw(cp, Go.Value(ctb, "core/v1.ClusterTrustBundleProjection"), "only one of name and signerName may be used"));
                else if (hasName && J.S(ctb, "name").Length == 0) errs.Add(Err.Required(P.Child(cp, "name"), "must be a valid object name"));
                else if (hasSigner && J.S(ctb, "signerName").Length == 0) errs.Add(Err.Required(P.Child(cp, "signerName"), "must be a valid signer name"));
                else if (!hasName && !hasSigner) errs.Add(Err.Required(cp, "either name or signerName must be specified"));
                if (J.S(ctb, "path").Length == 0) errs.Add(Err.Required(P.Child(cp, "path")));
                LocalNonReserved(errs, J.S(ctb, "path"), P.Child(cp, "path"));
                Track(J.S(ctb, "path"), J.S(ctb, "path"));
            }
            if (num > 1) errs.Add(Err.Forbidden(sp, "may not specify more than 1 volume type"));
        }
    }

    public static void CsiDriverName(List<FieldError> errs, string driver, string path)
    {
        if (driver.Length == 0) errs.Add(Err.Required(path));
        if (driver.Length > 63) errs.Add(Err.TooLong(path, 63));
        foreach (var m in NameValidation.IsDns1123Subdomain(driver.ToLowerInvariant())) errs.Add(Err.Invalid(path, driver, m));
    }

    private static readonly string[] AccessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];

    /// <summary>ValidatePersistentVolumeClaimTemplate, the parts a pod's ephemeral volume needs.</summary>
    private static void ClaimTemplate(List<FieldError> errs, JsonObject tpl, string path)
    {
        var meta = J.O(tpl, "metadata");
        Formats.Labels(errs, P.Child(path, "metadata", "labels"), J.Map(meta, "labels"));
        if (meta is not null)
            foreach (var (k, _) in meta)
                if (k is not ("labels" or "annotations") && meta[k] is not null && !GoRepr.IsZero(meta[k], new Schema.TypeRef { Kind = Schema.TypeKind.String }))
                    errs.Add(Err.Forbidden(P.Child(path, "metadata", GoRepr.GoName(k) is var g ? char.ToLowerInvariant(g[0]) + g[1..] : k), "cannot be set"));
        ClaimSpec(errs, J.O(tpl, "spec"), P.Child(path, "spec"));
    }

    /// <summary>ValidatePersistentVolumeClaimSpec: access modes, selector, the storage request, class and volume mode.</summary>
    public static void ClaimSpec(List<FieldError> errs, JsonObject? spec, string sp)
    {
        var modes = J.Strs(spec, "accessModes");
        if (modes.Count == 0) errs.Add(Err.Required(P.Child(sp, "accessModes"), "at least 1 access mode is required"));
        Selectors.Validate(errs, J.O(spec, "selector"), P.Child(sp, "selector"));
        bool rwop = false, other = false;
        foreach (var m in modes)
        {
            if (!AccessModes.Contains(m)) errs.Add(Err.NotSupported(P.Child(sp, "accessModes"), m, AccessModes));
            if (m == "ReadWriteOncePod") rwop = true;
            else if (AccessModes.Contains(m)) other = true;
        }
        if (rwop && other) errs.Add(Err.Forbidden(P.Child(sp, "accessModes"), "may not use ReadWriteOncePod with other access modes"));
        var sizePath = P.Key(P.Child(sp, "resources"), "storage");
        if (J.O(J.O(spec, "resources"), "requests")?["storage"] is not { } st) errs.Add(Err.Required(sizePath));
        else if (J.Q(st) is { } q && q.Nanos.Sign <= 0) errs.Add(Err.Invalid(sizePath, Resources.Str(q), "must be greater than zero"));
        if (J.SN(spec, "storageClassName") is { Length: > 0 } sc) Formats.Dns1123Subdomain(errs, P.Child(sp, "storageClassName"), sc);
        if (J.SN(spec, "volumeMode") is { } vm && vm is not ("Block" or "Filesystem")) errs.Add(Err.NotSupported(P.Child(sp, "volumeMode"), vm, "Block", "Filesystem"));
    }
}
