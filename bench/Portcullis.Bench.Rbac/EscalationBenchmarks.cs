using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Portcullis.Analysis;

namespace Portcullis.Bench.Rbac;

/// <summary>
/// Escalation paths for every subject (--all, goal cluster-admin) over 10,000 bindings and 5,000
/// ServiceAccounts (50 namespaces of 100), 5,000 running pods on 20 nodes, 1,000 token Secrets,
/// with the bootstrap policy; and the risk findings over the same cluster.
/// </summary>
[MemoryDiagnoser]
public class EscalationBenchmarks
{
    private AccessModel _model = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = AccessModel.Build(Objects(), bootstrap: true);
        if (_model.ServiceAccounts.Count != 5_000) throw new InvalidOperationException($"{_model.ServiceAccounts.Count} ServiceAccounts");
        var result = EscalationSearch.ForAll(_model, EscalationGoal.ClusterAdmin);
        if (result.Paths.Count(p => p.Steps is { Count: > 0 }) < 100) throw new InvalidOperationException("too few paths");
    }

    [Benchmark(Description = "escalation --all (10,000 bindings, 5,000 ServiceAccounts)")]
    public EscalationResult All() => EscalationSearch.ForAll(_model, EscalationGoal.ClusterAdmin);

    [Benchmark(Description = "risks (10,000 bindings)")]
    public RiskReport Risks() => Analysis.Risks.Find(_model, includeBootstrap: false);

    private static JsonObject Obj(string apiVersion, string kind, string name, string ns = "") =>
        new() { ["apiVersion"] = apiVersion, ["kind"] = kind, ["metadata"] = ns.Length > 0 ? new JsonObject { ["name"] = name, ["namespace"] = ns } : new JsonObject { ["name"] = name } };

    private static JsonObject Rule(string group, string resource, string[] verbs, string[]? names = null)
    {
        var r = new JsonObject
        {
            ["apiGroups"] = new JsonArray(group), ["resources"] = new JsonArray(resource),
            ["verbs"] = new JsonArray(verbs.Select(v => (JsonNode)v!).ToArray()),
        };
        if (names is not null) r["resourceNames"] = new JsonArray(names.Select(v => (JsonNode)v!).ToArray());
        return r;
    }

    private static JsonObject Binding(string kind, string name, string ns, string roleKind, string role, JsonObject subject)
    {
        var b = Obj("rbac.authorization.k8s.io/v1", kind, name, ns);
        b["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = role };
        b["subjects"] = new JsonArray(subject);
        return b;
    }

    private static JsonObject Sa(string ns, string name) => new() { ["kind"] = "ServiceAccount", ["name"] = name, ["namespace"] = ns };

    /// <summary>The generated cluster (deterministic).</summary>
    public static List<JsonObject> Objects()
    {
        var r = new Random(14);
        var list = new List<JsonObject>();
        const int namespaces = 50, perNs = 100;
        var roles = new (string Name, JsonObject[] Rules)[]
        {
            ("app", [Rule("", "pods", ["get", "list"]), Rule("", "configmaps", ["get", "list", "watch"])]),
            ("deployer", [Rule("apps", "deployments", ["create", "update"]), Rule("", "pods", ["get", "list"])]),
            ("secret-reader", [Rule("", "secrets", ["get"], ["sa-1-token"])]),
            ("token-minter", [Rule("", "serviceaccounts/token", ["create"], ["sa-2"])]),
            ("debugger", [Rule("", "pods/exec", ["create"])]),
        };
        for (var n = 0; n < namespaces; n++)
        {
            var ns = "ns-" + n;
            foreach (var (name, rules) in roles)
            {
                var role = Obj("rbac.authorization.k8s.io/v1", "Role", name, ns);
                role["rules"] = new JsonArray(rules.Select(x => (JsonNode)x.DeepClone()).ToArray());
                list.Add(role);
            }
            for (var i = 0; i < perNs; i++)
            {
                list.Add(Obj("v1", "ServiceAccount", "sa-" + i, ns));
                var pod = Obj("v1", "Pod", "pod-" + i, ns);
                pod["spec"] = new JsonObject { ["serviceAccountName"] = "sa-" + i, ["nodeName"] = "node-" + r.Next(20) };
                pod["status"] = new JsonObject { ["phase"] = "Running" };
                list.Add(pod);
            }
            for (var i = 0; i < 20; i++)
            {
                var secret = Obj("v1", "Secret", $"sa-{i}-token", ns);
                secret["type"] = "kubernetes.io/service-account-token";
                ((JsonObject)secret["metadata"]!)["annotations"] = new JsonObject { ["kubernetes.io/service-account.name"] = "sa-" + i };
                list.Add(secret);
            }
            // 198 RoleBindings per namespace (9,900 in all), each binding one ServiceAccount to one of the roles.
            for (var i = 0; i < 198; i++)
                list.Add(Binding("RoleBinding", "rb-" + i, ns, "Role", roles[r.Next(roles.Length)].Name, Sa(ns, "sa-" + r.Next(perNs))));
        }
        // 100 ClusterRoleBindings: view for some, a cluster binder, and cluster-admin for one ServiceAccount.
        var binder = Obj("rbac.authorization.k8s.io/v1", "ClusterRole", "binder");
        binder["rules"] = new JsonArray(Rule("rbac.authorization.k8s.io", "clusterrolebindings", ["create"]),
            Rule("rbac.authorization.k8s.io", "clusterroles", ["bind"], ["cluster-admin"]));
        list.Add(binder);
        list.Add(Binding("ClusterRoleBinding", "ops-admin", "", "ClusterRole", "cluster-admin", Sa("ns-0", "sa-2")));
        list.Add(Binding("ClusterRoleBinding", "binder", "", "ClusterRole", "binder", Sa("ns-1", "sa-1")));
        for (var i = 0; i < 98; i++)
            list.Add(Binding("ClusterRoleBinding", "view-" + i, "", "ClusterRole", "view", Sa("ns-" + r.Next(namespaces), "sa-" + r.Next(perNs))));
        return list;
    }
}
