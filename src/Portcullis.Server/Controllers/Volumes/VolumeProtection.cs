using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Workloads;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Volumes;

/// <summary>The finalizers the StorageObjectInUseProtection admission plugin adds, and their removal.</summary>
internal static class Protection
{
    public const string PvcFinalizer = "kubernetes.io/pvc-protection";
    public const string PvFinalizer = "kubernetes.io/pv-protection";

    /// <summary>Removes the finalizer from the object (gone meanwhile: fine).</summary>
    public static async Task RemoveFinalizerAsync(GenericStore store, JsonObject obj, string finalizer, WriteOptions writes, CancellationToken ct)
    {
        try
        {
            await store.UpdateAsync(Meta.Namespace(obj), Meta.Name(obj), "", cur =>
            {
                if (Meta.Uid(cur) != Meta.Uid(obj)) throw ApiErrors.NotFound(store.Definition.Plural, "", Meta.Name(obj));
                var kept = Meta.Finalizers(cur).Where(f => f != finalizer).Select(f => (JsonNode)JsonValue.Create(f)).ToArray();
                if (kept.Length == 0) Meta.Remove(cur, "finalizers");
                else Meta.Set(cur, "finalizers", new JsonArray(kept));
                return cur;
            }, writes, ct);
        }
        catch (ApiException e) when (e.Code == 404) { }
    }
}

/// <summary>
/// pkg/controller/volume/pvcprotection: a claim being deleted keeps <c>kubernetes.io/pvc-protection</c> while a
/// pod that has not terminated uses it (as a persistentVolumeClaim volume, or a generic ephemeral volume
/// <c>&lt;pod&gt;-&lt;volume&gt;</c>); then the finalizer goes and the claim with it.
/// </summary>
internal sealed class PvcProtectionController : QueueController
{
    private readonly Informer _pods;

    public PvcProtectionController(ControllerContext ctx) : base(ctx, "pvc-protection-controller", ctx.Informers.For("", "persistentvolumeclaims"))
    {
        _pods = Informers.For("", "pods");
    }

    protected override void OnChange(InformerEvent e)
    {
        if (e.Source != _pods) return;
        foreach (var pod in new[] { e.Object, e.OldObject })
            if (pod is not null) foreach (var claim in ClaimsOf(pod)) Enqueue(e.Namespace, claim);
    }

    /// <summary>The claims a pod's volumes name.</summary>
    public static IEnumerable<string> ClaimsOf(JsonObject pod)
    {
        foreach (var v in (pod["spec"]?["volumes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (v["persistentVolumeClaim"] is JsonObject pvc) yield return JsonRead.StrOrEmpty(pvc, "claimName");
            else if (v["ephemeral"] is JsonObject) yield return Meta.Name(pod) + "-" + JsonRead.StrOrEmpty(v, "name");
        }
    }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        if (Primary.Get(ns, name) is not { } claim || !Meta.IsDeleting(claim) || !Meta.Finalizers(claim).Contains(Protection.PvcFinalizer)) return;
        var inUse = _pods.List(ns).Any(p => PodFacts.Phase(p) is not ("Succeeded" or "Failed") && ClaimsOf(p).Contains(name));
        if (!inUse) await Protection.RemoveFinalizerAsync(Primary.Store, claim, Protection.PvcFinalizer, Writes, ct);
    }
}

/// <summary>pkg/controller/volume/pvprotection: a volume being deleted keeps <c>kubernetes.io/pv-protection</c> while it is Bound.</summary>
internal sealed class PvProtectionController(ControllerContext ctx)
    : QueueController(ctx, "pv-protection-controller", ctx.Informers.For("", "persistentvolumes"))
{
    protected override void OnChange(InformerEvent e) { }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        if (Primary.Get("", name) is not { } pv || !Meta.IsDeleting(pv) || !Meta.Finalizers(pv).Contains(Protection.PvFinalizer)) return;
        if (JsonRead.Str(pv["status"] as JsonObject, "phase") == "Bound") return;
        await Protection.RemoveFinalizerAsync(Primary.Store, pv, Protection.PvFinalizer, Writes, ct);
    }
}
