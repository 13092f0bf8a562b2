using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// A StatefulSet's pods and claims by ordinal (pkg/controller/statefulset/stateful_set_utils.go): pod
/// <c>&lt;set&gt;-&lt;ordinal&gt;</c> with its stable identity (hostname, subdomain, the pod-name and pod-index
/// labels) and storage (one claim <c>&lt;template&gt;-&lt;set&gt;-&lt;ordinal&gt;</c> per volumeClaimTemplate, mounted
/// under the template's name), and the pod facts the ordering rules read.
/// </summary>
public static partial class StatefulSetPods
{
    public const string PodNameLabel = "statefulset.kubernetes.io/pod-name";
    public const string PodIndexLabel = "apps.kubernetes.io/pod-index";

    [GeneratedRegex("^(.*)-([0-9]+)$")]
    private static partial Regex StatefulPodRegex();

    /// <summary>getParentNameAndOrdinal: "web-3" is ("web", 3); a name without an ordinal is ("", -1).</summary>
    public static (string Parent, int Ordinal) ParentAndOrdinal(string podName)
    {
        var m = StatefulPodRegex().Match(podName);
        if (!m.Success) return ("", -1);
        return int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? (m.Groups[1].Value, i) : (m.Groups[1].Value, -1);
    }

    public static int Ordinal(JsonObject pod) => ParentAndOrdinal(Meta.Name(pod)).Ordinal;

    /// <summary>isMemberOf: the pod's name says it belongs to the set.</summary>
    public static bool IsMemberOf(JsonObject set, JsonObject pod) => ParentAndOrdinal(Meta.Name(pod)).Parent == Meta.Name(set);

    public static string PodName(JsonObject set, int ordinal) => Meta.Name(set) + "-" + ordinal.ToString(CultureInfo.InvariantCulture);

    /// <summary>getPersistentVolumeClaimName.</summary>
    public static string ClaimName(JsonObject set, string template, int ordinal) =>
        template + "-" + Meta.Name(set) + "-" + ordinal.ToString(CultureInfo.InvariantCulture);

    /// <summary>getStartOrdinal: spec.ordinals.start, 0 when unset.</summary>
    public static int StartOrdinal(JsonObject set) => (int)(JsonRead.Long(set["spec"]?["ordinals"] as JsonObject, "start") ?? 0);

    public static int Replicas(JsonObject set) => (int)(JsonRead.Long(set["spec"] as JsonObject, "replicas") ?? 1);

    /// <summary>podInOrdinalRange: start ≤ ordinal &lt; start + replicas.</summary>
    public static bool InOrdinalRange(JsonObject set, int ordinal) =>
        ordinal >= StartOrdinal(set) && ordinal < StartOrdinal(set) + Replicas(set);

    /// <summary>getPersistentVolumeClaims: each template's claim for the ordinal, labelled with the set's matchLabels, keyed by template name.</summary>
    public static List<(string Template, JsonObject Claim)> Claims(JsonObject set, int ordinal)
    {
        var result = new List<(string, JsonObject)>();
        var matchLabels = set["spec"]?["selector"]?["matchLabels"] as JsonObject;
        foreach (var t in (set["spec"]?["volumeClaimTemplates"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var claim = (JsonObject)t.DeepClone();
            claim.Remove("status");
            claim["apiVersion"] = "v1";
            claim["kind"] = "PersistentVolumeClaim";
            var meta = claim["metadata"] as JsonObject ?? new JsonObject();
            claim["metadata"] = meta;
            var template = JsonRead.StrOrEmpty(meta, "name");
            meta["name"] = ClaimName(set, template, ordinal);
            meta["namespace"] = Meta.Namespace(set);
            meta.Remove("creationTimestamp");
            var labels = meta["labels"] as JsonObject ?? new JsonObject();
            if (matchLabels is not null) foreach (var (k, v) in matchLabels) labels[k] = v?.DeepClone();
            if (labels.Count > 0) meta["labels"] = labels;
            result.Add((template, claim));
        }
        return result;
    }

    /// <summary>
    /// newVersionedStatefulSetPod: the pod of <paramref name="template"/>'s set for the ordinal (initIdentity,
    /// updateStorage), labelled with the revision it was made from.
    /// </summary>
    public static JsonObject NewPod(JsonObject set, JsonObject? template, int ordinal, string revision)
    {
        var name = PodName(set, ordinal);
        var pod = PodControl.PodFromTemplate(template, set, ControllerRef.New(set, "apps/v1", "StatefulSet"), name);
        var meta = (JsonObject)pod["metadata"]!;
        var labels = meta["labels"] as JsonObject ?? new JsonObject();
        labels[PodNameLabel] = name;
        labels[PodIndexLabel] = ordinal.ToString(CultureInfo.InvariantCulture);
        labels[ControllerHistory.HashLabel] = revision;
        meta["labels"] = labels;
        var spec = (JsonObject)pod["spec"]!;
        spec["hostname"] = name;
        if (JsonRead.Str(set["spec"] as JsonObject, "serviceName") is { Length: > 0 } service) spec["subdomain"] = service;
        // updateStorage: the claims' volumes first, then the template's other volumes.
        var claims = Claims(set, ordinal);
        var volumes = new JsonArray();
        foreach (var (template0, claim) in claims)
            volumes.Add((JsonNode)new JsonObject
            {
                ["name"] = template0,
                ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = Meta.Name(claim) },
            });
        foreach (var v in (spec["volumes"] as JsonArray ?? []).OfType<JsonObject>())
            if (!claims.Any(c => c.Template == JsonRead.StrOrEmpty(v, "name"))) volumes.Add((JsonNode)v.DeepClone());
        if (volumes.Count > 0) spec["volumes"] = volumes;
        return pod;
    }

    /// <summary>getPodRevision: the controller-revision-hash label.</summary>
    public static string Revision(JsonObject pod) => Meta.Labels(pod).GetValueOrDefault(ControllerHistory.HashLabel, "");

    public static bool IsRunningAndReady(JsonObject pod) => PodFacts.Phase(pod) == "Running" && PodFacts.IsReady(pod);

    public static bool IsRunningAndAvailable(JsonObject pod, int minReadySeconds, DateTimeOffset now) =>
        PodFacts.Phase(pod) == "Running" && PodFacts.IsAvailable(pod, minReadySeconds, now);

    public static bool IsTerminating(JsonObject pod) => Meta.IsDeleting(pod);

    /// <summary>isHealthy: running, ready and not being deleted.</summary>
    public static bool IsHealthy(JsonObject pod) => IsRunningAndReady(pod) && !IsTerminating(pod);

    public static bool IsFailedOrSucceeded(JsonObject pod) => PodFacts.Phase(pod) is "Failed" or "Succeeded";
}
