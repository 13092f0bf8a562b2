using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Analysis.Tests;

/// <summary>explain, the matrix and the 403 message reader, one feature at a time.</summary>
public sealed class ExplainTests
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
          resourceNames: ["app-token"]
          verbs: ["delete"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: read-pods, namespace: dev}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
        subjects:
        - {kind: User, name: alice}
        - {kind: User, name: ci}
        - {kind: Group, name: bob}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: ci-view}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: viewer}
        subjects:
        - {kind: ServiceAccount, name: ci}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: viewer}
        rules:
        - apiGroups: [""]
          resources: ["pods"]
          verbs: ["list"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: gone, namespace: dev}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: missing}
        subjects:
        - {kind: User, name: alice}
        """;

    private static AccessModel Model() => YamlModel.Build(Manifests);

    private static DenialExplanation Explain(string user, string verb, string target, string? ns = null, string? name = null) =>
        Explainer.Explain(Model(), AccessIdentity.For(user), WhoCanQuery.Parse(verb, target, ns, name, null));

    [Theory]
    [InlineData("pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"dev\"",
        "alice", "list", "pods", "", "", "dev", "")]
    [InlineData("Error from server (Forbidden): pods \"web-0\" is forbidden: User \"alice\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"dev\"",
        "alice", "get", "pods", "log", "", "dev", "web-0")]
    [InlineData("deployments.apps is forbidden: User \"system:serviceaccount:ci:deployer\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found",
        "system:serviceaccount:ci:deployer", "list", "deployments", "", "apps", "", "")]
    [InlineData("nodes \"n1\" is forbidden: User \"a\\\"b &amp; c\" cannot get resource \"nodes\" in API group \"\" at the cluster scope",
        "a\"b & c", "get", "nodes", "", "", "", "n1")]
    public void FromLog_ReadsResourceMessages(string text, string user, string verb, string resource, string sub, string group, string ns, string name)
    {
        var (u, q) = ForbiddenMessage.Parse(text);
        Assert.Equal(user, u);
        Assert.Equal(new WhoCanQuery(verb, resource, sub, group, ns, name), q);
    }

    [Fact]
    public void FromLog_ReadsPathMessages_AndRefusesOtherText()
    {
        var (u, q) = ForbiddenMessage.Parse("forbidden: User \"system:anonymous\" cannot get path \"/metrics\"");
        Assert.Equal("system:anonymous", u);
        Assert.Equal(new WhoCanQuery("get", NonResourceUrl: "/metrics"), q);
        Assert.Throws<ArgumentException>(() => ForbiddenMessage.Parse("pods \"x\" not found"));
    }

    [Fact]
    public void Identity_GetsTheGroupsOfALogin()
    {
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:dev", "system:authenticated"], AccessIdentity.For("system:serviceaccount:dev:ci").Groups);
        Assert.Equal(["ops", "system:authenticated"], AccessIdentity.For("alice", ["ops"]).Groups);
        Assert.Equal(["system:unauthenticated"], AccessIdentity.For("system:anonymous").Groups);
    }

    [Fact]
    public void Allowed_SaysByWhichBindingAndRule()
    {
        var e = Explain("alice", "list", "pods", "dev");
        Assert.True(e.Allowed);
        var by = Assert.Single(e.AllowedBy);
        Assert.Equal(("RoleBinding", "read-pods", "pod-reader"), (by.BindingKind, by.BindingName, by.RoleName));
        Assert.Equal(["get", "list"], by.Rule!.Verbs);
        Assert.Null(e.SuggestedRole);
    }

    [Fact]
    public void Denied_NearestRules_OneAttributeAway()
    {
        var e = Explain("alice", "delete", "pods", "dev");
        Assert.False(e.Allowed);
        // The secrets rule differs in two attributes (resource and name): it is not one away.
        var verb = Assert.Single(e.NearestRules);
        Assert.Equal(("verb", "delete"), (verb.Attribute, verb.Requested));
        Assert.Equal(["get", "list"], verb.Allowed);

        var other = Explain("alice", "list", "pods", "prod");
        var ns = Assert.Single(other.NearestRules);
        Assert.Equal(("namespace", "prod"), (ns.Attribute, ns.Requested));
        Assert.Equal(["dev"], ns.Allowed);

        var named = Explain("alice", "delete", "secrets", "dev", "db-token");
        var name = Assert.Single(named.NearestRules);
        Assert.Equal(("resourceName", "db-token"), (name.Attribute, name.Requested));
        Assert.Equal(["app-token"], name.Allowed);
    }

    [Fact]
    public void Denied_BindingsSayWhyTheyDoNotApply()
    {
        var e = Explain("alice", "list", "pods", "prod");
        var gone = Assert.Single(e.Bindings, b => b.Binding.Name == "gone");
        Assert.Equal("role.rbac.authorization.k8s.io \"missing\" not found", gone.RoleProblem);
        var readPods = Assert.Single(e.Bindings, b => b.Binding.Name == "read-pods");
        Assert.Equal("the RoleBinding is in namespace \"dev\", the request in \"prod\"", readPods.Scope);
    }

    [Fact]
    public void Denied_NearSubjects_ForAServiceAccount_AndKindMismatch()
    {
        var e = Explain("system:serviceaccount:dev:ci", "list", "pods", "dev");
        Assert.False(e.Allowed);
        Assert.Equal(["ClusterRoleBinding/ci-view serviceaccount-without-namespace", "RoleBinding/dev/read-pods user-named-like-serviceaccount"],
            e.NearSubjects.Select(n => $"{n.Binding} {n.Problem}").ToArray());

        var bob = Explain("bob", "list", "pods", "dev");
        Assert.Equal("kind-mismatch", Assert.Single(bob.NearSubjects).Problem);
    }

    [Fact]
    public void Denied_SmallestGrant_ForNamespacedClusterAndNonResourceRequests()
    {
        var e = Explain("system:serviceaccount:dev:ci", "get", "pods/log", "dev", "web-0");
        Assert.Equal("Role", e.SuggestedRole!["kind"]!.GetValue<string>());
        Assert.Equal("""[{"apiGroups":[""],"resources":["pods/log"],"resourceNames":["web-0"],"verbs":["get"]}]""", e.SuggestedRole["rules"]!.ToJsonString());
        Assert.Equal("""[{"kind":"ServiceAccount","name":"ci","namespace":"dev"}]""", e.SuggestedBinding!["subjects"]!.ToJsonString());
        Assert.Equal("portcullis-allow-ci-get-pods-log-web-0", e.SuggestedBinding["roleRef"]!["name"]!.GetValue<string>());

        var cluster = Explain("alice", "list", "nodes");
        Assert.Equal(("ClusterRole", "ClusterRoleBinding"), (cluster.SuggestedRole!["kind"]!.GetValue<string>(), cluster.SuggestedBinding!["kind"]!.GetValue<string>()));

        var url = Explain("alice", "get", "/metrics");
        Assert.Equal("""[{"nonResourceURLs":["/metrics"],"verbs":["get"]}]""", url.SuggestedRole!["rules"]!.ToJsonString());
        var masters = Assert.Single(url.WhoCanGrant);
        Assert.Equal("Group \"system:masters\"", masters.Subject.ToString());
    }

    [Fact]
    public void Hint_IsOneLine_NamingTheNearestCause()
    {
        var model = Model();
        Assert.Equal("portcullis: RoleBinding/dev/read-pods (role Role \"pod-reader\") allows this only in namespace \"dev\"",
            Explainer.Hint(model.Index, AccessIdentity.For("alice"), new WhoCanQuery("list", "pods", Namespace: "prod")));
        Assert.StartsWith("portcullis: ClusterRoleBinding/ci-view would allow this, but its subject ServiceAccount \"ci\" does not apply",
            Explainer.Hint(model.Index, AccessIdentity.For("system:serviceaccount:dev:ci"), new WhoCanQuery("list", "pods", Namespace: "dev")));
        Assert.Null(Explainer.Hint(model.Index, AccessIdentity.For("alice"), new WhoCanQuery("list", "pods", Namespace: "dev")));
        Assert.Null(Explainer.Hint(model.Index, AccessIdentity.For("stranger"), new WhoCanQuery("list", "pods", Namespace: "dev")));
    }

    [Fact]
    public void Matrix_Cells_AllowedNamesDeniedNotApplicable()
    {
        var m = Matrix.Build(Model(), AccessIdentity.For("alice"), "dev");
        string Cell(string resource, string verb, string group = "") =>
            MatrixOutput.Word(m.Rows.Single(r => r.Resource == resource && r.ApiGroup == group).Cells[m.Verbs.ToList().IndexOf(verb)]);
        Assert.Equal("yes", Cell("pods", "list"));
        Assert.Equal("no", Cell("pods", "delete"));
        Assert.Equal("names", Cell("secrets", "delete"));
        Assert.Equal(["app-token"], m.Rows.Single(r => r.Resource == "secrets").Names[m.Verbs.ToList().IndexOf("delete")]);
        Assert.Equal("n/a", Cell("tokenreviews", "list", "authentication.k8s.io"));

        var cluster = Matrix.Build(Model(), AccessIdentity.For("alice"), "");
        Assert.Equal("no", MatrixOutput.Word(cluster.Rows.Single(r => r.Resource == "pods" && r.ApiGroup == "").Cells[0]));

        var json = JsonNode.Parse(MatrixOutput.Json(m))!;
        Assert.Equal("AccessMatrix", json["kind"]!.GetValue<string>());
        Assert.Equal("someNames", json["rows"]!.AsArray().Single(r => r!["resource"]!.GetValue<string>() == "secrets")!["cells"]!["delete"]!.GetValue<string>());
    }

    [Fact]
    public void Json_DenialExplanation_HasEveryField()
    {
        var json = JsonNode.Parse(ExplainOutput.Json(Explain("alice", "delete", "pods", "dev")))!.AsObject();
        Assert.Equal(["apiVersion", "kind", "identity", "request", "allowed", "allowedBy", "bindings", "nearestRules", "nearSubjects", "suggestion", "whoCanGrant"],
            json.Select(p => p.Key).ToArray());
        Assert.Equal("access.portcullis.dev/v1alpha1", json["apiVersion"]!.GetValue<string>());
        Assert.Equal("Role", json["suggestion"]!["role"]!["kind"]!.GetValue<string>());
        var near = json["nearestRules"]!.AsArray()[0]!.AsObject();
        Assert.Equal(["binding", "role", "rule", "attribute", "requested", "allowedValues"], near.Select(p => p.Key).ToArray());
    }
}
