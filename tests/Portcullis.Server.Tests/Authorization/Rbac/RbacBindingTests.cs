using Portcullis.Server.Authentication;
using System.Text.Json.Nodes;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using static Portcullis.Server.Tests.Authorization.Rbac.RbacKit;

namespace Portcullis.Server.Tests.Authorization.Rbac;

/// <summary>Who a binding applies to, where, and what the decision says (upstream's rule resolver and authorizer).</summary>
public sealed class RbacBindingTests
{
    private static readonly UserInfo Alice = Person("alice", UserInfo.AllAuthenticated);
    private static readonly UserInfo Bob = Person("bob", "devs", UserInfo.AllAuthenticated);
    private static readonly UserInfo Anonymous = Person(UserInfo.Anonymous, UserInfo.AllUnauthenticated);

    private static readonly Seed SeedData = new();

    [Fact]
    public void Seed_ServiceAccountMayListPodsInDefault_WithUpstreamsReason()
    {
        var index = SeedData.Index();
        var d = index.Decide(Res(Sa("default", "demo-sa"), "list", "default", "pods"));
        Assert.Equal(Decision.Allow, d.Decision);
        Assert.Equal("RBAC: allowed by RoleBinding \"pod-reader-binding/default\" of Role \"pod-reader\" to ServiceAccount \"demo-sa/default\"", d.Reason);
        Assert.True(index.Allows(Res(Sa("default", "demo-sa"), "get", "default", "pods", name: "web-0")));
    }

    [Fact]
    public void Seed_ServiceAccountMayNotCreatePods_NorListElsewhere()
    {
        var index = SeedData.Index();
        var sa = Sa("default", "demo-sa");
        var create = index.Decide(Res(sa, "create", "default", "pods"));
        Assert.Equal(Decision.NoOpinion, create.Decision);
        Assert.Equal("", create.Reason);
        Assert.False(index.Allows(Res(sa, "list", "kube-system", "pods")));
        Assert.False(index.Allows(Res(sa, "list", "", "pods")));               // all namespaces: only ClusterRoleBindings count
        Assert.False(index.Allows(Res(sa, "get", "default", "pods", "log", "web-0")));
        Assert.False(index.Allows(Res(Sa("other", "demo-sa"), "list", "default", "pods")));
        Assert.False(index.Allows(Res(Sa("default", "other-sa"), "list", "default", "pods")));
    }

    [Fact]
    public void ServiceAccountSubjectWithoutNamespace_TakesTheBindingsNamespace()
    {
        var index = Index(
            Role("default", "pod-reader", Rule("get,list", "", "pods")),
            RoleBinding("default", "pod-reader-binding", "Role", "pod-reader", ServiceAccount("demo-sa")));
        var d = index.Decide(Res(Sa("default", "demo-sa"), "list", "default", "pods"));
        Assert.Equal(Decision.Allow, d.Decision);
        Assert.Equal("RBAC: allowed by RoleBinding \"pod-reader-binding/default\" of Role \"pod-reader\" to ServiceAccount \"demo-sa/default\"", d.Reason);
    }

    [Fact]
    public void ServiceAccountSubjectWithoutNamespace_InAClusterRoleBinding_AppliesToNobody()
    {
        var index = Index(ClusterRole("view", Rule("get", "", "pods")), ClusterRoleBinding("b", "view", ServiceAccount("demo-sa")));
        Assert.False(index.Allows(Res(Sa("default", "demo-sa"), "get", "default", "pods")));
    }

    [Fact]
    public void ServiceAccountInAnotherNamespace_CanBeBoundHere()
    {
        var index = Index(
            Role("team", "reader", Rule("get", "", "pods")),
            RoleBinding("team", "ci", "Role", "reader", ServiceAccount("builder", "ci")));
        var d = index.Decide(Res(Sa("ci", "builder"), "get", "team", "pods"));
        Assert.Equal(Decision.Allow, d.Decision);
        Assert.Equal("RBAC: allowed by RoleBinding \"ci/team\" of Role \"reader\" to ServiceAccount \"builder/ci\"", d.Reason);
        Assert.False(index.Allows(Res(Sa("team", "builder"), "get", "team", "pods")));
    }

    [Fact]
    public void ServiceAccountClusterRoleBinding_AppliesInEveryNamespace()
    {
        var index = Index(ClusterRole("view", Rule("get", "", "pods")), ClusterRoleBinding("sa-view", "view", ServiceAccount("mon", "monitoring")));
        var d = index.Decide(Res(Sa("monitoring", "mon"), "get", "anywhere", "pods"));
        Assert.Equal("RBAC: allowed by ClusterRoleBinding \"sa-view\" of ClusterRole \"view\" to ServiceAccount \"mon/monitoring\"", d.Reason);
    }

    [Fact]
    public void UserSubject_MatchesTheUserNameExactly()
    {
        var index = Index(Role("ns", "r", Rule("get", "", "pods")), RoleBinding("ns", "b", "Role", "r", User("alice")));
        var d = index.Decide(Res(Alice, "get", "ns", "pods"));
        Assert.Equal("RBAC: allowed by RoleBinding \"b/ns\" of Role \"r\" to User \"alice\"", d.Reason);
        Assert.False(index.Allows(Res(Person("Alice"), "get", "ns", "pods")));
        Assert.False(index.Allows(Res(Person("bob", "alice"), "get", "ns", "pods"))); // a group named alice is not the user
    }

    [Fact]
    public void UserSubject_NamingAServiceAccountsUserName_AppliesToIt()
    {
        var index = Index(Role("ns", "r", Rule("get", "", "pods")), RoleBinding("ns", "b", "Role", "r", User("system:serviceaccount:ns:sa")));
        Assert.Equal("RBAC: allowed by RoleBinding \"b/ns\" of Role \"r\" to User \"system:serviceaccount:ns:sa\"",
            index.Decide(Res(Sa("ns", "sa"), "get", "ns", "pods")).Reason);
    }

    [Fact]
    public void GroupSubjects_IncludingSystemAuthenticated()
    {
        var index = Index(
            ClusterRole("discovery", Rule("get", urls: "/api,/api/*,/apis,/apis/*,/version")),
            ClusterRoleBinding("system:discovery", "discovery", Group(UserInfo.AllAuthenticated)),
            Role("dev", "editor", Rule("*", "", "configmaps")),
            RoleBinding("dev", "devs-edit", "Role", "editor", Group("devs")));
        var d = index.Decide(NonRes(Alice, "get", "/apis/apps/v1"));
        Assert.Equal("RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole \"discovery\" to Group \"system:authenticated\"", d.Reason);
        Assert.False(index.Allows(NonRes(Anonymous, "get", "/apis/apps/v1")));
        Assert.Equal("RBAC: allowed by RoleBinding \"devs-edit/dev\" of Role \"editor\" to Group \"devs\"",
            index.Decide(Res(Bob, "delete", "dev", "configmaps", name: "c")).Reason);
        Assert.False(index.Allows(Res(Alice, "delete", "dev", "configmaps", name: "c")));
    }

    [Fact]
    public void ClusterAdmin_ForSystemMasters_WithUpstreamsReason()
    {
        var index = Index(
            ClusterRole("cluster-admin", Rule("*", "*", "*"), Rule("*", urls: "*")),
            ClusterRoleBinding("cluster-admin", "cluster-admin", Group(UserInfo.SystemMasters)));
        var admin = Person("kubernetes-admin", UserInfo.SystemMasters, UserInfo.AllAuthenticated);
        const string reason = "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"";
        Assert.Equal(reason, index.Decide(Res(admin, "delete", "kube-system", "secrets", name: "s")).Reason);
        Assert.Equal(reason, index.Decide(Res(admin, "create", "", "namespaces")).Reason);
        Assert.Equal(reason, index.Decide(NonRes(admin, "get", "/metrics")).Reason);
        Assert.Equal(reason, index.Decide(Res(admin, "escalate", "", "clusterroles", group: "rbac.authorization.k8s.io")).Reason);
    }

    [Fact]
    public void Reason_NamesTheFirstSubjectThatApplies()
    {
        var index = Index(
            ClusterRole("r", Rule("get", "", "pods")),
            ClusterRoleBinding("b", "r", User("carol"), Group("devs"), User("bob")));
        Assert.Equal("RBAC: allowed by ClusterRoleBinding \"b\" of ClusterRole \"r\" to Group \"devs\"",
            index.Decide(Res(Bob, "get", "ns", "pods")).Reason);
    }

    [Fact]
    public void RoleBindingToClusterRole_GrantsOnlyInItsNamespace()
    {
        var index = Index(
            ClusterRole("edit", Rule("*", "", "pods"), Rule("get", urls: "/metrics")),
            RoleBinding("dev", "alice-edit", "ClusterRole", "edit", User("alice")));
        var d = index.Decide(Res(Alice, "create", "dev", "pods"));
        Assert.Equal("RBAC: allowed by RoleBinding \"alice-edit/dev\" of ClusterRole \"edit\" to User \"alice\"", d.Reason);
        Assert.False(index.Allows(Res(Alice, "create", "prod", "pods")));
        Assert.False(index.Allows(Res(Alice, "list", "", "pods")));
        Assert.False(index.Allows(NonRes(Alice, "get", "/metrics"))); // non-resource URLs need a ClusterRoleBinding
    }

    [Fact]
    public void NonResourceRequestCarryingANamespace_StillNeedsAClusterRoleBinding()
    {
        var index = Index(
            ClusterRole("metrics", Rule("get", urls: "/metrics")),
            RoleBinding("dev", "m", "ClusterRole", "metrics", User("alice")));
        Assert.False(index.Allows(new AuthorizationAttributes(Alice, Verb.Get, false, "/metrics", "dev")));
    }

    [Fact]
    public void BindingInAnotherNamespace_GrantsNothing()
    {
        var index = Index(
            Role("other", "r", Rule("*", "*", "*")),
            RoleBinding("other", "b", "Role", "r", User("alice")));
        Assert.False(index.Allows(Res(Alice, "get", "default", "pods")));
        Assert.True(index.Allows(Res(Alice, "get", "other", "pods")));
    }

    [Fact]
    public void RoleBinding_RefersToTheRoleInItsOwnNamespace()
    {
        var index = Index(
            Role("other", "r", Rule("*", "*", "*")),
            RoleBinding("default", "b", "Role", "r", User("alice")));
        var d = index.Decide(Res(Alice, "get", "default", "pods"));
        Assert.Equal(Decision.NoOpinion, d.Decision);
        Assert.Equal("RBAC: role.rbac.authorization.k8s.io \"r\" not found", d.Reason);
    }

    [Fact]
    public void MissingRole_GrantsNothing_AndIsReported()
    {
        var index = Index(
            RoleBinding("ns", "b1", "Role", "gone", User("alice")),
            ClusterRoleBinding("b2", "missing", Group(UserInfo.AllAuthenticated)),
            Role("ns", "r", Rule("get", "", "secrets")),
            RoleBinding("ns", "b3", "Role", "r", User("alice")));
        var d = index.Decide(Res(Alice, "list", "ns", "pods"));
        Assert.Equal(Decision.NoOpinion, d.Decision);
        Assert.Equal("RBAC: [clusterrole.rbac.authorization.k8s.io \"missing\" not found, role.rbac.authorization.k8s.io \"gone\" not found]", d.Reason);
        Assert.Equal(Decision.Allow, index.Decide(Res(Alice, "get", "ns", "secrets")).Decision);
        Assert.Equal("RBAC: clusterrole.rbac.authorization.k8s.io \"missing\" not found", index.Decide(Res(Bob, "list", "elsewhere", "pods")).Reason);
        Assert.Equal("", index.Decide(Res(Anonymous, "list", "ns", "pods")).Reason);
    }

    [Fact]
    public void SameMissingRoleTwice_IsReportedOnce()
    {
        var index = Index(
            RoleBinding("ns", "b1", "Role", "gone", User("alice")),
            RoleBinding("ns", "b2", "Role", "gone", Group(UserInfo.AllAuthenticated)));
        Assert.Equal("RBAC: role.rbac.authorization.k8s.io \"gone\" not found", index.Decide(Res(Alice, "get", "ns", "pods")).Reason);
    }

    [Fact]
    public void UnsupportedRoleRefKind_IsReported()
    {
        var index = Index(RoleBinding("ns", "b", "Policy", "p", User("alice")));
        Assert.Equal("RBAC: unsupported role reference kind: \"Policy\"", index.Decide(Res(Alice, "get", "ns", "pods")).Reason);
    }

    [Fact]
    public void OtherSubjectKinds_ApplyToNobody()
    {
        var index = Index(
            ClusterRole("r", Rule("*", "*", "*")),
            ClusterRoleBinding("b", "r", new JsonObject { ["kind"] = "Robot", ["name"] = "alice" }));
        Assert.False(index.Allows(Res(Alice, "get", "ns", "pods")));
    }

    [Fact]
    public void Names_AreQuotedAsGoQuotesThem()
    {
        var index = Index(ClusterRole("r", Rule("get", "", "pods")), ClusterRoleBinding("b", "r", User("we\"ird\\name\t")));
        Assert.Equal("RBAC: allowed by ClusterRoleBinding \"b\" of ClusterRole \"r\" to User \"we\\\"ird\\\\name\\t\"",
            index.Decide(Res(Person("we\"ird\\name\t"), "get", "ns", "pods")).Reason);
    }

    [Fact]
    public async Task AuthorizeAsync_GivesTheSameAnswer()
    {
        var authorizer = new RbacAuthorizer(SeedData.Index());
        var d = await authorizer.AuthorizeAsync(Res(Sa("default", "demo-sa"), "list", "default", "pods"));
        Assert.Equal(Decision.Allow, d.Decision);
        Assert.Equal(Decision.NoOpinion, (await authorizer.AuthorizeAsync(Res(Alice, "list", "default", "pods"))).Decision);
    }
}

/// <summary>The seed's policy: ServiceAccount demo-sa bound in default to Role pod-reader (get, list pods).</summary>
internal sealed class Seed
{
    public readonly JsonObject PodReader = Role("default", "pod-reader", Rule("get,list", "", "pods"));
    public readonly JsonObject Binding =
        RoleBinding("default", "pod-reader-binding", "Role", "pod-reader", ServiceAccount("demo-sa", "default"));

    public RbacIndex Index() => RbacKit.Index(PodReader, Binding);
}
