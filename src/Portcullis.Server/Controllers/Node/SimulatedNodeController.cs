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
/// The built-in node: registers the Node and renews its Lease, schedules pending pods onto it
/// (through the same binding as pods/binding), and runs them. With the simulated runtime (no
/// <paramref name="runtime"/>) it writes pod status as a kubelet would once "containers run" and no
/// host code runs; with the process runtime each pod's containers run as host processes. Either
/// way it finishes graceful deletions, once the pod's processes (if any) have ended.
/// </summary>
public sealed partial class SimulatedNodeController(SystemClient client, NodeIdentity node, TimeProvider time, string kubeletVersion,
    Runtime.ProcessRuntime? runtime = null, ILogger? log = null) : IController
{
    private readonly ILogger _log = log ?? NullLogger.Instance;
    private readonly PodIpAllocator _ips = node.NewIpAllocator();
    private readonly JsonObject _labels = node.Labels();
    /// <summary>Pods whose last failure was already reported (uid → message), so a retried failure is not an event every pass.</summary>
    private readonly Dictionary<string, string> _reported = [];

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private UserInfo Kubelet => new($"system:node:{node.Name}", "", ["system:nodes", UserInfo.AllAuthenticated, UserInfo.SystemMasters], UserInfo.NoExtra);
    private static readonly UserInfo Scheduler = new("system:kube-scheduler", "", [UserInfo.AllAuthenticated, UserInfo.SystemMasters], UserInfo.NoExtra);

    private readonly EventRecorder _events = new(client, time);
    private static readonly string SchedulerInstance = "default-scheduler-" + System.Net.Dns.GetHostName();

    public string Name => "simulated-node";

    public async Task InitializeAsync(CancellationToken ct)
    {
        var nodes = client.Store("", "nodes");
        var desired = node.ToNode(time.GetUtcNow(), kubeletVersion);
        // The kubelet's own reference to its node carries the node's name as uid.
        var nodeRef = new JsonObject { ["kind"] = "Node", ["name"] = node.Name, ["uid"] = node.Name };
        await KubeletEventAsync(nodeRef, "Normal", "Starting", "Starting kubelet.", ct);
        var registered = await client.EnsureAsync(nodes, "", desired, ct, "kubelet");
        if (!registered)
            await nodes.UpdateAsync("", node.Name, "status", cur =>
            {
                cur["status"] = desired["status"]!.DeepClone();
                Meta.Of(cur).Remove("resourceVersion");
                return cur;
            }, new WriteOptions(Kubelet) { FieldManager = "kubelet" }, ct);
        await KubeletEventAsync(nodeRef, "Normal", "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods", ct);
        if (registered)
        {
            foreach (var condition in new[] { "NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID", "NodeReady" })
                await KubeletEventAsync(nodeRef, "Normal", condition, $"Node {node.Name} status is now: {condition}", ct);
            // The node lifecycle controller notices the new node.
            if (await client.TryGetAsync(nodes, "", node.Name, ct) is { } stored)
                await _events.LegacyEventAsync(EventRecorder.Reference(stored, "v1", "Node"), "Normal", "RegisteredNode",
                    $"Node {node.Name} event: Registered Node {node.Name} in Controller", "node-controller", "", SystemClient.Controller, ct);
        }
        await RenewLeaseAsync(ct);
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
                try { await RenewLeaseAsync(ct); }
                catch (Exception e) when (!ct.IsCancellationRequested) { LogLoopFailed(_log, e, "lease renewal"); }
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

    private async Task RenewLeaseAsync(CancellationToken ct)
    {
        var leases = client.Store("coordination.k8s.io", "leases");
        var now = ObjectShaper.FormatMicroTime(time.GetUtcNow());
        var lease = new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = node.Name },
            ["spec"] = new JsonObject { ["holderIdentity"] = node.Name, ["leaseDurationSeconds"] = 40, ["renewTime"] = now },
        };
        if (await client.EnsureAsync(leases, "kube-node-lease", lease, ct, "kubelet")) return;
        try
        {
            await leases.UpdateAsync("kube-node-lease", node.Name, "", cur =>
            {
                var spec = cur["spec"] as JsonObject ?? new JsonObject();
                spec["renewTime"] = now;
                spec["holderIdentity"] = node.Name;
                cur["spec"] = spec;
                // The current resourceVersion stays: Lease refuses unconditional updates, as the kubelet's
                // lease controller updates the lease it just read.
                return cur;
            }, new WriteOptions(Kubelet) { FieldManager = "kubelet" }, ct);
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
        foreach (var key in _facts.Keys.Where(k => !keys.Contains(k)).ToList()) _facts.Remove(key);
        IEnumerable<PodFacts> Mine()
        {
            foreach (var p in all)
                if (p.Facts.NodeName == node.Name) yield return p.Facts;
        }
        var mine = Mine();
        _ips.Reset(mine.Select(p => runtime?.PodIp(p.Uid) ?? p.PodIp));
        // The scheduler's view of the node: every pod bound to it that has not finished counts against allocatable pods.
        var assigned = mine.Count(p => p.Phase is not ("Succeeded" or "Failed"));
        // The kubelet's view: the pods it admitted (started, not finished), against its max pods.
        var admitted = mine.Count(p => !p.Deleting && p.Phase is not ("Succeeded" or "Failed")
            && (runtime?.PodIp(p.Uid) ?? p.PodIp) is not null);
        var live = new HashSet<string>();
        var seen = _passSeen;
        seen.Clear();
        JsonObject? nodeSpec = null;
        var nodeRead = false;
        foreach (var (kv, facts) in all)
        {
            // Skipped at once, undecoded: a pod of another node, and (simulated) a pod of this node past Pending.
            if (!facts.Deleting && facts.NodeName.Length > 0 && facts.NodeName != node.Name)
            {
                seen.Add(facts.Uid);
                continue;
            }
            if (runtime is null && !facts.Deleting && facts.NodeName == node.Name && facts.Phase != "Pending")
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
            var nodeName = view.NodeName;
            try
            {
                if (Meta.IsDeleting(pod))
                {
                    if (nodeName == node.Name) live.Add(uid);
                    // The process runtime ends the pod's processes first (SIGTERM, SIGKILL after the grace period).
                    if (nodeName == node.Name && (runtime is null || runtime.TryTerminate(pod)) && Meta.Finalizers(pod).Count == 0)
                    {
                        // (The process runtime records its own Killing events when it stops the containers.)
                        if (runtime is null && view.Phase == "Running")
                            foreach (var (c, path) in Containers(pod, initContainers: false))
                                await KubeletEventAsync(EventRecorder.Reference(pod, "v1", "Pod", path), "Normal", "Killing", $"Stopping container {c}", ct);
                        await pods.DeleteAsync(ns, name, new DeleteOptions(Kubelet, GracePeriodSeconds: 0, PreconditionUid: uid), ct);
                    }
                    continue;
                }
                if (nodeName.Length == 0)
                {
                    // The scheduler reads the node as it is now (cordoned, tainted), once per pass.
                    if (!nodeRead)
                    {
                        nodeSpec = (await client.TryGetAsync(client.Store("", "nodes"), "", node.Name, ct))?["spec"] as JsonObject;
                        nodeRead = true;
                    }
                    if (await ScheduleAsync(pods, pod, nodeSpec, assigned, ct)) assigned++;
                    continue;
                }
                if (nodeName != node.Name) continue;
                if (runtime is not null)
                {
                    live.Add(uid);
                    // A finished pod is not started again (after a server restart, say).
                    if (runtime.PodIp(uid) is null && view.IsTerminal) continue;
                    if (runtime.PodIp(uid) is null && view.PodIp is null)
                    {
                        if (admitted >= node.MaxPods) { await RejectAsync(pods, pod, admitted, ct); continue; }
                        admitted++;
                    }
                    var podIp = runtime.PodIp(uid) ?? view.PodIp ?? _ips.Allocate();
                    if (podIp is null) { await NoIpAsync(pod, ct); continue; }
                    runtime.Run(pod, podIp);
                    continue;
                }
                if (view.Phase != "Pending") continue;
                // A pod bound here by someone else than the scheduler is still admitted against max pods.
                if (admitted >= node.MaxPods) { await RejectAsync(pods, pod, admitted, ct); continue; }
                var ip = _ips.Allocate();
                if (ip is null) { await NoIpAsync(pod, ct); continue; }
                await StartContainersEventsAsync(pod, ct);
                await pods.UpdateAsync(ns, name, "status", cur =>
                {
                    PodStatusWriter.WriteRunning(cur, node.InternalIp, ip, time.GetUtcNow());
                    return cur;
                }, new WriteOptions(Kubelet) { FieldManager = "kubelet" }, ct);
                _reported.Remove(uid);
                admitted++;
            }
            catch (ApiException) { } // conflicts and races: the next pass retries
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // One pod's trouble must not stall the others: it is logged, reported on the pod, and retried.
                LogPodFailed(_log, e, ns, name);
                await ReportOnceAsync(pod, "FailedSync", "error syncing pod: " + e.Message, ct);
            }
        }
        foreach (var uid in _reported.Keys.Where(u => !seen.Contains(u)).ToList()) _reported.Remove(uid);
        runtime?.Forget(live);
    }

    /// <summary>The kubelet's admission refuses a pod past its max pods: the pod fails with reason OutOfpods.</summary>
    private async Task RejectAsync(GenericStore pods, JsonObject pod, int used, CancellationToken ct)
    {
        var message = $"Node didn't have enough resource: pods, requested: 1, used: {used}, capacity: {node.MaxPods}";
        await KubeletEventAsync(EventRecorder.Reference(pod, "v1", "Pod"), "Warning", "OutOfpods", message, ct);
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
        }, new WriteOptions(Kubelet) { FieldManager = "kubelet" }, ct);
    }

    /// <summary>The pod range is exhausted: the sandbox cannot get an address, as host-local IPAM answers; the pod waits.</summary>
    private Task NoIpAsync(JsonObject pod, CancellationToken ct) => ReportOnceAsync(pod, "FailedCreatePodSandBox",
        $"Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"{Meta.Uid(pod)}\": " +
        $"plugin type=\"host-local\" failed (add): failed to allocate for range 0: no IP addresses available in range set: {_ips.RangeSet}", ct);

    /// <summary>A kubelet Warning event on the pod, once per distinct failure.</summary>
    private async Task ReportOnceAsync(JsonObject pod, string reason, string message, CancellationToken ct)
    {
        var uid = Meta.Uid(pod);
        if (_reported.TryGetValue(uid, out var last) && last == message) return;
        try
        {
            await KubeletEventAsync(EventRecorder.Reference(pod, "v1", "Pod"), "Warning", reason, message, ct);
            _reported[uid] = message;
        }
        catch (Exception e) when (!ct.IsCancellationRequested) { LogPodFailed(_log, e, Meta.Namespace(pod), Meta.Name(pod)); }
    }

    /// <summary>Schedules one pending pod onto the node; true when it was bound.</summary>
    private async Task<bool> ScheduleAsync(GenericStore pods, JsonObject pod, JsonObject? nodeSpec, int assigned, CancellationToken ct)
    {
        var scheduler = pod["spec"]?["schedulerName"]?.GetValue<string>() ?? "default-scheduler";
        if (scheduler != "default-scheduler") return false;
        var failure = SchedulerFilter.Filter(pod, nodeSpec, _labels, assigned, node.MaxPods);
        if (failure is null)
        {
            var binding = new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = Meta.Name(pod) },
                ["target"] = new JsonObject { ["kind"] = "Node", ["name"] = node.Name },
            };
            await BindingHandler.BindAsync(pods, Meta.Namespace(pod), Meta.Name(pod), binding, Scheduler, time, ct);
            await _events.EventfAsync(EventRecorder.Reference(pod, "v1", "Pod"), "Normal", "Scheduled", "Binding",
                $"Successfully assigned {Meta.Namespace(pod)}/{Meta.Name(pod)} to {node.Name}", "default-scheduler", SchedulerInstance, Scheduler, ct);
            return true;
        }
        var why = SchedulerFilter.Message(pod, failure.Value);
        var existing = ((pod["status"]?["conditions"] as JsonArray) ?? []).FirstOrDefault(c => c?["type"]?.GetValue<string>() == "PodScheduled");
        if (existing?["message"]?.GetValue<string>() == why) return false;
        await _events.EventfAsync(EventRecorder.Reference(pod, "v1", "Pod"), "Warning", "FailedScheduling", "Scheduling",
            why, "default-scheduler", SchedulerInstance, Scheduler, ct);
        await pods.UpdateAsync(Meta.Namespace(pod), Meta.Name(pod), "status", cur =>
        {
            var status = cur["status"] as JsonObject ?? new JsonObject();
            var conditions = new JsonArray((status["conditions"] as JsonArray ?? []).Where(c => c?["type"]?.GetValue<string>() != "PodScheduled").Select(c => c!.DeepClone()).ToArray());
            conditions.Add((JsonNode)PodStatusWriter.Cond("PodScheduled", "False", ObjectShaper.FormatTime(time.GetUtcNow()), "Unschedulable", why));
            status["conditions"] = conditions;
            cur["status"] = status;
            Meta.Of(cur).Remove("resourceVersion");
            return cur;
        }, new WriteOptions(Scheduler) { FieldManager = "kube-scheduler" }, ct);
        return false;
    }

    private Task KubeletEventAsync(JsonObject involved, string type, string reason, string message, CancellationToken ct) =>
        _events.LegacyEventAsync(involved, type, reason, message, "kubelet", node.Name, Kubelet, ct);

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
    private async Task StartContainersEventsAsync(JsonObject pod, CancellationToken ct)
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
