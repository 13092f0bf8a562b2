using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// generateName collisions are generated again (and updates without a resourceVersion precondition), as upstream's RetryGenerateName (store.go's
/// createWithGenerateNameRetry, 8 attempts) and answered with NewGenerateNameConflict at the end.
/// </summary>
public sealed class StoreWriteTests : TempSqliteTest
{
    private static readonly ResourceDefinition ConfigMaps = BuiltinResources.All.First(d => d.Kind == "ConfigMap");
    private static readonly WriteOptions As = new(SystemClient.Controller);


    /// <summary>A store whose generated suffixes come from <paramref name="suffixes"/> (the last one repeats).</summary>
    private GenericStore Store(params string[] suffixes)
    {
        var i = 0;
        return new GenericStore(ConfigMaps, Kv, TimeProvider.System, new AdmissionChain([]))
        { NameSuffix = _ => suffixes[Math.Min(i++, suffixes.Length - 1)] };
    }

    private static JsonObject Generated(string prefix) => new() { ["metadata"] = new JsonObject { ["generateName"] = prefix } };

    [Fact]
    public async Task A_taken_generated_name_is_generated_again()
    {
        var store = Store("aaaaa", "aaaaa", "aaaaa", "bbbbb");
        Assert.Equal("cm-aaaaa", Meta.Name(await store.CreateAsync("default", Generated("cm-"), As)));
        // Two more collisions, then a free name: the client sees one successful create.
        Assert.Equal("cm-bbbbb", Meta.Name(await store.CreateAsync("default", Generated("cm-"), As)));
    }

    [Fact]
    public async Task Eight_collisions_are_upstreams_generate_name_conflict()
    {
        var store = Store("aaaaa");
        await store.CreateAsync("default", Generated("cm-"), As);
        var e = await Assert.ThrowsAsync<ApiException>(() => store.CreateAsync("default", Generated("cm-"), As));
        Assert.Equal(409, e.Code);
        Assert.Equal("AlreadyExists", e.Reason);
        Assert.Equal("configmaps \"cm-aaaaa\" already exists, the server was not able to generate a unique name for the object", e.Message);
        Assert.Equal(1, e.RetryAfterSeconds);
    }

    [Fact]
    public async Task A_name_the_client_chose_is_never_regenerated()
    {
        var store = Store("aaaaa");
        var named = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "fixed", ["generateName"] = "cm-" } };
        await store.CreateAsync("default", (JsonObject)named.DeepClone(), As);
        var e = await Assert.ThrowsAsync<ApiException>(() => store.CreateAsync("default", named, As));
        Assert.Equal("configmaps \"fixed\" already exists", e.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("")]
    public async Task An_update_with_resourceVersion_zero_or_empty_is_unconditional(string rv)
    {
        var store = Store("aaaaa");
        var created = await store.CreateAsync("default", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "u" } }, As);
        var update = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "u", ["resourceVersion"] = rv }, ["data"] = new JsonObject { ["k"] = "v" } };
        var updated = await store.UpdateAsync("default", "u", "", _ => (JsonObject)update.DeepClone(), As);
        Assert.Equal("v", (string?)updated["data"]!["k"]);
        Assert.NotEqual(Meta.ResourceVersion(created), Meta.ResourceVersion(updated));
        // A stale version is still a conflict.
        var stale = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "u", ["resourceVersion"] = Meta.ResourceVersion(created) } };
        var e = await Assert.ThrowsAsync<ApiException>(() => store.UpdateAsync("default", "u", "", _ => (JsonObject)stale.DeepClone(), As));
        Assert.Equal(409, e.Code);
    }

    [Theory]
    [InlineData("PodDisruptionBudget", "", "0")]
    [InlineData("PodDisruptionBudget", "", "")]
    [InlineData("PodDisruptionBudget", "status", "")]
    [InlineData("Lease", "", "0")]
    [InlineData("Lease", "", "")]
    public async Task A_kind_whose_strategy_refuses_unconditional_updates_needs_a_resourceVersion(string kind, string subresource, string rv)
    {
        // store.go Update: AllowUnconditionalUpdate() false (policy/poddisruptionbudget, coordination/lease strategies)
        // and no resourceVersion: a 422 naming the resource, with the uint64 0 printed as %#v does.
        var def = BuiltinResources.All.First(d => d.Kind == kind);
        var store = new GenericStore(def, Kv, TimeProvider.System, new AdmissionChain([]));
        var body = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "x" }, ["spec"] = new JsonObject() };
        if (kind == "PodDisruptionBudget") body["spec"]!["minAvailable"] = 1;
        var created = await store.CreateAsync("default", body, As);
        var update = (JsonObject)created.DeepClone();
        Meta.Set(update, "resourceVersion", rv);
        Meta.Set(update, "labels", new JsonObject { ["a"] = "b" });
        if (subresource == "status")
            update["status"] = new JsonObject { ["disruptionsAllowed"] = 0, ["currentHealthy"] = 1, ["desiredHealthy"] = 1, ["expectedPods"] = 1 };
        var e = await Assert.ThrowsAsync<ApiException>(() => store.UpdateAsync("default", "x", subresource, _ => (JsonObject)update.DeepClone(), As));
        Assert.Equal(422, e.Code);
        Assert.Equal($"{def.Plural}.{def.Group} \"x\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update", e.Message);
        Assert.Equal(def.Plural, e.DetailKind);
        // With the current resourceVersion the same update goes through.
        Meta.Set(update, "resourceVersion", Meta.ResourceVersion(created));
        var updated = await store.UpdateAsync("default", "x", subresource, _ => (JsonObject)update.DeepClone(), As);
        Assert.NotEqual(Meta.ResourceVersion(created), Meta.ResourceVersion(updated));
    }

    [Fact]
    public async Task A_lease_drops_its_coordinated_election_fields_as_the_gate_is_off_in_1_33()
    {
        // CoordinatedLeaderElection is beta and off by default in 1.33: the lease strategy drops spec.strategy and
        // spec.preferredHolder before validation, so a value validation would refuse is never seen.
        var store = new GenericStore(BuiltinResources.All.First(d => d.Kind == "Lease"), Kv, TimeProvider.System, new AdmissionChain([]));
        var created = await store.CreateAsync("default", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "cle" },
            ["spec"] = new JsonObject { ["holderIdentity"] = "a", ["strategy"] = "NotAStrategy", ["preferredHolder"] = "b" },
        }, As);
        Assert.Equal("a", (string?)created["spec"]!["holderIdentity"]);
        Assert.Null(created["spec"]!["strategy"]);
        Assert.Null(created["spec"]!["preferredHolder"]);
        var update = (JsonObject)created.DeepClone();
        update["spec"]!["strategy"] = "NotAStrategy";
        var updated = await store.UpdateAsync("default", "cle", "", _ => (JsonObject)update.DeepClone(), As);
        Assert.Null(updated["spec"]!["strategy"]);
    }

    [Fact]
    public async Task A_write_that_loses_a_race_without_a_precondition_is_run_again_on_the_new_object()
    {
        var store = Store("aaaaa");
        await store.CreateAsync("default", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "race" }, ["data"] = new JsonObject { ["seed"] = "x" } }, As);
        var calls = 0;
        // The first run of the transform (a patch applied to the current object, keeping its
        // resourceVersion) loses a race against another writer; the second run sees that write.
        var updated = await store.UpdateAsync("default", "race", "", current =>
        {
            if (calls++ == 0)
                Task.Run(() => store.UpdateAsync("default", "race", "", c => { c["data"]!["other"] = "1"; return c; }, As)).GetAwaiter().GetResult();
            current["data"]!["mine"] = "1";
            return current;
        }, As);
        Assert.Equal(2, calls);
        Assert.Equal("1", (string?)updated["data"]!["other"]);
        Assert.Equal("1", (string?)updated["data"]!["mine"]);
    }

    [Fact]
    public async Task A_stale_precondition_that_loses_a_race_is_still_a_conflict()
    {
        var store = Store("aaaaa");
        var created = await store.CreateAsync("default", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "pre" }, ["data"] = new JsonObject { ["seed"] = "x" } }, As);
        var rv = Meta.ResourceVersion(created);
        var calls = 0;
        var e = await Assert.ThrowsAsync<ApiException>(() => store.UpdateAsync("default", "pre", "", _ =>
        {
            if (calls++ == 0)
                Task.Run(() => store.UpdateAsync("default", "pre", "", c => { c["data"]!["other"] = "1"; return c; }, As)).GetAwaiter().GetResult();
            return new JsonObject { ["metadata"] = new JsonObject { ["name"] = "pre", ["resourceVersion"] = rv }, ["data"] = new JsonObject { ["mine"] = "1" } };
        }, As));
        Assert.Equal(409, e.Code);
    }
}
