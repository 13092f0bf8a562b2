using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Authentication;
using Portcullis.Server.Controllers.Events;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Errors;
using Portcullis.Server.Http.Handlers;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// kube-scheduler's default profile, in process: binds each pod whose <c>schedulerName</c> is <c>default-scheduler</c>
/// (and that has no scheduling gates) to the best feasible node, through the same binding as pods/binding, with the
/// <c>Scheduled</c> event; a pod that fits nowhere gets <c>PodScheduled=False</c> (reason <c>Unschedulable</c>) and a
/// <c>FailedScheduling</c> event with upstream's message (<see cref="FitError"/>). Pods are taken by priority, then in
/// the order they were first seen (PrioritySort). An unschedulable pod is tried again when the cluster changes in a
/// way that could help it (a node added or changed, a pod leaving a node; a pod landing on a node for a pod with
/// affinity), after a back-off of 1 s doubling to 10 s, and at the latest every 5 minutes
/// (podMaxInUnschedulablePodsDuration) — never in a tight loop.
/// </summary>
public sealed partial class DefaultScheduler(SystemClient client, TimeProvider time, ILogger? log = null) : IController
{
    private readonly ILogger _log = log ?? NullLogger.Instance;
    private readonly SchedulerCache _cache = new();
    private readonly EventRecorder _events = new(client, time);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private static readonly UserInfo Scheduler = new("system:kube-scheduler", "", [UserInfo.AllAuthenticated, UserInfo.SystemMasters], UserInfo.NoExtra);
    private static readonly string SchedulerInstance = "default-scheduler-" + System.Net.Dns.GetHostName();
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxUnschedulable = TimeSpan.FromMinutes(5);

    /// <summary>A waiting pod's place in the queue: first seen, and what the last attempt saw.</summary>
    private sealed class QueueEntry
    {
        public long Seq;
        public int Attempts;
        public DateTimeOffset LastAttempt;
        public long Revision, Freed, Added;
    }

    private readonly Dictionary<string, QueueEntry> _queue = new(StringComparer.Ordinal);
    private long _seq;
    private long _syncedRevision = -1;
    private long _tieBreak;

    public string Name => "scheduler";

    public async Task RunAsync(CancellationToken ct)
    {
        var wake = _wake;
        var watchers = new[] { "/registry/pods/", "/registry/minions/" }.Select(prefix => Task.Run(async () =>
        {
            var from = client.Backend.CurrentRevision;
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    await foreach (var _ in client.Backend.WatchAsync(prefix, from, ct)) wake.Writer.TryWrite(true);
                }
                catch (Exception e) when (!ct.IsCancellationRequested) { LogLoopFailed(_log, e, "watch " + prefix); }
                from = client.Backend.CurrentRevision;
                wake.Writer.TryWrite(true);
                try { await Task.Delay(TimeSpan.FromSeconds(1), time, ct); } catch (OperationCanceledException) { return; }
            }
        }, ct)).ToList();
        while (!ct.IsCancellationRequested)
        {
            await PassAsync(ct);
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // Waiting pods are looked at every second (their back-off ends); otherwise only a watch event wakes the loop.
            tick.CancelAfter(_queue.Count > 0 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(30));
            try { await wake.Reader.ReadAsync(tick.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        }
        await Task.WhenAll(watchers);
    }

    /// <summary>One pass: bring the cache up to date, then try the pods that are due. Failures are logged and retried.</summary>
    public async Task PassAsync(CancellationToken ct)
    {
        try
        {
            await SyncAsync(ct);
            await ScheduleDueAsync(ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested) { LogLoopFailed(_log, e, "scheduling pass"); }
    }

    private async Task SyncAsync(CancellationToken ct)
    {
        var revision = client.Backend.CurrentRevision;
        if (revision == _syncedRevision) return;
        var nodes = client.Store("", "nodes");
        var namespaces = client.Store("", "namespaces");
        var pods = client.Store("", "pods");
        _cache.SyncNodes(await nodes.ListStoredAsync("", ct), nodes.Decode);
        _cache.SyncNamespaces(await namespaces.ListStoredAsync("", ct), namespaces.Decode);
        _cache.SyncPods(await pods.ListStoredAsync("", ct), pods.Decode);
        _syncedRevision = revision;
        foreach (var key in _queue.Keys.Where(k => !_cache.Pending.Contains(k)).ToList()) _queue.Remove(key);
        foreach (var key in _cache.Pending)
            if (!_queue.ContainsKey(key)) _queue[key] = new QueueEntry { Seq = _seq++ };
    }

    private bool Due(string key, QueueEntry e, SchedulingPod pod, DateTimeOffset now)
    {
        if (e.Attempts == 0 || _cache.PodRevision(key) != e.Revision) return true;
        if (now - e.LastAttempt >= MaxUnschedulable) return true;
        var moved = _cache.FreedVersion != e.Freed || (pod.Affinity.Count > 0 && _cache.AddedVersion != e.Added);
        if (!moved) return false;
        var backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, InitialBackoff.Ticks << Math.Min(e.Attempts - 1, 10)));
        return now - e.LastAttempt >= backoff;
    }

    private async Task ScheduleDueAsync(CancellationToken ct)
    {
        if (_queue.Count == 0) return;
        var now = time.GetUtcNow();
        var due = new List<(SchedulingPod Pod, QueueEntry Entry)>();
        foreach (var (key, e) in _queue)
            if (_cache.Pod(key) is { } pod && Due(key, e, pod, now)) due.Add((pod, e));
        due.Sort((a, b) => a.Pod.Priority != b.Pod.Priority ? b.Pod.Priority.CompareTo(a.Pod.Priority) : a.Entry.Seq.CompareTo(b.Entry.Seq));
        var pods = client.Store("", "pods");
        foreach (var (pod, entry) in due)
        {
            if (ct.IsCancellationRequested) return;
            entry.Attempts++;
            entry.LastAttempt = time.GetUtcNow();
            entry.Revision = _cache.PodRevision(pod.Key);
            entry.Freed = _cache.FreedVersion;
            entry.Added = _cache.AddedVersion;
            try { await ScheduleOneAsync(pods, pod, ct); }
            catch (ApiException) { } // the pod changed or went away meanwhile: the next sync says what it is now
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // One pod's trouble must not stall the others: logged, reported on the pod if it can be, retried after its back-off.
                LogPodFailed(_log, e, pod.Namespace, pod.Name);
                try { await ReportAsync(pod, "SchedulerError", e.Message, ct); }
                catch (Exception again) when (!ct.IsCancellationRequested) { LogPodFailed(_log, again, pod.Namespace, pod.Name); }
            }
        }
    }

    /// <summary>Filters, scores and binds one pod, or records why it fits nowhere.</summary>
    private async Task ScheduleOneAsync(GenericStore pods, SchedulingPod pod, CancellationToken ct)
    {
        var nodes = _cache.Nodes;
        var cycle = new SchedulingCycle(pod, nodes, _cache.NamespaceLabels);
        var result = cycle.FindFeasible();
        if (result.Feasible.Count == 0)
        {
            var message = FitError.Message(nodes.Count, result.Failures, result.Absent, result.PreFilterMessage, pod.PreemptNever);
            if (pod.UnschedulableMessage == message) return;
            await ReportAsync(pod, "Unschedulable", message, ct);
            return;
        }
        var chosen = Select(result.Feasible, cycle.Score(result.Feasible));
        var binding = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = pod.Name },
            ["target"] = new JsonObject { ["kind"] = "Node", ["name"] = chosen.Name },
        };
        try { await BindingHandler.BindAsync(pods, pod.Namespace, pod.Name, binding, Scheduler, time, ct); }
        catch (Exception e) when (e is not ApiException { Code: 409 or 404 } && !ct.IsCancellationRequested)
        {
            // DefaultBinder's failure: the scheduler reports it (FailedScheduling "Binding rejected: …") and tries again later.
            LogPodFailed(_log, e, pod.Namespace, pod.Name);
            await _events.EventfAsync(Reference(pod), "Warning", "FailedScheduling", "Scheduling",
                "Binding rejected: " + e.Message, "default-scheduler", SchedulerInstance, Scheduler, ct);
            return;
        }
        _cache.Assume(pod, chosen.Name);
        _queue.Remove(pod.Key);
        await _events.EventfAsync(Reference(pod), "Normal", "Scheduled", "Binding",
            $"Successfully assigned {pod.Namespace}/{pod.Name} to {chosen.Name}", "default-scheduler", SchedulerInstance, Scheduler, ct);
    }

    /// <summary>selectHost: the highest score; ties go round-robin (upstream picks among them at random).</summary>
    private SchedulingNode Select(List<SchedulingNode> feasible, long[] scores)
    {
        var best = scores.Max();
        var ties = new List<int>();
        for (var i = 0; i < scores.Length; i++)
            if (scores[i] == best) ties.Add(i);
        return feasible[ties[(int)(_tieBreak++ % ties.Count)]];
    }

    private JsonObject Reference(SchedulingPod pod) => new()
    {
        ["kind"] = "Pod", ["namespace"] = pod.Namespace, ["name"] = pod.Name, ["uid"] = pod.Uid, ["apiVersion"] = "v1",
        ["resourceVersion"] = _cache.PodRevision(pod.Key).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The FailedScheduling event and the PodScheduled=False condition with the reason (Unschedulable or SchedulerError).</summary>
    private async Task ReportAsync(SchedulingPod pod, string reason, string message, CancellationToken ct)
    {
        await _events.EventfAsync(Reference(pod), "Warning", "FailedScheduling", "Scheduling",
            message, "default-scheduler", SchedulerInstance, Scheduler, ct);
        var pods = client.Store("", "pods");
        await pods.UpdateAsync(pod.Namespace, pod.Name, "status", cur =>
        {
            if (Meta.Uid(cur) != pod.Uid) throw ApiErrors.Conflict("pods", "", pod.Name, "the pod was replaced");
            var status = cur["status"] as JsonObject ?? new JsonObject();
            var conditions = new JsonArray((status["conditions"] as JsonArray ?? []).Where(c => c?["type"]?.GetValue<string>() != "PodScheduled").Select(c => c!.DeepClone()).ToArray());
            conditions.Add((JsonNode)PodStatusWriter.Cond("PodScheduled", "False", ObjectShaper.FormatTime(time.GetUtcNow()), reason, message));
            status["conditions"] = conditions;
            cur["status"] = status;
            Meta.Of(cur).Remove("resourceVersion");
            return cur;
        }, new WriteOptions(Scheduler) { FieldManager = "kube-scheduler" }, ct);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "scheduler: {What} failed; retrying")]
    private static partial void LogLoopFailed(ILogger logger, Exception e, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "scheduler: pod {Namespace}/{Name} failed to schedule; retrying")]
    private static partial void LogPodFailed(ILogger logger, Exception e, string @namespace, string name);
}
