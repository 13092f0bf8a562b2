using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// <see cref="GenericStore.GetViewAsync{T}"/>: a view is made once per stored revision, remade after
/// an update, and gone after a delete, whoever deleted the object.
/// </summary>
public sealed class ViewCacheTests : TempSqliteTest
{
    private static readonly ResourceDefinition ConfigMaps = BuiltinResources.All.First(d => d.Kind == "ConfigMap");
    private static readonly WriteOptions As = new(SystemClient.Controller);

    /// <summary>The facts a test reads, and the revision they were made from.</summary>
    private sealed record Facts(string Uid, string Value, string ResourceVersion);

    private int _made;

    private ViewCache<Facts> Cache(int capacity = ViewCache.DefaultCapacity) => new(obj =>
    {
        Interlocked.Increment(ref _made);
        return new Facts(Meta.Uid(obj), JsonRead.StrOrEmpty(JsonRead.Obj(obj, "data"), "v"), Meta.ResourceVersion(obj));
    }, capacity);

    private GenericStore Store() => new(ConfigMaps, Kv, TimeProvider.System, new AdmissionChain([]));

    private static JsonObject ConfigMap(string name, string value, params string[] finalizers)
    {
        var meta = new JsonObject { ["name"] = name };
        if (finalizers.Length > 0) meta["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode)f).ToArray());
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = meta, ["data"] = new JsonObject { ["v"] = value } };
    }

    [Fact]
    public async Task A_view_is_made_once_per_revision_and_shared()
    {
        var store = Store();
        var created = await store.CreateAsync("default", ConfigMap("a", "one"), As);
        var cache = Cache();

        var first = await store.GetViewAsync("default", "a", cache);
        var second = await store.GetViewAsync("default", "a", cache);

        Assert.NotNull(first);
        Assert.Same(first, second);
        Assert.Equal(1, _made);
        Assert.Equal(new Facts(Meta.Uid(created), "one", Meta.ResourceVersion(created)), first);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task An_update_remakes_the_view_and_replaces_the_entry()
    {
        var store = Store();
        await store.CreateAsync("default", ConfigMap("a", "one"), As);
        var cache = Cache();
        var before = await store.GetViewAsync("default", "a", cache);

        var updated = await store.UpdateAsync("default", "a", "", o => { o["data"]!["v"] = "two"; return o; }, As);
        var after = await store.GetViewAsync("default", "a", cache);

        Assert.Equal("one", before!.Value);
        Assert.Equal("two", after!.Value);
        Assert.Equal(Meta.ResourceVersion(updated), after.ResourceVersion);
        Assert.Equal(2, _made);
        Assert.Equal(1, cache.Count);
        Assert.Same(after, await store.GetViewAsync("default", "a", cache));
    }

    [Fact]
    public async Task A_missing_object_has_no_view()
    {
        var cache = Cache();
        Assert.Null(await Store().GetViewAsync("default", "nothing", cache));
        Assert.Equal(0, _made);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task A_delete_by_the_store_drops_the_view()
    {
        var store = Store();
        await store.CreateAsync("default", ConfigMap("a", "one"), As);
        var cache = Cache();
        await store.GetViewAsync("default", "a", cache);
        Assert.Equal(1, cache.Count);

        await store.DeleteAsync("default", "a", new DeleteOptions(SystemClient.Controller));

        Assert.Equal(0, cache.Count);
        Assert.Null(await store.GetViewAsync("default", "a", cache));
    }

    [Fact]
    public async Task The_last_finalizer_removed_from_a_deleting_object_drops_the_view()
    {
        var store = Store();
        await store.CreateAsync("default", ConfigMap("a", "one", "example.com/hold"), As);
        await store.DeleteAsync("default", "a", new DeleteOptions(SystemClient.Controller));
        var cache = Cache();
        Assert.NotNull(await store.GetViewAsync("default", "a", cache));

        await store.UpdateAsync("default", "a", "", o => { o["metadata"]!.AsObject().Remove("finalizers"); return o; }, As);

        Assert.Equal(0, cache.Count);
        Assert.Null(await store.GetViewAsync("default", "a", cache));
    }

    [Fact]
    public async Task A_delete_straight_through_the_backend_drops_the_view_on_the_next_read()
    {
        var store = Store();
        await store.CreateAsync("default", ConfigMap("a", "one"), As);
        var cache = Cache();
        await store.GetViewAsync("default", "a", cache);
        var key = store.Key("default", "a");

        var stored = await Kv.GetAsync(key);
        Assert.True((await Kv.DeleteAsync(key, stored!.ModRevision)).Succeeded);

        Assert.Null(await store.GetViewAsync("default", "a", cache));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task A_delete_by_another_store_is_seen_and_a_recreated_object_gets_a_new_view()
    {
        var store = Store();
        var other = Store();
        var first = await store.CreateAsync("default", ConfigMap("a", "one"), As);
        var cache = Cache();
        Assert.Equal(Meta.Uid(first), (await store.GetViewAsync("default", "a", cache))!.Uid);

        await other.DeleteAsync("default", "a", new DeleteOptions(SystemClient.Controller));
        var second = await other.CreateAsync("default", ConfigMap("a", "one"), As);

        var view = await store.GetViewAsync("default", "a", cache);
        Assert.Equal(Meta.Uid(second), view!.Uid);
        Assert.NotEqual(Meta.Uid(first), view.Uid);
        Assert.Equal(2, _made);
    }

    [Fact]
    public async Task A_full_cache_starts_over_and_stays_bounded()
    {
        var store = Store();
        var cache = Cache(capacity: 2);
        foreach (var name in new[] { "a", "b", "c", "d", "e" })
        {
            await store.CreateAsync("default", ConfigMap(name, name), As);
            Assert.Equal(name, (await store.GetViewAsync("default", name, cache))!.Value);
            Assert.InRange(cache.Count, 1, 2);
        }
        // An entry dropped when the cache started over is made again on its next read.
        Assert.Equal("a", (await store.GetViewAsync("default", "a", cache))!.Value);
        Assert.Equal(6, _made);
    }

    [Fact]
    public async Task The_maker_gets_a_copy_of_its_own()
    {
        var store = Store();
        await store.CreateAsync("default", ConfigMap("a", "one"), As);
        var cache = new ViewCache<Facts>(obj =>
        {
            var facts = new Facts(Meta.Uid(obj), JsonRead.StrOrEmpty(JsonRead.Obj(obj, "data"), "v"), Meta.ResourceVersion(obj));
            obj["data"]!["v"] = "changed by the maker";
            return facts;
        });

        Assert.Equal("one", (await store.GetViewAsync("default", "a", cache))!.Value);
        Assert.Equal("one", JsonRead.StrOrEmpty(JsonRead.Obj(await store.GetAsync("default", "a"), "data"), "v"));
        Assert.Equal("one", JsonRead.StrOrEmpty(JsonRead.Obj(JsonNode.Parse((await store.GetServedAsync("default", "a")).Json), "data"), "v"));
    }
}
