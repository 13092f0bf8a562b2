using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Authorization.RbacPolicy;

/// <summary>The bootstrap and aggregation controllers against real stores.</summary>
public sealed class RbacBootstrapIntegrationTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-rbac-").FullName;
    private SqliteBackend _kv = null!;
    private SystemClient _client = null!;

    public Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "kv.db"));
        var resources = new ResourceRegistry(BuiltinResources.All);
        var stores = new Dictionary<ResourceDefinition, GenericStore>();
        foreach (var d in resources.All.Where(d => !d.Virtual))
            stores[d] = new GenericStore(d, _kv, TimeProvider.System, new AdmissionChain([]));
        _client = new SystemClient(stores, resources, _kv);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private GenericStore Store(string plural) => _client.Store("rbac.authorization.k8s.io", plural);

    [Fact]
    public async Task CreatesReconcilesAndAggregates()
    {
        var bootstrap = new RbacBootstrapController(_client);
        await bootstrap.InitializeAsync(CancellationToken.None);

        var roles = await _client.ListAsync(Store("clusterroles"), "", CancellationToken.None);
        Assert.Equal(BootstrapPolicy.ClusterRoles().Count, roles.Count);
        Assert.Equal(BootstrapPolicy.ClusterRoleBindings().Count, (await _client.ListAsync(Store("clusterrolebindings"), "", CancellationToken.None)).Count);
        Assert.Equal(BootstrapPolicy.NamespaceRoles().Count, (await _client.ListAsync(Store("roles"), "", CancellationToken.None)).Count);
        Assert.NotNull(await _client.TryGetAsync(_client.Store("", "namespaces"), "", "kube-public", CancellationToken.None));

        var aggregation = new ClusterRoleAggregationController(_client);
        await aggregation.SyncAllAsync(CancellationToken.None);
        var view = (await _client.TryGetAsync(Store("clusterroles"), "", "view", CancellationToken.None))!;
        var aggToView = (await _client.TryGetAsync(Store("clusterroles"), "", "system:aggregate-to-view", CancellationToken.None))!;
        Assert.Equal(aggToView["rules"]!.ToJsonString(), view["rules"]!.ToJsonString());
        // admin gathers edit (which gathers view) once the chain settles.
        await aggregation.SyncAllAsync(CancellationToken.None);
        await aggregation.SyncAllAsync(CancellationToken.None);
        var admin = (await _client.TryGetAsync(Store("clusterroles"), "", "admin", CancellationToken.None))!;
        Assert.Contains(admin["rules"]!.AsArray(), r => r!["resources"]!.AsArray().Any(x => (string?)x == "rolebindings"));
        Assert.Contains(admin["rules"]!.AsArray(), r => r!["resources"]!.AsArray().Any(x => (string?)x == "pods/log"));
        var rv = Meta.ResourceVersion(admin);
        await aggregation.SyncAllAsync(CancellationToken.None);
        Assert.Equal(rv, Meta.ResourceVersion((await _client.TryGetAsync(Store("clusterroles"), "", "admin", CancellationToken.None))!));

        // A trimmed role gets its rules back; a protected one stays as it is.
        await Store("clusterroles").UpdateAsync("", "system:discovery", "", o => { o["rules"] = new JsonArray(); return o; }, new WriteOptions(SystemClient.Controller));
        await Store("clusterroles").UpdateAsync("", "system:monitoring", "", o =>
        {
            o["rules"] = new JsonArray();
            o["metadata"]!["annotations"]!["rbac.authorization.kubernetes.io/autoupdate"] = "false";
            return o;
        }, new WriteOptions(SystemClient.Controller));
        Assert.Empty(await bootstrap.ReconcileAllAsync(CancellationToken.None));
        var discovery = (await _client.TryGetAsync(Store("clusterroles"), "", "system:discovery", CancellationToken.None))!;
        Assert.Contains("/openapi/*", discovery["rules"]!.ToJsonString());
        var monitoring = (await _client.TryGetAsync(Store("clusterroles"), "", "system:monitoring", CancellationToken.None))!;
        Assert.Equal("[]", (monitoring["rules"] ?? new JsonArray()).ToJsonString());

        // A binding pointing elsewhere is recreated with the right roleRef, keeping its subjects.
        await Store("clusterrolebindings").DeleteAsync("", "system:basic-user", new DeleteOptions(SystemClient.Controller));
        var odd = BootstrapPolicy.ClusterRoleBindings().Single(b => Meta.Name(b) == "system:basic-user");
        odd["roleRef"]!["name"] = "view";
        odd["subjects"] = new JsonArray(new JsonObject { ["kind"] = "User", ["apiGroup"] = "rbac.authorization.k8s.io", ["name"] = "carol" });
        await Store("clusterrolebindings").CreateAsync("", odd, new WriteOptions(SystemClient.Controller));
        Assert.Empty(await bootstrap.ReconcileAllAsync(CancellationToken.None));
        var fixedBinding = (await _client.TryGetAsync(Store("clusterrolebindings"), "", "system:basic-user", CancellationToken.None))!;
        Assert.Equal("system:basic-user", (string?)fixedBinding["roleRef"]!["name"]);
        Assert.Equal(2, fixedBinding["subjects"]!.AsArray().Count);
    }
}
