using System.Text.Json.Nodes;
using System.Threading.Channels;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Authentication;
using Portcullis.Server.Controllers.Events;
using Portcullis.Server.Errors;
using Portcullis.Server.Http.Handlers;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers.Node;

/// <summary>
/// The built-in node: registers the Node and renews its Lease, schedules pending pods onto it
/// (through the same binding as pods/binding), and runs them. With the simulated runtime (no
/// <paramref name="runtime"/>) it writes pod status as a kubelet would once "containers run" and no
/// host code runs; with the process runtime each pod's containers run as host processes. Either
/// way it finishes graceful deletions, once the pod's processes (if any) have ended.
/// </summary>
public sealed class SimulatedNodeController(SystemClient client, NodeIdentity node, TimeProvider time, string kubeletVersion,
    Runtime.ProcessRuntime? runtime = null) : IController
{
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
        var registered = await client.EnsureAsync(nodes, "", desired, ct);
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
        var watcher = Task.Run(async () =>
        {
            await foreach (var _ in client.Backend.WatchAsync("/registry/pods/", from, ct)) wake.Writer.TryWrite(true);
        }, ct);
        var lastLease = time.GetUtcNow();
        while (!ct.IsCancellationRequested)
        {
            await ReconcilePodsAsync(ct);
            if (time.GetUtcNow() - lastLease >= TimeSpan.FromSeconds(10))
            {
                await RenewLeaseAsync(ct);
                lastLease = time.GetUtcNow();
            }
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(ct);
            tick.CancelAfter(TimeSpan.FromSeconds(2));
            try { await wake.Reader.ReadAsync(tick.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
            if (watcher.IsFaulted) await watcher; // surface the failure; the host restarts the loop
        }
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
        if (await client.EnsureAsync(leases, "kube-node-lease", lease, ct)) return;
        try
        {
            await leases.UpdateAsync("kube-node-lease", node.Name, "", cur =>
            {
                var spec = cur["spec"] as JsonObject ?? new JsonObject();
                spec["renewTime"] = now;
                spec["holderIdentity"] = node.Name;
                cur["spec"] = spec;
                Meta.Of(cur).Remove("resourceVersion");
                return cur;
            }, new WriteOptions(Kubelet) { FieldManager = "kubelet" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    private async Task ReconcilePodsAsync(CancellationToken ct)
    {
        var pods = client.Store("", "pods");
        var all = await client.ListAsync(pods, "", ct);
        var used = all.Where(p => p["spec"]?["nodeName"]?.GetValue<string>() == node.Name)
            .Select(p => runtime?.PodIp(Meta.Uid(p)) ?? p["status"]?["podIP"]?.GetValue<string>()).Where(ip => ip is not null).ToHashSet();
        var live = new HashSet<string>();
        foreach (var pod in all)
        {
            var ns = Meta.Namespace(pod);
            var name = Meta.Name(pod);
            var nodeName = pod["spec"]?["nodeName"]?.GetValue<string>() ?? "";
            try
            {
                if (Meta.IsDeleting(pod))
                {
                    if (nodeName == node.Name) live.Add(Meta.Uid(pod));
                    // The process runtime ends the pod's processes first (SIGTERM, SIGKILL after the grace period).
                    if (nodeName == node.Name && (runtime is null || runtime.TryTerminate(pod)) && Meta.Finalizers(pod).Count == 0)
                    {
                        // (The process runtime records its own Killing events when it stops the containers.)
                        if (runtime is null && pod["status"]?["phase"]?.GetValue<string>() == "Running")
                            foreach (var (c, path) in Containers(pod, initContainers: false))
                                await KubeletEventAsync(EventRecorder.Reference(pod, "v1", "Pod", path), "Normal", "Killing", $"Stopping container {c}", ct);
                        await pods.DeleteAsync(ns, name, new DeleteOptions(Kubelet, GracePeriodSeconds: 0, PreconditionUid: Meta.Uid(pod)), ct);
                    }
                    continue;
                }
                if (nodeName.Length == 0)
                {
                    await ScheduleAsync(pods, pod, ct);
                    continue;
                }
                if (nodeName != node.Name) continue;
                if (runtime is not null)
                {
                    live.Add(Meta.Uid(pod));
                    var phase = pod["status"]?["phase"]?.GetValue<string>();
                    // A finished pod is not started again (after a server restart, say).
                    if (runtime.PodIp(Meta.Uid(pod)) is null && phase is "Succeeded" or "Failed") continue;
                    var podIp = runtime.PodIp(Meta.Uid(pod)) ?? pod["status"]?["podIP"]?.GetValue<string>()
                        ?? Enumerable.Range(2, 250).Select(node.PodIp).First(candidate => !used.Contains(candidate));
                    used.Add(podIp);
                    runtime.Run(pod, podIp);
                    continue;
                }
                if (pod["status"]?["phase"]?.GetValue<string>() != "Pending") continue;
                var ip = Enumerable.Range(2, 250).Select(node.PodIp).First(candidate => !used.Contains(candidate));
                used.Add(ip);
                await StartContainersEventsAsync(pod, ct);
                await pods.UpdateAsync(ns, name, "status", cur =>
                {
                    PodStatusWriter.WriteRunning(cur, node.InternalIp, ip, time.GetUtcNow());
                    return cur;
                }, new WriteOptions(Kubelet) { FieldManager = "kubelet" }, ct);
            }
            catch (ApiException) { } // one pod's trouble must not stall the others; the next pass retries
        }
        runtime?.Forget(live);
    }

    private async Task ScheduleAsync(GenericStore pods, JsonObject pod, CancellationToken ct)
    {
        var scheduler = pod["spec"]?["schedulerName"]?.GetValue<string>() ?? "default-scheduler";
        if (scheduler != "default-scheduler") return;
        var why = Unschedulable(pod);
        if (why is null)
        {
            var binding = new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = Meta.Name(pod) },
                ["target"] = new JsonObject { ["kind"] = "Node", ["name"] = node.Name },
            };
            await BindingHandler.BindAsync(pods, Meta.Namespace(pod), Meta.Name(pod), binding, Scheduler, time, ct);
            await _events.EventfAsync(EventRecorder.Reference(pod, "v1", "Pod"), "Normal", "Scheduled", "Binding",
                $"Successfully assigned {Meta.Namespace(pod)}/{Meta.Name(pod)} to {node.Name}", "default-scheduler", SchedulerInstance, Scheduler, ct);
            return;
        }
        var existing = ((pod["status"]?["conditions"] as JsonArray) ?? []).FirstOrDefault(c => c?["type"]?.GetValue<string>() == "PodScheduled");
        if (existing?["message"]?.GetValue<string>() == why) return;
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
    }

    private Task KubeletEventAsync(JsonObject involved, string type, string reason, string message, CancellationToken ct) =>
        _events.LegacyEventAsync(involved, type, reason, message, "kubelet", node.Name, Kubelet, ct);

    /// <summary>The containers the kubelet starts, with the field path its events name them by.</summary>
    private static IEnumerable<(string Name, string FieldPath)> Containers(JsonObject pod, bool initContainers)
    {
        var lists = initContainers ? new[] { "initContainers", "containers" } : ["containers"];
        foreach (var list in lists)
            foreach (var c in pod["spec"]?[list] as JsonArray ?? [])
                if (c?["name"]?.GetValue<string>() is { } name)
                    yield return (name, $"spec.{list}{{{name}}}");
    }

    /// <summary>What the kubelet reports while it starts a pod's containers: the image pull, then create and start.</summary>
    private async Task StartContainersEventsAsync(JsonObject pod, CancellationToken ct)
    {
        var events = new KubeletEvents(_events, node);
        foreach (var list in new[] { "initContainers", "containers" })
            foreach (var c in (pod["spec"]?[list] as JsonArray ?? []).OfType<JsonObject>())
                await events.StartSucceededAsync(pod, c, list == "initContainers", ct);
    }

    /// <summary>Why the pod cannot go on the node, in the scheduler's words, or null when it fits.</summary>
    private string? Unschedulable(JsonObject pod)
    {
        var labels = node.ToNode(time.GetUtcNow(), kubeletVersion)["metadata"]!["labels"]!.AsObject();
        if (pod["spec"]?["nodeSelector"] is JsonObject selector)
            foreach (var (k, v) in selector)
                if (labels[k]?.GetValue<string>() != v?.GetValue<string>())
                    return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
        return null;
    }
}
