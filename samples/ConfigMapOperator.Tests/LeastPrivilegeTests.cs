using ConfigMapOperator;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Portcullis.Testing;

namespace ConfigMapOperator.Tests;

/// <summary>
/// The Role shipped in deploy/rbac.yaml is exactly what the operator needs: without one of its verbs the
/// operator fails (and says so in the Greeting's status), and a recorded run uses every verb it grants.
/// Both hold only because the operator runs as its ServiceAccount, not as cluster-admin.
/// </summary>
public sealed class LeastPrivilegeTests
{
    private const string ConfigMapVerbs = """verbs: ["get", "create", "update"]""";

    [Fact]
    public async Task RoleWithoutUpdateOnConfigMaps_OperatorReportsForbidden()
    {
        var shipped = await File.ReadAllTextAsync(OperatorHarness.DeployFile("rbac.yaml"));
        Assert.Contains(ConfigMapVerbs, shipped); // the line this test edits is still there
        await using var h = await OperatorHarness.StartAsync(rbacYaml: shipped.Replace(ConfigMapVerbs, """verbs: ["get", "create"]"""));
        Assert.False((await h.Cluster.CanAsync(OperatorHarness.ServiceAccount, "update", "configmaps", OperatorHarness.Namespace)).Allowed);

        // Creating the ConfigMap needs only create: the first reconcile succeeds ...
        await h.CreateGreetingAsync("hello", "first");
        await h.EventuallyAsync("Ready=True", async () => await h.ReadyAsync("hello") is { Status: "True" } c ? c : null);

        // ... and the gap shows when the message changes.
        await h.SetMessageAsync("hello", "second");
        var failed = await h.EventuallyAsync("Ready=False", async () => await h.ReadyAsync("hello") is { Status: "False" } c ? c : null);
        Assert.Equal("Forbidden", failed.Reason);
        Assert.Equal("configmaps \"hello\" is forbidden: User \"system:serviceaccount:demo:greeting-operator\" cannot update resource "
            + "\"configmaps\" in API group \"\" in the namespace \"demo\"", failed.Message);
        Assert.Equal(2, failed.ObservedGeneration);
        Assert.Equal("first", (await h.GetConfigMapAsync("hello"))!.Data["message"]);
        var error = Assert.IsType<HttpOperationException>(Assert.IsType<ReconcileException>(h.Operator.LastError).InnerException);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, error.Response.StatusCode);
    }

    [Fact]
    public async Task MinimalRoles_OfARun_AreTheShippedRole_NothingUnused()
    {
        await using var h = await OperatorHarness.StartAsync();
        // A run that takes every path of the operator: create the ConfigMap, update it, write status.
        await h.CreateGreetingAsync("hello", "first");
        await h.EventuallyAsync("Ready=True", async () => await h.ReadyAsync("hello") is { Status: "True" } c ? c : null);
        await h.SetMessageAsync("hello", "second");
        await h.EventuallyAsync("status.observedGeneration 2",
            async () => (await h.GetGreetingAsync("hello")).Status is { ObservedGeneration: 2 } s ? s : null);

        var minimal = await h.Cluster.MinimalRolesAsync(Subject.ServiceAccount(OperatorHarness.ServiceAccount));

        // What was used, per resource, is what the Role grants (the minimal Role also names the objects: resourceNames).
        var role = Assert.Single(minimal.Roles);
        Assert.Equal(OperatorHarness.Namespace, role.Metadata.NamespaceProperty);
        Assert.Empty(minimal.ClusterRoles);
        var shipped = await h.Admin.RbacAuthorizationV1.ReadNamespacedRoleAsync("greeting-operator", OperatorHarness.Namespace);
        Assert.Equal(VerbsByResource(shipped.Rules), VerbsByResource(role.Rules));
        // And the shipped Role has no rule the run did not use (other unused grants come from the bootstrap
        // policy every authenticated user has, e.g. system:basic-user's selfsubjectaccessreviews).
        Assert.DoesNotContain(minimal.UnusedGrantDescriptions, d => d.Contains("Role/greeting-operator"));
        // And every recorded request is allowed by the current grants.
        Assert.Empty(minimal.NotAllowed);
    }

    /// <summary>"group/resource" → sorted verbs, the rules merged: how much a Role allows, names aside.</summary>
    private static SortedDictionary<string, string> VerbsByResource(IEnumerable<V1PolicyRule> rules)
    {
        var map = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var rule in rules)
            foreach (var group in rule.ApiGroups ?? [])
                foreach (var resource in rule.Resources ?? [])
                {
                    var key = $"{group}/{resource}";
                    if (!map.TryGetValue(key, out var verbs)) map[key] = verbs = new SortedSet<string>(StringComparer.Ordinal);
                    verbs.UnionWith(rule.Verbs);
                }
        return new SortedDictionary<string, string>(map.ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value)), StringComparer.Ordinal);
    }
}
