using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Controllers.Node.Runtime;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;
using Portcullis.Server.Tests.Authentication;

namespace Portcullis.Server.Tests.Controllers.Node.Runtime;

/// <summary>
/// An unexpected failure while a pod is synced reaches the pod's status and an event, and the
/// worker retries with a back-off instead of dying (the pod then starts once the cause is gone).
/// </summary>
public sealed class PodWorkerFailureTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-worker-").FullName;
    private SqliteBackend _kv = null!;
    private SystemClient _client = null!;
    private ProcessRuntime _runtime = null!;

    public async Task InitializeAsync()
    {
        var time = TimeProvider.System;
        _kv = SqliteBackend.Open(Path.Combine(_dir, "kv.db"));
        var resources = new ResourceRegistry(BuiltinResources.All);
        var stores = new Dictionary<ResourceDefinition, GenericStore>();
        foreach (var d in resources.All.Where(d => !d.Virtual))
            stores[d] = new GenericStore(d, _kv, time, new AdmissionChain([]));
        _client = new SystemClient(stores, resources, _kv);
        Task<JsonObject?> Get(string plural, string ns, string name, CancellationToken ct) => _client.TryGetAsync(_client.Store("", plural), ns, name, ct);
        var getters = new ServiceAccountObjectGetters((ns, n, c) => Get("serviceaccounts", ns, n, c), (ns, n, c) => Get("pods", ns, n, c),
            (ns, n, c) => Get("secrets", ns, n, c), (_, n, c) => Get("nodes", "", n, c));
        var keys = ServiceAccountKeys.FromKeys(SaWorld.SigningKey, null);
        var tokens = new TokenRequestLogic(new ServiceAccountTokenIssuer(keys, SaWorld.IssuerUrl, time), new TokenRequestSettings(SaWorld.ApiAudiences), time);
        var node = new NodeIdentity("node-1", "127.0.0.1", "10.244.0.0/24");
        await _client.EnsureAsync(_client.Store("", "nodes"), "", node.ToNode(time.GetUtcNow(), "v1.33.0"), CancellationToken.None);
        _runtime = new ProcessRuntime(_client, node, tokens, getters,
            new ProcessRuntimeSettings(Path.Combine(_dir, "pods"), "127.0.0.1", "127.0.0.1", 6443), time, NullLogger.Instance);
    }

    public async Task DisposeAsync()
    {
        await _runtime.DisposeAsync();
        await _kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<JsonObject> WaitForPod(string name, Func<JsonObject, bool> ok)
    {
        JsonObject? last = null;
        for (var i = 0; i < 600; i++)
        {
            last = await _client.TryGetAsync(_client.Store("", "pods"), "default", name, CancellationToken.None);
            if (last is not null && ok(last)) return last;
            await Task.Delay(100);
        }
        throw new TimeoutException($"pod {name} never satisfied the condition; last: {last?.ToJsonString()}");
    }

    private async Task<List<JsonObject>> Events() => await _client.ListAsync(_client.Store("", "events"), "default", CancellationToken.None);

    [Fact]
    public async Task SandboxThatCannotBeCreated_ShowsInStatusAndEvents_AndIsRetriedUntilItWorks()
    {
        var pods = _client.Store("", "pods");
        await pods.CreateAsync("default", JsonNode.Parse("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"blocked"},
             "spec":{"nodeName":"node-1","restartPolicy":"Always","containers":[{"name":"main","image":"busybox","command":["sleep","3600"]}]}}
            """)!.AsObject(), new WriteOptions(SystemClient.Controller), CancellationToken.None);
        var pod = (await _client.TryGetAsync(pods, "default", "blocked", CancellationToken.None))!;
        // A file where the pod's directory must go: creating the sandbox fails.
        var podDir = Path.Combine(_dir, "pods", Meta.Uid(pod));
        await File.WriteAllTextAsync(podDir, "in the way");
        _runtime.Run(pod, "10.244.0.5");

        var waiting = await WaitForPod("blocked", p => p["status"]?["containerStatuses"]?[0]?["state"]?["waiting"]?["message"] is not null);
        var w = waiting["status"]!["containerStatuses"]![0]!["state"]!["waiting"]!;
        Assert.Equal("ContainerCreating", (string?)w["reason"]);
        Assert.StartsWith("Failed to create pod sandbox: ", (string?)w["message"]);
        var ev = Assert.Single(await Events(), e => (string?)e["reason"] == "FailedCreatePodSandBox");
        Assert.Equal("Warning", (string?)ev["type"]);
        Assert.Equal((string?)w["message"], (string?)ev["message"]);
        Assert.Equal("blocked", (string?)ev["involvedObject"]!["name"]);

        // The worker is still there: once the obstacle is gone, the retry starts the container, and the message is gone.
        File.Delete(podDir);
        var running = await WaitForPod("blocked", p => p["status"]?["containerStatuses"]?[0]?["state"]?["running"] is not null);
        Assert.Equal("Running", (string?)running["status"]!["phase"]);
        var events = await Events();
        Assert.Contains(events, e => (string?)e["reason"] == "Started" && (string?)e["message"] == "Started container main");
    }
}
