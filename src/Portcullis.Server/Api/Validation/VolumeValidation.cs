using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// core/v1 PersistentVolume and PersistentVolumeClaim, apps/v1 ControllerRevision (pkg/apis/core/validation
/// ValidatePersistentVolume*, ValidatePersistentVolumeClaim*; pkg/apis/apps/validation ValidateControllerRevision*).
/// </summary>
internal static class VolumeValidation
{
    /// <summary>The members of v1.PersistentVolumeSource (inlined into the spec), each a volume type.</summary>
    public static readonly string[] Sources =
    [
        "gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs", "nfs", "rbd", "iscsi", "cinder", "cephfs",
        "fc", "flocker", "flexVolume", "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk",
        "portworxVolume", "scaleIO", "local", "storageos", "csi",
    ];

    private static readonly string[] AccessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
    private static readonly string[] ReclaimPolicies = ["Delete", "Recycle", "Retain"];

    /// <summary>ValidatePersistentVolumeClaim (create) and ValidatePersistentVolumeClaimUpdate.</summary>
    public static List<FieldError> Claim(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        var spec = J.O(obj, "spec");
        PodVolumes.ClaimSpec(errs, spec, "spec");
        if (old is null) return errs;
        // Claims are immutable (quota and limits are enforced on create), except that the binder sets
        // volumeName once, a class may be set where none was (RetroactiveDefaultStorageClass), and a bound
        // claim's storage request may change (expansion).
        var oldSpec = (JsonObject)(J.O(old, "spec")?.DeepClone() ?? new JsonObject());
        var newSpec = (JsonObject)(spec?.DeepClone() ?? new JsonObject());
        if (J.S(oldSpec, "volumeName").Length == 0) oldSpec["volumeName"] = newSpec["volumeName"]?.DeepClone();
        if (J.SN(oldSpec, "storageClassName") is null) oldSpec["storageClassName"] = newSpec["storageClassName"]?.DeepClone();
        if (J.S(J.O(obj, "status"), "phase") == "Bound" && J.O(J.O(newSpec, "resources"), "requests") is { } requests)
            requests["storage"] = J.O(J.O(oldSpec, "resources"), "requests")?["storage"]?.DeepClone();
        newSpec.Remove("volumeAttributesClassName");
        oldSpec.Remove("volumeAttributesClassName");
        if (!Sem.Equal(newSpec, oldSpec, "core/v1.PersistentVolumeClaimSpec"))
            errs.Add(Err.Forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
        return errs;
    }

    /// <summary>ValidatePersistentVolume (create) and ValidatePersistentVolumeUpdate.</summary>
    public static List<FieldError> Volume(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        var spec = J.O(obj, "spec") ?? new JsonObject();
        var modes = J.Strs(spec, "accessModes");
        if (modes.Count == 0) errs.Add(Err.Required("spec.accessModes", "must specify at least 1 access mode"));
        bool rwop = false, other = false;
        foreach (var m in modes)
        {
            if (!AccessModes.Contains(m)) errs.Add(Err.NotSupported("spec.accessModes", m, AccessModes));
            if (m == "ReadWriteOncePod") rwop = true;
            else if (AccessModes.Contains(m)) other = true;
        }
        if (rwop && other) errs.Add(Err.Forbidden("spec.accessModes", "may not use ReadWriteOncePod with other access modes"));

        var capacity = J.O(spec, "capacity");
        if (capacity is null || capacity.Count == 0) errs.Add(Err.Required("spec.capacity"));
        else if (capacity.Count != 1 || capacity["storage"] is null)
            foreach (var (k, _) in capacity)
                if (k != "storage") errs.Add(Err.NotSupported("spec.capacity", k, "storage"));
        if (capacity?["storage"] is { } st && J.Q(st) is { } q && q.Nanos.Sign < 0)
            errs.Add(Err.Invalid("spec.capacity[storage]", Resources.Str(q), "must be greater than or equal to 0"));

        var policy = J.S(spec, "persistentVolumeReclaimPolicy");
        if (policy.Length > 0 && !ReclaimPolicies.Contains(policy))
            errs.Add(Err.NotSupported("spec.persistentVolumeReclaimPolicy", policy, ReclaimPolicies));
        if (J.S(spec, "storageClassName") is { Length: > 0 } sc) Formats.Dns1123Subdomain(errs, "spec.storageClassName", sc);
        if (J.SN(spec, "volumeMode") is { } vm && vm is not ("Block" or "Filesystem"))
            errs.Add(Err.NotSupported("spec.volumeMode", vm, "Block", "Filesystem"));

        var given = Sources.Where(s => J.Has(spec, s)).ToList();
        if (given.Count == 0) errs.Add(Err.Required("spec", "must specify a volume type"));
        foreach (var extra in given.Skip(1)) errs.Add(Err.Forbidden(P.Child("spec", extra), "may not specify more than 1 volume type"));
        if (J.O(spec, "hostPath") is { } hostPath)
        {
            var path = J.S(hostPath, "path");
            if (path.Length == 0) errs.Add(Err.Required("spec.hostPath.path"));
            if (policy == "Recycle" && path == "/") errs.Add(Err.Forbidden("spec.persistentVolumeReclaimPolicy", "may not be 'recycle' for a hostPath mount of '/'"));
        }
        if (J.O(spec, "local") is { } local)
        {
            if (J.S(local, "path").Length == 0) errs.Add(Err.Required("spec.local.path"));
            if (J.O(J.O(spec, "nodeAffinity"), "required") is null) errs.Add(Err.Required("spec.nodeAffinity", "Local volume requires node affinity"));
        }
        if (old is null) return errs;

        var oldSpec = J.O(old, "spec") ?? new JsonObject();
        var sameSource = Sources.All(s => JsonNode.DeepEquals(spec[s], oldSpec[s]));
        if (!sameSource) errs.Add(Err.Forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation"));
        if (J.SN(oldSpec, "volumeMode") is { } oldMode && J.SN(spec, "volumeMode") != oldMode)
            errs.Add(Err.Invalid("spec.volumeMode", J.SN(spec, "volumeMode") ?? "", Formats.ImmutableMsg));
        return errs;
    }

    /// <summary>ValidateControllerRevisionCreate and ValidateControllerRevisionUpdate (data immutable).</summary>
    public static List<FieldError> ControllerRevision(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        if (obj["data"] is null) errs.Add(Err.Required("data", "data is mandatory"));
        Formats.Nonnegative(errs, "revision", J.L(obj, "revision"));
        if (old is not null && !JsonNode.DeepEquals(obj["data"], old["data"]))
            errs.Add(Err.InvalidRaw("data", "runtime.RawExtension", Formats.ImmutableMsg));
        return errs;
    }
}
