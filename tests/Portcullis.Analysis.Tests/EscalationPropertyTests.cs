using Portcullis.Server.Admission;
using System.Text.Json.Nodes;
using CsCheck;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Errors;

namespace Portcullis.Analysis.Tests;

/// <summary>
/// Soundness of escalation paths: over random RBAC sets with ServiceAccounts, Pods and Secrets,
/// every move of every reported path is checked against the real authorizer chain (the permissions
/// it names are allowed for the identity of its source foothold; a bind also passes the server's
/// own <see cref="EscalationCheck"/>), every data move against the objects (the ServiceAccount
/// exists, the Secret is its token, the pod runs as it, on that node), and the last foothold
/// really has the goal.
/// </summary>
public sealed class EscalationPropertyTests
{
    private const string Rbac = "rbac.authorization.k8s.io/v1";
    private static readonly string[] Namespaces = ["n0", "n1"];
    private const string Granted = "portcullis:granted";

    private sealed class Coverage
    {
        public readonly Dictionary<string, int> Moves = new();
        public int Paths, MultiHop, Unreached;
    }

    [Fact]
    public void EveryMoveOfEveryPath_IsAllowedByTheAuthorizer()
    {
        var coverage = new Coverage();
        Gen.Int.Sample(seed => Check(seed, coverage), iter: 300, threads: 1);
        Assert.True(coverage.Paths > 200, $"only {coverage.Paths} paths");
        Console.WriteLine($"paths {coverage.Paths}, multi-hop {coverage.MultiHop}, unreached {coverage.Unreached}, moves {string.Join(" ", coverage.Moves.Select(kv => kv.Key + "=" + kv.Value))}");
        Assert.True(coverage.MultiHop > 20, $"only {coverage.MultiHop} paths of 2 moves or more");
        Assert.True(coverage.Unreached > 200, $"only {coverage.Unreached} subjects without a path");
        foreach (var move in new[] { Moves.CreatePod, Moves.RunAs, Moves.CreateToken, Moves.ReadTokenSecret, Moves.Exec, Moves.MountedToken,
                     Moves.ImpersonateUser, Moves.ImpersonateGroup, Moves.ImpersonateServiceAccount, Moves.Bind, Moves.NodeProxy, Moves.KubeletExec,
                     Moves.Escalate, Moves.SignCertificate, Moves.EphemeralContainer, Moves.Attach, Moves.MutatingWebhook, Moves.MutatePods })
            Assert.True(coverage.Moves.GetValueOrDefault(move) > 3, $"move {move} seen {coverage.Moves.GetValueOrDefault(move)} times");
    }

    /// <summary>The RBAC JSON each model was built from, for authorizers built independently of it.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<AccessModel, Dictionary<string, JsonObject>> Json = new();

    private static void Check(int seed, Coverage coverage)
    {
        var r = new Random(seed);
        var input = RandomObjects(r);
        var model = AccessModel.Build(input, bootstrap: false);
        Json.Add(model, AccessModel.RbacObjectsOf(input, bootstrap: false));
        var goal = r.Next(3) == 0 ? EscalationGoal.ClusterAdmin
            : new EscalationGoal(new WhoCanQuery(Pick(r, ["get", "list", "delete"]), Pick(r, ["secrets", "pods", "configmaps"]), "", "", Pick(r, ["n0", "n1", ""])));
        var search = new EscalationSearch(model, goal);
        var result = search.Run(search.AllSubjects().ToList());
        var nodes = result.Nodes.ToDictionary(n => n.Id);
        // Every move found, on a shortest path or not, is sound.
        foreach (var m in search.ExploredMoves)
        {
            coverage.Moves[m.Kind] = coverage.Moves.GetValueOrDefault(m.Kind) + 1;
            CheckMove(seed, model, search.NodeById(m.From), search.NodeById(m.To), m);
        }
        foreach (var path in result.Paths)
        {
            if (path.Steps is null) { coverage.Unreached++; continue; }
            coverage.Paths++;
            if (path.Steps.Count >= 2) coverage.MultiHop++;
            var at = path.Start.Id;
            foreach (var m in path.Steps)
            {
                Assert.Equal(at, m.From);
                at = m.To;
            }
            Assert.True(HasGoal(model, nodes[at], goal), $"seed {seed}: {nodes[at].Label} does not have the goal {EscalationOutput.Describe(goal)}");
        }
    }

    /// <summary>The identity a foothold acts as, and the index it is judged by (with the binding a grant foothold created).</summary>
    private static (UserInfo User, RbacIndex Index) Judge(AccessModel model, Foothold f)
    {
        var objects = new Dictionary<string, JsonObject>(Json.GetValue(model, _ => throw new InvalidOperationException("no JSON for this model")));
        UserInfo user;
        switch (f.Kind)
        {
            case FootholdKinds.RoleGrant:
            case FootholdKinds.AnyRules:
            {
                var (roleKind, roleName) = (f.RoleKind, f.RoleName);
                if (f.Kind == FootholdKinds.AnyRules)
                {
                    (roleKind, roleName) = (f.Namespace.Length > 0 ? "Role" : "ClusterRole", "portcullis-any");
                    var meta = new JsonObject { ["name"] = roleName };
                    if (f.Namespace.Length > 0) meta["namespace"] = f.Namespace;
                    var rules = new JsonArray(new JsonObject { ["verbs"] = new JsonArray("*"), ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*") });
                    objects[(f.Namespace.Length > 0 ? RbacIndex.RolesPrefix + f.Namespace + "/" : RbacIndex.ClusterRolesPrefix) + roleName] =
                        new JsonObject { ["apiVersion"] = Rbac, ["kind"] = roleKind, ["metadata"] = meta, ["rules"] = rules };
                }
                var bmeta = new JsonObject { ["name"] = "portcullis-granted" };
                if (f.Namespace.Length > 0) bmeta["namespace"] = f.Namespace;
                objects[(f.Namespace.Length > 0 ? RbacIndex.RoleBindingsPrefix + f.Namespace + "/" : RbacIndex.ClusterRoleBindingsPrefix) + "portcullis-granted"] = new JsonObject
                {
                    ["apiVersion"] = Rbac, ["kind"] = f.Namespace.Length > 0 ? "RoleBinding" : "ClusterRoleBinding", ["metadata"] = bmeta,
                    ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = roleName },
                    ["subjects"] = new JsonArray(new JsonObject { ["kind"] = "User", ["name"] = Granted }),
                };
                user = new UserInfo(Granted, "", [], UserInfo.NoExtra);
                break;
            }
            default:
                Assert.True(f.IsIdentity, $"{f.Label} is no identity");
                user = new UserInfo(f.User!, "", f.Groups!, UserInfo.NoExtra);
                break;
        }
        // Filled object by object in random order, as the server's watch path does.
        var index = new RbacIndex();
        foreach (var (key, obj) in objects.OrderBy(kv => kv.Key.GetHashCode())) index.Apply(key, obj);
        return (user, index);
    }

    private static bool Allowed(RbacIndex index, AuthorizationAttributes a) =>
        new AuthorizerChain([new SystemMastersAuthorizer(), new RbacAuthorizer(index)]).AuthorizeAsync(a).AsTask().GetAwaiter().GetResult().Decision == Decision.Allow;

    private static void CheckMove(int seed, AccessModel model, Foothold from, Foothold to, Move m)
    {
        var what = $"seed {seed}: {from.Label} --{m.Kind}--> {to.Label}";
        bool SaExists(string ns, string name) => model.ServiceAccounts.Contains((ns, name));
        switch (m.Kind)
        {
            case Moves.RunAs:
                Assert.Equal(FootholdKinds.PodStart, from.Kind);
                Assert.True(to.Kind == FootholdKinds.ServiceAccount && to.Namespace == from.Namespace && SaExists(to.Namespace, to.Name), what);
                return;
            case Moves.MountedToken:
            {
                var pod = model.Pods.Single(p => p.Namespace == from.Namespace && p.Name == from.Name);
                Assert.True(pod.IsRunning && to.Namespace == pod.Namespace && to.Name == pod.ServiceAccount && SaExists(pod.Namespace, pod.ServiceAccount), what);
                return;
            }
            case Moves.KubeletExec:
            {
                var pod = model.Pods.Single(p => p.Namespace == to.Namespace && p.Name == to.Name);
                Assert.True(pod.IsRunning && pod.NodeName == from.Name, what);
                return;
            }
            case Moves.MutatePods:
                Assert.Equal(FootholdKinds.PodStart, to.Kind);
                return;
        }

        // A move that needs permissions: each is allowed for the source foothold by the real authorizer chain.
        Assert.NotEmpty(m.Evidence);
        var (user, index) = Judge(model, from);
        foreach (var e in m.Evidence)
            Assert.True(Allowed(index, e.Permission.Attributes(user)), $"{what}: {e.Permission} is not allowed for {user.Name} [{string.Join(",", user.Groups)}]");
        var perms = m.Evidence.Select(e => e.Permission).ToList();
        switch (m.Kind)
        {
            case Moves.CreatePod:
                Assert.True(perms[0].Verb == "create" && perms[0].Namespace == to.Namespace && to.Kind == FootholdKinds.PodStart, what);
                break;
            case Moves.CreateToken:
                Assert.True(perms[0] == new Permission("create", "", "serviceaccounts", "token", to.Namespace, to.Name) && SaExists(to.Namespace, to.Name), what);
                break;
            case Moves.ReadTokenSecret:
            {
                var secret = model.Secrets.Single(s => s.Namespace == m.Object!.Namespace && s.Name == m.Object.Name);
                Assert.True(secret.IsServiceAccountToken && secret.ServiceAccountName == to.Name && secret.Namespace == to.Namespace && SaExists(to.Namespace, to.Name), what);
                var p = perms[0];
                Assert.True(p.Resource == "secrets" && p.Namespace == secret.Namespace
                    && (p.Verb is "list" or "watch" && p.Name == "" || p.Verb == "get" && p.Name == secret.Name && m.Evidence[0].Rule.ResourceNames.Contains(secret.Name)), what);
                break;
            }
            case Moves.Exec or Moves.Attach or Moves.EphemeralContainer:
            {
                var pod = model.Pods.Single(x => x.Namespace == to.Namespace && x.Name == to.Name);
                Assert.True(pod.IsRunning && perms[0].Resource == "pods" && perms[0].Name == pod.Name && perms[0].Namespace == pod.Namespace, what);
                break;
            }
            case Moves.NodeProxy:
                Assert.True(perms[0].Resource == "nodes" && perms[0].Subresource == "proxy" && perms[0].Name == to.Name
                    && model.Pods.Any(p => p.IsRunning && p.NodeName == to.Name), what);
                break;
            case Moves.ImpersonateUser:
                Assert.True(perms[0] == new Permission("impersonate", "", "users", "", "", to.User!), what);
                break;
            case Moves.ImpersonateServiceAccount:
                Assert.True(perms[0] == new Permission("impersonate", "", "serviceaccounts", "", to.Namespace, to.Name), what);
                break;
            case Moves.ImpersonateGroup:
                Assert.True(perms[0] == new Permission("impersonate", "", "users", "", "", to.User!)
                    && perms[1].Resource == "groups" && to.Groups!.Contains(perms[1].Name), what);
                break;
            case Moves.Bind:
            {
                // The server's own escalation check lets the source create the binding.
                var binding = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["name"] = "self" },
                    ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = to.RoleKind, ["name"] = to.RoleName },
                    ["subjects"] = new JsonArray(new JsonObject { ["kind"] = "User", ["name"] = user.Name }),
                };
                var chain = new AuthorizerChain([new SystemMastersAuthorizer(), new RbacAuthorizer(index)]);
                var resource = to.Namespace.Length > 0 ? "rolebindings" : "clusterrolebindings";
                Assert.True(perms[0] == new Permission("create", "rbac.authorization.k8s.io", resource, "", to.Namespace, ""), what);
                try
                {
                    EscalationCheck.CheckAsync(Operation.Create, resource, to.Namespace, binding, user, new RbacAuthorizer(index), chain,
                        (ns, kind, name, _) => Task.FromResult(Json.GetValue(model, _ => throw new InvalidOperationException("no JSON for this model")).GetValueOrDefault(
                            kind == "Role" ? RbacIndex.RolesPrefix + ns + "/" + name : RbacIndex.ClusterRolesPrefix + name)), default)
                        .AsTask().GetAwaiter().GetResult();
                }
                catch (ApiException e) { Assert.Fail($"{what}: EscalationCheck refuses: {e.Message}"); }
                break;
            }
            case Moves.Escalate:
                Assert.True(perms[0].Verb == "escalate" && perms[1].Verb is "update" or "patch" && perms[0].Name == perms[1].Name, what);
                break;
            case Moves.SignCertificate:
                Assert.True(perms[2].Verb == "approve" && perms[2].Resource == "signers"
                    && perms[2].Name is "kubernetes.io/kube-apiserver-client" or "kubernetes.io/*", what);
                break;
        }
    }

    private static bool HasGoal(AccessModel model, Foothold f, EscalationGoal goal)
    {
        if (f.Kind is FootholdKinds.PodStart or FootholdKinds.PodShell or FootholdKinds.Kubelet or FootholdKinds.MutatingWebhook) return false;
        var (user, index) = Judge(model, f);
        var q = goal.Request ?? EscalationGoal.AllOfEverything;
        return Allowed(index, q.Attributes(user));
    }

    // ---- random clusters ----

    private static T Pick<T>(Random r, IReadOnlyList<T> items) => items[r.Next(items.Count)];

    private static readonly (string Group, string Resource, string[] Verbs, string[] Names)[] Templates =
    [
        ("", "pods", ["create", "get"], []),
        ("apps", "deployments", ["create"], []),
        ("", "pods/exec", ["create", "get"], ["p0", "p1"]),
        ("", "pods/attach", ["create"], ["p1"]),
        ("", "pods/ephemeralcontainers", ["update", "patch"], ["p0"]),
        ("", "serviceaccounts/token", ["create"], ["sa0", "sa1", "sa2"]),
        ("", "secrets", ["get", "list", "watch"], ["t0", "t1", "t2"]),
        ("", "users", ["impersonate"], ["u0", "u1"]),
        ("", "groups", ["impersonate"], ["g0", "system:masters"]),
        ("", "serviceaccounts", ["impersonate"], ["sa0", "sa1"]),
        ("", "*", ["impersonate"], ["u0", "g0", "system:masters"]),
        ("", "nodes/proxy", ["get", "create"], ["node0"]),
        ("rbac.authorization.k8s.io", "rolebindings", ["create"], []),
        ("rbac.authorization.k8s.io", "clusterrolebindings", ["create"], []),
        ("rbac.authorization.k8s.io", "clusterroles", ["bind", "escalate", "update"], ["admin", "cr0", "cr1"]),
        ("rbac.authorization.k8s.io", "roles", ["bind", "escalate", "patch"], ["r0", "r1"]),
        ("certificates.k8s.io", "certificatesigningrequests", ["create", "get", "list"], []),
        ("certificates.k8s.io", "certificatesigningrequests/approval", ["update"], []),
        ("certificates.k8s.io", "signers", ["approve"], ["kubernetes.io/kube-apiserver-client", "kubernetes.io/*", "example.com/x"]),
        ("certificates.k8s.io", "*", ["create", "update", "approve", "get"], []),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", ["create"], []),
        ("", "configmaps", ["get", "list", "delete"], []),
        ("*", "*", ["get", "list", "*"], []),
    ];

    private static JsonObject Rule(Random r)
    {
        var t = Pick(r, Templates);
        var verbs = t.Verbs.Where(_ => r.Next(2) == 0).ToList();
        if (verbs.Count == 0) verbs.Add(Pick(r, t.Verbs));
        if (r.Next(15) == 0) verbs = ["*"];
        if (t.Resource == "*" && t.Group != "*") verbs = [.. t.Verbs]; // every CSR permission at once
        var rule = new JsonObject
        {
            ["verbs"] = new JsonArray(verbs.Select(v => (JsonNode)v!).ToArray()),
            ["apiGroups"] = new JsonArray(r.Next(12) == 0 ? "*" : t.Group),
            ["resources"] = new JsonArray(t.Resource),
        };
        if (t.Names.Length > 0 && r.Next(2) == 0)
            rule["resourceNames"] = new JsonArray(t.Names.Where(_ => r.Next(2) == 0).DefaultIfEmpty(t.Names[0]).Select(n => (JsonNode)n!).ToArray());
        return rule;
    }

    private static JsonArray Rules(Random r) => new(Enumerable.Range(0, r.Next(1, 4)).Select(_ => (JsonNode)Rule(r)).ToArray());

    private static JsonObject Subject(Random r) => r.Next(10) switch
    {
        < 3 => new JsonObject { ["kind"] = "User", ["name"] = Pick(r, ["u0", "u1", "u2"]) },
        < 5 => new JsonObject { ["kind"] = "Group", ["name"] = Pick(r, ["g0", "g1", "system:serviceaccounts:n0"]) },
        _ => new JsonObject { ["kind"] = "ServiceAccount", ["name"] = Pick(r, ["sa0", "sa1", "sa2"]), ["namespace"] = Pick(r, Namespaces) },
    };

    private static JsonObject Meta(string name, string ns = "")
    {
        var m = new JsonObject { ["name"] = name };
        if (ns.Length > 0) m["namespace"] = ns;
        return m;
    }

    private static List<JsonObject> RandomObjects(Random r)
    {
        var objects = new List<JsonObject>
        {
            new() { ["apiVersion"] = Rbac, ["kind"] = "ClusterRole", ["metadata"] = Meta("admin"),
                ["rules"] = new JsonArray(new JsonObject { ["verbs"] = new JsonArray("*"), ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*") }) },
        };
        foreach (var name in new[] { "cr0", "cr1", "cr2" })
            objects.Add(new JsonObject { ["apiVersion"] = Rbac, ["kind"] = "ClusterRole", ["metadata"] = Meta(name), ["rules"] = Rules(r) });
        foreach (var ns in Namespaces)
        {
            foreach (var name in new[] { "r0", "r1" })
                if (r.Next(3) > 0) objects.Add(new JsonObject { ["apiVersion"] = Rbac, ["kind"] = "Role", ["metadata"] = Meta(name, ns), ["rules"] = Rules(r) });
            foreach (var sa in new[] { "sa0", "sa1", "sa2", "default" })
                if (r.Next(3) > 0) objects.Add(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = Meta(sa, ns) });
            foreach (var p in new[] { "p0", "p1" })
                if (r.Next(3) > 0)
                {
                    var spec = new JsonObject { ["nodeName"] = Pick(r, ["node0", "node1"]) };
                    if (r.Next(4) > 0) spec["serviceAccountName"] = Pick(r, ["sa0", "sa1", "sa2", "gone"]);
                    objects.Add(new JsonObject
                    {
                        ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = Meta(p, ns), ["spec"] = spec,
                        ["status"] = new JsonObject { ["phase"] = r.Next(4) > 0 ? "Running" : "Pending" },
                    });
                }
            foreach (var t in new[] { "t0", "t1", "t2" })
                if (r.Next(3) > 0)
                {
                    var meta = Meta(t, ns);
                    meta["annotations"] = new JsonObject { ["kubernetes.io/service-account.name"] = Pick(r, ["sa0", "sa1", "sa2", "gone"]) };
                    objects.Add(new JsonObject
                    {
                        ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = meta,
                        ["type"] = r.Next(4) > 0 ? "kubernetes.io/service-account-token" : "Opaque",
                    });
                }
        }
        for (var i = r.Next(1, 7); i > 0; i--)
        {
            var ns = Pick(r, Namespaces);
            var toRole = r.Next(2) == 0;
            objects.Add(Binding("RoleBinding", "rb" + i, ns, toRole ? "Role" : "ClusterRole", toRole ? Pick(r, ["r0", "r1"]) : Pick(r, ["cr0", "cr1", "cr2"]), r));
        }
        for (var i = r.Next(0, 4); i > 0; i--)
            objects.Add(Binding("ClusterRoleBinding", "crb" + i, "", "ClusterRole", Pick(r, ["cr0", "cr1", "cr2", "admin"]), r));
        return objects;
    }

    private static JsonObject Binding(string kind, string name, string ns, string roleKind, string roleName, Random r) => new()
    {
        ["apiVersion"] = Rbac, ["kind"] = kind, ["metadata"] = Meta(name, ns),
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = roleName },
        ["subjects"] = new JsonArray(Enumerable.Range(0, r.Next(1, 3)).Select(_ => (JsonNode)Subject(r)).ToArray()),
    };
}
