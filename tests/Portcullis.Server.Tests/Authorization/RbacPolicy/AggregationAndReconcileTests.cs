using System.Text.Json.Nodes;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Controllers;
using static Portcullis.Server.Tests.Authorization.RbacPolicy.RbacTestData;

namespace Portcullis.Server.Tests.Authorization.RbacPolicy;

public class AggregationAndReconcileTests
{
    private static JsonObject Labelled(JsonObject role, params (string Key, string Value)[] labels)
    {
        var l = new JsonObject();
        foreach (var (k, v) in labels) l[k] = v;
        role["metadata"]!["labels"] = l;
        return role;
    }

    private static JsonObject Aggregated(string name, params JsonObject[] selectors)
    {
        var role = Role(name, "");
        role.Remove("rules");
        role["aggregationRule"] = new JsonObject { ["clusterRoleSelectors"] = new JsonArray(selectors.Select(s => (JsonNode)s).ToArray()) };
        return role;
    }

    private static JsonObject MatchLabels(string k, string v) => new() { ["matchLabels"] = new JsonObject { [k] = v } };

    private static string Json(IEnumerable<PolicyRule>? rules) => rules is null ? "null" : Rules(rules.ToArray()).ToJsonString();

    [Fact]
    public void UnionInSelectorThenNameOrderWithoutDuplicates()
    {
        var get = Rule(["get"], [""], ["pods"]);
        var list = Rule(["list"], [""], ["pods"]);
        var secrets = Rule(["get"], [""], ["secrets"]);
        var nodes = Rule(["get"], [""], ["nodes"]);
        var all = new[]
        {
            Labelled(Role("zeta", "", secrets, get), ("agg", "a")),
            Labelled(Role("alpha", "", get, list), ("agg", "a")),
            Labelled(Role("beta", "", nodes), ("other", "x")),
            Labelled(Role("unrelated", "", Rule(["*"], ["*"], ["*"]))),
        };
        var target = Aggregated("target", MatchLabels("other", "x"), MatchLabels("agg", "a"));
        var rules = ClusterRoleAggregationController.AggregateRules(target, [.. all, target]);
        Assert.Equal(Json([nodes, get, list, secrets]), Json(rules));
    }

    [Fact]
    public void MatchExpressionsAndSelfExclusion()
    {
        var pods = Rule(["get"], [""], ["pods"]);
        var target = Labelled(Aggregated("self", new JsonObject
        {
            ["matchExpressions"] = new JsonArray(new JsonObject { ["key"] = "tier", ["operator"] = "In", ["values"] = new JsonArray("a", "b") }),
        }), ("tier", "a"));
        target["rules"] = Rules(Rule(["delete"], [""], ["pods"]));
        var all = new[] { target, Labelled(Role("r1", "", pods), ("tier", "b")), Labelled(Role("r2", "", Rule(["x"], ["y"], ["z"])), ("tier", "c")) };
        Assert.Equal(Json([pods]), Json(ClusterRoleAggregationController.AggregateRules(target, all)));

        // An empty selector matches every role (but the role itself); an unknown operator makes the rule invalid.
        Assert.Equal(2, ClusterRoleAggregationController.AggregateRules(Aggregated("self", new JsonObject()), all)!.Count);
        var bad = Aggregated("bad", new JsonObject { ["matchExpressions"] = new JsonArray(new JsonObject { ["key"] = "k", ["operator"] = "Gt", ["values"] = new JsonArray("1") }) });
        Assert.Null(ClusterRoleAggregationController.AggregateRules(bad, all));
        Assert.Null(ClusterRoleAggregationController.AggregateRules(Role("plain", ""), all));
    }

    [Fact]
    public void BootstrapViewAggregatesTheViewRules()
    {
        var all = BootstrapPolicy.ClusterRoles();
        var view = all.Single(r => Registry.Meta.Name(r) == "view");
        var expected = all.Single(r => Registry.Meta.Name(r) == "system:aggregate-to-view")["rules"]!.ToJsonString();
        Assert.Equal(expected, Json(ClusterRoleAggregationController.AggregateRules(view, all)));

        // edit takes the edit rules and, through view's aggregate-to-edit label, view's (aggregated) rules.
        var withViewRules = all.Select(r => (JsonObject)r.DeepClone()).ToList();
        withViewRules.Single(r => Registry.Meta.Name(r) == "view")["rules"] = JsonNode.Parse(expected);
        var edit = withViewRules.Single(r => Registry.Meta.Name(r) == "edit");
        var editRules = ClusterRoleAggregationController.AggregateRules(edit, withViewRules)!;
        var aggEdit = withViewRules.Single(r => Registry.Meta.Name(r) == "system:aggregate-to-edit")["rules"]!.AsArray().Count;
        Assert.Equal(aggEdit + JsonNode.Parse(expected)!.AsArray().Count, editRules.Count);
    }

    [Fact]
    public void RoleReconcileAddsMissingRulesLabelsAndSelectors()
    {
        var expected = BootstrapPolicy.ClusterRoles().Single(r => Registry.Meta.Name(r) == "system:basic-user");
        var existing = (JsonObject)expected.DeepClone();
        existing["metadata"]!["labels"] = new JsonObject { ["custom"] = "yes", ["kubernetes.io/bootstrapping"] = "mine" };
        existing["rules"] = Rules(Rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews"]), Rule(["get"], [""], ["extra"]));
        var (updated, prot) = RbacBootstrapController.ReconcileRole(existing, expected);
        Assert.False(prot);
        Assert.NotNull(updated);
        Assert.Equal("""{"custom":"yes","kubernetes.io/bootstrapping":"mine"}""", updated!["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal(
            """[{"verbs":["create"],"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews"]},{"verbs":["get"],"apiGroups":[""],"resources":["extra"]},""" +
            """{"verbs":["create"],"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectrulesreviews"]},{"verbs":["create"],"apiGroups":["authentication.k8s.io"],"resources":["selfsubjectreviews"]}]""",
            updated["rules"]!.ToJsonString());

        // Already reconciled: nothing to do.
        Assert.Null(RbacBootstrapController.ReconcileRole(updated, expected).Updated);

        // Protected roles report it.
        existing["metadata"]!["annotations"] = new JsonObject { ["rbac.authorization.kubernetes.io/autoupdate"] = "false" };
        Assert.True(RbacBootstrapController.ReconcileRole(existing, expected).Protected);

        // Aggregation selectors: missing ones are appended, extra ones kept.
        var view = BootstrapPolicy.ClusterRoles().Single(r => Registry.Meta.Name(r) == "view");
        var customized = (JsonObject)view.DeepClone();
        customized["aggregationRule"] = new JsonObject { ["clusterRoleSelectors"] = new JsonArray(MatchLabels("mine", "true")) };
        customized["rules"] = Rules(Rule(["get"], [""], ["pods"]));
        var r2 = RbacBootstrapController.ReconcileRole(customized, view).Updated!;
        Assert.Equal("""{"clusterRoleSelectors":[{"matchLabels":{"mine":"true"}},{"matchLabels":{"rbac.authorization.k8s.io/aggregate-to-view":"true"}}]}""", r2["aggregationRule"]!.ToJsonString());
        Assert.Single(r2["rules"]!.AsArray());
    }

    [Fact]
    public void BindingReconcileAddsSubjectsAndRecreatesOnRoleRefChange()
    {
        var expected = BootstrapPolicy.ClusterRoleBindings().Single(b => Registry.Meta.Name(b) == "system:public-info-viewer");
        var existing = (JsonObject)expected.DeepClone();
        existing["subjects"] = new JsonArray(new JsonObject { ["kind"] = "User", ["apiGroup"] = "rbac.authorization.k8s.io", ["name"] = "alice" },
            new JsonObject { ["kind"] = "Group", ["apiGroup"] = "rbac.authorization.k8s.io", ["name"] = "system:unauthenticated" });
        var (updated, recreate, prot) = RbacBootstrapController.ReconcileBinding(existing, expected);
        Assert.False(recreate);
        Assert.False(prot);
        Assert.Equal("""[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"},{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:unauthenticated"},{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:authenticated"}]""",
            updated!["subjects"]!.ToJsonString());
        Assert.Null(RbacBootstrapController.ReconcileBinding(updated, expected).Updated);

        var moved = (JsonObject)expected.DeepClone();
        moved["roleRef"]!["name"] = "something-else";
        var r = RbacBootstrapController.ReconcileBinding(moved, expected);
        Assert.True(r.Recreate);
        Assert.Equal("system:public-info-viewer", (string?)r.Updated!["roleRef"]!["name"]);
    }
}
