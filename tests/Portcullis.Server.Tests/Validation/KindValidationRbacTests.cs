using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

public class KindValidationRbacTests
{
    private const string G = "rbac.authorization.k8s.io";

    [Fact]
    public void RoleRules()
    {
        var role = Obj("""
            {"metadata":{"name":"r","namespace":"default"},"rules":[
              {"apiGroups":[""],"resources":["pods"]},
              {"verbs":["get"],"nonResourceURLs":["/healthz"]},
              {"verbs":["get"]},
              {"verbs":["get"],"apiGroups":[""],"resources":["pods","services"],"resourceNames":["x"]}]}
            """);
        Assert.Equal([
            "rules[0].verbs: Required value: verbs must contain at least one value",
            "rules[1].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs",
            "rules[2].apiGroups: Required value: resource rules must supply at least one api group",
            "rules[2].resources: Required value: resource rules must supply at least one resource",
        ], Check(G, "Role", role)); // rules[3]: resourceNames with several resources is valid upstream
    }

    [Fact]
    public void ResourceNamesWithSeveralResourcesAreValid()
    {
        Assert.Empty(Check(G, "ClusterRole", Obj("""
            {"metadata":{"name":"r"},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods","configmaps"],"resourceNames":["x","y"]}]}
            """)));
    }

    [Fact]
    public void ClusterRoleMayUseNonResourceURLs()
    {
        Assert.Empty(Check(G, "ClusterRole", Obj("""{"metadata":{"name":"r"},"rules":[{"verbs":["get"],"nonResourceURLs":["/healthz"]}]}""")));
        Assert.Equal(["rules[0].nonResourceURLs: Invalid value: []string{\"/x\"}: rules cannot apply to both regular resources and non-resource URLs"],
            Check(G, "ClusterRole", Obj("""{"metadata":{"name":"r"},"rules":[{"verbs":["get"],"nonResourceURLs":["/x"],"resources":["pods"]}]}""")));
    }

    private static string Binding(string kind, string refKind, string subjects = "[]", string apiGroup = G, string name = "view") => $$"""
        {"kind":"{{kind}}","metadata":{"name":"b","namespace":"default"},
         "roleRef":{"apiGroup":"{{apiGroup}}","kind":"{{refKind}}","name":"{{name}}"},"subjects":{{subjects}}}
        """;

    [Fact]
    public void RoleBindingRoleRef()
    {
        Assert.Empty(Check(G, "RoleBinding", Obj(Binding("RoleBinding", "ClusterRole"))));
        Assert.Equal([
            "roleRef.apiGroup: Unsupported value: \"apps\": supported values: \"rbac.authorization.k8s.io\"",
            "roleRef.kind: Unsupported value: \"Foo\": supported values: \"Role\", \"ClusterRole\"",
            "roleRef.name: Required value",
        ], Check(G, "RoleBinding", Obj(Binding("RoleBinding", "Foo", apiGroup: "apps", name: ""))));
        Assert.Equal(["roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\""],
            Check(G, "ClusterRoleBinding", Obj(Binding("ClusterRoleBinding", "Role"))));
    }

    [Fact]
    public void RoleRefIsImmutable()
    {
        var old = Obj(Binding("RoleBinding", "ClusterRole"));
        Assert.Equal(["roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef"],
            Check(G, "RoleBinding", Obj(Binding("RoleBinding", "ClusterRole", name: "edit")), old));
    }

    [Fact]
    public void Subjects()
    {
        var subjects = """
            [{"kind":"User","name":"alice","apiGroup":"rbac.authorization.k8s.io"},
             {"kind":"User","name":"bob"},
             {"kind":"ServiceAccount","name":"default","apiGroup":"rbac.authorization.k8s.io"},
             {"kind":"Robot","name":"r2"},
             {"kind":"Group","name":"","apiGroup":"rbac.authorization.k8s.io"},
             {"kind":"ServiceAccount","name":"Bad_SA"}]
            """;
        Assert.Equal([
            "subjects[1].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"",
            "subjects[2].apiGroup: Unsupported value: \"rbac.authorization.k8s.io\": supported values: \"\"",
            "subjects[2].namespace: Required value",
            "subjects[3].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
            "subjects[4].name: Required value",
            "subjects[4].name: Invalid value: \"\": group name cannot be empty",
            "subjects[5].name: Invalid value: \"Bad_SA\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "subjects[5].namespace: Required value",
        ], Check(G, "ClusterRoleBinding", Obj(Binding("ClusterRoleBinding", "ClusterRole", subjects))));
    }
}

public class KindValidationRbacAggregationTests
{
    [Fact]
    public void AggregationRuleNeedsSelectors()
    {
        Assert.Equal(["aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"],
            Check("rbac.authorization.k8s.io", "ClusterRole", Obj("""{"metadata":{"name":"agg"},"aggregationRule":{"clusterRoleSelectors":[]}}""")));
        Assert.Empty(Check("rbac.authorization.k8s.io", "ClusterRole",
            Obj("""{"metadata":{"name":"agg"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"rbac.example.com/aggregate-to-monitoring":"true"}}]}}""")));
    }
}
