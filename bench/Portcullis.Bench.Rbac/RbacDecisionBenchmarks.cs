using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Bench.Rbac;

/// <summary>
/// One RBAC decision with 10, 1,000 and 100,000 bindings in the index: the seed's RoleBinding
/// (ServiceAccount demo-sa in default → Role pod-reader, get/list pods), the usual
/// system:authenticated ClusterRoleBindings, and the rest bindings for other users, service
/// accounts, groups and namespaces (a fifth of them RoleBindings in default itself).
/// </summary>
[MemoryDiagnoser]
public class RbacDecisionBenchmarks
{
    [Params(10, 1_000, 100_000)]
    public int Bindings;

    private RbacAuthorizer _authorizer = null!;
    private AuthorizationAttributes _allow = null!;
    private AuthorizationAttributes _deny = null!;
    private AuthorizationAttributes _otherNamespace = null!;
    private AuthorizationAttributes _nonResource = null!;

    [GlobalSetup]
    public void Setup()
    {
        var objects = Objects(Bindings);
        var index = new RbacIndex();
        index.Reset(objects.Select(o => KeyValuePair.Create(Key(o), o)));
        if (index.BindingCount != Bindings) throw new InvalidOperationException($"{index.BindingCount} bindings, want {Bindings}");
        _authorizer = new RbacAuthorizer(index);

        var sa = new UserInfo("system:serviceaccount:default:demo-sa", "uid",
            ["system:serviceaccounts", "system:serviceaccounts:default", UserInfo.AllAuthenticated], UserInfo.NoExtra);
        _allow = new AuthorizationAttributes(sa, Verb.List, true, "/api/v1/namespaces/default/pods", "default", "", "v1", "pods");
        _deny = new AuthorizationAttributes(sa, Verb.Create, true, "/api/v1/namespaces/default/pods", "default", "", "v1", "pods");
        _otherNamespace = new AuthorizationAttributes(sa, Verb.List, true, "/api/v1/namespaces/ns-7/pods", "ns-7", "", "v1", "pods");
        _nonResource = new AuthorizationAttributes(sa, Verb.Get, false, "/version");

        if (_authorizer.Authorize(_allow).Decision != Decision.Allow || _authorizer.Authorize(_deny).Decision != Decision.NoOpinion
            || _authorizer.Authorize(_otherNamespace).Decision != Decision.NoOpinion || _authorizer.Authorize(_nonResource).Decision != Decision.Allow)
            throw new InvalidOperationException("unexpected decision");
    }

    /// <summary>The RBAC objects described above, with <paramref name="count"/> bindings (also used by the who-can benchmarks).</summary>
    internal static List<JsonObject> Objects(int count)
    {
        var objects = new List<JsonObject>
        {
            Role("default", "pod-reader", Rule(["get", "list"], [""], ["pods"])),
            ClusterRole("view", Rule(["get", "list", "watch"], [""], ["pods", "services", "configmaps"])),
            ClusterRole("edit", Rule(["*"], ["", "apps"], ["pods", "deployments", "deployments/scale"])),
            ClusterRole("system:basic-user", Rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"])),
            ClusterRole("system:discovery", UrlRule(["get"], ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/version", "/version/"])),
            ClusterRole("system:public-info-viewer", UrlRule(["get"], ["/healthz", "/livez", "/readyz", "/version", "/version/"])),
            RoleBinding("default", "pod-reader-binding", "Role", "pod-reader", Subject("ServiceAccount", "demo-sa", "default")),
            ClusterRoleBinding("system:basic-user", "system:basic-user", Subject("Group", "system:authenticated")),
            ClusterRoleBinding("system:discovery", "system:discovery", Subject("Group", "system:authenticated")),
            ClusterRoleBinding("system:public-info-viewer", "system:public-info-viewer", Subject("Group", "system:authenticated"), Subject("Group", "system:unauthenticated")),
        };
        var bindings = 4;
        for (var i = 0; bindings < count; i++, bindings++)
        {
            objects.Add((i % 5) switch
            {
                0 => ClusterRoleBinding($"crb-{i}", "view", Subject("User", $"user-{i}")),
                1 => RoleBinding("default", $"rb-{i}", "Role", "pod-reader", Subject("ServiceAccount", $"sa-{i}")),
                2 => RoleBinding($"ns-{i % 1000}", $"rb-{i}", "ClusterRole", "edit", Subject("Group", $"team-{i % 100}")),
                _ => RoleBinding($"ns-{i % 1000}", $"rb-{i}", "ClusterRole", "edit", Subject("User", $"user-{i}"), Subject("ServiceAccount", "builder", "ci")),
            });
        }
        return objects;
    }

    [Benchmark(Description = "allow: list pods in default (RoleBinding)")]
    public AuthorizationResult Allow() => _authorizer.Authorize(_allow);

    [Benchmark(Description = "deny: create pods in default")]
    public AuthorizationResult Deny() => _authorizer.Authorize(_deny);

    [Benchmark(Description = "deny: list pods in ns-7")]
    public AuthorizationResult DenyOtherNamespace() => _authorizer.Authorize(_otherNamespace);

    [Benchmark(Description = "allow: get /version (ClusterRoleBinding to a group)")]
    public AuthorizationResult AllowNonResource() => _authorizer.Authorize(_nonResource);

    [Benchmark(Description = "allow via AuthorizeAsync")]
    public AuthorizationResult AllowAsync() => _authorizer.AuthorizeAsync(_allow).GetAwaiter().GetResult();

    private static JsonArray Arr(string[] items) => new(items.Select(s => (JsonNode)s!).ToArray());

    private static JsonObject Rule(string[] verbs, string[] groups, string[] resources) =>
        new() { ["verbs"] = Arr(verbs), ["apiGroups"] = Arr(groups), ["resources"] = Arr(resources) };

    private static JsonObject UrlRule(string[] verbs, string[] urls) => new() { ["verbs"] = Arr(verbs), ["nonResourceURLs"] = Arr(urls) };

    private static JsonObject Subject(string kind, string name, string? ns = null)
    {
        var s = new JsonObject { ["kind"] = kind, ["name"] = name };
        if (ns is not null) s["namespace"] = ns;
        return s;
    }

    private static JsonObject Meta(string name, string? ns) =>
        ns is null ? new JsonObject { ["name"] = name } : new JsonObject { ["name"] = name, ["namespace"] = ns };

    private static JsonObject Role(string ns, string name, params JsonObject[] rules) =>
        new() { ["kind"] = "Role", ["metadata"] = Meta(name, ns), ["rules"] = new JsonArray(rules.Select(r => (JsonNode)r).ToArray()) };

    private static JsonObject ClusterRole(string name, params JsonObject[] rules) =>
        new() { ["kind"] = "ClusterRole", ["metadata"] = Meta(name, null), ["rules"] = new JsonArray(rules.Select(r => (JsonNode)r).ToArray()) };

    private static JsonObject RoleBinding(string ns, string name, string roleKind, string role, params JsonObject[] subjects) => new()
    {
        ["kind"] = "RoleBinding",
        ["metadata"] = Meta(name, ns),
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = role },
        ["subjects"] = new JsonArray(subjects.Select(s => (JsonNode)s).ToArray()),
    };

    private static JsonObject ClusterRoleBinding(string name, string role, params JsonObject[] subjects) => new()
    {
        ["kind"] = "ClusterRoleBinding",
        ["metadata"] = Meta(name, null),
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "ClusterRole", ["name"] = role },
        ["subjects"] = new JsonArray(subjects.Select(s => (JsonNode)s).ToArray()),
    };

    internal static string Key(JsonObject o)
    {
        var name = o["metadata"]!["name"]!.GetValue<string>();
        var ns = o["metadata"]!["namespace"]?.GetValue<string>();
        return o["kind"]!.GetValue<string>() switch
        {
            "Role" => $"/registry/roles/{ns}/{name}",
            "RoleBinding" => $"/registry/rolebindings/{ns}/{name}",
            "ClusterRole" => $"/registry/clusterroles/{name}",
            _ => $"/registry/clusterrolebindings/{name}",
        };
    }
}
