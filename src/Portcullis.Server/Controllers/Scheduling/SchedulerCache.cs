using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// The scheduler's in-memory view of the cluster (pkg/scheduler/backend/cache): every Node with the pods bound to it
/// and their summed requests, the pods waiting to be scheduled, and namespaces' labels. It is fed by the stored lists
/// the scheduler reads when a watch says something changed, and decodes only the objects whose revision moved, so a
/// scheduling attempt never lists nor decodes. A pod the scheduler has just bound is assumed on its node until the
/// watch shows it. Not thread-safe: the scheduler's loop owns it.
/// </summary>
internal sealed class SchedulerCache
{
    private readonly Dictionary<string, (long Rev, SchedulingPod Pod)> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Rev, SchedulingNode Node)> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Rev, Dictionary<string, string> Labels)> _namespaces = new(StringComparer.Ordinal);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private List<SchedulingNode>? _nodeList;
    private readonly FactInterner _intern = new();

    /// <summary>The pods waiting for the default scheduler (keys).</summary>
    public HashSet<string> Pending { get; } = new(StringComparer.Ordinal);

    /// <summary>Moves when something could make a waiting pod fit: a node added or changed, a pod leaving a node.</summary>
    public long FreedVersion { get; private set; }

    /// <summary>Moves when a pod lands on a node (what pod affinity waits for).</summary>
    public long AddedVersion { get; private set; }

    /// <summary>The nodes, in name order (a snapshot list, rebuilt when the node set changes).</summary>
    public IReadOnlyList<SchedulingNode> Nodes => _nodeList ??= _nodes.Values.Select(n => n.Node).OrderBy(n => n.Name, StringComparer.Ordinal).ToList();

    public SchedulingPod? Pod(string key) => _pods.TryGetValue(key, out var p) ? p.Pod : null;

    public long PodRevision(string key) => _pods.TryGetValue(key, out var p) ? p.Rev : 0;

    public SchedulingNode? Node(string name) => _nodes.TryGetValue(name, out var n) ? n.Node : null;

    public IReadOnlyDictionary<string, string>? NamespaceLabels(string ns) => _namespaces.TryGetValue(ns, out var n) ? n.Labels : null;

    public void SyncNodes(List<KeyValue> stored, Func<KeyValue, JsonObject> decode)
    {
        _seen.Clear();
        foreach (var kv in stored)
        {
            var name = NameOf(kv.Key);
            var known = _nodes.TryGetValue(name, out var k);
            _seen.Add(name);
            if (known && k.Rev == kv.ModRevision) continue;
            var node = SchedulingNode.Read(decode(kv));
            if (known)
            {
                node.TakePodsFrom(k.Node);
                if (!node.SameFacts(k.Node)) FreedVersion++;
            }
            else
            {
                // Pods bound before their Node appeared are counted now.
                foreach (var (_, p) in _pods.Values)
                    if (p.OnNode && p.NodeName == node.Name) node.AddPod(p);
                FreedVersion++;
            }
            _nodes[name] = (kv.ModRevision, node);
            _nodeList = null;
        }
        foreach (var key in _nodes.Keys.Where(k => !_seen.Contains(k)).ToList())
        {
            _nodes.Remove(key);
            _nodeList = null;
            FreedVersion++;
        }
    }

    public void SyncNamespaces(List<KeyValue> stored, Func<KeyValue, JsonObject> decode)
    {
        _seen.Clear();
        foreach (var kv in stored)
        {
            var name = NameOf(kv.Key);
            _seen.Add(name);
            if (_namespaces.TryGetValue(name, out var k) && k.Rev == kv.ModRevision) continue;
            _namespaces[name] = (kv.ModRevision, Meta.Labels(decode(kv)));
        }
        foreach (var key in _namespaces.Keys.Where(k => !_seen.Contains(k)).ToList()) _namespaces.Remove(key);
    }

    /// <summary>Brings the pods up to date; a pod is decoded only when its revision moved.</summary>
    public void SyncPods(List<KeyValue> stored, Func<KeyValue, JsonObject> decode)
    {
        _seen.Clear();
        foreach (var kv in stored)
        {
            _seen.Add(kv.Key);
            if (_pods.TryGetValue(kv.Key, out var k) && k.Rev == kv.ModRevision) continue;
            var pod = SchedulingPod.Read(kv.Key, decode(kv), _intern);
            Apply(k.Pod, pod);
            _pods[kv.Key] = (kv.ModRevision, pod);
        }
        if (_seen.Count == _pods.Count) return;
        foreach (var key in _pods.Keys.Where(k => !_seen.Contains(k)).ToList())
        {
            Apply(_pods[key].Pod, null);
            _pods.Remove(key);
        }
    }

    /// <summary>The scheduler bound the pod: it counts on the node at once (assumed), before the watch shows it.</summary>
    public void Assume(SchedulingPod pod, string nodeName)
    {
        var bound = pod with { NodeName = nodeName };
        Apply(pod, bound);
        _pods[pod.Key] = (PodRevision(pod.Key), bound);
    }

    private void Apply(SchedulingPod? old, SchedulingPod? now)
    {
        if (old is not null)
        {
            Pending.Remove(old.Key);
            if (old.OnNode)
            {
                Node(old.NodeName)?.RemovePod(old);
                if (now is null || !now.OnNode || now.NodeName != old.NodeName || now.Deleting != old.Deleting || !SameLabels(old, now))
                    FreedVersion++;
            }
        }
        if (now is null) return;
        if (now.OnNode)
        {
            Node(now.NodeName)?.AddPod(now);
            if (old is null || !old.OnNode || old.NodeName != now.NodeName || !SameLabels(old, now)) AddedVersion++;
        }
        else if (now.Pending && !now.Gated) Pending.Add(now.Key);
    }

    /// <summary>A cluster-scoped object's name: the last segment of its storage key.</summary>
    private static string NameOf(string key) => key[(key.LastIndexOf('/') + 1)..];

    private static bool SameLabels(SchedulingPod a, SchedulingPod b) =>
        ReferenceEquals(a.Labels, b.Labels) || (a.Labels.Count == b.Labels.Count && a.Labels.All(kv => b.Labels.TryGetValue(kv.Key, out var v) && v == kv.Value));
}
