using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// core/v1 defaults of volumes and volume sources (pod volumes, persistent volumes and claims).
/// </summary>
internal static class VolumeDefaults
{
    // Every member of v1.VolumeSource (inlined into v1.Volume), all pointers.
    private static readonly string[] VolumeSources =
    [
        "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs",
        "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
        "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
        "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
    ];

    // 0644, the default file mode of secret, configMap, downwardAPI and projected volumes.
    private const int DefaultMode = 420;

    /// <summary>SetDefaults_Volume and the defaulters of its source.</summary>
    public static void Volume(JsonObject v)
    {
        if (VolumeSources.All(k => J.IsNull(v, k))) v["emptyDir"] = new JsonObject();

        if (J.Obj(v, "hostPath") is { } hostPath) HostPath(hostPath);
        if (J.Obj(v, "secret") is { } secret) J.DefaultPointer(secret, "defaultMode", DefaultMode);
        if (J.Obj(v, "iscsi") is { } iscsi) Iscsi(iscsi);
        if (J.Obj(v, "rbd") is { } rbd) Rbd(rbd);
        if (J.Obj(v, "downwardAPI") is { } downwardApi)
        {
            J.DefaultPointer(downwardApi, "defaultMode", DefaultMode);
            foreach (var item in J.Items(downwardApi, "items")) PodDefaults.FieldRef(J.Obj(item, "fieldRef"));
        }
        if (J.Obj(v, "configMap") is { } configMap) J.DefaultPointer(configMap, "defaultMode", DefaultMode);
        if (J.Obj(v, "azureDisk") is { } azureDisk) AzureDisk(azureDisk);
        if (J.Obj(v, "projected") is { } projected)
        {
            J.DefaultPointer(projected, "defaultMode", DefaultMode);
            foreach (var source in J.Items(projected, "sources"))
            {
                foreach (var item in J.Items(J.Obj(source, "downwardAPI"), "items"))
                    PodDefaults.FieldRef(J.Obj(item, "fieldRef"));
                if (J.Obj(source, "serviceAccountToken") is { } token)
                    J.DefaultPointer(token, "expirationSeconds", 3600L);
            }
        }
        if (J.Obj(v, "scaleIO") is { } scaleIo) ScaleIo(scaleIo);
        if (J.Obj(J.Obj(v, "ephemeral"), "volumeClaimTemplate") is { } claimTemplate
            && J.Ensure(claimTemplate, "spec") is { } claimSpec)
            ClaimSpec(claimSpec);
        // The image source's pull policy is defaulted only under the ImageVolume gate, off in 1.33.
    }

    /// <summary>SetDefaults_HostPathVolumeSource: an unset type is the explicit empty type.</summary>
    public static void HostPath(JsonObject hostPath) => J.DefaultPointer(hostPath, "type", "");

    public static void Iscsi(JsonObject iscsi) => J.DefaultString(iscsi, "iscsiInterface", "default");

    public static void Rbd(JsonObject rbd)
    {
        J.DefaultString(rbd, "pool", "rbd");
        J.DefaultString(rbd, "user", "admin");
        J.DefaultString(rbd, "keyring", "/etc/ceph/keyring");
    }

    public static void AzureDisk(JsonObject azureDisk)
    {
        J.DefaultPointer(azureDisk, "cachingMode", "ReadWrite");
        J.DefaultPointer(azureDisk, "kind", "Shared");
        J.DefaultPointer(azureDisk, "fsType", "ext4");
        J.DefaultPointer(azureDisk, "readOnly", false);
    }

    public static void ScaleIo(JsonObject scaleIo)
    {
        J.DefaultString(scaleIo, "storageMode", "ThinProvisioned");
        J.DefaultString(scaleIo, "fsType", "xfs");
    }

    /// <summary>SetDefaults_PersistentVolumeClaimSpec with its resource lists.</summary>
    public static void ClaimSpec(JsonObject spec)
    {
        J.DefaultPointer(spec, "volumeMode", "Filesystem");
        var resources = J.Obj(spec, "resources");
        J.RoundResourceList(resources, "limits");
        J.RoundResourceList(resources, "requests");
    }

    /// <summary>SetObjectDefaults_PersistentVolumeClaim (also each StatefulSet volumeClaimTemplate).</summary>
    public static void Claim(JsonObject claim)
    {
        if (J.Ensure(claim, "status") is { } status)
        {
            J.DefaultString(status, "phase", "Pending");
            J.RoundResourceList(status, "capacity");
            J.RoundResourceList(status, "allocatedResources");
        }
        if (J.Ensure(claim, "spec") is { } spec) ClaimSpec(spec);
    }

    /// <summary>SetObjectDefaults_PersistentVolume.</summary>
    public static void PersistentVolume(JsonObject pv)
    {
        if (J.Ensure(pv, "status") is { } status) J.DefaultString(status, "phase", "Pending");
        if (J.Ensure(pv, "spec") is not { } spec) return;
        J.DefaultString(spec, "persistentVolumeReclaimPolicy", "Retain");
        J.DefaultPointer(spec, "volumeMode", "Filesystem");
        J.RoundResourceList(spec, "capacity");
        if (J.Obj(spec, "hostPath") is { } hostPath) HostPath(hostPath);
        if (J.Obj(spec, "rbd") is { } rbd) Rbd(rbd);
        if (J.Obj(spec, "iscsi") is { } iscsi) Iscsi(iscsi);
        if (J.Obj(spec, "azureDisk") is { } azureDisk) AzureDisk(azureDisk);
        if (J.Obj(spec, "scaleIO") is { } scaleIo) ScaleIo(scaleIo);
    }
}
