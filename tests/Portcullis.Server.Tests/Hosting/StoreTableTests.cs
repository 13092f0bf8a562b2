using Microsoft.Data.Sqlite;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Hosting.Modules;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Hosting;

/// <summary>The store table that breaks the stores ↔ admission cycle: handed out empty, filled once.</summary>
public sealed class StoreTableTests
{
    private static readonly ResourceDefinition Namespaces = new ResourceRegistry(BuiltinResources.All).Find("", "v1", "namespaces")!;

    [Fact]
    public void Read_BeforeFill_IsAWiringError()
    {
        var table = new StoreTable();
        var e = Assert.Throws<InvalidOperationException>(() => table[Namespaces]);
        Assert.Equal("a store was read before the stores were created", e.Message);
        Assert.Throws<InvalidOperationException>(() => table.TryGetValue(Namespaces, out _));
    }

    [Fact]
    public async Task Read_AfterFill_SeesTheStores()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-storetable-").FullName;
        var kv = SqliteBackend.Open(Path.Combine(dir, "state.db"));
        try
        {
            var table = new StoreTable();
            IReadOnlyDictionary<ResourceDefinition, GenericStore> view = table; // as the system client holds it, before the fill
            var store = new GenericStore(Namespaces, kv, TimeProvider.System, new AdmissionChain([]));
            table.Fill(new Dictionary<ResourceDefinition, GenericStore> { [Namespaces] = store });
            Assert.Same(store, view[Namespaces]);
            Assert.Same(store, table.For(Namespaces));
            Assert.Equal(1, view.Count);
            Assert.False(view.ContainsKey(OptionalResources.PodSecurityPolicies));
        }
        finally
        {
            await kv.DisposeAsync();
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Fill_Twice_IsAWiringError()
    {
        var table = new StoreTable();
        table.Fill(new Dictionary<ResourceDefinition, GenericStore>());
        Assert.Throws<InvalidOperationException>(() => table.Fill(new Dictionary<ResourceDefinition, GenericStore>()));
    }
}
