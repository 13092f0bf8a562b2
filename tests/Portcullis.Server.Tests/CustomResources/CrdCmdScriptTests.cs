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

/// <summary>
/// The swagger 2.0 definitions of custom kinds, as apiextensions-apiserver's builder writes them for
/// kubectl's client-side validation (which checks the items of a v1 List, as crd.sh applies).
/// </summary>
public sealed class CrdOpenApiV2Tests
{
    private static JsonObject Definition(string schema, bool v3)
    {
        var crd = (JsonObject)JsonNode.Parse($$$"""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
             "metadata":{"name":"foos.company.com","uid":"u1"},
             "spec":{"group":"company.com","scope":"Namespaced","names":{"plural":"foos","singular":"foo","kind":"Foo","listKind":"FooList"},
               "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{{{schema}}}}}]},
             "status":{"storedVersions":["v1"]}}
            """)!;
        var defs = new JsonObject();
        Portcullis.Server.Api.OpenApi.OpenApiCustomSchemas.Add(defs, CustomResourceKinds.Build(CrdSpec.Read(crd), terminating: false), v3);
        return (JsonObject)defs["com.company.v1.Foo"]!;
    }

    [Fact]
    public void V2_ARootThatPreservesUnknownFields_IsABareObject_SoKubectlAcceptsAnyField()
    {
        var v2 = Definition("""{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{"spec":{"type":"string"}}}""", v3: false);
        Assert.Equal("""{"type":"object","x-kubernetes-group-version-kind":[{"group":"company.com","kind":"Foo","version":"v1"}]}""", v2.ToJsonString());
        // v3 keeps the schema, with apiVersion, kind and metadata.
        var v3 = Definition("""{"type":"object","x-kubernetes-preserve-unknown-fields":true}""", v3: true);
        Assert.Equal(true, (bool?)v3["x-kubernetes-preserve-unknown-fields"]);
        Assert.NotNull(v3["properties"]?["metadata"]);
    }

    [Fact]
    public void V2_NestedPreserveUnknownFieldsAndNullable_LoseWhatKubectlCannotCope_With()
    {
        var v2 = Definition("""
            {"type":"object","required":["a","n"],"properties":{
              "a":{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{"x":{"type":"string"}}},
              "l":{"type":"array","x-kubernetes-preserve-unknown-fields":true,"items":{"type":"string"}},
              "n":{"type":"string","nullable":true},
              "j":{"type":"object","allOf":[{"required":["x"]}],"properties":{"x":{"type":"string"}}}}}
            """, v3: false);
        var props = v2["properties"]!;
        Assert.Equal("""{"x-kubernetes-preserve-unknown-fields":true}""", props["a"]!.ToJsonString());
        Assert.Equal("""{"x-kubernetes-preserve-unknown-fields":true}""", props["l"]!.ToJsonString());
        Assert.Equal("{}", props["n"]!.ToJsonString());
        Assert.Null(props["j"]!["allOf"]);
        Assert.Equal("""["a"]""", v2["required"]!.ToJsonString());
        Assert.NotNull(props["metadata"]);
    }
}
