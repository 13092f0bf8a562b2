using System.Text.Json.Nodes;

namespace Portcullis.Analysis.Tests;

/// <summary>who-can --all-namespaces, --expand-groups and built-in short names: one example each.</summary>
public sealed class WhoCanExtrasTests
{
    private static AccessModel Model() => AccessModel.Build(ManifestReader.Read(["-"], new StringReader("""
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: builder, namespace: ci}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: web, namespace: prod}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: pod-reader, namespace: dev}
        rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: ci-reads, namespace: dev}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
        subjects: [{kind: Group, name: "system:serviceaccounts:ci", apiGroup: rbac.authorization.k8s.io}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: alice-reads, namespace: qa}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
        subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
        """)), bootstrap: true);

    [Fact]
    public void AllNamespaces_ListsTheRoleBindingsOfEveryNamespace()
    {
        var answer = WhoCan.Ask(Model(), WhoCanQuery.Parse("list", "po", null, null, null, allNamespaces: true));
        Assert.Contains(answer.Allowed, e => e.SubjectName == "system:serviceaccounts:ci" && e.BindingNamespace == "dev" && e.BindingName == "ci-reads");
        Assert.Contains(answer.Allowed, e => e.SubjectName == "alice" && e.BindingNamespace == "qa" && e.RoleName == "view");
        // Without -A the request is cluster-wide: neither RoleBinding applies.
        Assert.DoesNotContain(WhoCan.Ask(Model(), WhoCanQuery.Parse("list", "pods", null, null, null)).Allowed, e => e.BindingKind == "RoleBinding");
        var json = JsonNode.Parse(WhoCanOutput.Json(answer))!;
        Assert.True(json["request"]!["allNamespaces"]!.GetValue<bool>());
        Assert.Equal("", json["allowed"]![0]!["viaGroup"]!.GetValue<string>());
        Assert.Equal("--all-namespaces and --namespace cannot be used together",
            Assert.Throws<ArgumentException>(() => WhoCanQuery.Parse("list", "pods", "dev", null, null, allNamespaces: true)).Message);
        Assert.Equal("a non-resource URL takes no --all-namespaces",
            Assert.Throws<ArgumentException>(() => WhoCanQuery.Parse("get", "/healthz", null, null, null, allNamespaces: true)).Message);
    }

    [Fact]
    public void ExpandGroups_ListsTheServiceAccountsOfTheGroup_WithTheGroup()
    {
        var model = Model();
        var query = WhoCanQuery.Parse("get", "Pod", "dev", null, null);
        Assert.DoesNotContain(WhoCan.Ask(model, query).Allowed, e => e.SubjectKind == SubjectKinds.ServiceAccount && e.SubjectName == "builder");
        var answer = WhoCan.Ask(model, query, expandGroups: true);
        var builder = Assert.Single(answer.Allowed, e => e.SubjectKind == SubjectKinds.ServiceAccount && e.SubjectName == "builder");
        Assert.Equal(("ci", "system:serviceaccounts:ci", "ci-reads"), (builder.SubjectNamespace, builder.ViaGroup, builder.BindingName));
        Assert.DoesNotContain(answer.Allowed, e => e.SubjectName == "web" && e.BindingName == "ci-reads"); // prod is not in that group
        var row = WhoCanOutput.Table(answer).Split('\n').Single(l => l.Contains("builder"));
        Assert.Equal(["ServiceAccount", "builder", "ci", "RoleBinding/dev/ci-reads(group:system:serviceaccounts:ci)", "Role/pod-reader"],
            row.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // system:authenticated grants (the bootstrap's discovery roles) reach every ServiceAccount.
        var discovery = WhoCan.Ask(model, WhoCanQuery.Parse("get", "/api", null, null, null), expandGroups: true);
        Assert.Contains(discovery.Allowed, e => e.SubjectName == "web" && e.ViaGroup == "system:authenticated" && e.BindingName == "system:discovery");
    }
}
