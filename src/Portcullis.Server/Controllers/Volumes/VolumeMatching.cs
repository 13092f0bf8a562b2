using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Volumes;

/// <summary>
/// Which PersistentVolume a claim may bind (pkg/controller/volume/persistentvolume/index.go findBestMatchForClaim and
/// component-helpers' storage/volume FindMatchingVolume): a volume pre-bound to the claim wins; otherwise the
/// smallest volume that is not bound to another claim, not being deleted, of the claim's class and volume mode,
/// offering every access mode the claim asks for, at least as large as its request, and matching its selector.
/// </summary>
public static class VolumeMatching
{
    /// <summary>GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName, else "".</summary>
    public static string ClaimClass(JsonObject claim)
    {
        if (Meta.Of(claim)["annotations"]?["volume.beta.kubernetes.io/storage-class"] is JsonValue a) return JsonRead.StrOrEmpty(a);
        return JsonRead.StrOrEmpty(claim["spec"] as JsonObject, "storageClassName");
    }

    /// <summary>GetPersistentVolumeClass: the beta annotation, else spec.storageClassName.</summary>
    public static string VolumeClass(JsonObject pv)
    {
        if (Meta.Of(pv)["annotations"]?["volume.beta.kubernetes.io/storage-class"] is JsonValue a) return JsonRead.StrOrEmpty(a);
        return JsonRead.StrOrEmpty(pv["spec"] as JsonObject, "storageClassName");
    }

    public static Quantity? Storage(JsonNode? list) => JsonRead.Quantity(list?["storage"]);

    /// <summary>The claim reference names this claim (by namespace and name, and by uid when the reference has one).</summary>
    public static bool ReferencesClaim(JsonObject? claimRef, JsonObject claim) =>
        claimRef is not null
        && JsonRead.StrOrEmpty(claimRef, "namespace") == Meta.Namespace(claim)
        && JsonRead.StrOrEmpty(claimRef, "name") == Meta.Name(claim)
        && (JsonRead.StrOrEmpty(claimRef, "uid") is var uid && (uid.Length == 0 || uid == Meta.Uid(claim)));

    private static List<string> Strings(JsonNode? n) =>
        (n as JsonArray ?? []).Select(x => JsonRead.Str(x)).OfType<string>().ToList();

    /// <summary>CheckVolumeModeMismatches: both default to Filesystem.</summary>
    private static string Mode(JsonNode? spec) => JsonRead.Str(spec as JsonObject, "volumeMode") ?? "Filesystem";

    /// <summary>Whether the volume can serve the claim, leaving aside who it is bound to.</summary>
    public static bool Fits(JsonObject pv, JsonObject claim)
    {
        var cs = claim["spec"] as JsonObject;
        var vs = pv["spec"] as JsonObject;
        if (VolumeClass(pv) != ClaimClass(claim)) return false;
        if (Mode(vs) != Mode(cs)) return false;
        var offered = Strings(vs?["accessModes"]);
        if (Strings(cs?["accessModes"]).Any(m => !offered.Contains(m))) return false;
        var request = Storage(cs?["resources"]?["requests"]);
        var capacity = Storage(vs?["capacity"]);
        if (request is { } r && (capacity is not { } c || c.Nanos < r.Nanos)) return false;
        // An invalid selector matches nothing.
        if (cs?["selector"] is JsonObject selector && MetaLabelSelector.AsSelector(selector)?.Matches(Meta.Labels(pv)) is not true) return false;
        return true;
    }

    /// <summary>findBestMatchForClaim: the pre-bound volume, else the smallest free one that fits; null when none.</summary>
    public static JsonObject? BestMatch(IEnumerable<JsonObject> volumes, JsonObject claim)
    {
        JsonObject? best = null;
        Quantity? bestSize = null;
        foreach (var pv in volumes)
        {
            if (Meta.IsDeleting(pv)) continue;
            var claimRef = pv["spec"]?["claimRef"] as JsonObject;
            if (claimRef is not null)
            {
                if (!ReferencesClaim(claimRef, claim)) continue;
                // A volume pre-bound to this claim is taken as it is (the user asked for it).
                if (Fits(pv, claim)) return pv;
                continue;
            }
            var phase = JsonRead.Str(pv["status"] as JsonObject, "phase");
            if (phase is "Released" or "Failed") continue;
            if (!Fits(pv, claim)) continue;
            var size = Storage(pv["spec"]?["capacity"]);
            if (best is null || (size is { } s && bestSize is { } b && s.Nanos < b.Nanos)) { best = pv; bestSize = size; }
        }
        return best;
    }
}
