using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;
using Portcullis.Server.Tests.Authentication;

namespace Portcullis.Server.Tests.Controllers;

/// <summary>
/// Grace periods taken from a pod's spec (any int64) through graceful deletion, and the namespace
/// controller: one object or namespace that fails never stops the others, and the failure is in the
/// namespace's NamespaceDeletionContentFailure condition.
/// </summary>
public sealed class GracePeriodAndNamespaceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Start);
    private FaultyCluster _cluster = null!;
    private SqliteBackend _kv = null!;
    private SystemClient _client = null!;
    private static readonly WriteOptions As = FaultyCluster.As;


    public Task InitializeAsync()
    {
        // Writes to a pod or object named "boom" fail with an unexpected (non-API) exception.
        _cluster = new FaultyCluster(_clock, r => r.Resource.Plural == "pods" && r.Name == "boom", Operation.Delete);
        _kv = _cluster.Kv;
        _client = _cluster.Client;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private GenericStore Pods => _client.Store("", "pods");
    private GenericStore Namespaces => _client.Store("", "namespaces");

    private Task<JsonObject> CreatePodAsync(string ns, string name, long? grace, string? node = "node-1") => Pods.CreateAsync(ns, new JsonObject
    {
        ["apiVersion"] = "v1", ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }),
            ["terminationGracePeriodSeconds"] = grace,
            ["nodeName"] = node,
        },
    }, As);

    private async Task CreateNamespaceAsync(string name) => await Namespaces.CreateAsync("", new JsonObject
    {
        ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name },
    }, As);

    [Fact]
    public async Task Delete_PodWithMaxInt64GracePeriod_MarksLikeUpstreamInsteadOfOverflowing()
    {
        await CreatePodAsync("ns", "p", long.MaxValue);
        var result = await Pods.DeleteAsync("ns", "p", new DeleteOptions(SystemClient.Controller));
        Assert.False(result.Deleted);
        var meta = result.Object["metadata"]!;
        // time.Duration(9223372036854775807) * time.Second wraps to -1s in Go: the deadline is a second ago.
        Assert.Equal(ObjectShaper.FormatTime(Start.AddSeconds(-1)), meta["deletionTimestamp"]!.GetValue<string>());
        Assert.Equal(long.MaxValue, meta["deletionGracePeriodSeconds"]!.GetValue<long>());
    }

    [Fact]
    public async Task Delete_PodWithHugeGracePeriod_ThenShorterGracePeriod_Works()
    {
        await CreatePodAsync("ns", "p", long.MaxValue - 1);
        await Pods.DeleteAsync("ns", "p", new DeleteOptions(SystemClient.Controller));
        var again = await Pods.DeleteAsync("ns", "p", new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 5));
        Assert.False(again.Deleted);
        Assert.NotNull(again.Object["metadata"]!["deletionTimestamp"]);
        var gone = await Pods.DeleteAsync("ns", "p", new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 0));
        Assert.True(gone.Deleted);
    }

    [Fact]
    public async Task Delete_PodWithNegativeGracePeriod_IsGracefulForOneSecond()
    {
        await CreatePodAsync("ns", "p", -5);
        var result = await Pods.DeleteAsync("ns", "p", new DeleteOptions(SystemClient.Controller));
        Assert.False(result.Deleted);
        Assert.Equal(1, result.Object["metadata"]!["deletionGracePeriodSeconds"]!.GetValue<long>());
        Assert.Equal(ObjectShaper.FormatTime(Start.AddSeconds(1)), result.Object["metadata"]!["deletionTimestamp"]!.GetValue<string>());
    }

    [Fact]
    public void QuotaCharged_WithMaxInt64DeletionGracePeriod_DoesNotThrow()
    {
        var pod = new JsonObject
        {
            ["metadata"] = new JsonObject { ["deletionTimestamp"] = "9999-12-31T23:59:59Z", ["deletionGracePeriodSeconds"] = 1_000_000_000L },
            ["status"] = new JsonObject { ["phase"] = "Running" },
        };
        // 31 years past the last instant DateTimeOffset holds: clamped, not an exception.
        Assert.True(Portcullis.Server.Admission.Plugins.PodEvaluator.Charged(pod, Start));
    }

    [Fact]
    public async Task NamespaceController_OneBadNamespace_DoesNotStopTheOthers_AndReportsContentFailure()
    {
        foreach (var ns in new[] { "bad", "huge", "good" }) await CreateNamespaceAsync(ns);
        await CreatePodAsync("bad", "boom", 30);
        await CreatePodAsync("bad", "fine", 30, node: null);
        await CreatePodAsync("huge", "p", long.MaxValue);
        await CreatePodAsync("good", "p", 30, node: null);
        foreach (var ns in new[] { "bad", "huge", "good" }) await Namespaces.DeleteAsync("", ns, new DeleteOptions(SystemClient.Controller));

        var controller = new NamespaceController(_client, _clock);
        await controller.SyncAllAsync(CancellationToken.None);
        // "huge": its pod is marked (the node would remove it); "good" is empty and finalized.
        Assert.Null(await _client.TryGetAsync(Namespaces, "", "good", CancellationToken.None));
        var huge = await Namespaces.GetAsync("", "huge");
        Assert.Equal("SomeResourcesRemain", Condition(huge, "NamespaceContentRemaining")?["reason"]?.GetValue<string>());
        Assert.Equal("Some resources are remaining: pods. has 1 resource instances", Condition(huge, "NamespaceContentRemaining")?["message"]?.GetValue<string>());
        Assert.Equal("False", Condition(huge, "NamespaceDeletionContentFailure")?["status"]?.GetValue<string>());

        var bad = await Namespaces.GetAsync("", "bad");
        var failure = Condition(bad, "NamespaceDeletionContentFailure")!;
        Assert.Equal("True", failure["status"]!.GetValue<string>());
        Assert.Equal("ContentDeletionFailed", failure["reason"]!.GetValue<string>());
        Assert.StartsWith("Failed to delete all resource types, 1 remaining: ", failure["message"]!.GetValue<string>());
        Assert.Contains("injected failure", failure["message"]!.GetValue<string>());
        // The other pod of the namespace went all the same.
        Assert.Null(await _client.TryGetAsync(Pods, "bad", "fine", CancellationToken.None));

        // Once the node removes the marked pod, the namespace goes.
        await Pods.DeleteAsync("huge", "p", new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 0));
        await controller.SyncAllAsync(CancellationToken.None);
        Assert.Null(await _client.TryGetAsync(Namespaces, "", "huge", CancellationToken.None));
    }

    private static JsonObject? Condition(JsonObject ns, string type) =>
        (ns["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == type);
}
