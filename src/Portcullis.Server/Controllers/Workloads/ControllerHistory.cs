using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// ControllerRevisions as the StatefulSet and DaemonSet controllers keep them (pkg/controller/history/controller_history.go):
/// each revision is the owner's pod template as a strategic merge patch
/// (<c>{"spec":{"template":{"$patch":"replace",…}}}</c>, keys sorted as Go marshals a map), named
/// <c>&lt;owner&gt;-&lt;hash&gt;</c>, labelled <c>controller-revision-hash</c>, numbered from 1; the patch is
/// what <c>kubectl rollout undo</c> applies.
/// </summary>
public static class ControllerHistory
{
    /// <summary>The pods' label naming their revision (apps.ControllerRevisionHashLabelKey); DaemonSet revisions carry it too.</summary>
    public const string HashLabel = "controller-revision-hash";

    /// <summary>The label NewControllerRevision puts the hash under (history.ControllerRevisionHashLabel).</summary>
    public const string HistoryHashLabel = "controller.kubernetes.io/hash";

    /// <summary>k8s.io/apimachinery/pkg/util/rand's alphanums: no vowels, no confusable characters.</summary>
    private const string Alphanums = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>rand.SafeEncodeString: each byte mapped onto <see cref="Alphanums"/>, so a hash spells no words.</summary>
    public static string SafeEncode(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in Encoding.UTF8.GetBytes(s)) sb.Append(Alphanums[c % Alphanums.Length]);
        return sb.ToString();
    }

    /// <summary>Go's hash/fnv New32 (FNV-1, not FNV-1a), as HashControllerRevision uses it.</summary>
    public static uint Fnv32(ReadOnlySpan<byte> data, uint hash = 2166136261)
    {
        foreach (var b in data) hash = (hash * 16777619) ^ b;
        return hash;
    }

    /// <summary>HashControllerRevision: FNV-1 of the data, then of the collision count in decimal, safe-encoded.</summary>
    public static string Hash(ReadOnlySpan<byte> data, long? collisionCount)
    {
        var h = Fnv32(data);
        if (collisionCount is { } probe) h = Fnv32(Encoding.ASCII.GetBytes(probe.ToString(CultureInfo.InvariantCulture)), h);
        return SafeEncode(h.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>ControllerRevisionName: the owner's name (at most 223 characters) and the hash.</summary>
    public static string RevisionName(string owner, string hash) => (owner.Length > 223 ? owner[..223] : owner) + "-" + hash;

    /// <summary>
    /// getPatch: the owner's template as a replacing strategic merge patch, every object's keys in ordinal order
    /// (the owner went through map[string]interface{} and json.Marshal), written as Go writes JSON.
    /// </summary>
    public static byte[] TemplatePatch(JsonObject owner)
    {
        var template = owner["spec"]?["template"]?.DeepClone() as JsonObject ?? new JsonObject();
        template["$patch"] = "replace";
        return GoJsonWriter.ToBytes(Sorted(new JsonObject { ["spec"] = new JsonObject { ["template"] = template } }));
    }

    /// <summary>A copy of the value with every object's keys sorted by ordinal order, as Go marshals a map.</summary>
    public static JsonNode? Sorted(JsonNode? n) => n switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        null => null,
        _ => n.DeepClone(),
    };

    /// <summary>The template a revision holds (its patch without the directive), or null when it holds none.</summary>
    public static JsonObject? TemplateOf(JsonObject revision)
    {
        if (revision["data"]?["spec"]?["template"]?.DeepClone() is not JsonObject template) return null;
        template.Remove("$patch");
        return template;
    }

    public static long Number(JsonObject revision) => JsonRead.Long(revision, "revision") ?? 0;

    /// <summary>SortControllerRevisions: by revision number, then creation time, then name.</summary>
    public static List<JsonObject> Sort(IEnumerable<JsonObject> revisions) =>
        revisions.OrderBy(Number)
            .ThenBy(r => JsonRead.StrOrEmpty(Meta.Of(r), "creationTimestamp"), StringComparer.Ordinal)
            .ThenBy(Meta.Name, StringComparer.Ordinal).ToList();

    /// <summary>nextRevision: one more than the highest (1 for the first).</summary>
    public static long NextRevision(IReadOnlyList<JsonObject> sorted) => sorted.Count == 0 ? 1 : Number(sorted[^1]) + 1;

    /// <summary>EqualRevision: the same data (the patch), compared as JSON.</summary>
    public static bool SameData(JsonObject revision, byte[] patch) =>
        JsonNode.DeepEquals(revision["data"], JsonNode.Parse(patch));

    /// <summary>
    /// NewControllerRevision: the template's labels with the hash under <paramref name="hashLabel"/>, the owner's annotations (StatefulSet and
    /// DaemonSet copy them, so kubectl's change-cause shows in rollout history), owned by the owner as controller.
    /// </summary>
    public static JsonObject NewRevision(JsonObject owner, string apiVersion, string kind, byte[] patch, long revision, long collisionCount,
        string hashLabel = HistoryHashLabel)
    {
        var hash = Hash(patch, collisionCount);
        var labels = owner["spec"]?["template"]?["metadata"]?["labels"]?.DeepClone() as JsonObject ?? new JsonObject();
        labels[hashLabel] = hash;
        var meta = new JsonObject
        {
            ["name"] = RevisionName(Meta.Name(owner), hash),
            ["namespace"] = Meta.Namespace(owner),
            ["labels"] = labels,
        };
        if (Meta.Of(owner)["annotations"] is JsonObject annotations && annotations.Count > 0) meta["annotations"] = annotations.DeepClone();
        meta["ownerReferences"] = new JsonArray(ControllerRef.New(owner, apiVersion, kind));
        return new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ControllerRevision",
            ["metadata"] = meta,
            ["data"] = JsonNode.Parse(patch),
            ["revision"] = revision,
        };
    }

    /// <summary>
    /// CreateControllerRevision: created under its hash name; when the name is taken by other data, the collision
    /// count goes up and the hash is computed again. Returns the revision and the collision count used.
    /// </summary>
    public static async Task<(JsonObject Revision, long CollisionCount)> CreateAsync(GenericStore store, JsonObject revision, byte[] patch,
        long collisionCount, WriteOptions writes, CancellationToken ct)
    {
        var ns = Meta.Namespace(revision);
        var owner = JsonRead.StrOrEmpty(ControllerRef.Of(revision), "name");
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var candidate = (JsonObject)revision.DeepClone();
            Meta.Set(candidate, "name", RevisionName(owner, Hash(patch, collisionCount)));
            try { return (await store.CreateAsync(ns, candidate, writes, ct), collisionCount); }
            catch (ApiException e) when (e.Code == 409)
            {
                var existing = await store.GetAsync(ns, Meta.Name(candidate), ct);
                if (SameData(existing, patch)) return (existing, collisionCount);
                collisionCount++;
            }
        }
        throw new InvalidOperationException($"no free name for a controller revision of {ns}/{owner} after 100 collisions");
    }

    /// <summary>UpdateControllerRevision: a revision's number raised (a rollback to an earlier template).</summary>
    public static Task<JsonObject> RenumberAsync(GenericStore store, JsonObject revision, long number, WriteOptions writes, CancellationToken ct) =>
        store.UpdateAsync(Meta.Namespace(revision), Meta.Name(revision), "", cur =>
        {
            cur["revision"] = number;
            return cur;
        }, writes, ct);

    /// <summary>
    /// truncateHistory: the revisions no pod and neither the current nor the update revision uses, oldest first,
    /// deleted beyond the history limit.
    /// </summary>
    public static async Task TruncateAsync(GenericStore store, IReadOnlyList<JsonObject> sorted, ISet<string> live, long limit,
        Authentication.UserInfo user, CancellationToken ct)
    {
        var history = sorted.Where(r => !live.Contains(Meta.Name(r))).ToList();
        for (var i = 0; i < history.Count - limit; i++)
        {
            try { await store.DeleteAsync(Meta.Namespace(history[i]), Meta.Name(history[i]), new DeleteOptions(user), ct); }
            catch (ApiException e) when (e.Code == 404) { }
        }
    }
}
