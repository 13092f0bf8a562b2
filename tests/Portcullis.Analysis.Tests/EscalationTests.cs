using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Analysis.Tests;

/// <summary>Escalation paths and risk findings, one case at a time: paths that exist, and those naive tools would claim but do not.</summary>
public sealed class EscalationTests
{
    /// <summary>The model of concatenated documents (a raw string ends its last "---" without a newline: one is put back).</summary>
    private static AccessModel Model(string yaml, bool bootstrap = false) =>
        YamlModel.Build(yaml.Replace("---apiVersion", "---\napiVersion"), bootstrap);

    /// <summary>A ClusterRole <c>admin-all</c> (every permission) bound cluster-wide to ServiceAccount power/boss.</summary>
    private const string Powerful = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: admin-all}
        rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: boss-is-admin}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin-all}
        subjects: [{kind: ServiceAccount, name: boss, namespace: power}]
        ---
        """;

    private static string Grant(string user, string rules, string ns = "")
    {
        var n = "x-" + Sanitize(user);
        var (roleKind, bindingKind, nsPart) = ns.Length > 0 ? ("Role", "RoleBinding", ", namespace: " + ns) : ("ClusterRole", "ClusterRoleBinding", "");
        return "apiVersion: rbac.authorization.k8s.io/v1\nkind: " + roleKind + "\nmetadata: {name: " + n + nsPart + "}\nrules: " + rules + "\n---\n"
            + "apiVersion: rbac.authorization.k8s.io/v1\nkind: " + bindingKind + "\nmetadata: {name: " + n + nsPart + "}\n"
            + "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: " + roleKind + ", name: " + n + "}\n"
            + "subjects: [{kind: User, name: \"" + user + "\"}]\n---\n";
    }

    private static string Sanitize(string s) => s.Replace(':', '-');

    private static EscalationResult From(string yaml, string user = "mallory", string? to = null) =>
        EscalationSearch.ForSubject(Model(yaml), to is null ? EscalationGoal.ClusterAdmin : EscalationGoal.Parse(to), user, []);

    private static IReadOnlyList<Move>? Steps(EscalationResult r) => Assert.Single(r.Paths).Steps;

    private static string[] MoveKinds(EscalationResult r) => Steps(r)!.Select(m => m.Kind).ToArray();

    [Fact]
    public void CreatePods_WithoutServiceAccountsThatHavePower_IsNoPath()
    {
        // Pods can be started in "power", but no ServiceAccount object exists there: no token to run as.
        var yaml = Powerful + Grant("mallory", """[{apiGroups: [""], resources: [pods], verbs: [create]}]""", "power");
        Assert.Null(Steps(From(yaml)));
        // With the ServiceAccount there, it is two moves: start a pod, run it as boss.
        var withSa = yaml + "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: boss, namespace: power}\n";
        Assert.Equal([Moves.CreatePod, Moves.RunAs], MoveKinds(From(withSa)));
    }

    [Fact]
    public void Workloads_StartPodsToo()
    {
        var yaml = Powerful + Grant("mallory", """[{apiGroups: [batch], resources: [cronjobs], verbs: [create]}]""", "power")
                   + "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: boss, namespace: power}\n";
        var steps = Steps(From(yaml))!;
        Assert.Equal("cronjobs", steps[0].Evidence[0].Permission.Resource);
    }

    private const string BossAndToken = """
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: boss, namespace: power}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: boss-token, namespace: power, annotations: {kubernetes.io/service-account.name: boss}}
        type: kubernetes.io/service-account-token
        data: {token: c2VjcmV0}
        ---
        """;

    [Fact]
    public void GetSecrets_WithoutTheName_IsNoPath_ListIs()
    {
        var named = Powerful + BossAndToken + Grant("mallory", """[{apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [other]}]""", "power");
        Assert.Null(Steps(From(named)));
        var byName = Powerful + BossAndToken + Grant("mallory", """[{apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [boss-token]}]""", "power");
        var step = Assert.Single(Steps(From(byName))!);
        Assert.Equal((Moves.ReadTokenSecret, "get", "boss-token"), (step.Kind, step.Evidence[0].Permission.Verb, step.Evidence[0].Permission.Name));
        var list = Powerful + BossAndToken + Grant("mallory", """[{apiGroups: [""], resources: [secrets], verbs: [list]}]""", "power");
        Assert.Equal("list", Assert.Single(Steps(From(list))!).Evidence[0].Permission.Verb);
        // get on every name is no list: it needs the name (a random suffix), which get alone does not reveal.
        var get = Powerful + BossAndToken + Grant("mallory", """[{apiGroups: [""], resources: [secrets], verbs: [get]}]""", "power");
        Assert.Null(Steps(From(get)));
    }

    [Fact]
    public void TokenSecret_OfADeletedServiceAccount_IsNoPath()
    {
        // The Secret names boss, who has power through the binding, but boss does not exist: its token is refused.
        var yaml = Powerful + """
            apiVersion: v1
            kind: Secret
            metadata: {name: boss-token, namespace: power, annotations: {kubernetes.io/service-account.name: boss}}
            type: kubernetes.io/service-account-token
            ---
            """ + Grant("mallory", """[{apiGroups: [""], resources: [secrets], verbs: [list, get]}]""", "power");
        Assert.Null(Steps(From(yaml)));
    }

    [Fact]
    public void OpaqueSecret_WithTheAnnotation_IsNoToken()
    {
        var yaml = Powerful + BossAndToken.Replace("kubernetes.io/service-account-token", "Opaque")
                   + Grant("mallory", """[{apiGroups: [""], resources: [secrets], verbs: [list]}]""", "power");
        Assert.Null(Steps(From(yaml)));
    }

    private const string BossPod = """
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: boss, namespace: power}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: job, namespace: power}
        spec: {serviceAccountName: boss, nodeName: node-1}
        status: {phase: PHASE}
        ---
        """;

    [Fact]
    public void Exec_IntoARunningPod_ReachesItsServiceAccount_NotIntoAPendingOne()
    {
        var rules = """[{apiGroups: [""], resources: [pods/exec], verbs: [create]}]""";
        Assert.Equal([Moves.Exec, Moves.MountedToken], MoveKinds(From(Powerful + BossPod.Replace("PHASE", "Running") + Grant("mallory", rules, "power"))));
        Assert.Null(Steps(From(Powerful + BossPod.Replace("PHASE", "Pending") + Grant("mallory", rules, "power"))));
        // get on pods/exec is not enough (exec is create, websockets included).
        Assert.Null(Steps(From(Powerful + BossPod.Replace("PHASE", "Running") + Grant("mallory", """[{apiGroups: [""], resources: [pods/exec], verbs: [get]}]""", "power"))));
    }

    [Fact]
    public void NodeProxy_ReachesEveryPodOnTheNode()
    {
        var yaml = Powerful + BossPod.Replace("PHASE", "Running") + Grant("mallory", """[{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}]""");
        Assert.Equal([Moves.NodeProxy, Moves.KubeletExec, Moves.MountedToken], MoveKinds(From(yaml)));
    }

    [Fact]
    public void EphemeralContainers_GiveAShell()
    {
        var yaml = Powerful + BossPod.Replace("PHASE", "Running") + Grant("mallory", """[{apiGroups: [""], resources: [pods/ephemeralcontainers], verbs: [patch]}]""", "power");
        Assert.Equal([Moves.EphemeralContainer, Moves.MountedToken], MoveKinds(From(yaml)));
    }

    [Fact]
    public void ImpersonatingSystemMasters_NeedsAUserToo()
    {
        var groupOnly = Grant("mallory", """[{apiGroups: [""], resources: [groups], verbs: [impersonate], resourceNames: ["system:masters"]}]""");
        Assert.Null(Steps(From(groupOnly)));
        var both = Grant("mallory", """[{apiGroups: [""], resources: [groups, users], verbs: [impersonate]}]""");
        var step = Assert.Single(Steps(From(both))!);
        Assert.Equal(Moves.ImpersonateGroup, step.Kind);
        Assert.Equal(["users", "groups"], step.Evidence.Select(e => e.Permission.Resource));
    }

    [Fact]
    public void CreateClusterRoleBindings_WithoutBind_IsNoPath()
    {
        var create = """{apiGroups: [rbac.authorization.k8s.io], resources: [clusterrolebindings], verbs: [create]}""";
        Assert.Null(Steps(From(Powerful + Grant("mallory", $"[{create}]"))));
        var withBind = Powerful + Grant("mallory", $"[{create}, {{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [admin-all]}}]");
        var step = Assert.Single(Steps(From(withBind))!);
        Assert.Equal((Moves.Bind, "ClusterRole", "admin-all"), (step.Kind, step.Evidence[1].Permission.Resource == "clusterroles" ? "ClusterRole" : "", step.Evidence[1].Permission.Name));
    }

    [Fact]
    public void Escalate_OnARoleBoundToOneself_IsAnyRules()
    {
        var yaml = Grant("mallory", """[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate, update]}]""");
        var step = Assert.Single(Steps(From(yaml))!);
        Assert.Equal(Moves.Escalate, step.Kind);
        // escalate without update changes nothing.
        Assert.Null(Steps(From(Grant("mallory", """[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate]}]"""))));
    }

    [Fact]
    public void ClientCertificate_NeedsApproveOnTheKubeApiserverClientSigner()
    {
        const string csr = """{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests, certificatesigningrequests/approval], verbs: [create, get, update]}""";
        var other = Grant("mallory", $"[{csr}, {{apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: [example.com/signer]}}]");
        Assert.Null(Steps(From(other)));
        var client = Grant("mallory", $"[{csr}, {{apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: [kubernetes.io/kube-apiserver-client]}}]");
        Assert.Equal([Moves.SignCertificate], MoveKinds(From(client)));
    }

    [Fact]
    public void TokenForB_ThenB_BindsAdmin_IsTwoMoves()
    {
        var yaml = Powerful + """
            apiVersion: v1
            kind: ServiceAccount
            metadata: {name: b, namespace: dev}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: b-binds}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: binder}
            subjects: [{kind: ServiceAccount, name: b, namespace: dev}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: binder}
            rules:
            - {apiGroups: [rbac.authorization.k8s.io], resources: [clusterrolebindings], verbs: [create]}
            - {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [admin-all]}
            ---
            """ + Grant("mallory", """[{apiGroups: [""], resources: [serviceaccounts/token], verbs: [create], resourceNames: [b]}]""", "dev");
        var r = From(yaml);
        Assert.Equal([Moves.CreateToken, Moves.Bind], MoveKinds(r));
        var json = JsonNode.Parse(EscalationOutput.Json(r))!;
        Assert.Equal("EscalationPaths", (string?)json["kind"]);
        Assert.Equal(3, json["graph"]!["nodes"]!.AsArray().Count);
        Assert.Equal(2, json["graph"]!["edges"]!.AsArray().Count);
        Assert.Equal("b-binds", (string?)json["graph"]!["edges"]![1]!["evidence"]![0]!["binding"]!["name"]);
        Assert.Contains("2 moves to cluster-admin", EscalationOutput.Table(r));
    }

    [Fact]
    public void ToAPermission_StopsWhereItIsHeld()
    {
        var yaml = BossAndToken + Grant("system:serviceaccount:power:boss", """[{apiGroups: [""], resources: [configmaps], verbs: [delete]}]""", "prod")
                   + Grant("mallory", """[{apiGroups: [""], resources: [secrets], verbs: [list]}]""", "power");
        var r = From(yaml, to: "delete configmaps -n prod");
        Assert.Equal([Moves.ReadTokenSecret], MoveKinds(r));
        Assert.Null(Steps(From(yaml, to: "delete configmaps -n other")));
        Assert.Empty(Steps(From(yaml, to: "list secrets -n power"))!);
    }

    [Fact]
    public void Model_ReadsPodsAndSecrets_WithoutData()
    {
        var model = Model(BossAndToken + """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: power}
            spec: {serviceAccount: old-style, nodeName: n1}
            status: {phase: Running}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: q}
            spec: {}
            """);
        Assert.Equal([new PodInfo("default", "q", "default", "", ""), new PodInfo("power", "p", "old-style", "n1", "Running")], model.Pods);
        var secret = Assert.Single(model.Secrets);
        Assert.Equal(new SecretInfo("power", "boss-token", SecretInfo.ServiceAccountTokenType, "boss"), secret);
        Assert.True(secret.IsServiceAccountToken);
    }

    [Fact]
    public void EscalationGoal_ParseErrors_AreOneLine()
    {
        Assert.Throws<ArgumentException>(() => EscalationGoal.Parse("get"));
        Assert.Equal("secrets", EscalationGoal.Parse("get secrets -n dev").Request!.Resource);
        Assert.Equal("apps", EscalationGoal.Parse("create deployments.apps -n dev").Request!.ApiGroup);
    }

    // ---- risks ----

    [Fact]
    public void Risks_ClusterAdminForAServiceAccount_IsCritical_BootstrapHidden()
    {
        var report = Risks.Find(Model(Powerful, bootstrap: true), includeBootstrap: false);
        var first = report.Findings[0];
        Assert.Equal(("PC-RBAC-001", "critical", "boss-is-admin"), (first.Check.Id, first.Check.Severity, first.BindingName));
        Assert.Equal([("ServiceAccount", "boss", "power")], first.Subjects);
        Assert.DoesNotContain(report.Findings, f => f.Bootstrap);
        Assert.True(report.HiddenBootstrap > 10);
        var all = Risks.Find(Model(Powerful, bootstrap: true), includeBootstrap: true);
        Assert.Contains(all.Findings, f => f.Bootstrap && f.BindingName == "system:controller:generic-garbage-collector" && f.Check.Id == "PC-RBAC-005");
        Assert.Equal(0, all.HiddenBootstrap);
    }

    [Fact]
    public void Risks_SubjectsAddedToABootstrapBinding_AreReported()
    {
        var yaml = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: cluster-admin}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
            subjects: [{kind: Group, name: system:authenticated}]
            """;
        var report = Risks.Find(Model(yaml, bootstrap: true), includeBootstrap: false);
        var broad = Assert.Single(report.Findings, f => f.Check.Id == "PC-RBAC-013");
        Assert.Equal([("Group", "system:authenticated", "")], broad.Subjects);
        Assert.False(broad.Bootstrap);
        // The default system:masters subject of that binding is not reported again.
        Assert.All(report.Findings, f => Assert.DoesNotContain(f.Subjects, s => s.Name == "system:masters"));
    }

    [Fact]
    public void Risks_DefaultServiceAccount_AndNamedSecrets()
    {
        var yaml = Grant("x", "[]") + """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: reader, namespace: dev}
            rules: [{apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [one]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: default-reads, namespace: dev}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
            subjects: [{kind: ServiceAccount, name: default}]
            """;
        var report = Risks.Find(Model(yaml), includeBootstrap: false);
        var f = Assert.Single(report.Findings);
        Assert.Equal(("PC-RBAC-014", "default-reads"), (f.Check.Id, f.BindingName));
        var json = JsonNode.Parse(Risks.Json(report))!;
        Assert.Equal("RiskReport", (string?)json["kind"]);
        Assert.Equal(Risks.Catalogue.Count, json["checks"]!.AsArray().Count);
    }

    /// <summary>
    /// Cluster-scoped resources (nodes/proxy, webhook configurations, signers, ClusterRoles, users,
    /// groups) are out of a RoleBinding's reach: the same wildcard role is a finding for them only
    /// through a ClusterRoleBinding. Each decision is the authorizer's.
    /// </summary>
    [Fact]
    public void Risks_ClusterScopedChecks_NeedAClusterRoleBinding()
    {
        const string yaml = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: everything}
            rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: local, namespace: dev}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}
            subjects: [{kind: User, name: alice}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: global}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}
            subjects: [{kind: User, name: bob}]
            """;
        var report = Risks.Find(Model(yaml), includeBootstrap: false);
        string[] clusterScoped = ["PC-RBAC-005", "PC-RBAC-008", "PC-RBAC-009"];
        var local = report.Findings.Where(f => f.BindingName == "local").Select(f => f.Check.Id).ToHashSet();
        var global = report.Findings.Where(f => f.BindingName == "global").Select(f => f.Check.Id).ToHashSet();
        Assert.All(clusterScoped, id => Assert.DoesNotContain(id, local));
        Assert.All(clusterScoped, id => Assert.Contains(id, global));
        // Namespaced powers stay findings through the RoleBinding: escalate/bind on Roles, impersonating ServiceAccounts, secrets, a shell.
        Assert.All(new[] { "PC-RBAC-002", "PC-RBAC-003", "PC-RBAC-004", "PC-RBAC-006", "PC-RBAC-011" }, id => Assert.Contains(id, local));

        // The authorizer agrees: alice may not proxy to nodes, bob may.
        var model = Model(yaml);
        var chain = new Portcullis.Server.Authorization.Rbac.RbacAuthorizer(model.Index);
        Assert.False(Allowed("alice"));
        Assert.True(Allowed("bob"));

        bool Allowed(string user) => chain.Authorize(new Portcullis.Server.Authorization.AuthorizationAttributes(
            new Portcullis.Server.Authentication.UserInfo(user, "", [], Portcullis.Server.Authentication.UserInfo.NoExtra), Portcullis.Server.Authorization.Verb.Get, true,
            ApiGroup: "", Resource: "nodes", Subresource: "proxy", Name: "n1")).Decision == Portcullis.Server.Authorization.Decision.Allow;
    }
}
