using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Portcullis.Testing.Tests;

/// <summary>
/// The least-privilege workflow: code runs as its ServiceAccount with what the test granted; afterwards
/// <see cref="PortcullisCluster.MinimalRolesAsync"/> says what it used, as Roles, and which grants it never used.
/// </summary>
public sealed class LeastPrivilegeTests(RecordingClusterFixture fixture) : IClassFixture<RecordingClusterFixture>
{
    private PortcullisCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task AServiceAccountGrantedMoreThanItUses_GetsTheSmallerSet()
    {
        await Cluster.ApplyAsync("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: shop}
            data: {replicas: "2"}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: too-much, namespace: shop}
            rules:
            - {apiGroups: [""], resources: [configmaps], verbs: [get, list, watch, create, update, delete]}
            - {apiGroups: [""], resources: [secrets], verbs: [get, list]}
            - {apiGroups: [apps], resources: [deployments], verbs: ["*"]}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: operator-too-much, namespace: shop}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: too-much}
            subjects:
            - {kind: ServiceAccount, name: operator, namespace: shop}
            """);

        await Cluster.WaitForAccessAsync(Subject.ServiceAccount("shop/operator"), "create", "configmaps", "shop");
        // "The code under test": reads one ConfigMap by name, lists ConfigMaps, creates one.
        var op = await Cluster.ClientForServiceAccountAsync("shop/operator");
        await op.CoreV1.ReadNamespacedConfigMapAsync("settings", "shop");
        await op.CoreV1.ListNamespacedConfigMapAsync("shop");
        await op.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "status" } }, "shop");

        var minimal = await Cluster.MinimalRolesAsync(Subject.ServiceAccount("shop/operator"));
        var role = Assert.Single(minimal.Roles);
        Assert.Equal("minimized:serviceaccount:shop:operator", role.Name());
        Assert.Equal("shop", role.Namespace());
        Assert.Empty(minimal.ClusterRoles);
        Assert.Equal(
            ["[] [configmaps] [create,list] []", "[] [configmaps] [get] [settings]"],
            role.Rules.Select(r => $"[{string.Join(",", r.ApiGroups)}] [{string.Join(",", r.Resources)}] [{string.Join(",", r.Verbs)}] [{string.Join(",", r.ResourceNames ?? [])}]").Order(StringComparer.Ordinal));
        var binding = Assert.Single(minimal.RoleBindings);
        Assert.Equal("ServiceAccount", binding.Subjects.Single().Kind);
        Assert.Equal("operator", binding.Subjects.Single().Name);

        // Of the Role the test granted, the secrets and deployments rules were never used; the configmaps rule was.
        // (The rest of UnusedGrants is what every ServiceAccount has through its groups: system:basic-user, system:discovery ...)
        var unused = minimal.UnusedGrants.Where(u => u.RoleName == "too-much").Select(MinimizeDescribe).ToList();
        Assert.Equal(["RoleBinding/shop/operator-too-much -> Role/too-much (as ServiceAccount operator): verbs=[*] apiGroups=[apps] resources=[deployments]",
            "RoleBinding/shop/operator-too-much -> Role/too-much (as ServiceAccount operator): verbs=[get,list] apiGroups=[\"\"] resources=[secrets]"],
            unused.Order(StringComparer.Ordinal));
        Assert.Contains(minimal.UnusedGrants, u => u.RoleName == "system:basic-user");
        Assert.Empty(minimal.NotAllowed);
        Assert.Contains("# Unused grants (granted now, never used by the recorded requests):", minimal.Yaml);
        Assert.Contains("kind: Role\n", minimal.Yaml);

        // The smaller set is enough: swap the broad binding for the minimal objects, and the same code still works ...
        await Cluster.AdminClient.RbacAuthorizationV1.DeleteNamespacedRoleBindingAsync("operator-too-much", "shop");
        await Cluster.ApplyAsync(minimal.Yaml);
        await Cluster.WaitForAccessAsync(Subject.ServiceAccount("shop/operator"), "create", "configmaps", "shop");
        await op.CoreV1.ReadNamespacedConfigMapAsync("settings", "shop");
        await op.CoreV1.ListNamespacedConfigMapAsync("shop");
        await op.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "status-2" } }, "shop");
        // ... and what it never did is now refused (once the authorizer has seen the binding go).
        for (var deadline = DateTime.UtcNow.AddSeconds(30); (await Cluster.CanAsync("shop/operator", "list", "secrets", "shop")).Allowed; await Task.Delay(20))
            Assert.True(DateTime.UtcNow < deadline, "the deleted RoleBinding still grants");
        var denied = await Assert.ThrowsAsync<HttpOperationException>(() => op.CoreV1.ListNamespacedSecretAsync("shop"));
        Assert.Equal(HttpStatusCode.Forbidden, denied.Response.StatusCode);
        Assert.False((await Cluster.CanAsync("shop/operator", "delete", "configmaps", "shop", "settings")).Allowed);
    }

    private static string MinimizeDescribe(Portcullis.Analysis.UnusedGrant u) => Portcullis.Analysis.MinimizeOutput.Describe(u);

    [Fact]
    public async Task AUserWhoDidNothing_HasNoMinimalRoles()
    {
        var minimal = await Cluster.MinimalRolesAsync(Subject.User("idle-user"));
        Assert.Empty(minimal.Objects);
        Assert.Empty(minimal.Used);
    }

    [Fact]
    public async Task AUsersClusterWideRequests_GoToAClusterRole()
    {
        var carol = Cluster.ClientFor("carol", "readers");
        await Cluster.ApplyAsync("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: readers-view}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
            subjects:
            - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: readers}
            """);
        await Cluster.WaitForAccessAsync(Subject.User("carol", "readers"), "list", "pods");
        await carol.CoreV1.ListPodForAllNamespacesAsync();
        var minimal = await Cluster.MinimalRolesAsync(Subject.User("carol", "readers"));
        var clusterRole = Assert.Single(minimal.ClusterRoles);
        Assert.Contains(clusterRole.Rules, r => r.Resources.SequenceEqual(["pods"]) && r.Verbs.SequenceEqual(["list"]));
        Assert.Contains(minimal.UsedDescriptions, d => d == "list pods (cluster-wide)");
        // view grants far more than a pod list.
        Assert.NotEmpty(minimal.UnusedGrants);
    }

    [Fact]
    public async Task WithoutRecordAccess_MinimalRolesSaysHowToTurnItOn()
    {
        await using var plain = await PortcullisCluster.StartAsync();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => plain.MinimalRolesAsync(Subject.User("x")));
        Assert.Contains("RecordAccess = true", e.Message);
    }
}
