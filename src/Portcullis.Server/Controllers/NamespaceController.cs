using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers;

/// <summary>
/// Finishes namespace deletion as kube-controller-manager's namespace controller does: once a
/// namespace is Terminating, delete everything in it (objects with finalizers wait for their
/// owners), report progress and failures in the namespace's deletion conditions, then remove the
/// <c>kubernetes</c> finalizer through /finalize, which lets it go. What fails for one object or one
/// namespace is reported there and retried on the next pass; the others go on.
/// </summary>
public sealed partial class NamespaceController(SystemClient client, TimeProvider time, ILogger? log = null) : IController
{
    private readonly ILogger _log = log ?? NullLogger.Instance;

    public string Name => "namespace";

    public async Task RunAsync(CancellationToken ct)
    {
        var namespaces = client.Store("", "namespaces");
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500), time);
        do
        {
            await SyncAllAsync(ct);
        } while (await timer.WaitForNextTickAsync(ct));
    }

    /// <summary>One pass over every Terminating namespace.</summary>
    public async Task SyncAllAsync(CancellationToken ct)
    {
        var namespaces = client.Store("", "namespaces");
        foreach (var ns in await client.ListAsync(namespaces, "", ct))
        {
            if (!Meta.IsDeleting(ns)) continue;
            try { await FinalizeAsync(namespaces, ns, ct); }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                LogSyncFailed(_log, e, Meta.Name(ns));
            }
        }
    }

    private async Task FinalizeAsync(GenericStore namespaces, JsonObject nsObj, CancellationToken ct)
    {
        var ns = Meta.Name(nsObj);
        var errors = new List<string>();
        var remaining = new List<string>();
        var finalizers = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var store in client.All.Where(s => s.Definition.Namespaced))
        {
            string? failure = null;
            var left = 0;
            IReadOnlyList<JsonObject> objects;
            try { objects = await client.ListAsync(store, ns, ct); }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                errors.Add(Message(e));
                continue;
            }
            foreach (var obj in objects)
            {
                var gone = false;
                if (!Meta.IsDeleting(obj))
                {
                    try
                    {
                        gone = (await store.DeleteAsync(ns, Meta.Name(obj), new DeleteOptions(SystemClient.Controller, PropagationPolicy: "Background"), ct)).Deleted;
                    }
                    catch (ApiException e) when (e.Code is 404) { gone = true; }
                    catch (ApiException e) when (e.Code is 409) { }
                    catch (Exception e) when (!ct.IsCancellationRequested)
                    {
                        // This object alone failed; the rest of the namespace (and the other namespaces) go on.
                        LogDeleteFailed(_log, e, store.Definition.Plural, ns, Meta.Name(obj));
                        failure ??= Message(e);
                    }
                }
                if (gone) continue;
                left++;
                foreach (var f in Meta.Finalizers(obj)) finalizers[f] = finalizers.GetValueOrDefault(f) + 1;
            }
            if (failure is not null) errors.Add(failure);
            if (left > 0) remaining.Add($"{store.Definition.Plural}.{store.Definition.Group} has {left} resource instances");
        }
        await UpdateConditionsAsync(namespaces, ns, errors, remaining, finalizers, ct);
        if (remaining.Count > 0 || errors.Count > 0) return;
        try
        {
            await namespaces.UpdateAsync("", ns, "finalize", current =>
            {
                var spec = current["spec"] as JsonObject ?? new JsonObject();
                spec["finalizers"] = new JsonArray(Api.Resources.Core.NamespaceKind.SpecFinalizers(current).Where(f => f != "kubernetes").Select(f => (JsonNode)f!).ToArray());
                current["spec"] = spec;
                Meta.Of(current).Remove("resourceVersion");
                return current;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    private static string Message(Exception e) => e is ApiException ? e.Message : "Internal error occurred: " + e.Message;

    /// <summary>
    /// The five deletion conditions upstream's namespace deleter keeps on a Terminating namespace:
    /// True with what went wrong or remains, else False with the "all is well" reason.
    /// </summary>
    private async Task UpdateConditionsAsync(GenericStore namespaces, string ns, List<string> errors, List<string> remaining,
        SortedDictionary<string, int> finalizers, CancellationToken ct)
    {
        remaining.Sort(StringComparer.Ordinal);
        errors.Sort(StringComparer.Ordinal);
        var wanted = new List<(string Type, string Status, string Reason, string Message)>
        {
            ("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered"),
            ("NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
            errors.Count > 0
                ? ("NamespaceDeletionContentFailure", "True", "ContentDeletionFailed", $"Failed to delete all resource types, {errors.Count} remaining: {string.Join(", ", errors)}")
                : ("NamespaceDeletionContentFailure", "False", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
            remaining.Count > 0
                ? ("NamespaceContentRemaining", "True", "SomeResourcesRemain", "Some resources are remaining: " + string.Join(", ", remaining))
                : ("NamespaceContentRemaining", "False", "ContentRemoved", "All content successfully removed"),
            finalizers.Count > 0
                ? ("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: " + string.Join(", ", finalizers.Select(f => $"{f.Key} in {f.Value} resource instances").Order(StringComparer.Ordinal)))
                : ("NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
        };
        var now = ObjectShaper.FormatTime(time.GetUtcNow());
        // Written only when something changed, as upstream's updateConditions decides.
        if (await client.TryGetAsync(namespaces, "", ns, ct) is not { } fresh || !Apply((JsonObject)fresh.DeepClone(), wanted, now)) return;
        try
        {
            await namespaces.UpdateAsync("", ns, "status", current =>
            {
                Apply(current, wanted, now);
                Meta.Of(current).Remove("resourceVersion");
                return current;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    private static bool Apply(JsonObject current, List<(string Type, string Status, string Reason, string Message)> wanted, string now)
    {
        var status = current["status"] as JsonObject ?? new JsonObject();
        var conditions = status["conditions"] as JsonArray ?? new JsonArray();
        var changed = false;
        foreach (var (type, st, reason, message) in wanted)
        {
            var old = conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == type);
            if (old is null)
            {
                conditions.Add((JsonNode)new JsonObject { ["type"] = type, ["status"] = st, ["lastTransitionTime"] = now, ["reason"] = reason, ["message"] = message });
                changed = true;
            }
            else if (old["status"]?.GetValue<string>() != st || old["reason"]?.GetValue<string>() != reason || old["message"]?.GetValue<string>() != message)
            {
                if (old["status"]?.GetValue<string>() != st) old["lastTransitionTime"] = now;
                old["status"] = st;
                old["reason"] = reason;
                old["message"] = message;
                changed = true;
            }
        }
        status["conditions"] = conditions;
        current["status"] = status;
        return changed;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "namespace {Namespace}: deletion pass failed; retrying")]
    private static partial void LogSyncFailed(ILogger logger, Exception e, string @namespace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "namespace deletion: deleting {Resource} {Namespace}/{Name} failed")]
    private static partial void LogDeleteFailed(ILogger logger, Exception e, string resource, string @namespace, string name);
}
