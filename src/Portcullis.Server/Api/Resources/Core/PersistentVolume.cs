using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 PersistentVolume, cluster-scoped: its definition and behaviour (upstream pkg/registry/core/persistentvolume).</summary>
internal sealed class PersistentVolumeKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "persistentvolumes", Singular = "persistentvolume", Kind = "PersistentVolume",
        Namespaced = false, ShortNames = ["pv"], Subresources = ["status"],
        Strategy = new PersistentVolumeKind(),
    };

    public override void Default(JsonObject obj) => VolumeDefaults.PersistentVolume(obj);

    /// <summary>PrepareForCreate: status reset to Pending with its transition time (PersistentVolumeLastPhaseTransitionTime, GA).</summary>
    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) =>
        obj["status"] = new JsonObject
        {
            ["phase"] = "Pending",
            ["lastPhaseTransitionTime"] = ObjectShaper.FormatTime(ctx.Time.GetUtcNow()),
        };

    /// <summary>PrepareForUpdate of the status: a phase change stamps lastPhaseTransitionTime.</summary>
    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx)
    {
        if (ctx.Subresource != "status" || J.Obj(obj, "status") is not { } status) return;
        if (J.Str(status, "phase") != J.Str(J.Obj(old, "status"), "phase"))
            status["lastPhaseTransitionTime"] = ObjectShaper.FormatTime(ctx.Time.GetUtcNow());
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => VolumeValidation.Volume(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        subresource == "status" ? [] : Validate(obj, old);

    /// <summary>kubectl get's columns for volumes (printPersistentVolume).</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Capacity", "capacity is the description of the persistent volume's resources and capacity."),
        Col("Access Modes", "accessModes contains all ways the volume can be mounted."),
        Col("Reclaim Policy", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
        Col("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
        Col("Claim", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
        Col("StorageClass", "StorageClass of the pv"),
        Col("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
        Col("Reason", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
        AgeColumn,
        Col("VolumeMode", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.", 1),
    ], (o, now) =>
    {
        var claim = At(o, "spec", "claimRef") is JsonObject r ? Str(r["namespace"]) + "/" + Str(r["name"]) : "";
        return
        [
            Cell(Name(o)), Cell(Str(At(o, "spec", "capacity", "storage")) is { Length: > 0 } c ? c : "0"),
            Cell(VolumeColumns.AccessModes(At(o, "spec", "accessModes"))), Cell(Str(At(o, "spec", "persistentVolumeReclaimPolicy"))),
            Cell(VolumeColumns.Phase(o)), Cell(claim), Cell(VolumeColumns.StorageClass(o)),
            Cell(VolumeColumns.OrUnset(At(o, "spec", "volumeAttributesClassName"))), Cell(Str(At(o, "status", "reason"))),
            Cell(Age(o, now)), Cell(VolumeColumns.OrUnset(At(o, "spec", "volumeMode"))),
        ];
    });
}
