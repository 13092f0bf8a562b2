using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Admission;

/// <summary>Quota admission and the quota controller over real stores on a temporary SQLite backend.</summary>
public sealed class ResourceQuotaStoreTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-quota-").FullName;
    private IKeyValueBackend _kv = null!;
    private readonly QuotaCoordinator _coordinator = new();
    private SystemClient _client = null!;
    private ResourceQuotaController _controller = null!;
    private static readonly WriteOptions As = new(SystemClient.Controller);

    private GenericStore Pods => _client.Store("", "pods");
    private GenericStore Quotas => _client.Store("", "resourcequotas");

    public Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "state.db"));
        (_client, _) = Server(_coordinator);
        _controller = new ResourceQuotaController(_client, TimeProvider.System, _coordinator, debounce: TimeSpan.FromMilliseconds(20));
        return Task.CompletedTask;
    }

    /// <summary>One API server's stores (and quota plugin) over the shared backend.</summary>
    private (SystemClient, ResourceQuotaAdmission) Server(QuotaCoordinator coordinator)
    {
        var resources = new ResourceRegistry(BuiltinResources.All);
        var stores = new Dictionary<ResourceDefinition, GenericStore>();
        var quotaDef = resources.Find("", "v1", "resourcequotas")!;
        var plugin = ResourceQuotaAdmission.ForStore(() => stores[quotaDef], coordinator);
        var chain = new AdmissionChain([plugin]);
        foreach (var d in resources.All.Where(d => !d.Virtual)) stores[d] = new GenericStore(d, _kv, TimeProvider.System, chain);
        return (new SystemClient(stores, resources, _kv), plugin);
    }

    public async Task DisposeAsync()
    {
        await _kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private static JsonObject Pod(string name) => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }) },
    };

    private async Task CreateQuotaAsync(string name, JsonObject hard)
    {
        await Quotas.CreateAsync("ns", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "ResourceQuota",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject { ["hard"] = hard },
        }, As);
    }

    private async Task<string?> UsedAsync(string quota, string resource) =>
        (await Quotas.GetAsync("ns", quota))["status"]?["used"]?[resource]?.GetValue<string>();

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail("timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task TwentyConcurrentCreates_AgainstFivePods_AdmitExactlyFive()
    {
        await CreateQuotaAsync("q", QuotaKit.Map(("pods", "5")));
        await _controller.SyncNamespaceAsync("ns", default);
        Assert.Equal("0", await UsedAsync("q", "pods"));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            try { await Pods.CreateAsync("ns", Pod("p" + i), As); return null; }
            catch (ApiException e) { return e.Message; }
        })));
        Assert.Equal(5, outcomes.Count(o => o is null));
        Assert.All(outcomes.Where(o => o is not null), m => Assert.Matches(
            "^pods \"p\\d+\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=5, limited: pods=5$", m!));
        Assert.Equal("5", await UsedAsync("q", "pods"));
        Assert.Equal(5, (await _client.ListAsync(Pods, "ns", default)).Count);

        // The recount agrees.
        await _controller.SyncNamespaceAsync("ns", default);
        Assert.Equal("5", await UsedAsync("q", "pods"));
    }

    [Fact]
    public async Task TwoServers_NeverAdmitMoreThanTheLimit()
    {
        await CreateQuotaAsync("q", QuotaKit.Map(("pods", "5")));
        await _controller.SyncNamespaceAsync("ns", default);
        var (other, _) = Server(new QuotaCoordinator());
        var otherPods = other.Store("", "pods");
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            try { await (i % 2 == 0 ? Pods : otherPods).CreateAsync("ns", Pod("p" + i), As); return 0; }
            catch (ApiException e) when (e.Code is 403 or 409) { return e.Code; }
        })));
        var created = (await _client.ListAsync(Pods, "ns", default)).Count;
        Assert.Equal(outcomes.Count(c => c == 0), created);
        Assert.InRange(created, 1, 5);
        Assert.Equal(created.ToString(), await UsedAsync("q", "pods"));
    }

    [Fact]
    public async Task DryRun_DoesNotCharge()
    {
        await CreateQuotaAsync("q", QuotaKit.Map(("pods", "1")));
        await _controller.SyncNamespaceAsync("ns", default);
        await Pods.CreateAsync("ns", Pod("a"), new WriteOptions(SystemClient.Controller, DryRun: true));
        Assert.Equal("0", await UsedAsync("q", "pods"));
        await Pods.CreateAsync("ns", Pod("a"), As);
        var e = await Assert.ThrowsAsync<ApiException>(() => Pods.CreateAsync("ns", Pod("b"), new WriteOptions(SystemClient.Controller, DryRun: true)));
        Assert.Equal(403, e.Code);
    }

    [Fact]
    public async Task Controller_FillsStatus_AndReleasesQuotaOnDeleteAndTermination()
    {
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => _controller.RunAsync(cts.Token));
        try
        {
            // Objects that exist before the quota are found by the first count.
            await Pods.CreateAsync("ns", Pod("early"), As);
            await _client.Store("", "configmaps").CreateAsync("ns", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "cm" } }, As);
            await CreateQuotaAsync("q", QuotaKit.Map(("pods", "3"), ("count/pods", "10"), ("configmaps", "5"), ("count/deployments.apps", "2")));
            await Eventually(async () => await UsedAsync("q", "pods") == "1", "the first count");
            var status = (await Quotas.GetAsync("ns", "q"))["status"]!;
            Assert.Equal("3", status["hard"]!["pods"]!.GetValue<string>());
            Assert.Equal(("1", "1", "0"), (await UsedAsync("q", "count/pods"), await UsedAsync("q", "configmaps"), await UsedAsync("q", "count/deployments.apps")));

            await Pods.CreateAsync("ns", Pod("a"), As);
            await Pods.CreateAsync("ns", Pod("b"), As);
            Assert.Equal("3", await UsedAsync("q", "pods"));
            await Assert.ThrowsAsync<ApiException>(() => Pods.CreateAsync("ns", Pod("c"), As));

            // Deleting a pod gives its slot back.
            await Pods.DeleteAsync("ns", "a", new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 0));
            await Eventually(async () => await UsedAsync("q", "pods") == "2", "release on delete");
            await Pods.CreateAsync("ns", Pod("c"), As);

            // A pod that finished stops counting as a pod, but still counts as an object.
            await Pods.UpdateAsync("ns", "b", "status", cur => { ((JsonObject)cur["status"]!)["phase"] = "Succeeded"; return cur; }, As);
            await Eventually(async () => await UsedAsync("q", "pods") == "2", "release on termination");
            Assert.Equal("3", await UsedAsync("q", "count/pods"));

            // A spec change is reflected in status.hard.
            await Quotas.UpdateAsync("ns", "q", "", cur => { cur["spec"]!["hard"]!["pods"] = "7"; return cur; }, As);
            await Eventually(async () => (await Quotas.GetAsync("ns", "q"))["status"]!["hard"]!["pods"]!.GetValue<string>() == "7", "hard follows spec");
        }
        finally
        {
            await cts.CancelAsync();
            try { await run; } catch (OperationCanceledException) { }
        }
    }

    [Fact]
    public async Task Recount_IncludesChargedObjectsNotYetStored()
    {
        await CreateQuotaAsync("q", QuotaKit.Map(("pods", "5")));
        await _controller.SyncNamespaceAsync("ns", default);
        // Admission charged for "inflight" but its create has not reached storage.
        var plugin = ResourceQuotaAdmission.ForStore(() => Quotas, _coordinator);
        var pod = Pod("inflight");
        pod["metadata"]!["namespace"] = "ns";
        await plugin.ValidateAsync(new AdmissionRequest(Operation.Create, Pods.Definition, "", "ns", "inflight", pod, null, SystemClient.Controller, false));
        Assert.Equal("1", await UsedAsync("q", "pods"));
        await _controller.SyncNamespaceAsync("ns", default);
        Assert.Equal("1", await UsedAsync("q", "pods"));
    }

    // Replicas: another server's admission charged for an object this controller cannot see yet (it
    // is on its way into storage there). A lower recount must not give that charge back until the
    // object can have arrived; once it can, the quota is counted again and is exact.
    [Fact]
    public async Task Another_replicas_charge_holds_back_a_lower_recount_until_its_object_can_have_arrived()
    {
        var coordinator = new QuotaCoordinator { PendingLifetime = TimeSpan.FromSeconds(2) };
        var (client, _) = Server(coordinator);
        var controller = new ResourceQuotaController(client, TimeProvider.System, coordinator, debounce: TimeSpan.FromMilliseconds(20));
        var (_, otherPlugin) = Server(new QuotaCoordinator());
        await CreateQuotaAsync("q", QuotaKit.Map(("pods", "5")));
        await controller.SyncNamespaceAsync("ns", default);

        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => controller.RunAsync(cts.Token));
        try
        {
            await client.Store("", "pods").CreateAsync("ns", Pod("here"), As);
            var pod = Pod("inflight");
            pod["metadata"]!["namespace"] = "ns";
            await otherPlugin.ValidateAsync(new AdmissionRequest(Operation.Create, Pods.Definition, "", "ns", "inflight", pod, null, SystemClient.Controller, false));
            Assert.Equal("2", await UsedAsync("q", "pods"));
            await Eventually(() => Task.FromResult(controller.ForeignChargeSeen("ns", "q") is not null), "the other replica's charge seen");

            // The recount finds one pod; the other replica's charge is kept.
            await controller.SyncNamespaceAsync("ns", default);
            Assert.Equal("2", await UsedAsync("q", "pods"));

            // The object never arrives: after the pending lifetime the controller counts again and releases it.
            await Eventually(async () => await UsedAsync("q", "pods") == "1", "the lost charge released");
        }
        finally
        {
            await cts.CancelAsync();
            try { await run; } catch (OperationCanceledException) { }
        }
    }

    [Fact]
    public async Task A_charge_of_this_server_is_not_taken_for_another_replicas()
    {
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => _controller.RunAsync(cts.Token));
        try
        {
            await CreateQuotaAsync("q", QuotaKit.Map(("pods", "5")));
            await Eventually(async () => await UsedAsync("q", "pods") == "0", "the first count");
            await Pods.CreateAsync("ns", Pod("a"), As);
            // Its own charge seen through the watch is recognised by its revision: a delete releases at once.
            await Pods.DeleteAsync("ns", "a", new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 0));
            await Eventually(async () => await UsedAsync("q", "pods") == "0", "release on delete");
            Assert.Null(_controller.ForeignChargeSeen("ns", "q"));
        }
        finally
        {
            await cts.CancelAsync();
            try { await run; } catch (OperationCanceledException) { }
        }
    }
}
