using System.Text.Json.Nodes;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// Owner references as the controllers use them (metav1.GetControllerOf, metav1.NewControllerRef) and
/// upstream's ControllerRefManager (pkg/controller/controller_ref_manager.go): claiming the objects a
/// controller's selector matches, adopting orphans and releasing what no longer matches.
/// </summary>
public static class ControllerRef
{
    /// <summary>The owner reference with <c>controller: true</c>, or null.</summary>
    public static JsonObject? Of(JsonObject obj) =>
        (Meta.Of(obj)["ownerReferences"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(r => JsonRead.Bool(r, "controller") == true);

    /// <summary>The uid of the object's controller, or "".</summary>
    public static string UidOf(JsonObject obj) => Of(obj) is { } r ? JsonRead.StrOrEmpty(r, "uid") : "";

    /// <summary>NewControllerRef: the owner's reference with controller and blockOwnerDeletion set.</summary>
    public static JsonObject New(JsonObject owner, string apiVersion, string kind) => new()
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = kind,
        ["name"] = Meta.Name(owner),
        ["uid"] = Meta.Uid(owner),
        ["controller"] = true,
        ["blockOwnerDeletion"] = true,
    };

    /// <summary>
    /// ClaimObject for each candidate: the ones this owner controls and still matches, after adopting matching
    /// orphans and releasing controlled objects that no longer match. An object that is gone meanwhile is skipped.
    /// </summary>
    /// <param name="store">Where the candidates are written (adopt/release patch their ownerReferences).</param>
    /// <param name="recheckOwner">
    /// Reads the owner fresh before the first adoption (RecheckDeletionTimestamp): it must still be the same
    /// object and not be deleted; otherwise adoption stops with upstream's error.
    /// </param>
    public static async Task<List<JsonObject>> ClaimAsync(GenericStore store, JsonObject owner, string apiVersion, string kind,
        IEnumerable<JsonObject> candidates, Func<JsonObject, bool> matches, Func<CancellationToken, Task<JsonObject?>> recheckOwner,
        WriteOptions writes, CancellationToken ct)
    {
        var claimed = new List<JsonObject>();
        var ownerUid = Meta.Uid(owner);
        var ownerDeleting = Meta.IsDeleting(owner);
        var canAdopt = (bool?)null;
        foreach (var obj in candidates)
        {
            var controllerUid = UidOf(obj);
            if (controllerUid.Length > 0)
            {
                if (controllerUid != ownerUid) continue;
                if (matches(obj)) { claimed.Add(obj); continue; }
                if (ownerDeleting) continue;
                await ReleaseAsync(store, obj, ownerUid, writes, ct);
                continue;
            }
            if (ownerDeleting || !matches(obj) || Meta.IsDeleting(obj)) continue;
            if (Meta.Namespace(owner).Length > 0 && Meta.Namespace(owner) != Meta.Namespace(obj)) continue;
            if (canAdopt is null)
            {
                var fresh = await recheckOwner(ct);
                if (fresh is null || Meta.Uid(fresh) != ownerUid)
                    throw new InvalidOperationException($"original {kind} {Meta.Namespace(owner)}/{Meta.Name(owner)} is gone: got uid {(fresh is null ? "" : Meta.Uid(fresh))}, wanted {ownerUid}");
                if (Meta.IsDeleting(fresh))
                    throw new InvalidOperationException($"{Meta.Namespace(owner)}/{Meta.Name(owner)} has just been deleted at {Meta.Of(fresh)["deletionTimestamp"]}");
                canAdopt = true;
            }
            if (await AdoptAsync(store, obj, New(owner, apiVersion, kind), writes, ct) is { } adopted) claimed.Add(adopted);
        }
        return claimed;
    }

    /// <summary>Adds the controller reference to an orphan (with its uid as precondition); null when it is gone or taken meanwhile.</summary>
    public static async Task<JsonObject?> AdoptAsync(GenericStore store, JsonObject obj, JsonObject controllerRef, WriteOptions writes, CancellationToken ct)
    {
        var uid = Meta.Uid(obj);
        try
        {
            return await store.UpdateAsync(Meta.Namespace(obj), Meta.Name(obj), "", cur =>
            {
                if (Meta.Uid(cur) != uid) throw ApiErrors.NotFound(store.Definition.Plural, store.Definition.Group, Meta.Name(obj));
                if (Of(cur) is not null) throw ApiErrors.Conflict(store.Definition.Plural, store.Definition.Group, Meta.Name(obj), "the object already has a controller");
                var refs = Meta.Of(cur)["ownerReferences"] as JsonArray ?? new JsonArray();
                var kept = new JsonArray(refs.Where(r => JsonRead.Str(r as JsonObject, "uid") != JsonRead.Str(controllerRef, "uid")).Select(r => r!.DeepClone()).ToArray());
                kept.Add((JsonNode)controllerRef.DeepClone());
                Meta.Set(cur, "ownerReferences", kept);
                Meta.Remove(cur, "resourceVersion");
                return cur;
            }, writes, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { return null; }
    }

    /// <summary>Removes the owner's reference (the strategic-merge "$patch: delete" upstream sends); an object gone meanwhile is fine.</summary>
    public static async Task ReleaseAsync(GenericStore store, JsonObject obj, string ownerUid, WriteOptions writes, CancellationToken ct)
    {
        var uid = Meta.Uid(obj);
        try
        {
            await store.UpdateAsync(Meta.Namespace(obj), Meta.Name(obj), "", cur =>
            {
                if (Meta.Uid(cur) != uid) throw ApiErrors.NotFound(store.Definition.Plural, store.Definition.Group, Meta.Name(obj));
                var refs = Meta.Of(cur)["ownerReferences"] as JsonArray ?? new JsonArray();
                var kept = refs.Where(r => JsonRead.Str(r as JsonObject, "uid") != ownerUid).Select(r => r!.DeepClone()).ToArray();
                if (kept.Length == 0) Meta.Remove(cur, "ownerReferences");
                else Meta.Set(cur, "ownerReferences", new JsonArray(kept));
                Meta.Remove(cur, "resourceVersion");
                return cur;
            }, writes, ct);
        }
        catch (ApiException e) when (e.Code == 404) { }
    }
}
