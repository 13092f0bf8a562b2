using System.Text.Json.Nodes;
using CsCheck;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis.Tests;

/// <summary>
/// Exactness: over random RBAC sets and random requests, for every identity of a universe drawn
/// from the subjects, the real authorizer chain (system:masters, then RBAC over an index filled
/// object by object in random order) allows the identity exactly when a who-can entry applies to it.
/// </summary>
public sealed class WhoCanPropertyTests
{
    private const string Rbac = "rbac.authorization.k8s.io/v1";
    private static readonly string[] Namespaces = ["n0", "n1", "n2"];

    /// <summary>What the random cases covered, so a generator that stops producing interesting cases fails.</summary>
    private sealed class Coverage
    {
        public int AllowedByRbac, NotAllowed, LimitedByNames, NonResourceAllowed, ThroughRoleBindingToClusterRole;
    }

    [Fact]
    public void WhoCan_EqualsTheAuthorizer_ForEveryIdentity()
    {
        var coverage = new Coverage();
        Gen.Int.Sample(seed => Check(seed, bootstrap: false, coverage), iter: 300, threads: 1);
        Assert.True(coverage.AllowedByRbac > 100, $"only {coverage.AllowedByRbac} identities allowed by RBAC");
        Assert.True(coverage.NotAllowed > 100, $"only {coverage.NotAllowed} identities not allowed");
        Assert.True(coverage.LimitedByNames > 10, $"only {coverage.LimitedByNames} grants limited by names");
        Assert.True(coverage.NonResourceAllowed > 10, $"only {coverage.NonResourceAllowed} non-resource grants");
        Assert.True(coverage.ThroughRoleBindingToClusterRole > 10, $"only {coverage.ThroughRoleBindingToClusterRole} RoleBinding-to-ClusterRole grants");
    }

    [Fact]
    public void WhoCan_EqualsTheAuthorizer_WithTheBootstrapPolicy() =>
        Gen.Int.Sample(seed => Check(seed, bootstrap: true, new Coverage()), iter: 40, threads: 1);

    private static void Check(int seed, bool bootstrap, Coverage coverage)
    {
        var r = new Random(seed);
        var objects = RandomObjects(r);
        var model = AccessModel.Build(objects, bootstrap);

        // The authorizer's index is filled one object at a time, in random order (the server's watch path).
        var index = new RbacIndex();
        foreach (var (key, obj) in AccessModel.RbacObjectsOf(objects, bootstrap).OrderBy(_ => r.Next())) index.Apply(key, obj);
        var chain = new AuthorizerChain([new SystemMastersAuthorizer(), new RbacAuthorizer(index)]);

        var identities = Universe(model);
        for (var q = 0; q < 10; q++)
        {
            var query = RandomQuery(r);
            var answer = WhoCan.Ask(model, query);
            foreach (var (user, groups) in identities)
            {
                var expected = Allowed(chain, query, user, groups);
                var actual = answer.Allowed.Any(e => e.AppliesTo(user, groups));
                if (!expected) coverage.NotAllowed++;
                else if (!groups.Contains(UserInfo.SystemMasters)) coverage.AllowedByRbac++;
                Assert.True(expected == actual,
                    $"seed {seed}: {query} for {user} [{string.Join(",", groups)}]: authorizer {(expected ? "allows" : "does not allow")}, " +
                    $"who-can {(actual ? "lists it" : "does not")}");
            }

            coverage.LimitedByNames += answer.OnlyForNames.Count;
            if (!query.IsResourceRequest) coverage.NonResourceAllowed += answer.Allowed.Count - 1;
            coverage.ThroughRoleBindingToClusterRole += answer.Allowed.Count(e => e.BindingKind == "RoleBinding" && e.RoleKind == "ClusterRole");

            // A grant limited by resourceNames allows the request for each of its names.
            foreach (var e in answer.OnlyForNames)
            {
                var (user, groups) = IdentityOf(e);
                foreach (var name in e.OnlyForNames!)
                {
                    var named = query with { Name = name };
                    Assert.True(Allowed(chain, named, user, groups), $"seed {seed}: {named} should be allowed for {e}");
                    Assert.Contains(WhoCan.Ask(model, named).Allowed, a =>
                        a.SubjectKind == e.SubjectKind && a.SubjectName == e.SubjectName && a.SubjectNamespace == e.SubjectNamespace
                        && a.BindingKind == e.BindingKind && a.BindingNamespace == e.BindingNamespace && a.BindingName == e.BindingName);
                }
            }
        }
    }

    internal static bool Allowed(AuthorizerChain chain, WhoCanQuery query, string user, IReadOnlyList<string> groups)
    {
        var info = new UserInfo(user, "", groups, UserInfo.NoExtra);
        var result = chain.AuthorizeAsync(query.Attributes(info)).AsTask().GetAwaiter().GetResult();
        return result.Decision == Decision.Allow;
    }

    private static (string User, IReadOnlyList<string> Groups) IdentityOf(WhoCanEntry e) => e.SubjectKind switch
    {
        SubjectKinds.User => (e.SubjectName, []),
        SubjectKinds.Group => ("someone", [e.SubjectName]),
        _ => (RbacSubject.ServiceAccountPrefix + e.SubjectNamespace + ":" + e.SubjectName, []),
    };

    /// <summary>
    /// Every user and group named by a binding, users with no group, each one group, and all groups
    /// but system:masters; every ServiceAccount (named by a binding or given as an object) with the
    /// groups the token authenticator gives it; a stranger; and a member of system:masters.
    /// </summary>
    internal static List<(string User, IReadOnlyList<string> Groups)> Universe(AccessModel model)
    {
        var users = new SortedSet<string>(StringComparer.Ordinal) { "stranger" };
        var groups = new SortedSet<string>(StringComparer.Ordinal) { UserInfo.AllAuthenticated, "system:serviceaccounts" };
        var serviceAccounts = new SortedSet<(string, string)>(model.ServiceAccounts);
        foreach (var b in model.Index.Current.AllBindings)
        {
            foreach (var s in b.Subjects)
            {
                switch (s.KindText)
                {
                    case "User": users.Add(s.Name); break;
                    case "Group": groups.Add(s.Name); break;
                    case "ServiceAccount":
                        var ns = s.Namespace.Length > 0 ? s.Namespace : b.Namespace;
                        if (ns.Length > 0) serviceAccounts.Add((ns, s.Name));
                        break;
                }
            }
        }
        var ordinary = groups.Where(g => g != UserInfo.SystemMasters).ToList();
        var list = new List<(string, IReadOnlyList<string>)>();
        foreach (var u in users)
        {
            list.Add((u, []));
            list.Add((u, ordinary));
            foreach (var g in groups) list.Add((u, [g]));
        }
        foreach (var (ns, name) in serviceAccounts)
            list.Add(($"system:serviceaccount:{ns}:{name}", ["system:serviceaccounts", $"system:serviceaccounts:{ns}", UserInfo.AllAuthenticated]));
        list.Add(("stranger", [UserInfo.SystemMasters]));
        return list;
    }

    // ---- random RBAC sets ----

    private static T Pick<T>(Random r, IReadOnlyList<T> items) => items[r.Next(items.Count)];

    private static JsonArray Some(Random r, string[] pool, int min, int max)
    {
        var n = r.Next(min, max + 1);
        var chosen = Enumerable.Range(0, n).Select(_ => Pick(r, pool)).Distinct().ToArray();
        return new JsonArray(chosen.Select(x => (JsonNode)x!).ToArray());
    }

    private static JsonObject Rule(Random r)
    {
        var rule = new JsonObject { ["verbs"] = Some(r, ["get", "list", "create", "delete", "impersonate", "*"], 1, 2) };
        var kind = r.Next(10);
        if (kind < 7 || kind == 9)
        {
            rule["apiGroups"] = Some(r, ["", "apps", "*"], 1, 2);
            rule["resources"] = Some(r, ["pods", "pods/log", "secrets", "deployments", "deployments/scale", "*", "*/log", "pods/*"], 1, 2);
            if (r.Next(10) < 4) rule["resourceNames"] = Some(r, ["a", "b", ""], 1, 2);
        }
        if (kind >= 7) rule["nonResourceURLs"] = Some(r, ["/healthz", "/healthz/*", "/api", "/api/*", "*"], 1, 2);
        return rule;
    }

    private static JsonArray Rules(Random r) => new(Enumerable.Range(0, r.Next(0, 4)).Select(_ => (JsonNode)Rule(r)).ToArray());

    private static JsonObject Subject(Random r, bool clusterBinding)
    {
        switch (r.Next(10))
        {
            case 0 or 1 or 2:
                return new JsonObject { ["kind"] = "User", ["apiGroup"] = "rbac.authorization.k8s.io", ["name"] = Pick(r, ["u0", "u1", "u2", "system:serviceaccount:n0:sa0"]) };
            case 3 or 4 or 5:
                return new JsonObject
                {
                    ["kind"] = "Group", ["apiGroup"] = "rbac.authorization.k8s.io",
                    ["name"] = Pick(r, ["g0", "g1", "system:authenticated", "system:serviceaccounts", "system:serviceaccounts:n0", "system:masters"]),
                };
            case 6 or 7 or 8:
                var sa = new JsonObject { ["kind"] = "ServiceAccount", ["name"] = Pick(r, ["sa0", "sa1"]) };
                // A ServiceAccount without a namespace: the RoleBinding's; in a ClusterRoleBinding, none (never applies).
                var ns = Pick(r, ["n0", "n1", ""]);
                if (ns.Length > 0) sa["namespace"] = ns;
                return sa;
            default:
                return new JsonObject { ["kind"] = "Robot", ["name"] = "u0" };
        }
    }

    internal static List<JsonObject> RandomObjects(Random r)
    {
        var objects = new List<JsonObject>();
        foreach (var name in new[] { "cr0", "cr1", "cr2", "cr3" })
        {
            if (r.Next(10) < 2) continue; // some referenced roles do not exist
            var meta = new JsonObject { ["name"] = name };
            if (r.Next(10) < 4) meta["labels"] = new JsonObject { ["agg"] = "true" };
            objects.Add(new JsonObject { ["apiVersion"] = Rbac, ["kind"] = "ClusterRole", ["metadata"] = meta, ["rules"] = Rules(r) });
        }
        if (r.Next(2) == 0)
        {
            objects.Add(new JsonObject
            {
                ["apiVersion"] = Rbac, ["kind"] = "ClusterRole", ["metadata"] = new JsonObject { ["name"] = "cr-agg" },
                ["aggregationRule"] = new JsonObject
                {
                    ["clusterRoleSelectors"] = new JsonArray(new JsonObject { ["matchLabels"] = new JsonObject { ["agg"] = "true" } }),
                },
            });
        }
        foreach (var ns in new[] { "n0", "n1" })
            foreach (var name in new[] { "r0", "r1", "r2" })
                if (r.Next(10) < 6)
                    objects.Add(new JsonObject
                    {
                        ["apiVersion"] = Rbac, ["kind"] = "Role",
                        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns }, ["rules"] = Rules(r),
                    });

        var roleNames = new[] { "r0", "r1", "r2", "r3" };
        var clusterRoleNames = new[] { "cr0", "cr1", "cr2", "cr3", "cr4", "cr-agg" };
        for (var i = r.Next(0, 9); i > 0; i--)
        {
            var toRole = r.Next(2) == 0;
            objects.Add(Binding("RoleBinding", "rb" + i, Pick(r, Namespaces), toRole ? "Role" : "ClusterRole",
                Pick(r, toRole ? roleNames : clusterRoleNames), r));
        }
        for (var i = r.Next(0, 6); i > 0; i--)
        {
            var kind = r.Next(10) switch { 0 => "Role", 1 => "Bogus", _ => "ClusterRole" };
            objects.Add(Binding("ClusterRoleBinding", "crb" + i, "", kind, Pick(r, kind == "Role" ? roleNames : clusterRoleNames), r));
        }
        if (r.Next(2) == 0)
            objects.Add(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = "sa2", ["namespace"] = "n1" } });
        return objects;
    }

    private static JsonObject Binding(string kind, string name, string ns, string roleKind, string roleName, Random r)
    {
        var meta = new JsonObject { ["name"] = name };
        if (ns.Length > 0) meta["namespace"] = ns;
        var subjects = Enumerable.Range(0, r.Next(0, 4)).Select(_ => (JsonNode)Subject(r, ns.Length == 0)).ToArray();
        return new JsonObject
        {
            ["apiVersion"] = Rbac, ["kind"] = kind, ["metadata"] = meta,
            ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = roleName },
            ["subjects"] = new JsonArray(subjects),
        };
    }

    internal static WhoCanQuery RandomQuery(Random r)
    {
        if (r.Next(10) < 2)
            return new WhoCanQuery(Pick(r, ["get", "post", "*"]), NonResourceUrl: Pick(r, ["/healthz", "/healthz/ready", "/api", "/api/v1", "/apis", "/metrics"]));
        return new WhoCanQuery(
            Pick(r, ["get", "list", "create", "delete", "impersonate", "watch", "patch"]),
            Pick(r, ["pods", "secrets", "deployments", "nodes"]),
            r.Next(10) < 3 ? Pick(r, ["log", "scale", "status"]) : "",
            Pick(r, ["", "", "apps", "batch"]),
            Pick(r, ["", "n0", "n1", "n2", "kube-system"]),
            r.Next(2) == 0 ? "" : Pick(r, ["a", "b", "c"]));
    }
}
