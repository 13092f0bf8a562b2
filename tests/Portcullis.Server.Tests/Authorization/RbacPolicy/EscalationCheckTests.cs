using Portcullis.Server.Admission;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Errors;
using static Portcullis.Server.Tests.Authorization.RbacPolicy.RbacTestData;

namespace Portcullis.Server.Tests.Authorization.RbacPolicy;

public class EscalationCheckTests
{
    private readonly FakeRuleResolver _resolver = new();
    private readonly Dictionary<(string Ns, string Kind, string Name), JsonObject> _roles = [];

    private Task<JsonObject?> GetRole(string ns, string kind, string name, CancellationToken _) =>
        Task.FromResult(_roles.TryGetValue((ns, kind, name), out var r) ? r : null);

    private ValueTask Check(Operation op, string resource, string ns, JsonObject obj, UserInfo user, IAuthorizer? authz = null, JsonObject? old = null) =>
        old is null
            ? EscalationCheck.CheckAsync(op, resource, ns, obj, user, _resolver, authz ?? new FakeAuthorizer(), GetRole, CancellationToken.None)
            : EscalationCheck.CheckAsync(op, resource, ns, obj, old, user, _resolver, authz ?? new FakeAuthorizer(), GetRole, CancellationToken.None);

    private static readonly UserInfo U = User("u", "g1", "g2");

    [Fact]
    public async Task RefusalCarriesUpstreamsExactMessage()
    {
        var e = await Assert.ThrowsAsync<ApiException>(async () =>
            await Check(Operation.Create, "roles", "ns1", Role("x", "ns1", Rule(["create"], [""], ["pods"])), U));
        Assert.Equal(403, e.Code);
        Assert.Equal("Forbidden", e.Reason);
        Assert.Equal("roles.rbac.authorization.k8s.io \"x\" is forbidden: user \"u\" (groups=[\"g1\" \"g2\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"create\"]}", e.Message);
    }

    [Fact]
    public async Task MissingVerbsAreCompactedAndLinesSorted()
    {
        _resolver.NamespaceRules["ns1"] = [Rule(["list"], ["apps"], ["deployments"])];
        var role = Role("x", "ns1",
            Rule(["get", "list", "watch"], [""], ["pods", "secrets"]),
            Rule(["get"], ["apps"], ["deployments"], ["d1"]),
            UrlRule(["get"], ["/metrics"]));
        var e = await Assert.ThrowsAsync<ApiException>(async () => await Check(Operation.Create, "roles", "ns1", role, User("bob")));
        Assert.Equal(
            "roles.rbac.authorization.k8s.io \"x\" is forbidden: user \"bob\" (groups=[]) is attempting to grant RBAC permissions not currently held:\n" +
            "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\" \"list\" \"watch\"]}\n" +
            "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\" \"watch\"]}\n" +
            "{APIGroups:[\"apps\"], Resources:[\"deployments\"], ResourceNames:[\"d1\"], Verbs:[\"get\"]}\n" +
            "{NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}", e.Message);
    }

    [Fact]
    public async Task ResolutionErrorsAreAppended()
    {
        _resolver.Errors.Add("clusterroles.rbac.authorization.k8s.io \"gone\" not found");
        var e = await Assert.ThrowsAsync<ApiException>(async () =>
            await Check(Operation.Create, "clusterroles", "", Role("x", "", Rule(["get"], [""], ["pods"])), U));
        Assert.EndsWith("{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\"]}; resolution errors: [clusterroles.rbac.authorization.k8s.io \"gone\" not found]", e.Message);
        Assert.StartsWith("clusterroles.rbac.authorization.k8s.io \"x\" is forbidden: ", e.Message);
    }

    [Fact]
    public async Task HeldRulesAllowTheRole()
    {
        _resolver.ClusterRules.Add(Rule(["get", "list"], [""], ["pods"]));
        _resolver.NamespaceRules["ns1"] = [Rule(["create"], [""], ["pods"]), UrlRule(["get"], ["/logs/*"])];
        await Check(Operation.Create, "roles", "ns1", Role("x", "ns1", Rule(["create", "get"], [""], ["pods"]), UrlRule(["get"], ["/logs/a/b"])), U);
        // In another namespace the local rules do not count.
        await Assert.ThrowsAsync<ApiException>(async () => await Check(Operation.Create, "roles", "ns2", Role("x", "ns2", Rule(["create"], [""], ["pods"])), U));
    }

    [Fact]
    public async Task ClusterRolesAreCheckedAgainstClusterWideRulesOnly()
    {
        _resolver.NamespaceRules["ns1"] = [Rule(["*"], ["*"], ["*"])];
        await Assert.ThrowsAsync<ApiException>(async () => await Check(Operation.Create, "clusterroles", "ns1", Role("x", "", Rule(["get"], [""], ["pods"])), U));
        Assert.All(_resolver.Calls, c => Assert.Equal("", c.Namespace));
    }

    [Fact]
    public async Task CoverageFollowsUpstream()
    {
        _resolver.ClusterRules.AddRange([
            Rule(["*"], ["batch"], ["*"]),
            Rule(["get"], ["*"], ["*/scale"]),
            Rule(["update"], [""], ["configmaps"], ["a", "b"]),
            Rule(["get"], [""], ["secrets"]),
        ]);
        await Check(Operation.Create, "clusterroles", "", Role("ok", "",
            Rule(["create", "delete"], ["batch"], ["jobs", "cronjobs/status"]),
            Rule(["get"], ["apps"], ["deployments/scale"]),
            Rule(["update"], [""], ["configmaps"], ["a"]),
            Rule(["get"], [""], ["secrets"], ["s1"])), U);

        // Named access does not cover unnamed access.
        var e = await Assert.ThrowsAsync<ApiException>(async () =>
            await Check(Operation.Create, "clusterroles", "", Role("no", "", Rule(["update"], [""], ["configmaps"])), U));
        Assert.EndsWith("{APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"update\"]}", e.Message);
        // */scale does not cover the resource itself.
        await Assert.ThrowsAsync<ApiException>(async () =>
            await Check(Operation.Create, "clusterroles", "", Role("no", "", Rule(["get"], ["apps"], ["deployments"])), U));
    }

    [Fact]
    public async Task SystemMastersAreNeverChecked()
    {
        var authz = new FakeAuthorizer();
        await Check(Operation.Create, "clusterroles", "", Role("x", "", Rule(["*"], ["*"], ["*"])), User("admin", UserInfo.SystemMasters), authz);
        await Check(Operation.Create, "clusterroles", "", Role("x", "", Rule(["*"], ["*"], ["*"])), SystemClient_Controller, authz);
        Assert.Empty(authz.Calls);
        Assert.Empty(_resolver.Calls);
    }

    private static UserInfo SystemClient_Controller => Portcullis.Server.Controllers.SystemClient.Controller;

    [Fact]
    public async Task EscalateVerbAllowsAnyRules()
    {
        var authz = new FakeAuthorizer(a => a.Verb == Verb.Escalate);
        await Check(Operation.Update, "roles", "ns1", Role("x", "ns1", Rule(["*"], ["*"], ["*"])), U, authz);
        var call = Assert.Single(authz.Calls);
        Assert.Equal(("escalate", "rbac.authorization.k8s.io", "*", "roles", "x", "ns1", true),
            (call.Verb.Value, call.ApiGroup, call.ApiVersion, call.Resource, call.Name, call.Namespace, call.IsResourceRequest));
        Assert.Same(U, call.User);

        // A create request carries no name, so escalate is asked without one.
        authz.Calls.Clear();
        await Check(Operation.Create, "clusterroles", "", Role("y", "", Rule(["*"], ["*"], ["*"])), U, authz);
        Assert.Equal(("clusterroles", "", ""), (authz.Calls[0].Resource, authz.Calls[0].Name, authz.Calls[0].Namespace));
    }

    [Fact]
    public async Task AggregationRuleNeedsFullAuthority()
    {
        var role = Role("agg", "");
        role["aggregationRule"] = new JsonObject { ["clusterRoleSelectors"] = new JsonArray(new JsonObject { ["matchLabels"] = new JsonObject { ["a"] = "b" } }) };
        var e = await Assert.ThrowsAsync<ApiException>(async () => await Check(Operation.Create, "clusterroles", "", role, U));
        Assert.Equal("clusterroles.rbac.authorization.k8s.io \"agg\" is forbidden: must have cluster-admin privileges to use the aggregationRule", e.Message);

        await Check(Operation.Create, "clusterroles", "", role, U, new FakeAuthorizer(a => a.Verb == Verb.Escalate));

        _resolver.ClusterRules.AddRange([Rule(["*"], ["*"], ["*"]), UrlRule(["*"], ["*"])]);
        await Check(Operation.Create, "clusterroles", "", role, U);
    }

    [Fact]
    public async Task BindingNeedsTheRolesRulesOrBind()
    {
        _roles[("ns1", "Role", "pod-reader")] = Role("pod-reader", "ns1", Rule(["get", "list"], [""], ["pods"]));
        var binding = Binding("b", "ns1", "Role", "pod-reader");

        var e = await Assert.ThrowsAsync<ApiException>(async () => await Check(Operation.Create, "rolebindings", "ns1", binding, U));
        Assert.Equal("rolebindings.rbac.authorization.k8s.io \"b\" is forbidden: user \"u\" (groups=[\"g1\" \"g2\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\" \"list\"]}", e.Message);

        var authz = new FakeAuthorizer(a => a.Verb == Verb.Bind);
        await Check(Operation.Create, "rolebindings", "ns1", binding, U, authz);
        var call = Assert.Single(authz.Calls);
        Assert.Equal(("bind", "rbac.authorization.k8s.io", "roles", "pod-reader", "ns1", true),
            (call.Verb.Value, call.ApiGroup, call.Resource, call.Name, call.Namespace, call.IsResourceRequest));

        _resolver.NamespaceRules["ns1"] = [Rule(["get", "list", "watch"], [""], ["pods"])];
        await Check(Operation.Create, "rolebindings", "ns1", binding, U);
    }

    [Fact]
    public async Task ClusterRoleBindingChecksClusterWide()
    {
        _roles[("", "ClusterRole", "viewer")] = Role("viewer", "", Rule(["get"], [""], ["nodes"]));
        var authz = new FakeAuthorizer();
        var e = await Assert.ThrowsAsync<ApiException>(async () =>
            await Check(Operation.Create, "clusterrolebindings", "", Binding("crb", "", "ClusterRole", "viewer"), U, authz));
        Assert.StartsWith("clusterrolebindings.rbac.authorization.k8s.io \"crb\" is forbidden: user \"u\"", e.Message);
        Assert.Equal(("bind", "clusterroles", "viewer", ""), (authz.Calls[0].Verb.Value, authz.Calls[0].Resource, authz.Calls[0].Name, authz.Calls[0].Namespace));

        // A RoleBinding to a ClusterRole is checked in the binding's namespace.
        _resolver.NamespaceRules["team"] = [Rule(["get"], [""], ["nodes"])];
        await Check(Operation.Create, "rolebindings", "team", Binding("rb", "team", "ClusterRole", "viewer"), U);
    }

    [Fact]
    public async Task MissingRoleIsTheRoleGettersNotFound()
    {
        // pkg/registry/rbac/{,cluster}rolebinding/policybased: GetRoleReferenceRules' error is returned unwrapped.
        var e = await Assert.ThrowsAsync<ApiException>(async () =>
            await Check(Operation.Create, "rolebindings", "ns1", Binding("b", "ns1", "Role", "missing"), U));
        Assert.Equal(404, e.Code);
        Assert.Equal("NotFound", e.Reason);
        Assert.Equal("roles.rbac.authorization.k8s.io \"missing\" not found", e.Message);

        e = await Assert.ThrowsAsync<ApiException>(async () =>
            await Check(Operation.Create, "clusterrolebindings", "", Binding("c", "", "ClusterRole", "nope"), U));
        Assert.Equal(404, e.Code);
        Assert.Equal("clusterroles.rbac.authorization.k8s.io \"nope\" not found", e.Message);
    }

    [Fact]
    public async Task UpdatesTouchingOnlyGarbageCollectorFieldsPass()
    {
        var old = Role("x", "ns1", Rule(["*"], ["*"], ["*"]));
        var updated = (JsonObject)old.DeepClone();
        updated["metadata"]!["finalizers"] = new JsonArray("example.com/hold");
        await Check(Operation.Update, "roles", "ns1", updated, U, old: old);

        updated["rules"] = Rules(Rule(["*"], ["*"], ["*"]), Rule(["get"], [""], ["pods"]));
        await Assert.ThrowsAsync<ApiException>(async () => await Check(Operation.Update, "roles", "ns1", updated, U, old: old));
    }
}
