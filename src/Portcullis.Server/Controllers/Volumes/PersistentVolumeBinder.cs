using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Events;
using Portcullis.Server.Controllers.Workloads;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Volumes;

/// <summary>
/// kube-controller-manager's PersistentVolume controller (pkg/controller/volume/persistentvolume/pv_controller.go),
/// simplified, with the host-path provisioner kube-controller-manager runs under <c>--enable-hostpath-provisioner</c>
/// standing in for every storage class:
/// <list type="bullet">
/// <item>an unbound claim binds the volume <see cref="VolumeMatching.BestMatch"/> finds; when none fits, a volume
/// <c>pvc-&lt;claim uid&gt;</c> is provisioned for it (hostPath <c>/tmp/hostpath_pv/&lt;uid&gt;</c>, reclaim policy
/// Delete, <c>pv.kubernetes.io/provisioned-by: kubernetes.io/host-path</c>) pre-bound to the claim — except for a
/// claim with a selector, which dynamic provisioning does not serve;</item>
/// <item>binding is written both ways, volume first: the volume's claimRef (with
/// <c>pv.kubernetes.io/bound-by-controller</c> when the controller chose it) and phase Bound, then the claim's
/// volumeName with <c>pv.kubernetes.io/bind-completed</c>, and its status (Bound, access modes, capacity);</item>
/// <item>a volume whose claim is gone is Released, and deleted when its reclaim policy is Delete; a volume without
/// a claim is Available.</item>
/// </list>
/// Keys are claims ("namespace/name") and volumes (their name alone).
/// </summary>
internal sealed class PersistentVolumeBinder : QueueController
{
    public const string Provisioner = "kubernetes.io/host-path";
    private const string EventComponent = "persistentvolume-controller";
    private const string BoundByController = "pv.kubernetes.io/bound-by-controller";
    private const string BindCompleted = "pv.kubernetes.io/bind-completed";
    private const string ProvisionedBy = "pv.kubernetes.io/provisioned-by";

    private readonly Informer _volumes;

    public PersistentVolumeBinder(ControllerContext ctx) : base(ctx, "persistent-volume-binder", ctx.Informers.For("", "persistentvolumeclaims"))
    {
        _volumes = Informers.For("", "persistentvolumes");
    }

    private GenericStore Claims => Primary.Store;
    private GenericStore Volumes => _volumes.Store;

    protected override void OnChange(InformerEvent e)
    {
        if (e.Source == _volumes)
        {
            Enqueue("", e.Name);
            foreach (var pv in new[] { e.Object, e.OldObject })
                if (pv?["spec"]?["claimRef"] is JsonObject r) Enqueue(JsonRead.StrOrEmpty(r, "namespace"), JsonRead.StrOrEmpty(r, "name"));
            // A volume that became free may serve a waiting claim.
            if (e.Object is { } freed && freed["spec"]?["claimRef"] is null)
                foreach (var claim in Primary.List())
                    if (JsonRead.StrOrEmpty(claim["spec"] as JsonObject, "volumeName").Length == 0) Enqueue(Meta.Namespace(claim), Meta.Name(claim));
        }
        else if (e.Source == Primary && e.Type == Storage.KeyEventType.Delete && e.OldObject?["spec"]?["volumeName"] is JsonValue v)
            Enqueue("", JsonRead.StrOrEmpty(v));
    }

    protected override Task SyncAsync(string ns, string name, CancellationToken ct) =>
        ns.Length == 0 ? SyncVolumeAsync(name, ct) : SyncClaimAsync(ns, name, ct);

    private async Task SyncClaimAsync(string ns, string name, CancellationToken ct)
    {
        if (Primary.Get(ns, name) is not { } claim || Meta.IsDeleting(claim)) return;
        var volumeName = JsonRead.StrOrEmpty(claim["spec"] as JsonObject, "volumeName");
        if (volumeName.Length > 0)
        {
            // syncBoundClaim: finish a binding half done, or report the volume lost.
            if (_volumes.Get("", volumeName) is not { } pv)
            {
                if (JsonRead.Str(claim["status"] as JsonObject, "phase") == "Bound")
                {
                    await ClaimStatusAsync(claim, null, "Lost", ct);
                    await EventAsync(claim, "Warning", "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!", ct);
                }
                return;
            }
            var claimRef = pv["spec"]?["claimRef"] as JsonObject;
            if (claimRef is null || VolumeMatching.ReferencesClaim(claimRef, claim)) await BindAsync(pv, claim, ct);
            else if (JsonRead.Str(claim["status"] as JsonObject, "phase") == "Bound")
            {
                await ClaimStatusAsync(claim, null, "Lost", ct);
                await EventAsync(claim, "Warning", "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly", ct);
            }
            return;
        }
        if (VolumeMatching.BestMatch(_volumes.List(), claim) is { } match)
        {
            await BindAsync(match, claim, ct);
            return;
        }
        if (claim["spec"]?["selector"] is JsonObject)
        {
            await EventAsync(claim, "Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set", ct);
            return;
        }
        await ProvisionAsync(claim, ct);
    }

    /// <summary>provisionClaimOperation with the host-path provisioner: the volume is made pre-bound to the claim.</summary>
    private async Task ProvisionAsync(JsonObject claim, CancellationToken ct)
    {
        var pvName = "pvc-" + Meta.Uid(claim);
        if (_volumes.Get("", pvName) is not null) return; // made already; its binding follows
        var claim2 = await SetProvisionerAsync(claim, ct);
        var spec = claim2["spec"] as JsonObject ?? new JsonObject();
        var pvSpec = new JsonObject
        {
            ["capacity"] = new JsonObject { ["storage"] = spec["resources"]?["requests"]?["storage"]?.DeepClone() },
            ["hostPath"] = new JsonObject { ["path"] = "/tmp/hostpath_pv/" + Guid.NewGuid().ToString(), ["type"] = "" },
            ["accessModes"] = spec["accessModes"]?.DeepClone(),
            ["claimRef"] = ClaimRef(claim2),
            ["persistentVolumeReclaimPolicy"] = "Delete",
            ["volumeMode"] = spec["volumeMode"]?.DeepClone() ?? "Filesystem",
        };
        if (VolumeMatching.ClaimClass(claim2) is { Length: > 0 } cls) pvSpec["storageClassName"] = cls;
        var pv = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "PersistentVolume",
            ["metadata"] = new JsonObject
            {
                ["name"] = pvName,
                ["annotations"] = new JsonObject { [BoundByController] = "yes", [ProvisionedBy] = Provisioner },
            },
            ["spec"] = pvSpec,
        };
        try { await Volumes.CreateAsync("", pv, Writes, ct); }
        catch (ApiException e) when (e.Code == 409 && e.Reason == "AlreadyExists") { return; }
        catch (ApiException e)
        {
            await EventAsync(claim, "Warning", "ProvisioningFailed", $"Failed to provision volume with StorageClass \"{VolumeMatching.ClaimClass(claim)}\": {e.Message}", ct);
            throw;
        }
        await EventAsync(claim, "Normal", "ProvisioningSucceeded", $"Successfully provisioned volume {pvName} using {Provisioner}", ct);
    }

    /// <summary>setClaimProvisioner: the claim names who provisions it (both annotations, as upstream writes them).</summary>
    private async Task<JsonObject> SetProvisionerAsync(JsonObject claim, CancellationToken ct)
    {
        var annotations = Meta.Of(claim)["annotations"] as JsonObject;
        if (JsonRead.Str(annotations, "volume.kubernetes.io/storage-provisioner") == Provisioner) return claim;
        return await Claims.UpdateAsync(Meta.Namespace(claim), Meta.Name(claim), "", cur =>
        {
            RequireSame(cur, claim);
            var a = Meta.Of(cur)["annotations"] as JsonObject ?? new JsonObject();
            a["volume.beta.kubernetes.io/storage-provisioner"] = Provisioner;
            a["volume.kubernetes.io/storage-provisioner"] = Provisioner;
            Meta.Set(cur, "annotations", a);
            return cur;
        }, Writes, ct);
    }

    /// <summary>bind: the volume to the claim (claimRef, phase Bound), then the claim to the volume (volumeName, status).</summary>
    private async Task BindAsync(JsonObject pv, JsonObject claim, CancellationToken ct)
    {
        var pvName = Meta.Name(pv);
        var claimRef = pv["spec"]?["claimRef"] as JsonObject;
        if (claimRef is null || JsonRead.StrOrEmpty(claimRef, "uid") != Meta.Uid(claim))
        {
            var boundByController = claimRef is null;
            pv = await Volumes.UpdateAsync("", pvName, "", cur =>
            {
                RequireSame(cur, pv);
                if (cur["spec"] is not JsonObject spec) throw ApiErrors.Conflict("persistentvolumes", "", pvName, "the volume has no spec");
                if (spec["claimRef"] is JsonObject existing && !VolumeMatching.ReferencesClaim(existing, claim))
                    throw ApiErrors.Conflict("persistentvolumes", "", pvName, "the volume was bound to another claim meanwhile");
                spec["claimRef"] = ClaimRef(claim);
                if (boundByController)
                {
                    var a = Meta.Of(cur)["annotations"] as JsonObject ?? new JsonObject();
                    a[BoundByController] = "yes";
                    Meta.Set(cur, "annotations", a);
                }
                return cur;
            }, Writes, ct);
        }
        await VolumePhaseAsync(pv, "Bound", ct);

        var volumeName = JsonRead.StrOrEmpty(claim["spec"] as JsonObject, "volumeName");
        var annotations = Meta.Of(claim)["annotations"] as JsonObject;
        if (volumeName != pvName || JsonRead.Str(annotations, BindCompleted) != "yes")
        {
            var byController = volumeName.Length == 0;
            claim = await Claims.UpdateAsync(Meta.Namespace(claim), Meta.Name(claim), "", cur =>
            {
                RequireSame(cur, claim);
                ((JsonObject)(cur["spec"] ??= new JsonObject()))["volumeName"] = pvName;
                var a = Meta.Of(cur)["annotations"] as JsonObject ?? new JsonObject();
                a[BindCompleted] = "yes";
                if (byController) a[BoundByController] = "yes";
                Meta.Set(cur, "annotations", a);
                return cur;
            }, Writes, ct);
        }
        await ClaimStatusAsync(claim, pv, "Bound", ct);
    }

    /// <summary>updateClaimStatus: the phase, and for Bound the volume's access modes and capacity.</summary>
    private async Task ClaimStatusAsync(JsonObject claim, JsonObject? pv, string phase, CancellationToken ct)
    {
        var status = claim["status"] as JsonObject;
        var modes = pv?["spec"]?["accessModes"];
        var capacity = pv?["spec"]?["capacity"];
        if (JsonRead.Str(status, "phase") == phase && (pv is null
            || (JsonNode.DeepEquals(status?["accessModes"], modes) && JsonNode.DeepEquals(status?["capacity"], capacity)))) return;
        await Claims.UpdateAsync(Meta.Namespace(claim), Meta.Name(claim), "status", cur =>
        {
            RequireSame(cur, claim);
            var s = cur["status"] as JsonObject ?? new JsonObject();
            s["phase"] = phase;
            if (pv is not null)
            {
                s["accessModes"] = modes?.DeepClone();
                s["capacity"] = capacity?.DeepClone();
            }
            cur["status"] = s;
            return cur;
        }, Writes, ct);
    }

    private async Task<JsonObject> VolumePhaseAsync(JsonObject pv, string phase, CancellationToken ct)
    {
        if (JsonRead.Str(pv["status"] as JsonObject, "phase") == phase) return pv;
        return await Volumes.UpdateAsync("", Meta.Name(pv), "status", cur =>
        {
            RequireSame(cur, pv);
            var s = cur["status"] as JsonObject ?? new JsonObject();
            s["phase"] = phase;
            cur["status"] = s;
            return cur;
        }, Writes, ct);
    }

    /// <summary>syncVolume: Available without a claim, Bound to a live claim, Released (then reclaimed) once the claim is gone.</summary>
    private async Task SyncVolumeAsync(string name, CancellationToken ct)
    {
        if (_volumes.Get("", name) is not { } pv || Meta.IsDeleting(pv)) return;
        if (pv["spec"]?["claimRef"] is not JsonObject claimRef)
        {
            await VolumePhaseAsync(pv, "Available", ct);
            return;
        }
        var uid = JsonRead.StrOrEmpty(claimRef, "uid");
        if (uid.Length == 0) return; // pre-bound by the user: the claim's sync binds it
        var claim = Primary.Get(JsonRead.StrOrEmpty(claimRef, "namespace"), JsonRead.StrOrEmpty(claimRef, "name"));
        if (claim is not null && Meta.Uid(claim) == uid)
        {
            if (JsonRead.StrOrEmpty(claim["spec"] as JsonObject, "volumeName") == name) await VolumePhaseAsync(pv, "Bound", ct);
            else Enqueue(Meta.Namespace(claim), Meta.Name(claim));
            return;
        }
        // The claim is gone: Released, then the reclaim policy.
        pv = await VolumePhaseAsync(pv, "Released", ct);
        switch (JsonRead.Str(pv["spec"] as JsonObject, "persistentVolumeReclaimPolicy"))
        {
            case "Delete":
                try { await Volumes.DeleteAsync("", name, new DeleteOptions(User, PreconditionUid: Meta.Uid(pv)), ct); }
                catch (ApiException e) when (e.Code is 404 or 409) { }
                break;
            case "Recycle":
                // The recycler scrubs the volume; here there is nothing on it, so it is made Available again.
                await Volumes.UpdateAsync("", name, "", cur =>
                {
                    RequireSame(cur, pv);
                    (cur["spec"] as JsonObject)?.Remove("claimRef");
                    return cur;
                }, Writes, ct);
                break;
        }
    }

    private static JsonObject ClaimRef(JsonObject claim) => new()
    {
        ["kind"] = "PersistentVolumeClaim",
        ["namespace"] = Meta.Namespace(claim),
        ["name"] = Meta.Name(claim),
        ["uid"] = Meta.Uid(claim),
        ["apiVersion"] = "v1",
        ["resourceVersion"] = Meta.ResourceVersion(claim),
    };

    private static void RequireSame(JsonObject cur, JsonObject seen)
    {
        if (Meta.Uid(cur) != Meta.Uid(seen)) throw ApiErrors.Conflict("persistentvolumes", "", Meta.Name(seen), "the object was replaced meanwhile");
    }

    private Task EventAsync(JsonObject claim, string type, string reason, string message, CancellationToken ct) =>
        Context.Events.LegacyEventAsync(EventRecorder.Reference(claim, "v1", "PersistentVolumeClaim"), type, reason, message, EventComponent, "", User, ct);
}
