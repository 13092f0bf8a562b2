using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Server.Tests.Authorization.RbacPolicy;

/// <summary>A rule resolver that hands out fixed rules: cluster-wide ones, plus per-namespace ones.</summary>
internal sealed class FakeRuleResolver : IRuleResolver
{
    public List<PolicyRule> ClusterRules { get; } = [];
    public Dictionary<string, List<PolicyRule>> NamespaceRules { get; } = [];
    public List<string> Errors { get; } = [];
    public List<(string User, string Namespace)> Calls { get; } = [];

    public (IReadOnlyList<PolicyRule> Rules, IReadOnlyList<string> Errors) RulesFor(UserInfo user, string @namespace)
    {
        Calls.Add((user.Name, @namespace));
        var rules = new List<PolicyRule>(ClusterRules);
        if (@namespace.Length > 0 && NamespaceRules.TryGetValue(@namespace, out var local)) rules.AddRange(local);
        return (rules, Errors);
    }
}

/// <summary>An authorizer that allows what its predicate allows, and records every question.</summary>
internal sealed class FakeAuthorizer(Func<AuthorizationAttributes, bool>? allow = null) : IAuthorizer
{
    public List<AuthorizationAttributes> Calls { get; } = [];

    public ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes a, CancellationToken ct = default)
    {
        Calls.Add(a);
        return ValueTask.FromResult(allow?.Invoke(a) == true ? AuthorizationResult.Allowed() : AuthorizationResult.NoOpinion());
    }
}

internal static class RbacTestData
{
    public static PolicyRule Rule(string[] verbs, string[] groups, string[] resources, string[]? names = null) =>
        new(verbs, groups, resources, names ?? [], []);

    public static PolicyRule UrlRule(string[] verbs, string[] urls) => new(verbs, [], [], [], urls);

    public static UserInfo User(string name, params string[] groups) => new(name, "", groups, UserInfo.NoExtra);

    public static JsonArray Rules(params PolicyRule[] rules) => new(rules.Select(r => (JsonNode)r.ToJson()).ToArray());

    public static JsonObject Role(string name, string ns, params PolicyRule[] rules) => new()
    {
        ["kind"] = ns.Length > 0 ? "Role" : "ClusterRole",
        ["apiVersion"] = "rbac.authorization.k8s.io/v1",
        ["metadata"] = ns.Length > 0 ? new JsonObject { ["name"] = name, ["namespace"] = ns } : new JsonObject { ["name"] = name },
        ["rules"] = Rules(rules),
    };

    public static JsonObject Binding(string name, string ns, string roleKind, string roleName) => new()
    {
        ["kind"] = ns.Length > 0 ? "RoleBinding" : "ClusterRoleBinding",
        ["apiVersion"] = "rbac.authorization.k8s.io/v1",
        ["metadata"] = ns.Length > 0 ? new JsonObject { ["name"] = name, ["namespace"] = ns } : new JsonObject { ["name"] = name },
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = roleName },
        ["subjects"] = new JsonArray(new JsonObject { ["kind"] = "User", ["apiGroup"] = "rbac.authorization.k8s.io", ["name"] = "someone" }),
    };
}
