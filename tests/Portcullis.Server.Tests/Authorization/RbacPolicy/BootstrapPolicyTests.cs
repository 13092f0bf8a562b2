using System.Text.Json.Nodes;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Tests.Authorization.RbacPolicy;

public class BootstrapPolicyTests
{
    private static JsonObject ClusterRole(string name) => BootstrapPolicy.ClusterRoles().Single(r => Meta.Name(r) == name);
    private static JsonObject ClusterRoleBinding(string name) => BootstrapPolicy.ClusterRoleBindings().Single(r => Meta.Name(r) == name);

    private static string Json(JsonNode? n) => n?.ToJsonString() ?? "null";

    [Fact]
    public void ClusterAdminHoldsEverything()
    {
        var role = ClusterRole("cluster-admin");
        Assert.Equal("ClusterRole", (string?)role["kind"]);
        Assert.Equal("rbac.authorization.k8s.io/v1", (string?)role["apiVersion"]);
        Assert.Equal("""[{"verbs":["*"],"apiGroups":["*"],"resources":["*"]},{"verbs":["*"],"nonResourceURLs":["*"]}]""", Json(role["rules"]));
        Assert.Equal("""{"kubernetes.io/bootstrapping":"rbac-defaults"}""", Json(role["metadata"]!["labels"]));
        Assert.Equal("""{"rbac.authorization.kubernetes.io/autoupdate":"true"}""", Json(role["metadata"]!["annotations"]));
    }

    [Fact]
    public void AggregatedRolesSelectTheirAggregateLabels()
    {
        var view = ClusterRole("view");
        Assert.Equal("""{"clusterRoleSelectors":[{"matchLabels":{"rbac.authorization.k8s.io/aggregate-to-view":"true"}}]}""", Json(view["aggregationRule"]));
        Assert.Equal("""{"kubernetes.io/bootstrapping":"rbac-defaults","rbac.authorization.k8s.io/aggregate-to-edit":"true"}""", Json(view["metadata"]!["labels"]));
        Assert.Null(view["rules"]);

        var edit = ClusterRole("edit");
        Assert.Equal("""{"clusterRoleSelectors":[{"matchLabels":{"rbac.authorization.k8s.io/aggregate-to-edit":"true"}}]}""", Json(edit["aggregationRule"]));
        Assert.Equal("true", (string?)edit["metadata"]!["labels"]!["rbac.authorization.k8s.io/aggregate-to-admin"]);

        var admin = ClusterRole("admin");
        Assert.Equal("""{"clusterRoleSelectors":[{"matchLabels":{"rbac.authorization.k8s.io/aggregate-to-admin":"true"}}]}""", Json(admin["aggregationRule"]));
        Assert.Equal("""{"kubernetes.io/bootstrapping":"rbac-defaults"}""", Json(admin["metadata"]!["labels"]));

        Assert.Equal("true", (string?)ClusterRole("system:aggregate-to-view")["metadata"]!["labels"]!["rbac.authorization.k8s.io/aggregate-to-view"]);
    }

    [Fact]
    public void DiscoveryAndPublicInfoViewerUrls()
    {
        Assert.Equal("""[{"verbs":["get"],"nonResourceURLs":["/api","/api/*","/apis","/apis/*","/healthz","/livez","/openapi","/openapi/*","/readyz","/version","/version/"]}]""",
            Json(ClusterRole("system:discovery")["rules"]));
        Assert.Equal("""[{"verbs":["get"],"nonResourceURLs":["/healthz","/livez","/readyz","/version","/version/"]}]""",
            Json(ClusterRole("system:public-info-viewer")["rules"]));
        Assert.Equal("""[{"verbs":["get"],"nonResourceURLs":["/.well-known/openid-configuration","/.well-known/openid-configuration/","/openid/v1/jwks","/openid/v1/jwks/"]}]""",
            Json(ClusterRole("system:service-account-issuer-discovery")["rules"]));
    }

    [Fact]
    public void RulesKeepUpstreamsOrder()
    {
        var rules = ClusterRole("system:basic-user")["rules"]!.AsArray();
        Assert.Equal("""{"verbs":["create"],"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews","selfsubjectrulesreviews"]}""", Json(rules[0]));
        Assert.Equal("""{"verbs":["create"],"apiGroups":["authentication.k8s.io"],"resources":["selfsubjectreviews"]}""", Json(rules[1]));

        var kcm = ClusterRole("system:kube-controller-manager")["rules"]!.AsArray();
        Assert.Equal("""{"verbs":["create","patch","update"],"apiGroups":["","events.k8s.io"],"resources":["events"]}""", Json(kcm[0]));
        Assert.Equal("""{"verbs":["get","update"],"apiGroups":["coordination.k8s.io"],"resources":["leases"],"resourceNames":["kube-controller-manager"]}""", Json(kcm[2]));
    }

    [Fact]
    public void ExpectedRolesArePresentAndUnique()
    {
        var names = BootstrapPolicy.ClusterRoles().Select(Meta.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        foreach (var n in new[]
        {
            "admin", "cluster-admin", "edit", "view", "system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view",
            "system:auth-delegator", "system:basic-user", "system:discovery", "system:heapster", "system:kube-aggregator",
            "system:kube-controller-manager", "system:kube-dns", "system:kube-scheduler", "system:kubelet-api-admin", "system:monitoring",
            "system:node", "system:node-bootstrapper", "system:node-problem-detector", "system:node-proxier",
            "system:persistent-volume-provisioner", "system:public-info-viewer", "system:service-account-issuer-discovery",
            "system:volume-scheduler", "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            "system:certificates.k8s.io:legacy-unknown-approver", "system:controller:clusterrole-aggregation-controller",
            "system:controller:namespace-controller", "system:controller:generic-garbage-collector",
        })
            Assert.Contains(n, names);
        foreach (var r in BootstrapPolicy.ClusterRoles())
        {
            Assert.Equal("rbac-defaults", (string?)r["metadata"]!["labels"]!["kubernetes.io/bootstrapping"]);
            Assert.Equal("true", (string?)r["metadata"]!["annotations"]!["rbac.authorization.kubernetes.io/autoupdate"]);
        }
    }

    [Fact]
    public void DefaultClusterRoleBindings()
    {
        Assert.Equal("""[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:masters"}]""", Json(ClusterRoleBinding("cluster-admin")["subjects"]));
        Assert.Equal("""{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"}""", Json(ClusterRoleBinding("cluster-admin")["roleRef"]));
        Assert.Equal("""[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:authenticated"}]""", Json(ClusterRoleBinding("system:discovery")["subjects"]));
        Assert.Equal("""[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:authenticated"}]""", Json(ClusterRoleBinding("system:basic-user")["subjects"]));
        Assert.Equal("""[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:authenticated"},{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:unauthenticated"}]""",
            Json(ClusterRoleBinding("system:public-info-viewer")["subjects"]));
        Assert.Equal("""[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:serviceaccounts"}]""",
            Json(ClusterRoleBinding("system:service-account-issuer-discovery")["subjects"]));
        Assert.Equal("""[{"kind":"ServiceAccount","name":"namespace-controller","namespace":"kube-system"}]""",
            Json(ClusterRoleBinding("system:controller:namespace-controller")["subjects"]));
        Assert.Null(ClusterRoleBinding("system:node")["subjects"]);

        // Every controller role has its binding, and every binding's role exists.
        var roles = BootstrapPolicy.ClusterRoles().Select(Meta.Name).ToHashSet();
        foreach (var b in BootstrapPolicy.ClusterRoleBindings()) Assert.Contains((string)b["roleRef"]!["name"]!, roles);
        var bindings = BootstrapPolicy.ClusterRoleBindings().Select(Meta.Name).ToHashSet();
        foreach (var r in roles.Where(r => r.StartsWith("system:controller:", StringComparison.Ordinal))) Assert.Contains(r, bindings);
    }

    [Fact]
    public void NamespacedRolesAndBindings()
    {
        var reader = BootstrapPolicy.NamespaceRoles().Single(r => Meta.Name(r) == "extension-apiserver-authentication-reader");
        Assert.Equal("kube-system", Meta.Namespace(reader));
        Assert.Equal("Role", (string?)reader["kind"]);
        Assert.Equal("""[{"verbs":["get","list","watch"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["extension-apiserver-authentication"]}]""", Json(reader["rules"]));

        var signers = BootstrapPolicy.NamespaceRoles().Where(r => Meta.Name(r) == "system:controller:bootstrap-signer").Select(Meta.Namespace).Order().ToList();
        Assert.Equal(["kube-public", "kube-system"], signers);

        var leader = BootstrapPolicy.NamespaceRoleBindings().Single(b => Meta.Name(b) == "system::leader-locking-kube-scheduler");
        Assert.Equal("""{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"system::leader-locking-kube-scheduler"}""", Json(leader["roleRef"]));
        Assert.Equal("""[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"system:kube-scheduler"},{"kind":"ServiceAccount","name":"kube-scheduler","namespace":"kube-system"}]""", Json(leader["subjects"]));

        var roleKeys = BootstrapPolicy.NamespaceRoles().Select(r => (Meta.Namespace(r), Meta.Name(r))).ToHashSet();
        foreach (var b in BootstrapPolicy.NamespaceRoleBindings()) Assert.Contains((Meta.Namespace(b), (string)b["roleRef"]!["name"]!), roleKeys);
    }

    [Fact]
    public void EachCallReturnsFreshObjects()
    {
        var a = ClusterRole("cluster-admin");
        a["rules"] = new JsonArray();
        Assert.Equal(2, ClusterRole("cluster-admin")["rules"]!.AsArray().Count);
    }
}
