using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using static Portcullis.Server.Tests.Authorization.Rbac.RbacKit;

namespace Portcullis.Server.Tests.Authorization.Rbac;

/// <summary>Incremental updates of the index, whole replacement, RulesFor, and allocation-free decisions.</summary>
public sealed class RbacIndexTests
{
    private static readonly UserInfo Alice = Person("alice", "devs", UserInfo.AllAuthenticated);
    private readonly Seed _seed = new();

    [Fact]
    public void DeletingTheBinding_RemovesAccess_AndRecreatingItRestoresIt()
    {
        var index = _seed.Index();
        var list = Res(Sa("default", "demo-sa"), "list", "default", "pods");
        Assert.True(index.Allows(list));
        index.Delete(_seed.Binding);
        Assert.False(index.Allows(list));
        Assert.Equal("", index.Decide(list).Reason);
        index.Put(_seed.Binding);
        Assert.True(index.Allows(list));
    }

    [Fact]
    public void DeletingTheRole_RemovesAccess_AndRecreatingItRestoresIt()
    {
        var index = _seed.Index();
        var list = Res(Sa("default", "demo-sa"), "list", "default", "pods");
        index.Delete(_seed.PodReader);
        var d = index.Decide(list);
        Assert.Equal(Decision.NoOpinion, d.Decision);
        Assert.Equal("RBAC: role.rbac.authorization.k8s.io \"pod-reader\" not found", d.Reason);
        index.Put(_seed.PodReader);
        Assert.True(index.Allows(list));
    }

    [Fact]
    public void BindingCreatedBeforeItsRole_StartsGrantingWhenTheRoleArrives()
    {
        var index = Index(_seed.Binding);
        var list = Res(Sa("default", "demo-sa"), "list", "default", "pods");
        Assert.False(index.Allows(list));
        index.Put(_seed.PodReader);
        Assert.True(index.Allows(list));
    }

    [Fact]
    public void ChangingARole_ChangesWhatItsBindingsGrant()
    {
        var index = _seed.Index();
        var sa = Sa("default", "demo-sa");
        Assert.False(index.Allows(Res(sa, "create", "default", "pods")));
        index.Put(Role("default", "pod-reader", Rule("create", "", "pods")));
        Assert.True(index.Allows(Res(sa, "create", "default", "pods")));
        Assert.False(index.Allows(Res(sa, "list", "default", "pods")));
    }

    [Fact]
    public void ChangingABindingsSubjects_MovesTheGrant()
    {
        var index = Index(ClusterRole("r", Rule("get", "", "pods")), ClusterRoleBinding("b", "r", User("alice")));
        var bob = Person("bob");
        index.Put(ClusterRoleBinding("b", "r", User("bob")));
        Assert.False(index.Allows(Res(Alice, "get", "ns", "pods")));
        Assert.True(index.Allows(Res(bob, "get", "ns", "pods")));
        index.Put(ClusterRoleBinding("b", "r", User("bob"), Group("devs")));
        Assert.True(index.Allows(Res(Alice, "get", "ns", "pods")));
        Assert.Equal(1, index.BindingCount);
        Assert.Equal(1, index.RoleCount);
    }

    [Fact]
    public void ChangingABindingsRoleRef_UsesTheNewRole()
    {
        var index = Index(
            ClusterRole("reader", Rule("get", "", "pods")),
            ClusterRole("writer", Rule("create", "", "pods")),
            RoleBinding("ns", "b", "ClusterRole", "reader", User("alice")));
        index.Put(RoleBinding("ns", "b", "ClusterRole", "writer", User("alice")));
        Assert.False(index.Allows(Res(Alice, "get", "ns", "pods")));
        Assert.True(index.Allows(Res(Alice, "create", "ns", "pods")));
    }

    [Fact]
    public void DeletingAClusterRole_AffectsEveryBindingOfIt()
    {
        var index = Index(
            ClusterRole("view", Rule("get", "", "pods")),
            ClusterRoleBinding("crb", "view", User("alice")),
            RoleBinding("a", "rb", "ClusterRole", "view", User("bob")));
        index.Apply("/registry/clusterroles/view", null);
        Assert.False(index.Allows(Res(Alice, "get", "a", "pods")));
        Assert.False(index.Allows(Res(Person("bob"), "get", "a", "pods")));
        Assert.Equal(0, index.RoleCount);
        Assert.Equal(2, index.BindingCount);
    }

    [Fact]
    public void Apply_IgnoresOtherKeys_AndDeletesOfUnknownObjects()
    {
        var index = new RbacIndex();
        Assert.False(index.Apply("/registry/pods/default/p", new JsonObject()));
        Assert.False(index.Apply("/registry/roles/default", new JsonObject()));
        Assert.True(index.Apply("/registry/rolebindings/default/never-existed", null));
        Assert.Equal(0, index.BindingCount);
    }

    [Fact]
    public void Reset_ReplacesEverything()
    {
        var index = Index(ClusterRole("r", Rule("get", "", "pods")), ClusterRoleBinding("b", "r", User("alice")));
        index.Reset([KeyValuePair.Create(Key(_seed.PodReader), _seed.PodReader), KeyValuePair.Create(Key(_seed.Binding), _seed.Binding)]);
        Assert.False(index.Allows(Res(Alice, "get", "ns", "pods")));
        Assert.True(index.Allows(Res(Sa("default", "demo-sa"), "list", "default", "pods")));
        index.Delete(_seed.Binding); // incremental updates go on after a reset
        Assert.False(index.Allows(Res(Sa("default", "demo-sa"), "list", "default", "pods")));
    }

    /// <summary>A listing that names a key twice (a stream of manifests): the later object replaces the earlier, in every index entry and count.</summary>
    [Fact]
    public void Reset_AKeyGivenTwice_TheLaterReplaces()
    {
        var first = ClusterRoleBinding("b", "r", User("alice"));
        var second = ClusterRoleBinding("b", "r", User("bob"));
        var reader = ClusterRole("r", Rule("get", "", "pods"));
        var index = new RbacIndex();
        index.Reset([KeyValuePair.Create(Key(first), first), KeyValuePair.Create(Key(reader), reader), KeyValuePair.Create(Key(second), second),
            KeyValuePair.Create(Key(reader), ClusterRole("r", Rule("list", "", "pods")))]);
        Assert.False(index.Allows(Res(Alice, "list", "ns", "pods")));
        Assert.True(index.Allows(Res(Person("bob"), "list", "ns", "pods")));
        Assert.False(index.Allows(Res(Person("bob"), "get", "ns", "pods")));
        Assert.Equal(1, index.BindingCount);
        Assert.Equal(1, index.RoleCount);
    }

    /// <summary>The allow reason is made on the first allowed decision and kept: the same string after, naming the subject that applies.</summary>
    [Fact]
    public void AllowReason_MadeOnce_NamesTheSubjectThatApplies()
    {
        var index = Index(ClusterRole("r", Rule("get", "", "pods")), RoleBinding("ns", "b", "ClusterRole", "r", User("bob"), Group("devs")));
        var authorizer = new RbacAuthorizer(index);
        var first = Completed(authorizer.AuthorizeAsync(Res(Alice, "get", "ns", "pods")));
        Assert.Equal("RBAC: allowed by RoleBinding \"b/ns\" of ClusterRole \"r\" to Group \"devs\"", first.Reason);
        Assert.Same(first.Reason, Completed(authorizer.AuthorizeAsync(Res(Alice, "get", "ns", "pods"))).Reason);
        Assert.Equal("RBAC: allowed by RoleBinding \"b/ns\" of ClusterRole \"r\" to User \"bob\"",
            Completed(authorizer.AuthorizeAsync(Res(Person("bob"), "get", "ns", "pods"))).Reason);
    }

    [Fact]
    public void RulesFor_UnitesClusterAndNamespaceRules_AndReportsMissingRoles()
    {
        var index = Index(
            ClusterRole("basic", Rule("get", urls: "/healthz")),
            ClusterRoleBinding("basic", "basic", Group(UserInfo.AllAuthenticated)),
            ClusterRole("pods", Rule("get,list", "", "pods")),
            RoleBinding("dev", "pods", "ClusterRole", "pods", User("alice"), Group("devs")),
            Role("dev", "cm", Rule("*", "", "configmaps", names: "app")),
            RoleBinding("dev", "cm", "Role", "cm", Group("devs")),
            RoleBinding("dev", "broken", "Role", "nope", User("alice")),
            Role("prod", "all", Rule("*", "*", "*")),
            RoleBinding("prod", "all", "Role", "all", User("alice")));

        var resolver = new RbacAuthorizer(index);
        var (rules, errors) = resolver.RulesFor(Alice, "dev");
        Assert.Equal(
            [
                "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}",
                "{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"resourceNames\":[\"app\"]}",
                "{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}",
            ],
            rules.Select(r => r.ToJson().ToJsonString()));
        Assert.Equal(["role.rbac.authorization.k8s.io \"nope\" not found"], errors);

        var (clusterOnly, none) = resolver.RulesFor(Alice, "");
        Assert.Equal(["/healthz"], clusterOnly.SelectMany(r => r.NonResourceUrls));
        Assert.Single(clusterOnly);
        Assert.Empty(none);

        var (stranger, _) = resolver.RulesFor(Person("mallory"), "dev");
        Assert.Empty(stranger);
    }

    [Fact]
    public void Decisions_AllocateNothing()
    {
        var index = Index(
            Role("default", "pod-reader", Rule("get,list", "", "pods")),
            RoleBinding("default", "pod-reader-binding", "Role", "pod-reader", ServiceAccount("demo-sa", "default")),
            ClusterRole("discovery", Rule("get", urls: "/apis/*")),
            ClusterRoleBinding("discovery", "discovery", Group(UserInfo.AllAuthenticated)));
        var authorizer = new RbacAuthorizer(index);
        var sa = Sa("default", "demo-sa");
        AuthorizationAttributes[] requests =
        [
            Res(sa, "list", "default", "pods"),
            Res(sa, "create", "default", "pods"),
            Res(sa, "list", "kube-system", "pods"),
            NonRes(sa, "get", "/apis/apps"),
            NonRes(sa, "get", "/metrics"),
        ];
        for (var i = 0; i < 100; i++)
            foreach (var r in requests) _ = Completed(authorizer.AuthorizeAsync(r));

        foreach (var r in requests)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var d = Completed(authorizer.AuthorizeAsync(r));
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.NotEqual(Decision.Deny, d.Decision);
            Assert.Equal(0, allocated);
        }
    }

    /// <summary>The decision never waits: its ValueTask is complete when returned.</summary>
    private static AuthorizationResult Completed(ValueTask<AuthorizationResult> pending)
    {
        Assert.True(pending.IsCompletedSuccessfully);
        return pending.Result;
    }

    [Fact]
    public async Task ConcurrentReaders_SeeConsistentDecisionsWhileTheWriterChurns()
    {
        var index = _seed.Index();
        var authorizer = new RbacAuthorizer(index);
        var sa = Sa("default", "demo-sa");
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var seen = 0;
            do
            {
                var d = authorizer.Authorize(Res(sa, "list", "default", "pods"));
                Assert.NotEqual(Decision.Deny, d.Decision);
                // The seed binding stays put throughout: its grant must never flicker.
                Assert.Equal(Decision.Allow, d.Decision);
                seen++;
            } while (!stop.IsCancellationRequested);
            return seen;
        })).ToArray();

        for (var i = 0; i < 2000; i++)
        {
            var b = RoleBinding("default", "churn-" + (i % 50), "Role", "pod-reader", ServiceAccount("demo-sa"), User("u" + i));
            if (i % 3 == 2) index.Delete(b); else index.Put(b);
            index.Put(Role("default", "other-" + (i % 7), Rule("get", "", "secrets")));
        }
        await stop.CancelAsync();
        Assert.All(await Task.WhenAll(readers), n => Assert.True(n > 0));
    }
}
