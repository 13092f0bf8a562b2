using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// persistentVolumeClaimRetentionPolicy (StatefulSetAutoDeletePVC, GA; stateful_set_utils.go
/// updateClaimOwnerRefForSetAndPod): the owner references that let the garbage collector delete a set's claims.
/// <c>whenDeleted: Delete</c> makes the set an owner of the claims of pods in range; <c>whenScaled: Delete</c> makes
/// a pod scaled away the owner of its claims. <c>Retain</c> (the default for both) leaves claims unowned, so they
/// outlive the set.
/// </summary>
internal static class StatefulSetClaims
{
    /// <summary>Brings the owner references of the pod's claims in line with the policy (claims missing are skipped).</summary>
    public static async Task UpdateOwnersAsync(StatefulSetController controller, JsonObject set, JsonObject pod, CancellationToken ct)
    {
        var policy = set["spec"]?["persistentVolumeClaimRetentionPolicy"] as JsonObject;
        var whenDeleted = JsonRead.Str(policy, "whenDeleted") ?? "Retain";
        var whenScaled = JsonRead.Str(policy, "whenScaled") ?? "Retain";
        var ordinal = StatefulSetPods.Ordinal(pod);
        var scaledDown = !StatefulSetPods.InOrdinalRange(set, ordinal);
        var setOwns = whenDeleted == "Delete" && (whenScaled == "Retain" || !scaledDown);
        var podOwns = whenScaled == "Delete" && scaledDown;
        foreach (var (_, template) in StatefulSetPods.Claims(set, ordinal))
        {
            if (controller.Claims.Get(Meta.Namespace(set), Meta.Name(template)) is not { } claim) continue;
            var refs = (Meta.Of(claim)["ownerReferences"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            var hasSet = refs.Any(r => JsonRead.Str(r, "uid") == Meta.Uid(set));
            var hasPod = Meta.Uid(pod).Length > 0 && refs.Any(r => JsonRead.Str(r, "uid") == Meta.Uid(pod));
            if (hasSet == setOwns && (hasPod == podOwns || Meta.Uid(pod).Length == 0)) continue;
            try
            {
                await controller.ClaimStore.UpdateAsync(Meta.Namespace(claim), Meta.Name(claim), "", cur =>
                {
                    var kept = (Meta.Of(cur)["ownerReferences"] as JsonArray ?? []).OfType<JsonObject>()
                        .Where(r => JsonRead.Str(r, "uid") != Meta.Uid(set) && JsonRead.Str(r, "uid") != Meta.Uid(pod))
                        .Select(r => (JsonNode)r.DeepClone()).ToList();
                    if (setOwns) kept.Add(Reference(set, "apps/v1", "StatefulSet"));
                    if (podOwns && Meta.Uid(pod).Length > 0) kept.Add(Reference(pod, "v1", "Pod"));
                    if (kept.Count == 0) Meta.Remove(cur, "ownerReferences");
                    else Meta.Set(cur, "ownerReferences", new JsonArray(kept.ToArray()));
                    Meta.Remove(cur, "resourceVersion");
                    return cur;
                }, controller.WriteOptions, ct);
            }
            catch (ApiException e) when (e.Code == 404) { }
        }
    }

    /// <summary>setOwnerRef: a plain owner reference (not the claim's controller).</summary>
    private static JsonObject Reference(JsonObject owner, string apiVersion, string kind) => new()
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = kind,
        ["name"] = Meta.Name(owner),
        ["uid"] = Meta.Uid(owner),
    };
}
