using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

using Portcullis.Server.Tests.Storage;

namespace Portcullis.Server.Tests.Admission;

/// <summary>The namespaces admission reads on every write, decoded again only when their revision changed.</summary>
public sealed class NamespaceCacheTests : TempSqliteTest
{
    private GenericStore _namespaces = null!;
    private NamespaceCache _cache = null!;
    private static readonly WriteOptions As = new(SystemClient.Controller);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var def = new ResourceRegistry(BuiltinResources.All).Find("", "v1", "namespaces")!;
        _namespaces = new GenericStore(def, Kv, TimeProvider.System, new AdmissionChain([]));
        _cache = new NamespaceCache(Kv, new Dictionary<ResourceDefinition, GenericStore> { [def] = _namespaces }, def);
    }


    private Task CreateAsync(string name) => _namespaces.CreateAsync("", new JsonObject
    {
        ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name },
    }, As);

    [Fact]
    public async Task Get_Missing_IsNull()
    {
        Assert.Null(await _cache.GetAsync("nowhere", CancellationToken.None));
    }

    [Fact]
    public async Task Get_Unchanged_ReturnsTheSameObject()
    {
        await CreateAsync("team-a");
        var first = await _cache.GetAsync("team-a", CancellationToken.None);
        Assert.Equal("team-a", first!["metadata"]!["name"]!.GetValue<string>());
        Assert.Same(first, await _cache.GetAsync("team-a", CancellationToken.None));
    }

    [Fact]
    public async Task Get_AfterAnUpdate_ReadsTheNewRevision()
    {
        await CreateAsync("team-b");
        var before = await _cache.GetAsync("team-b", CancellationToken.None);
        await _namespaces.UpdateAsync("", "team-b", "", current =>
        {
            current["metadata"]!["labels"] = new JsonObject { ["pod-security.kubernetes.io/enforce"] = "restricted" };
            return current;
        }, As);
        var after = await _cache.GetAsync("team-b", CancellationToken.None);
        Assert.NotSame(before, after);
        Assert.Equal("restricted", after!["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_AfterTheKeyIsGone_IsNull()
    {
        await CreateAsync("team-c");
        Assert.NotNull(await _cache.GetAsync("team-c", CancellationToken.None));
        var kv = await Kv.GetAsync(_namespaces.Key("", "team-c"));
        await Kv.DeleteAsync(kv!.Key, kv.ModRevision);
        Assert.Null(await _cache.GetAsync("team-c", CancellationToken.None));
    }
}
