using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;
using static Portcullis.Server.Tests.Authorization.Rbac.RbacKit;

namespace Portcullis.Server.Tests.Authorization.Rbac;

/// <summary>The controller that loads the index from storage and keeps it following the writes.</summary>
public sealed class RbacIndexControllerTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-rbac-").FullName;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(20));
    private readonly Seed _seed = new();
    private SqliteBackend _store = null!;

    private CancellationToken Ct => _timeout.Token;

    public Task InitializeAsync()
    {
        _store = SqliteBackend.Open(Path.Combine(_dir, "kv.db"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        _timeout.Dispose();
    }

    private static byte[] Bytes(JsonObject o) => Encoding.UTF8.GetBytes(o.ToJsonString());

    private async Task<KeyValue> Create(JsonObject o)
    {
        var r = await _store.CreateAsync(Key(o), Bytes(o), Ct);
        Assert.True(r.Succeeded);
        return r.Current ?? (await _store.GetAsync(Key(o), Ct))!;
    }

    private async Task Delete(JsonObject o) => Assert.True((await _store.DeleteAsync(Key(o), 0, Ct)).Succeeded);

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }

    private bool SeedAllowed(RbacIndex index) => index.Allows(Res(Sa("default", "demo-sa"), "list", "default", "pods"));

    [Fact]
    public async Task Initialize_LoadsThePolicyBeforeAnyRequest()
    {
        await Create(_seed.PodReader);
        await Create(_seed.Binding);
        await _store.CreateAsync("/registry/pods/default/p", Encoding.UTF8.GetBytes("{}"), Ct);
        var index = new RbacIndex();
        var controller = new RbacIndexController(_store, index);
        await controller.InitializeAsync(Ct);
        Assert.True(SeedAllowed(index));
        Assert.Equal(1, index.RoleCount);
        Assert.Equal(1, index.BindingCount);
    }

    [Fact]
    public async Task Initialize_ReadsEveryPage()
    {
        for (var i = 0; i < 1234; i++)
            await Create(RoleBinding("ns" + (i % 10), "b" + i, "ClusterRole", "view", User("u" + i)));
        await Create(ClusterRole("view", Rule("get", "", "pods")));
        var index = new RbacIndex();
        await new RbacIndexController(_store, index).InitializeAsync(Ct);
        Assert.Equal(1234, index.BindingCount);
        Assert.True(index.Allows(Res(Person("u1233"), "get", "ns3", "pods")));
    }

    [Fact]
    public async Task Run_FollowsCreatesUpdatesAndDeletes()
    {
        var index = new RbacIndex();
        var controller = new RbacIndexController(_store, index);
        await controller.InitializeAsync(Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var run = controller.RunAsync(stop.Token);
        try
        {
            await Create(_seed.PodReader);
            await Create(_seed.Binding);
            await Eventually(() => SeedAllowed(index));

            await Delete(_seed.Binding);
            await Eventually(() => !SeedAllowed(index));

            await Create(_seed.Binding);
            await Eventually(() => SeedAllowed(index));

            var current = await _store.GetAsync(Key(_seed.PodReader), Ct);
            var writer = Role("default", "pod-reader", Rule("create", "", "pods"));
            Assert.True((await _store.UpdateAsync(Key(writer), Bytes(writer), current!.ModRevision, Ct)).Succeeded);
            await Eventually(() => !SeedAllowed(index) && index.Allows(Res(Sa("default", "demo-sa"), "create", "default", "pods")));

            await Delete(_seed.PodReader);
            await Eventually(() => index.RoleCount == 0);
            Assert.Equal("RBAC: role.rbac.authorization.k8s.io \"pod-reader\" not found",
                index.Decide(Res(Sa("default", "demo-sa"), "create", "default", "pods")).Reason);

            await Create(ClusterRole("view", Rule("get", "", "pods")));
            await Create(ClusterRoleBinding("alice-view", "view", User("alice")));
            await Eventually(() => index.Allows(Res(Person("alice"), "get", "anywhere", "pods")));
        }
        finally
        {
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }
    }

    [Fact]
    public async Task Run_ListsAgainWhenItsRevisionWasCompacted()
    {
        await Create(_seed.PodReader);
        await Create(_seed.Binding);
        var index = new RbacIndex();
        var controller = new RbacIndexController(_store, index);
        await controller.InitializeAsync(Ct);
        Assert.True(SeedAllowed(index));

        // Changes the controller has not watched yet, then the history it would need is dropped.
        await Delete(_seed.Binding);
        await Create(ClusterRole("view", Rule("get", "", "pods")));
        await Create(ClusterRoleBinding("alice-view", "view", User("alice")));
        await _store.CompactAsync(_store.CurrentRevision, Ct);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var run = controller.RunAsync(stop.Token);
        try
        {
            await Eventually(() => controller.ListCount == 2);
            Assert.False(SeedAllowed(index));
            Assert.True(index.Allows(Res(Person("alice"), "get", "anywhere", "pods")));

            await Create(_seed.Binding); // and it watches again from the new listing
            await Eventually(() => SeedAllowed(index));
        }
        finally
        {
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }
    }

    [Fact]
    public async Task Run_WithoutInitialize_ListsFirst()
    {
        await Create(_seed.PodReader);
        await Create(_seed.Binding);
        var index = new RbacIndex();
        var controller = new RbacIndexController(_store, index);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var run = controller.RunAsync(stop.Token);
        try { await Eventually(() => SeedAllowed(index)); }
        finally
        {
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }
    }
}
