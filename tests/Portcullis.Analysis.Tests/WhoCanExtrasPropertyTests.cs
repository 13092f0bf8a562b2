using CsCheck;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis.Tests;

/// <summary>
/// who-can's extras against the real authorizer chain, over WhoCanPropertyTests' random RBAC sets:
/// <c>--all-namespaces</c> (an identity is allowed the request in namespace N exactly when an entry
/// applies to it whose binding is a ClusterRoleBinding or a RoleBinding of N) and
/// <c>--expand-groups</c> (every ServiceAccount of the model, with its token's groups, is allowed
/// exactly when a non-Group entry names it: directly, via a group, or as a User spelling its user name).
/// </summary>
public sealed class WhoCanExtrasPropertyTests
{
    private static readonly string[] Namespaces = ["n0", "n1", "n2", "kube-system"];

    [Fact]
    public void AllNamespaces_EqualsTheAuthorizer_InEveryNamespace()
    {
        var roleBindingEntries = 0;
        Gen.Int.Sample(seed =>
        {
            var r = new Random(seed);
            var model = AccessModel.Build(WhoCanPropertyTests.RandomObjects(r), bootstrap: r.Next(4) == 0);
            var chain = new AuthorizerChain([new SystemMastersAuthorizer(), new RbacAuthorizer(model.Index)]);
            var identities = WhoCanPropertyTests.Universe(model);
            for (var q = 0; q < 5; q++)
            {
                var query = WhoCanPropertyTests.RandomQuery(r);
                if (!query.IsResourceRequest) continue;
                var answer = WhoCan.Ask(model, query with { Namespace = "", AllNamespaces = true });
                roleBindingEntries += answer.Allowed.Count(e => e.BindingKind == "RoleBinding");
                foreach (var ns in Namespaces)
                    foreach (var (user, groups) in identities)
                    {
                        var expected = WhoCanPropertyTests.Allowed(chain, query with { Namespace = ns }, user, groups);
                        var actual = answer.Allowed.Any(e => e.AppliesTo(user, groups) && (e.BindingKind != "RoleBinding" || e.BindingNamespace == ns));
                        Assert.True(expected == actual, $"seed {seed}: {query} in {ns} for {user} [{string.Join(",", groups)}]: authorizer {expected}, -A {actual}");
                    }
            }
        }, iter: 150, threads: 1);
        Assert.True(roleBindingEntries > 50, $"only {roleBindingEntries} RoleBinding entries");
    }

    [Fact]
    public void ExpandGroups_ListsExactlyTheServiceAccountsAllowed()
    {
        var expanded = 0;
        Gen.Int.Sample(seed =>
        {
            var r = new Random(seed);
            var objects = WhoCanPropertyTests.RandomObjects(r);
            foreach (var (ns, name) in new[] { ("n0", "sa0"), ("n1", "sa1"), ("n2", "sa9") })
                objects.Add(new System.Text.Json.Nodes.JsonObject
                {
                    ["apiVersion"] = "v1", ["kind"] = "ServiceAccount",
                    ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = name, ["namespace"] = ns },
                });
            var model = AccessModel.Build(objects, bootstrap: r.Next(4) == 0);
            var chain = new AuthorizerChain([new SystemMastersAuthorizer(), new RbacAuthorizer(model.Index)]);
            for (var q = 0; q < 5; q++)
            {
                var query = WhoCanPropertyTests.RandomQuery(r);
                var answer = WhoCan.Ask(model, query, expandGroups: true);
                Assert.Equal(WhoCan.Ask(model, query).Allowed, answer.Allowed.Where(e => e.ViaGroup.Length == 0));
                foreach (var (ns, name) in model.ServiceAccounts)
                {
                    var user = RbacSubject.ServiceAccountPrefix + ns + ":" + name;
                    IReadOnlyList<string> groups = ["system:serviceaccounts", "system:serviceaccounts:" + ns, UserInfo.AllAuthenticated];
                    var expected = WhoCanPropertyTests.Allowed(chain, query, user, groups);
                    // Named without a Group entry: as a ServiceAccount (directly or via a group), or a User subject spelling its user name.
                    var listed = answer.Allowed.Any(e => e.SubjectKind != SubjectKinds.Group && e.AppliesTo(user, groups));
                    Assert.True(expected == listed, $"seed {seed}: {query} for {user}: authorizer {expected}, listed {listed}");
                }
                foreach (var e in answer.Allowed.Where(e => e.ViaGroup.Length > 0))
                {
                    expanded++;
                    Assert.True(WhoCan.ServiceAccountInGroup(e.ViaGroup, e.SubjectNamespace));
                    Assert.Contains(answer.Allowed, g => g.SubjectKind == SubjectKinds.Group && g.SubjectName == e.ViaGroup && g.BindingKind == e.BindingKind
                        && g.BindingNamespace == e.BindingNamespace && g.BindingName == e.BindingName);
                }
            }
        }, iter: 400, threads: 1);
        // Coverage, not behaviour: random seeds give about half an entry per sample (37 in 150 samples once), so 400
        // samples keep this well clear of chance.
        Assert.True(expanded > 50, $"only {expanded} entries via groups");
    }
}
