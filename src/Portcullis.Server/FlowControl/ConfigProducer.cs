using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Api.Resources.FlowControl;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.FlowControl;

/// <summary>
/// The <c>priority-and-fairness-config-producer</c> post-start hook (kubernetes pkg/registry/flowcontrol/rest/
/// storage_flowcontrol.go with pkg/registry/flowcontrol/ensurer): every replica creates the bootstrap
/// PriorityLevelConfigurations and FlowSchemas that are missing, restores a mandatory object's spec whenever it differs,
/// restores a suggested object's spec only while its <c>apf.kubernetes.io/autoupdate-spec</c> annotation is "true" (or,
/// with no readable annotation, while the object was never edited: generation 1), and deletes objects that carry the
/// annotation as "true" but are no longer among the bootstrap objects. It runs at start (retried every second until it
/// succeeds; /readyz's <c>poststarthook/priority-and-fairness-config-producer</c> fails until then) and then once a minute.
/// </summary>
public sealed partial class ConfigProducer(SystemClient client, ILogger log, TimeProvider time) : IController
{
    /// <summary>The field manager upstream's ensurer writes as.</summary>
    public const string FieldManager = "api-priority-and-fairness-config-producer-v1";
    public const string HookName = "poststarthook/priority-and-fairness-config-producer";

    private volatile bool _done;

    public string Name => "priority-and-fairness-config-producer";

    /// <summary>True once the bootstrap configuration was ensured (the post-start hook finished).</summary>
    public bool Done => _done;

    public async Task InitializeAsync(CancellationToken ct)
    {
        try
        {
            await EnsureAsync(ct);
            _done = true;
        }
        catch (Exception e) when (e is not OperationCanceledException) { LogFailed(log, e); }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(_done ? TimeSpan.FromMinutes(1) : TimeSpan.FromSeconds(1), time, ct);
            try
            {
                await EnsureAsync(ct);
                _done = true;
            }
            catch (Exception e) when (e is not OperationCanceledException) { LogFailed(log, e); }
        }
    }

    /// <summary>ensure: the suggested objects, then the mandatory ones, then the removal of retired ones.</summary>
    public async Task EnsureAsync(CancellationToken ct)
    {
        var pls = client.Store("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations");
        var fss = client.Store("flowcontrol.apiserver.k8s.io", "flowschemas");
        // In upstream's order, each set at once (distinct objects): a first start's creates share the storage's commits.
        await Task.WhenAll(BootstrapConfiguration.SuggestedPriorityLevels().Select(pl => EnsureOneAsync(pls, pl, mandatory: false, ct)));
        await Task.WhenAll(BootstrapConfiguration.SuggestedFlowSchemas().Select(fs => EnsureOneAsync(fss, fs, mandatory: false, ct)));
        await Task.WhenAll(BootstrapConfiguration.MandatoryPriorityLevels().Select(pl => EnsureOneAsync(pls, pl, mandatory: true, ct)));
        await Task.WhenAll(BootstrapConfiguration.MandatoryFlowSchemas().Select(fs => EnsureOneAsync(fss, fs, mandatory: true, ct)));
        await RemoveRetiredAsync(pls, [.. BootstrapConfiguration.MandatoryPriorityLevels(), .. BootstrapConfiguration.SuggestedPriorityLevels()], ct);
        await RemoveRetiredAsync(fss, [.. BootstrapConfiguration.MandatoryFlowSchemas(), .. BootstrapConfiguration.SuggestedFlowSchemas()], ct);
    }

    private async Task EnsureOneAsync(GenericStore store, JsonObject bootstrap, bool mandatory, CancellationToken ct)
    {
        var name = Meta.Name(bootstrap);
        var current = await client.TryGetAsync(store, "", name, ct);
        if (current is null)
        {
            // A missing object is always re-created.
            try { await store.CreateAsync("", (JsonObject)bootstrap.DeepClone(), new WriteOptions(SystemClient.Controller) { FieldManager = FieldManager }, ct); }
            catch (ApiException e) when (e.Code == 409) { }
            return;
        }
        if (ShouldUpdate(current, bootstrap, mandatory, store.Definition.Plural == "prioritylevelconfigurations") is not { } updated) return;
        try { await store.UpdateAsync("", name, "", _ => updated, new WriteOptions(SystemClient.Controller) { FieldManager = FieldManager }, ct); }
        catch (ApiException e) when (e.Code is 404 or 409) { } // gone or changed meanwhile: the next round sees it
    }

    /// <summary>
    /// ShouldUpdate (ensurer/strategy.go): the object to write, or null when the current one is as wanted. A mandatory
    /// object's spec is always restored; a suggested one's only while auto-update is on.
    /// </summary>
    public static JsonObject? ShouldUpdate(JsonObject current, JsonObject bootstrap, bool mandatory, bool priorityLevel)
    {
        var autoUpdateSpec = mandatory || ShouldUpdateSpec(current);
        var annotation = Annotation(current);
        var updateAnnotation = !(annotation is not null && ParseBool(annotation) is { } b && b == autoUpdateSpec);
        var specChanged = autoUpdateSpec && SpecChanged(bootstrap, current, priorityLevel);
        if (!updateAnnotation && !specChanged) return null;
        var copy = (JsonObject)current.DeepClone();
        if (updateAnnotation)
        {
            var meta = (JsonObject)copy["metadata"]!;
            if (meta["annotations"] is not JsonObject annotations) meta["annotations"] = annotations = new JsonObject();
            annotations[BootstrapConfiguration.AutoUpdateAnnotation] = autoUpdateSpec ? "true" : "false";
        }
        if (specChanged) copy["spec"] = bootstrap["spec"]!.DeepClone();
        return copy;
    }

    /// <summary>shouldUpdateSpec: the annotation as a Go bool; without one that parses, only an object never edited (generation 1).</summary>
    private static bool ShouldUpdateSpec(JsonObject current)
    {
        if (Annotation(current) is { } v && ParseBool(v) is { } b) return b;
        return Serialization.JsonRead.LongTruncated(current["metadata"]?["generation"]) == 1;
    }

    /// <summary>fsHasSpecChanged / plcHasSpecChanged: the bootstrap spec defaulted as the API would, compared with the
    /// current one; for the exempt level its spec.exempt is the administrator's and is not compared.</summary>
    private static bool SpecChanged(JsonObject bootstrap, JsonObject current, bool priorityLevel)
    {
        var expected = (JsonObject)bootstrap.DeepClone();
        var actualSpec = current["spec"] as JsonObject ?? new JsonObject();
        if (priorityLevel)
        {
            PriorityLevelConfigurationKind.V1.Strategy.Default(expected);
            if (Meta.Name(bootstrap) == "exempt")
            {
                if (actualSpec["exempt"] is null) return true;
                ((JsonObject)expected["spec"]!)["exempt"] = actualSpec["exempt"]!.DeepClone();
            }
        }
        else FlowSchemaKind.V1.Strategy.Default(expected);
        return !JsonNode.DeepEquals(expected["spec"], actualSpec);
    }

    private async Task RemoveRetiredAsync(GenericStore store, IReadOnlyList<JsonObject> bootstrap, CancellationToken ct)
    {
        var names = bootstrap.Select(Meta.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var obj in await client.ListAsync(store, "", ct))
        {
            // getRemoveCandidate and removeConfiguration: only objects that carry the annotation, as a true bool.
            if (names.Contains(Meta.Name(obj)) || Annotation(obj) is not { } v || ParseBool(v) != true) continue;
            try { await store.DeleteAsync("", Meta.Name(obj), new DeleteOptions(SystemClient.Controller, PreconditionUid: Meta.Uid(obj)), ct); }
            catch (ApiException e) when (e.Code is 404 or 409) { }
        }
    }

    private static string? Annotation(JsonObject obj) =>
        obj["metadata"]?["annotations"]?[BootstrapConfiguration.AutoUpdateAnnotation] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Go's strconv.ParseBool.</summary>
    public static bool? ParseBool(string s) => s switch
    {
        "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
        "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "APF bootstrap ensurer ran into error, will retry later")]
    private static partial void LogFailed(ILogger logger, Exception e);
}
