using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>
/// What kubectl's own test/cmd/crd.sh found in the custom-object paths, one case per difference,
/// over the built-in stores and one schemaless custom kind (company.com/v1 Bar) in a SQLite file.
/// </summary>
public sealed class CrdCmdScriptTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-crdcmd-").FullName;
    private SqliteBackend _kv = null!;
    private SystemClient _client = null!;
    private GenericStore _bars = null!;
    private static readonly WriteOptions As = new(SystemClient.Controller);

    public Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "kv.db"));
        var crd = (JsonObject)JsonNode.Parse("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
             "metadata":{"name":"bars.company.com","uid":"u1"},
             "spec":{"group":"company.com","scope":"Namespaced","names":{"plural":"bars","singular":"bar","kind":"Bar","listKind":"BarList"},
               "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]},
             "status":{"storedVersions":["v1"]}}
            """)!;
        var custom = CustomResourceKinds.Build(CrdSpec.Read(crd), terminating: false);
        var resources = new ResourceRegistry(BuiltinResources.All.Concat(custom));
        var chain = AdmissionChain.Empty;
        var stores = new Dictionary<ResourceDefinition, GenericStore>();
        foreach (var d in resources.All.Where(d => !d.Virtual)) stores[d] = new GenericStore(d, _kv, TimeProvider.System, chain);
        _client = new SystemClient(stores, resources, _kv);
        _bars = stores[custom[0]];
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static JsonObject Bar(string name) => new()
    {
        ["kind"] = "Bar", ["apiVersion"] = "company.com/v1", ["someField"] = "field1",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["pruneGroup"] = "true" } },
    };

    /// <summary>
    /// crd.sh: <c>kubectl delete bars test --cascade=orphan</c> waits for the object to go; the
    /// garbage collector takes the <c>orphan</c> finalizer off custom objects as off built-in ones.
    /// </summary>
    [Fact]
    public async Task OrphanDelete_OfACustomObject_TheCollectorRemovesTheFinalizer_AndTheObjectGoes()
    {
        await _bars.CreateAsync("ns", Bar("test"), As);
        await _bars.DeleteAsync("ns", "test", new DeleteOptions(SystemClient.Controller, PropagationPolicy: "Orphan"));
        Assert.Equal(["orphan"], Meta.Finalizers(await _bars.GetAsync("ns", "test")));

        var gc = new GarbageCollector(_client, TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = gc.RunAsync(stop.Token);
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // a hang guard only
        while (await _client.TryGetAsync(_bars, "ns", "test", CancellationToken.None) is not null)
        {
            if (guard.IsCancellationRequested) Assert.Fail("the orphaned custom object was never deleted");
            await Task.Delay(20);
        }
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }
}
