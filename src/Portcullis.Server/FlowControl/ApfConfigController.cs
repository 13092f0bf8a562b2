using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Api.Resources.FlowControl;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.FlowControl;

/// <summary>
/// API Priority and Fairness's config controller (k8s.io/apiserver pkg/util/flowcontrol/apf_controller.go), run by every
/// replica: it watches FlowSchemas and PriorityLevelConfigurations through storage (so replicas on one etcd follow each
/// other's changes), digests them into the dispatcher's configuration, and writes each FlowSchema's <c>Dangling</c>
/// condition: False/Found when its priority level exists, True/NotFound when it does not, with upstream's messages.
/// </summary>
/// <remarks>
/// A failed status write is logged and retried with back-off (1 s doubling to 60 s) while the other schemas are written;
/// upstream does not write PriorityLevelConfiguration conditions (ConcurrencyShared is declared, never set), nor does this.
/// </remarks>
public sealed partial class ApfConfigController(SystemClient client, ApfFilter filter, int serverConcurrencyLimit, ILogger log, TimeProvider time)
    : IController
{
    /// <summary>The field manager upstream's controller writes FlowSchema status as (kube-apiserver's AsFieldManager).</summary>
    public const string FieldManager = "api-priority-and-fairness-config-consumer-v1";

    public string Name => "priority-and-fairness-config-consumer";

    private GenericStore FlowSchemas => client.Store("flowcontrol.apiserver.k8s.io", "flowschemas");
    private GenericStore PriorityLevels => client.Store("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations");

    /// <summary>The first configuration before the server reports ready (the mandatory objects imagined if absent).</summary>
    public async Task InitializeAsync(CancellationToken ct)
    {
        try { await SyncAsync(ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(log, e);
            filter.SetConfiguration(ApfConfiguration.Build([], [], serverConcurrencyLimit, filter.Configuration, time));
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var signal = new SemaphoreSlim(0);
        Task Notify(CancellationToken _)
        {
            if (signal.CurrentCount == 0) signal.Release();
            return Task.CompletedTask;
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watches = Task.WhenAll(
            client.WatchPrefixAsync(FlowSchemaKind.V1.KeyPrefix, Notify, stop.Token),
            client.WatchPrefixAsync(PriorityLevelConfigurationKind.V1.KeyPrefix, Notify, stop.Token));
        var backoff = TimeSpan.FromSeconds(1);
        try
        {
            while (true)
            {
                var next = signal.WaitAsync(ct);
                if (await Task.WhenAny(next, watches) == watches) await watches; // a watch that ended: the host restarts the loop
                await next;
                if (await SyncAsync(ct)) { backoff = TimeSpan.FromSeconds(1); continue; }
                await Task.Delay(backoff, time, ct);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(60).Ticks));
                await Notify(ct);
            }
        }
        finally { await stop.CancelAsync(); }
    }

    /// <summary>Digests the current objects into the dispatcher; writes the Dangling conditions that changed. False when a write failed.</summary>
    public async Task<bool> SyncAsync(CancellationToken ct)
    {
        var fss = await client.ListAsync(FlowSchemas, "", ct);
        var pls = await client.ListAsync(PriorityLevels, "", ct);
        var config = ApfConfiguration.Build(fss, pls, serverConcurrencyLimit, filter.Configuration, time);
        filter.SetConfiguration(config);
        // Each FlowSchema's status is its own write: all at once, so a first start's writes share the storage's commits.
        var results = await Task.WhenAll(fss.Select(fs => SyncStatusAsync(fs, config, ct)));
        return results.All(r => r);
    }

    /// <summary>Writes one FlowSchema's Dangling condition when it differs; false when the write failed.</summary>
    private async Task<bool> SyncStatusAsync(JsonObject fs, ApfConfiguration config, CancellationToken ct)
    {
        var name = Meta.Name(fs);
        var plName = J(fs, "spec", "priorityLevelConfiguration", "name");
        var want = DanglingCondition(config.Dangling.GetValueOrDefault(name), plName);
        if (CurrentCondition(fs) is { } have && J(have, "status") == J(want, "status") && J(have, "reason") == J(want, "reason")
            && J(have, "message") == J(want, "message")) return true;
        want["lastTransitionTime"] = ObjectShaper.FormatTime(time.GetUtcNow());
        try
        {
            await FlowSchemas.UpdateAsync("", name, "status", cur =>
            {
                var status = cur["status"] as JsonObject ?? new JsonObject();
                var conditions = status["conditions"] as JsonArray ?? new JsonArray();
                var kept = new JsonArray([.. conditions.Where(c => J(c, "type") != "Dangling").Select(c => c!.DeepClone())]);
                kept.Add(want.DeepClone());
                status["conditions"] = kept;
                cur["status"] = status;
                return cur;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = FieldManager }, ct);
        }
        catch (ApiException e) when (e.Code == 404) { } // deleted meanwhile: its watch event follows
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogStatusFailed(log, e, name);
            return false;
        }
        return true;
    }

    /// <summary>presyncFlowSchemaStatus's desired condition.</summary>
    public static JsonObject DanglingCondition(bool dangling, string plName) => dangling
        ? new JsonObject
        {
            ["type"] = "Dangling", ["status"] = "True", ["reason"] = "NotFound",
            ["message"] = $"This FlowSchema references the PriorityLevelConfiguration object named {Serialization.GoText.Quote(plName)} but there is no such object",
        }
        : new JsonObject
        {
            ["type"] = "Dangling", ["status"] = "False", ["reason"] = "Found",
            ["message"] = $"This FlowSchema references the PriorityLevelConfiguration object named {Serialization.GoText.Quote(plName)} and it exists",
        };

    private static JsonObject? CurrentCondition(JsonObject fs) =>
        (fs["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => J(c, "type") == "Dangling");

    private static string J(JsonNode? n, params string[] path)
    {
        foreach (var p in path) n = (n as JsonObject)?[p];
        return n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "APF config controller: reading the configuration failed")]
    private static partial void LogFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "failed to set a status.condition for FlowSchema {Name}")]
    private static partial void LogStatusFailed(ILogger logger, Exception e, string name);
}
