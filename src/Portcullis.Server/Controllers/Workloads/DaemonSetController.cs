using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.Apps;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// kube-controller-manager's DaemonSet controller (pkg/controller/daemon/daemon_controller.go, update.go): one pod
/// per node that should run it (<see cref="DaemonSetNodes.ShouldRun"/>), pinned there by required node affinity;
/// failed pods deleted to be made again, extra pods and pods on nodes that should not run them deleted; the
/// template kept as ControllerRevisions (<c>&lt;ds&gt;-&lt;hash&gt;</c>, the hash on each pod as
/// <c>controller-revision-hash</c>); RollingUpdate replaces old pods within maxUnavailable (or surges within
/// maxSurge), OnDelete waits for pods to be deleted. Events come from <c>daemonset-controller</c>.
/// </summary>
internal sealed class DaemonSetController : QueueController
{
    private const string EventComponent = "daemonset-controller";
    private const string TemplateGenerationLabel = "pod-template-generation";
    private readonly Informer _pods;
    private readonly Informer _nodes;
    private readonly Informer _revisions;

    public DaemonSetController(ControllerContext ctx) : base(ctx, "daemon-set-controller", ctx.Informers.For("apps", "daemonsets"))
    {
        _pods = Informers.For("", "pods");
        _nodes = Informers.For("", "nodes");
        _revisions = Informers.For("apps", "controllerrevisions");
    }

    private GenericStore Pods => _pods.Store;
    private GenericStore Revisions => _revisions.Store;

    protected override void OnChange(InformerEvent e)
    {
        if (e.Source == _nodes)
        {
            foreach (var ds in Primary.List()) Enqueue(Meta.Namespace(ds), Meta.Name(ds));
            return;
        }
        if (e.Source != _pods) return;
        foreach (var pod in new[] { e.Object, e.OldObject })
        {
            if (pod is null) continue;
            if (ControllerRef.Of(pod) is { } r)
            {
                if (JsonRead.Str(r, "kind") == "DaemonSet") Enqueue(e.Namespace, JsonRead.StrOrEmpty(r, "name"));
            }
            else
                foreach (var ds in Primary.List(e.Namespace))
                    if (ds["spec"]?["selector"] is JsonObject s && MetaLabelSelector.AsSelector(s)?.Matches(Meta.Labels(pod)) == true)
                        Enqueue(e.Namespace, Meta.Name(ds));
        }
    }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        if (Primary.Get(ns, name) is not { } ds || Meta.IsDeleting(ds)) return;
        if (ds["spec"]?["selector"] is not JsonObject selectorJson || MetaLabelSelector.AsSelector(selectorJson) is not { } selector) return;
        async Task<JsonObject?> Recheck(CancellationToken c) => await Client.TryGetAsync(Primary.Store, ns, name, c);
        var pods = await ControllerRef.ClaimAsync(Pods, ds, "apps/v1", "DaemonSet", _pods.List(ns), p => selector.Matches(Meta.Labels(p)), Recheck, Writes, ct);
        var revisions = await ControllerRef.ClaimAsync(Revisions, ds, "apps/v1", "DaemonSet", _revisions.List(ns), r => selector.Matches(Meta.Labels(r)), Recheck, Writes, ct);
        var (current, old) = await ConstructHistoryAsync(ds, revisions, ct);
        var hash = Meta.Labels(current).GetValueOrDefault(ControllerHistory.HashLabel, Meta.Name(current));
        var nodes = _nodes.List();

        var changed = await ManageAsync(ds, nodes, pods, hash, ct);
        if (!changed && JsonRead.Str(ds["spec"]?["updateStrategy"] as JsonObject, "type") != "OnDelete")
            await RollingUpdateAsync(ds, nodes, pods, hash, ct);
        await CleanupHistoryAsync(ds, old, pods, ct);
        await WriteStatusAsync(ds, nodes, pods, hash, ct);
    }

    private int MinReadySeconds(JsonObject ds) => (int)(JsonRead.Long(ds["spec"] as JsonObject, "minReadySeconds") ?? 0);

    /// <summary>getNodesToDaemonPods: the pods by the node they are on or pinned to.</summary>
    private static Dictionary<string, List<JsonObject>> ByNode(IEnumerable<JsonObject> pods)
    {
        var map = new Dictionary<string, List<JsonObject>>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            var node = DaemonSetNodes.NodeOf(pod);
            if (node.Length == 0) continue;
            if (!map.TryGetValue(node, out var list)) map[node] = list = [];
            list.Add(pod);
        }
        foreach (var list in map.Values) list.Sort(ByCreation);
        return map;
    }

    /// <summary>podByCreationTimestampAndPhase: oldest first, then by name.</summary>
    private static int ByCreation(JsonObject a, JsonObject b)
    {
        var c = string.CompareOrdinal(JsonRead.StrOrEmpty(Meta.Of(a), "creationTimestamp"), JsonRead.StrOrEmpty(Meta.Of(b), "creationTimestamp"));
        return c != 0 ? c : string.CompareOrdinal(Meta.Name(a), Meta.Name(b));
    }

    private static bool AllowsSurge(JsonObject ds, int desired) =>
        JsonRead.Str(ds["spec"]?["updateStrategy"] as JsonObject, "type") == "RollingUpdate"
        && Scaled(ds["spec"]?["updateStrategy"]?["rollingUpdate"]?["maxSurge"], desired) > 0;

    /// <summary>GetScaledValueFromIntOrPercent rounding up.</summary>
    private static int Scaled(JsonNode? v, int total)
    {
        if (JsonRead.IntOrString(v) is not { } x) return 0;
        if (x.IsInt) return (int)x.Int;
        var s = x.Str.TrimEnd('%');
        return int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var pct) ? (int)Math.Ceiling(pct * total / 100.0) : 0;
    }

    /// <summary>manage: create where a pod is missing, delete failed, surplus and misplaced pods. True when it wrote anything.</summary>
    private async Task<bool> ManageAsync(JsonObject ds, List<JsonObject> nodes, List<JsonObject> pods, string hash, CancellationToken ct)
    {
        var byNode = ByNode(pods);
        var desired = nodes.Count(n => DaemonSetNodes.ShouldRun(n, Template(ds)).ShouldRun);
        var allowSurge = AllowsSurge(ds, desired);
        var toCreate = new List<string>();
        var toDelete = new List<JsonObject>();
        var template = Template(ds);
        foreach (var node in nodes)
        {
            var nodeName = Meta.Name(node);
            var (shouldRun, shouldContinue) = DaemonSetNodes.ShouldRun(node, template);
            var daemonPods = byNode.GetValueOrDefault(nodeName) ?? [];
            if (shouldRun && daemonPods.Count == 0) { toCreate.Add(nodeName); continue; }
            if (shouldContinue)
            {
                var running = new List<JsonObject>();
                foreach (var pod in daemonPods)
                {
                    if (Meta.IsDeleting(pod)) continue;
                    if (PodFacts.Phase(pod) == "Failed")
                    {
                        await EventAsync(ds, "Warning", "FailedDaemonPod", $"Found failed daemon pod {Meta.Namespace(pod)}/{Meta.Name(pod)} on node {nodeName}, will try to kill it", ct);
                        toDelete.Add(pod);
                        continue;
                    }
                    running.Add(pod);
                }
                if (!allowSurge) toDelete.AddRange(running.Skip(1));
                else
                {
                    JsonObject? oldestNew = null, oldestOld = null;
                    foreach (var pod in running)
                    {
                        var isNew = Meta.Labels(pod).GetValueOrDefault(ControllerHistory.HashLabel) == hash;
                        if (isNew && oldestNew is null) oldestNew = pod;
                        else if (!isNew && oldestOld is null) oldestOld = pod;
                        else toDelete.Add(pod);
                    }
                    if (oldestNew is not null && oldestOld is not null && (!PodFacts.IsReady(oldestOld) || PodFacts.IsReady(oldestNew)))
                        toDelete.Add(oldestOld);
                }
            }
            else toDelete.AddRange(daemonPods.Where(p => !Meta.IsDeleting(p)));
        }
        // Pods on nodes that do not exist.
        var known = nodes.Select(Meta.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (nodeName, daemonPods) in byNode)
            if (!known.Contains(nodeName)) toDelete.AddRange(daemonPods.Where(p => !Meta.IsDeleting(p)));
        await SyncNodesAsync(ds, toDelete, toCreate, hash, ct);
        return toDelete.Count + toCreate.Count > 0;
    }

    private static JsonObject Template(JsonObject ds) => ds["spec"]?["template"] as JsonObject ?? new JsonObject();

    /// <summary>rollingUpdate: replace old pods without exceeding maxUnavailable, or surge new pods within maxSurge.</summary>
    private async Task RollingUpdateAsync(JsonObject ds, List<JsonObject> nodes, List<JsonObject> pods, string hash, CancellationToken ct)
    {
        var byNode = ByNode(pods);
        var template = Template(ds);
        var desired = nodes.Count(n => DaemonSetNodes.ShouldRun(n, template).ShouldRun);
        var rolling = ds["spec"]?["updateStrategy"]?["rollingUpdate"];
        var maxSurge = Scaled(rolling?["maxSurge"], desired);
        var maxUnavailable = Scaled(rolling?["maxUnavailable"], desired);
        if (desired > 0 && maxSurge == 0 && maxUnavailable == 0) maxUnavailable = 1;
        var now = Time.GetUtcNow();
        var minReady = MinReadySeconds(ds);
        bool Available(JsonObject p) => PodFacts.IsAvailable(p, minReady, now);

        if (maxSurge == 0)
        {
            var numUnavailable = 0;
            var replacements = new List<JsonObject>();
            var candidates = new List<JsonObject>();
            foreach (var (_, nodePods) in byNode.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (!FindUpdated(nodePods, hash, out var newPod, out var oldPod) || (oldPod is null) == (newPod is null)) { numUnavailable++; continue; }
                if (newPod is not null) { if (!Available(newPod)) numUnavailable++; continue; }
                if (!Available(oldPod!)) replacements.Add(oldPod!);
                else if (numUnavailable < maxUnavailable) candidates.Add(oldPod!);
            }
            var remaining = Math.Clamp(maxUnavailable - numUnavailable, 0, candidates.Count);
            await SyncNodesAsync(ds, [.. replacements, .. candidates.Take(remaining)], [], hash, ct);
            return;
        }
        var numSurge = 0;
        var allowedNew = new List<string>();
        var candidateNew = new List<string>();
        var oldToDelete = new List<JsonObject>();
        foreach (var (nodeName, nodePods) in byNode.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!FindUpdated(nodePods, hash, out var newPod, out var oldPod)) { numSurge++; continue; }
            if (oldPod is null) continue;
            if (newPod is null)
            {
                if (!Available(oldPod)) allowedNew.Add(nodeName);
                else if (numSurge < maxSurge) candidateNew.Add(nodeName);
                continue;
            }
            if (!Available(newPod)) { numSurge++; continue; }
            oldToDelete.Add(oldPod);
        }
        var remainingSurge = Math.Clamp(maxSurge - numSurge, 0, candidateNew.Count);
        await SyncNodesAsync(ds, oldToDelete, [.. allowedNew, .. candidateNew.Take(remainingSurge)], hash, ct);
    }

    /// <summary>findUpdatedPodsOnNode: at most one new and one old live pod; false when there are more.</summary>
    private static bool FindUpdated(List<JsonObject> pods, string hash, out JsonObject? newPod, out JsonObject? oldPod)
    {
        newPod = oldPod = null;
        foreach (var pod in pods)
        {
            if (Meta.IsDeleting(pod)) continue;
            if (Meta.Labels(pod).GetValueOrDefault(ControllerHistory.HashLabel) == hash)
            {
                if (newPod is not null) return false;
                newPod = pod;
            }
            else
            {
                if (oldPod is not null) return false;
                oldPod = pod;
            }
        }
        return true;
    }

    /// <summary>syncNodes: the deletions, then a pod per node to create (from the template with the daemon tolerations, pinned).</summary>
    private async Task SyncNodesAsync(JsonObject ds, List<JsonObject> toDelete, List<string> toCreate, string hash, CancellationToken ct)
    {
        var failures = new List<string>();
        foreach (var pod in toDelete)
        {
            try
            {
                await Pods.DeleteAsync(Meta.Namespace(pod), Meta.Name(pod), new DeleteOptions(User, PreconditionUid: Meta.Uid(pod)), ct);
                await EventAsync(ds, "Normal", "SuccessfulDelete", "Deleted pod: " + Meta.Name(pod), ct);
            }
            catch (ApiException e) when (e.Code == 404) { }
            catch (ApiException e)
            {
                await EventAsync(ds, "Warning", "FailedDelete", "Error deleting: " + e.Message, ct);
                failures.Add(e.Message);
            }
        }
        foreach (var nodeName in toCreate)
        {
            var pod = NewPod(ds, nodeName, hash);
            try
            {
                var created = await Pods.CreateAsync(Meta.Namespace(ds), pod, Writes, ct);
                await EventAsync(ds, "Normal", "SuccessfulCreate", "Created pod: " + Meta.Name(created), ct);
            }
            catch (ApiException e)
            {
                await EventAsync(ds, "Warning", "FailedCreate", "Error creating: " + e.Message, ct);
                failures.Add(e.Message);
            }
        }
        if (failures.Count > 0) throw new InvalidOperationException(string.Join("; ", failures));
    }

    /// <summary>CreatePodTemplate and the node affinity: the daemon tolerations, the generation and hash labels, the node.</summary>
    private static JsonObject NewPod(JsonObject ds, string nodeName, string hash)
    {
        var template = (JsonObject)Template(ds).DeepClone();
        var meta = template["metadata"] as JsonObject ?? new JsonObject();
        template["metadata"] = meta;
        var labels = meta["labels"] as JsonObject ?? new JsonObject();
        if (Meta.Of(ds)["annotations"]?[DaemonSetKind.TemplateGenerationAnnotation] is JsonValue g) labels[TemplateGenerationLabel] = JsonRead.StrOrEmpty(g);
        labels[ControllerHistory.HashLabel] = hash;
        meta["labels"] = labels;
        var spec = template["spec"] as JsonObject ?? new JsonObject();
        template["spec"] = spec;
        DaemonSetNodes.AddTolerations(spec);
        DaemonSetNodes.PinToNode(spec, nodeName);
        return PodControl.PodFromTemplate(template, ds, ControllerRef.New(ds, "apps/v1", "DaemonSet"));
    }

    /// <summary>constructHistory: the revision of the current template (found, renumbered or created) and the others.</summary>
    private async Task<(JsonObject Current, List<JsonObject> Old)> ConstructHistoryAsync(JsonObject ds, List<JsonObject> revisions, CancellationToken ct)
    {
        var patch = ControllerHistory.TemplatePatch(ds);
        var matching = revisions.Where(r => ControllerHistory.SameData(r, patch)).ToList();
        var old = revisions.Where(r => !matching.Contains(r)).ToList();
        var next = (old.Count == 0 ? 0 : old.Max(ControllerHistory.Number)) + 1;
        if (matching.Count == 0)
        {
            var collisionCount = JsonRead.Long(ds["status"] as JsonObject, "collisionCount");
            // snapshot: labelled with the hash under the pods' label (DefaultDaemonSetUniqueLabelKey).
            var fresh = ControllerHistory.NewRevision(ds, "apps/v1", "DaemonSet", patch, next, collisionCount ?? 0, ControllerHistory.HashLabel);
            var hash = ControllerHistory.Hash(patch, collisionCount);
            ((JsonObject)fresh["metadata"]!)["name"] = Meta.Name(ds) + "-" + hash;
            ((JsonObject)fresh["metadata"]!["labels"]!)[ControllerHistory.HashLabel] = hash;
            try { return (await Revisions.CreateAsync(Meta.Namespace(ds), fresh, Writes, ct), old); }
            catch (ApiException e) when (e.Code == 409 && e.Reason == "AlreadyExists")
            {
                // A different template under the same name: the collision count goes up and the next sync hashes again.
                await Primary.Store.UpdateAsync(Meta.Namespace(ds), Meta.Name(ds), "status", cur =>
                {
                    var s = cur["status"] as JsonObject ?? new JsonObject();
                    s["collisionCount"] = (JsonRead.Long(s, "collisionCount") ?? 0) + 1;
                    cur["status"] = s;
                    return cur;
                }, Writes, ct);
                throw;
            }
        }
        // dedupCurHistories: the highest revision stays, the duplicates go.
        var current = ControllerHistory.Sort(matching)[^1];
        foreach (var dup in matching.Where(r => r != current))
        {
            try { await Revisions.DeleteAsync(Meta.Namespace(dup), Meta.Name(dup), new DeleteOptions(User), ct); }
            catch (ApiException e) when (e.Code == 404) { }
        }
        if (ControllerHistory.Number(current) < next) current = await ControllerHistory.RenumberAsync(Revisions, current, next, Writes, ct);
        return (current, old);
    }

    /// <summary>cleanupHistory: old revisions beyond revisionHistoryLimit that no pod's hash names, oldest first.</summary>
    private async Task CleanupHistoryAsync(JsonObject ds, List<JsonObject> old, List<JsonObject> pods, CancellationToken ct)
    {
        var toKill = old.Count - (JsonRead.Long(ds["spec"] as JsonObject, "revisionHistoryLimit") ?? 10);
        if (toKill <= 0) return;
        var live = pods.Select(p => Meta.Labels(p).GetValueOrDefault(ControllerHistory.HashLabel, "")).Where(h => h.Length > 0).ToHashSet(StringComparer.Ordinal);
        foreach (var r in ControllerHistory.Sort(old))
        {
            if (toKill <= 0) break;
            if (live.Contains(Meta.Labels(r).GetValueOrDefault(ControllerHistory.HashLabel, ""))) continue;
            try { await Revisions.DeleteAsync(Meta.Namespace(r), Meta.Name(r), new DeleteOptions(User), ct); }
            catch (ApiException e) when (e.Code == 404) { }
            toKill--;
        }
    }

    /// <summary>updateDaemonSetStatus over the pods as the sync began (the next sync sees its own writes).</summary>
    private async Task WriteStatusAsync(JsonObject ds, List<JsonObject> nodes, List<JsonObject> pods, string hash, CancellationToken ct)
    {
        var byNode = ByNode(pods);
        var template = Template(ds);
        var generation = JsonRead.Str(Meta.Of(ds)["annotations"] as JsonObject, DaemonSetKind.TemplateGenerationAnnotation);
        var now = Time.GetUtcNow();
        long desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
        foreach (var node in nodes)
        {
            var shouldRun = DaemonSetNodes.ShouldRun(node, template).ShouldRun;
            var daemonPods = byNode.GetValueOrDefault(Meta.Name(node)) ?? [];
            if (!shouldRun)
            {
                if (daemonPods.Count > 0) misscheduled++;
                continue;
            }
            desired++;
            if (daemonPods.Count == 0) continue;
            current++;
            var pod = daemonPods[0];
            if (PodFacts.IsReady(pod))
            {
                ready++;
                if (PodFacts.IsAvailable(pod, MinReadySeconds(ds), now)) available++;
            }
            var labels = Meta.Labels(pod);
            if (labels.GetValueOrDefault(ControllerHistory.HashLabel) == hash
                || (generation is not null && labels.GetValueOrDefault(TemplateGenerationLabel) == generation)) updated++;
        }
        var status = new JsonObject
        {
            ["currentNumberScheduled"] = current,
            ["numberMisscheduled"] = misscheduled,
            ["desiredNumberScheduled"] = desired,
            ["numberReady"] = ready,
            ["observedGeneration"] = JsonRead.Long(Meta.Of(ds), "generation") ?? 0,
            ["updatedNumberScheduled"] = updated,
            ["numberAvailable"] = available,
            ["numberUnavailable"] = desired - available,
        };
        var old = ds["status"] as JsonObject ?? new JsonObject();
        if (old["collisionCount"] is { } cc) status["collisionCount"] = cc.DeepClone();
        if (old["conditions"] is { } conditions) status["conditions"] = conditions.DeepClone();
        if (status.All(kv => JsonNode.DeepEquals(kv.Value, old[kv.Key]) || (kv.Value is JsonValue v && v.ToJsonString() == "0" && old[kv.Key] is null))) return;
        try
        {
            await Primary.Store.UpdateAsync(Meta.Namespace(ds), Meta.Name(ds), "status", cur =>
            {
                if (Meta.Uid(cur) != Meta.Uid(ds)) throw ApiErrors.NotFound("daemonsets", "apps", Meta.Name(ds));
                cur["status"] = status.DeepClone();
                return cur;
            }, Writes, ct);
        }
        catch (ApiException e) when (e.Code == 404) { }
        if (available < current && MinReadySeconds(ds) > 0) Queue.AddAfter(Key(Meta.Namespace(ds), Meta.Name(ds)), TimeSpan.FromSeconds(MinReadySeconds(ds)), ct);
    }

    private Task EventAsync(JsonObject ds, string type, string reason, string message, CancellationToken ct) =>
        Context.Events.LegacyEventAsync(Events.EventRecorder.Reference(ds, "apps/v1", "DaemonSet"), type, reason, message, EventComponent, "", User, ct);
}
