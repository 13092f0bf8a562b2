using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Api.Views;
using Portcullis.Server.Authentication;
using Portcullis.Server.Controllers.Events;
using Portcullis.Server.Errors;
using Portcullis.Server.Http.Handlers;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Controllers.Node;

/// <summary>
/// The built-in nodes' kubelets: each node is registered and its Lease renewed, and the pods bound to it run. The
/// first node is the real one: with the process runtime (<paramref name="runtime"/>) its pods' containers run as host
/// processes; the pods of every other node (and of the first with the simulated runtime) get the status a kubelet
/// writes once "containers run", and no host code runs. Each node admits pods against its own max pods
/// (<c>OutOfpods</c>), hands out IPs from its own pod range, and finishes the graceful deletions of its pods, once
/// their processes (if any) have ended. Scheduling is the scheduler's (<see cref="Scheduling.DefaultScheduler"/>).
/// One loop serves every node: a pass lists the pods once and decodes only those written since the last pass.
/// </summary>
public sealed partial class SimulatedNodeController : IController
{
    private readonly SystemClient client;
    private readonly TimeProvider time;
    private readonly string kubeletVersion;
    private readonly Runtime.ProcessRuntime? runtime;
    private readonly ILogger _log;
    /// <summary>The nodes by name; the first one given is the one the process runtime serves.</summary>
    private readonly Dictionary<string, Kubelet> _nodes = new(StringComparer.Ordinal);
    /// <summary>Pods whose last failure was already reported (uid → message), so a retried failure is not an event every pass.</summary>
    private readonly Dictionary<string, string> _reported = [];

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private readonly EventRecorder _events;

    /// <summary>One node's kubelet state: its identity, user, pod IP allocator and the pods it admitted this pass.</summary>
    private sealed class Kubelet(NodeIdentity node, Runtime.ProcessRuntime? runtime)
    {
        public NodeIdentity Node { get; } = node;
        /// <summary>The process runtime, for the first node only; null: the node's pods are simulated.</summary>
        public Runtime.ProcessRuntime? Runtime { get; } = runtime;
        public PodIpAllocator Ips { get; } = node.NewIpAllocator();
        public UserInfo User { get; } = new($"system:node:{node.Name}", "", ["system:nodes", UserInfo.AllAuthenticated, UserInfo.SystemMasters], UserInfo.NoExtra);
        public int Admitted;
        public readonly List<string?> IpsInUse = [];
    }

    /// <summary>One node.</summary>
    public SimulatedNodeController(SystemClient client, NodeIdentity node, TimeProvider time, string kubeletVersion,
        Runtime.ProcessRuntime? runtime = null, ILogger? log = null) : this(client, [node], time, kubeletVersion, runtime, log) { }

    /// <summary>Several nodes; the process runtime, if any, runs the first one's pods.</summary>
    public SimulatedNodeController(SystemClient client, IReadOnlyList<NodeIdentity> nodes, TimeProvider time, string kubeletVersion,
        Runtime.ProcessRuntime? runtime = null, ILogger? log = null)
    {
        if (nodes.Count == 0) throw new ArgumentException("at least one node", nameof(nodes));
        this.client = client;
        this.time = time;
        this.kubeletVersion = kubeletVersion;
        this.runtime = runtime;
        _log = log ?? NullLogger.Instance;
        _events = new EventRecorder(client, time);
        for (var i = 0; i < nodes.Count; i++)
            if (!_nodes.TryAdd(nodes[i].Name, new Kubelet(nodes[i], i == 0 ? runtime : null)))
                throw new ArgumentException($"node name {nodes[i].Name} given twice", nameof(nodes));
    }

    public string Name => "simulated-node";

    public async Task InitializeAsync(CancellationToken ct)
    {
        foreach (var k in _nodes.Values)
        {
            try { await RegisterAsync(k, ct); }
            catch (Exception e) when (!ct.IsCancellationRequested) { LogLoopFailed(_log, e, $"registering node {k.Node.Name}"); }
        }
    }

    private async Task RegisterAsync(Kubelet k, CancellationToken ct)
    {
        var node = k.Node;
        var nodes = client.Store("", "nodes");
        var desired = node.ToNode(time.GetUtcNow(), kubeletVersion);
        // The kubelet's own reference to its node carries the node's name as uid.
        var nodeRef = new JsonObject { ["kind"] = "Node", ["name"] = node.Name, ["uid"] = node.Name };
        await KubeletEventAsync(k, nodeRef, "Normal", "Starting", "Starting kubelet.", ct);
        var registered = await client.EnsureAsync(nodes, "", desired, ct, "kubelet");
        if (!registered)
            await nodes.UpdateAsync("", node.Name, "status", cur =>
            {
                cur["status"] = desired["status"]!.DeepClone();
                Meta.Of(cur).Remove("resourceVersion");
                return cur;
            }, new WriteOptions(k.User) { FieldManager = "kubelet" }, ct);
        await KubeletEventAsync(k, nodeRef, "Normal", "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods", ct);
        if (registered)
        {
            foreach (var condition in new[] { "NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID", "NodeReady" })
                await KubeletEventAsync(k, nodeRef, "Normal", condition, $"Node {node.Name} status is now: {condition}", ct);
            // The node lifecycle controller notices the new node.
            if (await client.TryGetAsync(nodes, "", node.Name, ct) is { } stored)
                await _events.LegacyEventAsync(EventRecorder.Reference(stored, "v1", "Node"), "Normal", "RegisteredNode",
                    $"Node {node.Name} event: Registered Node {node.Name} in Controller", "node-controller", "", SystemClient.Controller, ct);
        }
        await RenewLeaseAsync(k, ct);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var wake = _wake;
        if (runtime is not null) runtime.Wake = () => wake.Writer.TryWrite(true);
        var from = client.Backend.CurrentRevision;
        // The watch only wakes the loop; when it breaks (compaction, storage trouble) it starts again
        // from the current revision, and the periodic pass covers the gap.
        var watcher = Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    await foreach (var _ in client.Backend.WatchAsync("/registry/pods/", from, ct)) wake.Writer.TryWrite(true);
                }
                catch (Exception e) when (!ct.IsCancellationRequested) { LogLoopFailed(_log, e, "pod watch"); }
                from = client.Backend.CurrentRevision;
                wake.Writer.TryWrite(true);
                try { await Task.Delay(TimeSpan.FromSeconds(1), time, ct); } catch (OperationCanceledException) { return; }
            }
        }, ct);
        var lastLease = time.GetUtcNow();
        while (!ct.IsCancellationRequested)
        {
            await PassAsync(ct);
            if (time.GetUtcNow() - lastLease >= TimeSpan.FromSeconds(10))
            {
                foreach (var k in _nodes.Values)
                {
                    try { await RenewLeaseAsync(k, ct); }
                    catch (Exception e) when (!ct.IsCancellationRequested) { LogLoopFailed(_log, e, $"lease renewal of {k.Node.Name}"); }
                }
                lastLease = time.GetUtcNow();
            }
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(ct);
            tick.CancelAfter(TimeSpan.FromSeconds(2));
            try { await wake.Reader.ReadAsync(tick.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        }
        await watcher;
    }

    /// <summary>One pass over the pods; whatever fails is logged and retried on the next pass, never ends the loop.</summary>
    public async Task PassAsync(CancellationToken ct)
    {
        try { await ReconcilePodsAsync(ct); }
        catch (Exception e) when (!ct.IsCancellationRequested) { LogLoopFailed(_log, e, "pod pass"); }
    }

    /// <summary>Renews the node's Lease in kube-node-lease now (the loop does it every 10 seconds).</summary>
    public async Task RenewLeasesAsync(CancellationToken ct)
    {
        foreach (var k in _nodes.Values) await RenewLeaseAsync(k, ct);
    }

    private async Task RenewLeaseAsync(Kubelet k, CancellationToken ct)
    {
        var name = k.Node.Name;
        var leases = client.Store("coordination.k8s.io", "leases");
        var now = ObjectShaper.FormatMicroTime(time.GetUtcNow());
        var lease = new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject { ["holderIdentity"] = name, ["leaseDurationSeconds"] = 40, ["renewTime"] = now },
        };
        if (await client.EnsureAsync(leases, "kube-node-lease", lease, ct, "kubelet")) return;
        try
        {
            await leases.UpdateAsync("kube-node-lease", name, "", cur =>
            {
                var spec = cur["spec"] as JsonObject ?? new JsonObject();
                spec["renewTime"] = now;
                spec["holderIdentity"] = name;
                cur["spec"] = spec;
                // The current resourceVersion stays: Lease refuses unconditional updates, as the kubelet's
                // lease controller updates the lease it just read.
                return cur;
            }, new WriteOptions(k.User) { FieldManager = "kubelet" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    /// <summary>What a pass reads of a pod to decide whether to act on it, kept per stored revision.</summary>
    private sealed record PodFacts(string Uid, string NodeName, string? Phase, string? PodIp, bool Deleting);

    // Kept from pass to pass and cleared (reconcile loop only): a pass over 150,000 pods every 2 s
    // allocated about 15 MB of sets and lists, so an idle server was never quiet (IdleMemoryReturn).
    private readonly List<(KeyValue Stored, PodFacts Facts)> _passAll = [];
    private readonly HashSet<string> _passKeys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _passSeen = new(StringComparer.Ordinal);

    /// <summary>Each pod's facts by key, with the revision they were read from (reconcile loop only).</summary>
    private readonly Dictionary<string, (long Revision, PodFacts Facts)> _facts = new(StringComparer.Ordinal);

    private static PodFacts FactsOf(JsonObject p)
    {
        var view = new PodView(p);
        return new(Meta.Uid(p), view.NodeName, view.Phase, view.PodIp, Meta.IsDeleting(p));
    }

    private async Task ReconcilePodsAsync(CancellationToken ct)
    {
        var pods = client.Store("", "pods");
        // A pass decodes only the pods written since the last one: the others' facts are kept by revision,
        // and a pod is decoded whole only when the pass acts on it.
        var stored = await pods.ListStoredAsync("", ct);
        var all = _passAll;
        var keys = _passKeys;
        all.Clear();
        keys.Clear();
        foreach (var kv in stored)
        {
            keys.Add(kv.Key);
            if (!_facts.TryGetValue(kv.Key, out var known) || known.Revision != kv.ModRevision)
                _facts[kv.Key] = known = (kv.ModRevision, FactsOf(pods.Decode(kv)));
            all.Add((kv, known.Facts));
        }
        if (_facts.Count != keys.Count)
            foreach (var key in _facts.Keys.Where(k => !keys.Contains(k)).ToList()) _facts.Remove(key);
        // Each node's view of its own pods: the IPs in use, and the pods it admitted (started, not finished) against its max pods.
        foreach (var k in _nodes.Values)
        {
            k.IpsInUse.Clear();
            k.Admitted = 0;
        }
        foreach (var (_, f) in all)
        {
            if (f.NodeName.Length == 0 || !_nodes.TryGetValue(f.NodeName, out var k)) continue;
            var ip = k.Runtime?.PodIp(f.Uid) ?? f.PodIp;
            k.IpsInUse.Add(ip);
            if (!f.Deleting && f.Phase is not ("Succeeded" or "Failed") && ip is not null) k.Admitted++;
        }
        foreach (var k in _nodes.Values) k.Ips.Reset(k.IpsInUse);
        var live = new HashSet<string>();
        var seen = _passSeen;
        seen.Clear();
        foreach (var (kv, facts) in all)
        {
            // Skipped at once, undecoded: an unbound pod (the scheduler's), a pod of a node not served here, and a
            // simulated pod past Pending.
            _nodes.TryGetValue(facts.NodeName, out var kubelet);
            if (kubelet is null || (kubelet.Runtime is null && !facts.Deleting && facts.Phase != "Pending"))
            {
                seen.Add(facts.Uid);
                continue;
            }
            var pod = pods.Decode(kv);
            pod.Remove("kind");
            pod.Remove("apiVersion");
            var ns = Meta.Namespace(pod);
            var name = Meta.Name(pod);
            var uid = Meta.Uid(pod);
            seen.Add(uid);
            var view = new PodView(pod);
            var node = kubelet.Node;
            var rt = kubelet.Runtime;
            try
            {
                if (Meta.IsDeleting(pod))
                {
                    live.Add(uid);
                    // The process runtime ends the pod's processes first (SIGTERM, SIGKILL after the grace period).
                    if ((rt is null || rt.TryTerminate(pod)) && Meta.Finalizers(pod).Count == 0)
                    {
                        // (The process runtime records its own Killing events when it stops the containers.)
                        if (rt is null && view.Phase == "Running")
                            foreach (var (c, path) in Containers(pod, initContainers: false))
                                await KubeletEventAsync(kubelet, EventRecorder.Reference(pod, "v1", "Pod", path), "Normal", "Killing", $"Stopping container {c}", ct);
                        await pods.DeleteAsync(ns, name, new DeleteOptions(kubelet.User, GracePeriodSeconds: 0, PreconditionUid: uid), ct);
                    }
                    continue;
                }
                if (rt is not null)
                {
                    live.Add(uid);
                    // A finished pod is not started again (after a server restart, say).
                    if (rt.PodIp(uid) is null && view.IsTerminal) continue;
                    if (rt.PodIp(uid) is null && view.PodIp is null)
                    {
                        if (kubelet.Admitted >= node.MaxPods) { await RejectAsync(kubelet, pods, pod, kubelet.Admitted, ct); continue; }
                        kubelet.Admitted++;
                    }
                    var podIp = rt.PodIp(uid) ?? view.PodIp ?? kubelet.Ips.Allocate();
                    if (podIp is null) { await NoIpAsync(kubelet, pod, ct); continue; }
                    rt.Run(pod, podIp);
                    continue;
                }
                if (view.Phase != "Pending") continue;
                // A pod bound here by someone else than the scheduler is still admitted against max pods.
                if (kubelet.Admitted >= node.MaxPods) { await RejectAsync(kubelet, pods, pod, kubelet.Admitted, ct); continue; }
                var ip = kubelet.Ips.Allocate();
                if (ip is null) { await NoIpAsync(kubelet, pod, ct); continue; }
                await StartContainersEventsAsync(node, pod, ct);
                await pods.UpdateAsync(ns, name, "status", cur =>
                {
                    PodStatusWriter.WriteRunning(cur, node.InternalIp, ip, time.GetUtcNow());
                    return cur;
                }, new WriteOptions(kubelet.User) { FieldManager = "kubelet" }, ct);
                _reported.Remove(uid);
                kubelet.Admitted++;
            }
            catch (ApiException) { } // conflicts and races: the next pass retries
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // One pod's trouble must not stall the others: it is logged, reported on the pod, and retried.
                LogPodFailed(_log, e, ns, name);
                await ReportOnceAsync(kubelet, pod, "FailedSync", "error syncing pod: " + e.Message, ct);
            }
        }
        if (_reported.Count > 0)
            foreach (var uid in _reported.Keys.Where(u => !seen.Contains(u)).ToList()) _reported.Remove(uid);
        runtime?.Forget(live);
    }

    /// <summary>The kubelet's admission refuses a pod past its max pods: the pod fails with reason OutOfpods.</summary>
    private async Task RejectAsync(Kubelet k, GenericStore pods, JsonObject pod, int used, CancellationToken ct)
    {
        var message = $"Node didn't have enough resource: pods, requested: 1, used: {used}, capacity: {k.Node.MaxPods}";
        await KubeletEventAsync(k, EventRecorder.Reference(pod, "v1", "Pod"), "Warning", "OutOfpods", message, ct);
        await pods.UpdateAsync(Meta.Namespace(pod), Meta.Name(pod), "status", cur =>
        {
            var status = cur["status"] as JsonObject ?? new JsonObject();
            status["phase"] = "Failed";
            status["reason"] = "OutOfpods";
            status["message"] = "Pod was rejected: " + message;
            status["startTime"] ??= ObjectShaper.FormatTime(time.GetUtcNow());
            cur["status"] = status;
            Meta.Of(cur).Remove("resourceVersion");
            return cur;
        }, new WriteOptions(k.User) { FieldManager = "kubelet" }, ct);
    }

    /// <summary>The pod range is exhausted: the sandbox cannot get an address, as host-local IPAM answers; the pod waits.</summary>
    private Task NoIpAsync(Kubelet k, JsonObject pod, CancellationToken ct) => ReportOnceAsync(k, pod, "FailedCreatePodSandBox",
        $"Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"{Meta.Uid(pod)}\": " +
        $"plugin type=\"host-local\" failed (add): failed to allocate for range 0: no IP addresses available in range set: {k.Ips.RangeSet}", ct);

    /// <summary>A kubelet Warning event on the pod, once per distinct failure.</summary>
    private async Task ReportOnceAsync(Kubelet k, JsonObject pod, string reason, string message, CancellationToken ct)
    {
        var uid = Meta.Uid(pod);
        if (_reported.TryGetValue(uid, out var last) && last == message) return;
        try
        {
            await KubeletEventAsync(k, EventRecorder.Reference(pod, "v1", "Pod"), "Warning", reason, message, ct);
            _reported[uid] = message;
        }
        catch (Exception e) when (!ct.IsCancellationRequested) { LogPodFailed(_log, e, Meta.Namespace(pod), Meta.Name(pod)); }
    }

    private Task KubeletEventAsync(Kubelet k, JsonObject involved, string type, string reason, string message, CancellationToken ct) =>
        _events.LegacyEventAsync(involved, type, reason, message, "kubelet", k.Node.Name, k.User, ct);

    /// <summary>The containers the kubelet starts, with the field path its events name them by.</summary>
    private static IEnumerable<(string Name, string FieldPath)> Containers(JsonObject pod, bool initContainers)
    {
        var view = new PodView(pod);
        if (initContainers)
            foreach (var c in view.InitContainers)
                if (JsonRead.Str(c, "name") is { } name) yield return (name, $"spec.initContainers{{{name}}}");
        foreach (var c in view.Containers)
            if (JsonRead.Str(c, "name") is { } name) yield return (name, $"spec.containers{{{name}}}");
    }

    /// <summary>What the kubelet reports while it starts a pod's containers: the image pull, then create and start.</summary>
    private async Task StartContainersEventsAsync(NodeIdentity node, JsonObject pod, CancellationToken ct)
    {
        var events = new KubeletEvents(_events, node);
        var view = new PodView(pod);
        foreach (var c in view.InitContainers) await events.StartSucceededAsync(pod, c, init: true, ct);
        foreach (var c in view.Containers) await events.StartSucceededAsync(pod, c, init: false, ct);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "node: {What} failed; retrying")]
    private static partial void LogLoopFailed(ILogger logger, Exception e, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node: pod {Namespace}/{Name} failed to sync; retrying")]
    private static partial void LogPodFailed(ILogger logger, Exception e, string @namespace, string name);
}
