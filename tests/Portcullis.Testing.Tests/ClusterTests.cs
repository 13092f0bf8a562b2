using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Portcullis.Testing.Tests;

/// <summary>The basic API over one cluster: admin client, apply, clients for users and ServiceAccounts, SubjectAccessReviews, kubectl.</summary>
public sealed class ClusterTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private PortcullisCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task AdminClient_ListsTheBuiltInNamespacesAndNode()
    {
        var namespaces = await Cluster.AdminClient.CoreV1.ListNamespaceAsync();
        Assert.Contains(namespaces.Items, n => n.Name() == "default");
        Assert.Contains(namespaces.Items, n => n.Name() == "kube-system");
        var nodes = await Cluster.AdminClient.CoreV1.ListNodeAsync();
        Assert.Equal(["portcullis-node"], nodes.Items.Select(n => n.Name()));
        Assert.Equal(IPAddress.Loopback.ToString(), Cluster.Url.Host);
        Assert.Equal(Cluster.Port, Cluster.Url.Port);
        Assert.NotEqual(0, Cluster.Port);
    }

    [Fact]
    public async Task ApplyAsync_CreatesThenUpdatesEveryDocument()
    {
        var applied = await Cluster.ApplyAsync("""
            apiVersion: v1
            kind: Namespace
            metadata:
              name: apply-demo
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              namespace: apply-demo
            data:
              mode: fast
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: in-default
            data: {}
            """);
        Assert.Equal(["Namespace", "ConfigMap", "ConfigMap"], applied.Select(o => o["kind"]!.GetValue<string>()));
        // A namespaced object without a namespace went to default.
        Assert.Equal("default", applied[2]["metadata"]!["namespace"]!.GetValue<string>());

        await Cluster.ApplyAsync("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              namespace: apply-demo
            data:
              mode: slow
            """);
        var cm = await Cluster.AdminClient.CoreV1.ReadNamespacedConfigMapAsync("settings", "apply-demo");
        Assert.Equal("slow", cm.Data["mode"]);
        Assert.Contains(cm.Metadata.ManagedFields, f => f.Manager == PortcullisCluster.FieldManager && f.Operation == "Apply");
    }

    [Fact]
    public async Task ApplyAsync_ReadsAFileOrADirectory()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-testing-apply").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "a.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-dir-a}\n");
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            await File.WriteAllTextAsync(Path.Combine(dir, "sub", "b.json"), """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"from-dir-b"}}""");
            var applied = await Cluster.ApplyAsync(dir);
            Assert.Equal(["from-dir-a", "from-dir-b"], applied.Select(o => o["metadata"]!["name"]!.GetValue<string>()));
            await Cluster.ApplyAsync(Path.Combine(dir, "a.yaml"));
            Assert.Equal("from-dir-b", (await Cluster.AdminClient.CoreV1.ReadNamespacedConfigMapAsync("from-dir-b", "default")).Name());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ApplyAsync_ACustomResourceRightAfterItsDefinition()
    {
        await Cluster.ApplyAsync("""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              scope: Namespaced
              names: {plural: widgets, singular: widget, kind: Widget}
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec:
                        type: object
                        properties:
                          size: {type: integer}
            ---
            apiVersion: example.com/v1
            kind: Widget
            metadata: {name: w1}
            spec: {size: 3}
            """);
        var w = await Cluster.AdminClient.CustomObjects.GetNamespacedCustomObjectAsync<System.Text.Json.JsonElement>("example.com", "v1", "default", "widgets", "w1");
        Assert.Equal(3, w.GetProperty("spec").GetProperty("size").GetInt32());
    }

    [Fact]
    public async Task ApplyAsync_RefusalCarriesTheServersStatus()
    {
        var e = await Assert.ThrowsAsync<ApplyException>(() => Cluster.ApplyAsync("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: Not_A_Name}
            """));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.StatusCode);
        Assert.Equal("Invalid", e.Status!["reason"]!.GetValue<string>());
        var unknown = await Assert.ThrowsAsync<ApplyException>(() => Cluster.ApplyAsync("apiVersion: v1\nkind: NoSuchKind\nmetadata: {name: x}\n"));
        Assert.Null(unknown.StatusCode);
        Assert.Contains("NoSuchKind", unknown.Message);
    }

    [Fact]
    public async Task ClientForUser_IsDeniedUntilRbacAllows()
    {
        var alice = Cluster.ClientFor("alice", "dev-team");
        var denied = await Assert.ThrowsAsync<HttpOperationException>(() => alice.CoreV1.ListNamespacedSecretAsync("default"));
        Assert.Equal(HttpStatusCode.Forbidden, denied.Response.StatusCode);
        Assert.Contains("User \\\"alice\\\" cannot list resource \\\"secrets\\\"", denied.Response.Content);

        Assert.False((await Cluster.CanAsync(Subject.User("alice", "dev-team"), "list", "secrets", "default")).Allowed);
        await Cluster.ApplyAsync("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: dev-team-view, namespace: default}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
            subjects:
            - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: dev-team}
            """);
        await Cluster.WaitForAccessAsync(Subject.User("alice", "dev-team"), "list", "secrets", "default");
        var decision = await Cluster.CanAsync(Subject.User("alice", "dev-team"), "list", "secrets", "default");
        Assert.True(decision.Allowed, decision.ToString());
        Assert.Contains("dev-team-view", decision.Reason);
        await alice.CoreV1.ListNamespacedSecretAsync("default");
        // The group, not the name, was granted.
        Assert.False((await Cluster.CanAsync(Subject.User("alice"), "list", "secrets", "default")).Allowed);
    }

    [Fact]
    public async Task ClientForServiceAccount_CreatesItAndAuthenticatesWithABoundToken()
    {
        var client = await Cluster.ClientForServiceAccountAsync("sa-demo/robot");
        Assert.NotNull(await Cluster.AdminClient.CoreV1.ReadNamespacedServiceAccountAsync("robot", "sa-demo"));
        var review = await client.AuthenticationV1.CreateSelfSubjectReviewAsync(new V1SelfSubjectReview());
        Assert.Equal("system:serviceaccount:sa-demo:robot", review.Status.UserInfo.Username);
        Assert.Contains("system:serviceaccounts:sa-demo", review.Status.UserInfo.Groups);

        var denied = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ListNamespacedPodAsync("sa-demo"));
        Assert.Equal(HttpStatusCode.Forbidden, denied.Response.StatusCode);
        Assert.False((await Cluster.CanAsync("sa-demo/robot", "list", "pods", "sa-demo")).Allowed);

        await Cluster.ApplyAsync("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: pod-reader, namespace: sa-demo}
            rules:
            - {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: robot-reads-pods, namespace: sa-demo}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
            subjects:
            - {kind: ServiceAccount, name: robot, namespace: sa-demo}
            """);
        await Cluster.WaitForAccessAsync(Subject.ServiceAccount("sa-demo/robot"), "list", "pods", "sa-demo");
        Assert.True((await Cluster.CanAsync("sa-demo/robot", "list", "pods", "sa-demo")).Allowed);
        Assert.Empty((await client.CoreV1.ListNamespacedPodAsync("sa-demo")).Items);
        Assert.False((await Cluster.CanAsync("sa-demo/robot", "delete", "pods", "sa-demo")).Allowed);
        // Asking again for an existing ServiceAccount works too.
        await Cluster.ClientForServiceAccountAsync("sa-demo/robot");
    }

    [Fact]
    public async Task ClientFor_NamedServiceAccount_AsksForItsTokenOnFirstUse()
    {
        var client = Cluster.ClientFor(serviceAccount: "lazy-demo/bot");
        // Nothing is created until the client's first request.
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => Cluster.AdminClient.CoreV1.ReadNamespaceAsync("lazy-demo"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
        var review = await client.AuthenticationV1.CreateSelfSubjectReviewAsync(new V1SelfSubjectReview());
        Assert.Equal("system:serviceaccount:lazy-demo:bot", review.Status.UserInfo.Username);
        var denied = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ListNamespacedSecretAsync("lazy-demo"));
        Assert.Equal(HttpStatusCode.Forbidden, denied.Response.StatusCode);
        Assert.Equal("secrets is forbidden: User \"system:serviceaccount:lazy-demo:bot\" cannot list resource \"secrets\" in API group \"\" in the namespace \"lazy-demo\"",
            System.Text.Json.Nodes.JsonNode.Parse(denied.Response.Content)!["message"]!.GetValue<string>());

        // A user by name, with groups as a list; naming neither or both is refused.
        var carol = Cluster.ClientFor("carol", ["qa"]);
        Assert.Equal("carol", (await carol.AuthenticationV1.CreateSelfSubjectReviewAsync(new V1SelfSubjectReview())).Status.UserInfo.Username);
        Assert.Throws<ArgumentException>(() => Cluster.ClientFor());
        Assert.Throws<ArgumentException>(() => Cluster.ClientFor(user: "carol", serviceAccount: "lazy-demo/bot"));
    }

    [Fact]
    public async Task CanAsync_ResourcesWithGroupsSubresourcesAndUrls()
    {
        var admin = Subject.User("root", "system:masters");
        Assert.True((await Cluster.CanAsync(admin, "update", "deployments.apps/scale", "default")).Allowed);
        var nobody = Subject.User("nobody");
        Assert.False((await Cluster.CanAsync(nobody, "get", "pods/log", "default")).Allowed);
        // system:authenticated may GET /healthz (system:public-info-viewer), but not /metrics.
        Assert.True((await Cluster.CanAsync(nobody, "get", "/healthz")).Allowed);
        Assert.False((await Cluster.CanAsync(nobody, "get", "/metrics")).Allowed);
    }

    [Fact]
    public async Task Kubectl_WorksWithTheAdminKubeconfigAndAUsersKubeconfig()
    {
        var ns = await Kubectl.RunAsync(Cluster.KubeconfigPath, "get", "namespaces", "-o", "name");
        Assert.True(ns.ExitCode == 0, ns.ToString());
        Assert.Contains("namespace/default", ns.Stdout);
        var create = await Kubectl.RunAsync(Cluster.KubeconfigPath, "create", "configmap", "by-kubectl", "--from-literal=a=b");
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal("b", (await Cluster.AdminClient.CoreV1.ReadNamespacedConfigMapAsync("by-kubectl", "default")).Data["a"]);

        var bob = Cluster.WriteKubeconfig(Cluster.KubeconfigFor("bob", "qa"));
        var whoami = await Kubectl.RunAsync(bob, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}");
        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        Assert.Equal("bob [\"qa\",\"system:authenticated\"]", whoami.Stdout);
        var forbidden = await Kubectl.RunAsync(bob, "get", "configmaps");
        Assert.Equal(1, forbidden.ExitCode);
        Assert.Contains("Error from server (Forbidden): configmaps is forbidden: User \"bob\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\"", forbidden.Stderr);

        var sa = Cluster.WriteKubeconfig(await Cluster.KubeconfigForAsync(Subject.ServiceAccount("kubectl-sa/runner")));
        var saWho = await Kubectl.RunAsync(sa, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
        Assert.True(saWho.ExitCode == 0, saWho.ToString());
        Assert.Equal("system:serviceaccount:kubectl-sa:runner", saWho.Stdout);
    }
}
