using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Analysis.Tests;

/// <summary>who-can, one feature at a time, over small manifests.</summary>
public sealed class WhoCanTests
{
    private const string Manifests = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: pod-reader, namespace: dev}
        rules:
        - apiGroups: [""]
          resources: ["pods"]
          verbs: ["get", "list"]
        - apiGroups: [""]
          resources: ["secrets"]
          resourceNames: ["app-token", "db-token"]
          verbs: ["get"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: read-pods, namespace: dev}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
        subjects:
        - {kind: User, name: alice}
        - {kind: User, name: alice}
        - {kind: ServiceAccount, name: ci}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: scaler}
        rules:
        - apiGroups: ["*"]
          resources: ["*/scale"]
          verbs: ["*"]
        - nonResourceURLs: ["/healthz/*"]
          verbs: ["get"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: scalers, namespace: prod}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: scaler}
        subjects:
        - {kind: Group, name: ops}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: robots}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: scaler}
        subjects:
        - {kind: ServiceAccount, name: hpa, namespace: kube-system}
        - {kind: ServiceAccount, name: no-namespace}
        - {kind: Robot, name: r2d2}
        """;

    private static AccessModel Model(string yaml, bool bootstrap = false) => YamlModel.Build(yaml, bootstrap);

    private static List<string> Subjects(IEnumerable<WhoCanEntry> entries) =>
        entries.Select(e => $"{e.SubjectKind}:{(e.SubjectNamespace.Length > 0 ? e.SubjectNamespace + "/" : "")}{e.SubjectName}"
            + (e.BindingName.Length > 0 ? $" via {e.BindingKind}/{e.BindingName}" : " via " + e.Reason)).ToList();

    private static WhoCanResult Ask(AccessModel m, string verb, string target, string? ns = null, string? name = null, string? group = null) =>
        WhoCan.Ask(m, WhoCanQuery.Parse(verb, target, ns, name, group));

    [Fact]
    public void RoleBinding_GrantsInItsNamespace_WithBindingRoleAndRule()
    {
        var r = Ask(Model(Manifests), "list", "pods", "dev");
        Assert.Equal(["Group:system:masters via system:masters", "ServiceAccount:dev/ci via RoleBinding/read-pods", "User:alice via RoleBinding/read-pods"],
            Subjects(r.Allowed));
        var alice = r.Allowed.Single(e => e.SubjectName == "alice");
        Assert.Equal(("RoleBinding", "dev", "read-pods", "Role", "pod-reader"), (alice.BindingKind, alice.BindingNamespace, alice.BindingName, alice.RoleKind, alice.RoleName));
        Assert.Equal(["pods"], alice.Rule!.Resources);
        Assert.Empty(r.OnlyForNames);
    }

    [Fact]
    public void RoleBinding_DoesNotGrantElsewhere_NorClusterWide()
    {
        var m = Model(Manifests);
        Assert.Equal(["Group:system:masters via system:masters"], Subjects(Ask(m, "list", "pods", "prod").Allowed));
        Assert.Equal(["Group:system:masters via system:masters"], Subjects(Ask(m, "list", "pods").Allowed));
    }

    [Fact]
    public void RoleBindingToClusterRole_IsScopedToTheBindingsNamespace()
    {
        var m = Model(Manifests);
        Assert.Contains("Group:ops via RoleBinding/scalers", Subjects(Ask(m, "update", "deployments.apps/scale", "prod").Allowed));
        Assert.DoesNotContain("Group:ops via RoleBinding/scalers", Subjects(Ask(m, "update", "deployments.apps/scale", "dev").Allowed));
        Assert.DoesNotContain("Group:ops via RoleBinding/scalers", Subjects(Ask(m, "update", "deployments.apps/scale").Allowed));
    }

    [Fact]
    public void Wildcards_AnySubresourceRule_AndClusterRoleBinding()
    {
        var m = Model(Manifests);
        // "*/scale" in any group, any verb: everywhere through the ClusterRoleBinding.
        Assert.Equal(["Group:system:masters via system:masters", "ServiceAccount:kube-system/hpa via ClusterRoleBinding/robots"],
            Subjects(Ask(m, "patch", "statefulsets/scale", "dev", group: "apps").Allowed));
        // ... but not the resource itself, nor another subresource.
        Assert.Single(Ask(m, "patch", "statefulsets.apps", "dev").Allowed);
        Assert.Single(Ask(m, "patch", "statefulsets.apps/status", "dev").Allowed);
    }

    [Fact]
    public void Subresource_IsNotCoveredByItsResource()
    {
        var m = Model(Manifests);
        Assert.Single(Ask(m, "get", "pods/log", "dev").Allowed);
        Assert.Equal(3, Ask(m, "get", "pods", "dev").Allowed.Count);
    }

    [Fact]
    public void ResourceNames_GrantOnlyTheNamesListed()
    {
        var m = Model(Manifests);
        Assert.Contains("User:alice via RoleBinding/read-pods", Subjects(Ask(m, "get", "secrets", "dev", name: "db-token").Allowed));
        var other = Ask(m, "get", "secrets", "dev", name: "other");
        Assert.Single(other.Allowed);
        Assert.Empty(other.OnlyForNames);

        var unnamed = Ask(m, "get", "secrets", "dev");
        Assert.Single(unnamed.Allowed);
        Assert.Equal(["ServiceAccount:dev/ci via RoleBinding/read-pods", "User:alice via RoleBinding/read-pods"], Subjects(unnamed.OnlyForNames));
        Assert.All(unnamed.OnlyForNames, e => Assert.Equal(["app-token", "db-token"], e.OnlyForNames!));
    }

    [Fact]
    public void NonResourceUrl_OnlyThroughClusterRoleBindings_WithPrefixes()
    {
        var m = Model(Manifests);
        // /healthz/* through ClusterRoleBinding robots; the RoleBinding to the same ClusterRole gives no URL.
        Assert.Equal(["Group:system:masters via system:masters", "ServiceAccount:kube-system/hpa via ClusterRoleBinding/robots"],
            Subjects(Ask(m, "get", "/healthz/ready").Allowed));
        Assert.Single(Ask(m, "get", "/healthz").Allowed);
        Assert.Single(Ask(m, "post", "/healthz/ready").Allowed);
    }

    [Fact]
    public void SubjectsThatCannotApply_AreLeftOut()
    {
        var robots = Ask(Model(Manifests), "get", "/healthz/x").Allowed;
        Assert.DoesNotContain(robots, e => e.SubjectName is "no-namespace" or "r2d2");
    }

    [Fact]
    public void SystemMasters_IsAlwaysAllowed_BeforeRbac()
    {
        var r = Ask(Model(""), "escalate", "anything.example.com", "x");
        var e = Assert.Single(r.Allowed);
        Assert.Equal(("Group", "system:masters", "system:masters"), (e.SubjectKind, e.SubjectName, e.Reason));
        Assert.True(e.AppliesTo("anyone", ["system:masters"]));
        Assert.False(e.AppliesTo("system:masters", []));
    }

    [Fact]
    public void Bootstrap_GroupsSuchAsSystemAuthenticated()
    {
        var r = Ask(Model("", bootstrap: true), "get", "/healthz");
        Assert.Contains("Group:system:authenticated via ClusterRoleBinding/system:public-info-viewer", Subjects(r.Allowed));
        Assert.Contains("Group:system:unauthenticated via ClusterRoleBinding/system:public-info-viewer", Subjects(r.Allowed));
        Assert.Contains("Group:system:masters via ClusterRoleBinding/cluster-admin", Subjects(r.Allowed));
        // Left out with --no-bootstrap.
        Assert.Single(Ask(Model(""), "get", "/healthz").Allowed);
    }

    [Fact]
    public void Bootstrap_IsReconciledWithTheFiles_AsAtServerStart()
    {
        const string Yaml = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: cluster-admin}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
            subjects: [{kind: User, name: root}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: system:public-info-viewer
              annotations: {rbac.authorization.kubernetes.io/autoupdate: "false"}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:public-info-viewer}
            subjects: [{kind: User, name: prober}]
            """;
        var m = Model(Yaml, bootstrap: true);
        // Union: the file's subject and upstream's system:masters.
        var secrets = Subjects(Ask(m, "delete", "secrets", "x").Allowed);
        Assert.Contains("User:root via ClusterRoleBinding/cluster-admin", secrets);
        Assert.Contains("Group:system:masters via ClusterRoleBinding/cluster-admin", secrets);
        // autoupdate "false": left as the file has it.
        var healthz = Subjects(Ask(m, "get", "/livez").Allowed);
        Assert.Contains("User:prober via ClusterRoleBinding/system:public-info-viewer", healthz);
        Assert.DoesNotContain("Group:system:unauthenticated via ClusterRoleBinding/system:public-info-viewer", healthz);
    }

    [Fact]
    public void AggregatedClusterRoles_AreResolved_ThroughChains()
    {
        const string Yaml = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: crontab-editor
              labels: {rbac.authorization.k8s.io/aggregate-to-edit: "true"}
            rules:
            - apiGroups: ["stable.example.com"]
              resources: ["crontabs"]
              verbs: ["create"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: admins, namespace: team}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
            subjects: [{kind: User, name: lead}]
            """;
        // admin aggregates edit, which aggregates crontab-editor.
        var r = Ask(Model(Yaml, bootstrap: true), "create", "crontabs.stable.example.com", "team");
        var lead = Assert.Single(r.Allowed, e => e.SubjectName == "lead");
        Assert.Equal(("ClusterRole", "admin"), (lead.RoleKind, lead.RoleName));
        Assert.Equal(["crontabs"], lead.Rule!.Resources);
    }

    [Fact]
    public void UnknownRoles_GrantNothing()
    {
        const string Yaml = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: dangling}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: missing}
            subjects: [{kind: User, name: u}]
            """;
        Assert.Single(Ask(Model(Yaml), "get", "pods", "x").Allowed);
    }

    [Fact]
    public void Json_HasTheDocumentedShape()
    {
        var r = Ask(Model(Manifests), "get", "secrets", "dev");
        var json = JsonNode.Parse(WhoCanOutput.Json(r))!.AsObject();
        Assert.Equal(WhoCanOutput.ApiVersion, json["apiVersion"]!.GetValue<string>());
        Assert.Equal("WhoCan", json["kind"]!.GetValue<string>());
        Assert.Equal("secrets", json["request"]!["resource"]!.GetValue<string>());
        Assert.Null(json["request"]!["nonResourceURL"]);
        var masters = json["allowed"]![0]!;
        Assert.Equal("system:masters", masters["reason"]!.GetValue<string>());
        Assert.Null(masters["binding"]);
        var limited = json["onlyForNames"]!.AsArray();
        Assert.Equal(2, limited.Count);
        Assert.Equal("RoleBinding", limited[1]!["binding"]!["kind"]!.GetValue<string>());
        Assert.Equal("pod-reader", limited[1]!["role"]!["name"]!.GetValue<string>());
        Assert.Equal(["app-token", "db-token"], limited[1]!["resourceNames"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["get"], limited[1]!["rule"]!["verbs"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void Table_ListsLimitedGrantsSeparately()
    {
        var text = WhoCanOutput.Table(Ask(Model(Manifests), "get", "secrets", "dev"));
        var lines = text.Split('\n');
        Assert.StartsWith("SUBJECT KIND", lines[0]);
        Assert.Contains("Only for names", text);
        Assert.Contains(lines, l => l.StartsWith("User ") && l.Contains("RoleBinding/dev/read-pods") && l.Contains("Role/pod-reader") && l.EndsWith("[app-token db-token]"));
    }
}
