using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 PersistentVolumeClaim: its definition and behaviour (upstream pkg/registry/core/persistentvolumeclaim).</summary>
internal sealed class PersistentVolumeClaimKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "persistentvolumeclaims", Singular = "persistentvolumeclaim", Kind = "PersistentVolumeClaim",
        Namespaced = true, ShortNames = ["pvc"], Subresources = ["status"],
        Strategy = new PersistentVolumeClaimKind(),
    };

    public override void Default(JsonObject obj) => VolumeDefaults.Claim(obj);

    /// <summary>
    /// PrepareForCreate: the status is the binder's (reset; Pending as the defaults make it), and a claim with a
    /// dataSource but no dataSourceRef gets the same reference in both (NormalizeDataSources, AnyVolumeDataSource GA).
    /// </summary>
    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx)
    {
        obj["status"] = new JsonObject { ["phase"] = "Pending" };
        if (J.Obj(obj, "spec") is { } spec && J.Obj(spec, "dataSource") is { } ds && J.IsNull(spec, "dataSourceRef"))
            spec["dataSourceRef"] = ds.DeepClone();
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => VolumeValidation.Claim(obj, old);

    /// <summary>Status writes (the binder) change no spec, so only metadata is checked (ValidatePersistentVolumeClaimStatusUpdate).</summary>
    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        subresource == "status" ? [] : Validate(obj, old);

    /// <summary>kubectl get's columns for claims (printPersistentVolumeClaim).</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Status", "phase represents the current phase of PersistentVolumeClaim."),
        Col("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
        Col("Capacity", "capacity represents the actual resources of the underlying volume."),
        Col("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has."),
        Col("StorageClass", "StorageClass of the pvc"),
        Col("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
        AgeColumn,
        Col("VolumeMode", "volumeMode defines what type of volume is required by the claim.", 1),
    ], (o, now) =>
    {
        var volumeName = Str(At(o, "spec", "volumeName"));
        var bound = volumeName.Length > 0;
        return
        [
            Cell(Name(o)), Cell(VolumeColumns.Phase(o)), Cell(volumeName),
            Cell(bound ? Str(At(o, "status", "capacity", "storage")) : ""),
            Cell(bound ? VolumeColumns.AccessModes(At(o, "status", "accessModes")) : ""),
            Cell(VolumeColumns.StorageClass(o)), Cell(VolumeColumns.OrUnset(At(o, "spec", "volumeAttributesClassName"))),
            Cell(Age(o, now)), Cell(VolumeColumns.OrUnset(At(o, "spec", "volumeMode"))),
        ];
    });
}
