using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Server.Tests.Authorization.Rbac;

/// <summary>Builds rbac/v1 objects, users and requests for the RBAC tests.</summary>
internal static class RbacKit
{
    /// <summary>A rule; each list is comma separated, null for absent ("" is the core group).</summary>
    public static JsonObject Rule(string verbs, string? groups = null, string? resources = null, string? names = null, string? urls = null)
    {
        var r = new JsonObject { ["verbs"] = Arr(verbs) };
        if (groups is not null) r["apiGroups"] = Arr(groups);
        if (resources is not null) r["resources"] = Arr(resources);
        if (names is not null) r["resourceNames"] = Arr(names);
        if (urls is not null) r["nonResourceURLs"] = Arr(urls);
        return r;
    }

    private static JsonArray Arr(string csv) => new(csv.Split(',').Select(s => (JsonNode)s!).ToArray());

    public static JsonObject Role(string ns, string name, params JsonObject[] rules) => new()
    {
        ["apiVersion"] = "rbac.authorization.k8s.io/v1",
        ["kind"] = "Role",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["resourceVersion"] = "0" },
        ["rules"] = new JsonArray(rules.Select(r => (JsonNode)r).ToArray()),
    };

    public static JsonObject ClusterRole(string name, params JsonObject[] rules) => new()
    {
        ["apiVersion"] = "rbac.authorization.k8s.io/v1",
        ["kind"] = "ClusterRole",
        ["metadata"] = new JsonObject { ["name"] = name, ["resourceVersion"] = "0" },
        ["rules"] = new JsonArray(rules.Select(r => (JsonNode)r).ToArray()),
    };

    public static JsonObject RoleBinding(string ns, string name, string roleKind, string roleName, params JsonObject[] subjects) => new()
    {
        ["apiVersion"] = "rbac.authorization.k8s.io/v1",
        ["kind"] = "RoleBinding",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["resourceVersion"] = "0" },
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = roleName },
        ["subjects"] = new JsonArray(subjects.Select(s => (JsonNode)s).ToArray()),
    };

    public static JsonObject ClusterRoleBinding(string name, string roleName, params JsonObject[] subjects) => new()
    {
        ["apiVersion"] = "rbac.authorization.k8s.io/v1",
        ["kind"] = "ClusterRoleBinding",
        ["metadata"] = new JsonObject { ["name"] = name, ["resourceVersion"] = "0" },
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "ClusterRole", ["name"] = roleName },
        ["subjects"] = new JsonArray(subjects.Select(s => (JsonNode)s).ToArray()),
    };

    public static JsonObject User(string name) => new() { ["kind"] = "User", ["apiGroup"] = "rbac.authorization.k8s.io", ["name"] = name };
    public static JsonObject Group(string name) => new() { ["kind"] = "Group", ["apiGroup"] = "rbac.authorization.k8s.io", ["name"] = name };
    public static JsonObject ServiceAccount(string name, string? ns = null)
    {
        var s = new JsonObject { ["kind"] = "ServiceAccount", ["name"] = name };
        if (ns is not null) s["namespace"] = ns;
        return s;
    }

    /// <summary>The storage key of an RBAC object, from its kind and metadata.</summary>
    public static string Key(JsonObject obj)
    {
        var meta = obj["metadata"]!;
        var name = meta["name"]!.GetValue<string>();
        var ns = meta["namespace"]?.GetValue<string>();
        return obj["kind"]!.GetValue<string>() switch
        {
            "Role" => $"/registry/roles/{ns}/{name}",
            "RoleBinding" => $"/registry/rolebindings/{ns}/{name}",
            "ClusterRole" => $"/registry/clusterroles/{name}",
            "ClusterRoleBinding" => $"/registry/clusterrolebindings/{name}",
            var k => throw new ArgumentException(k),
        };
    }

    public static RbacIndex Index(params JsonObject[] objects)
    {
        var index = new RbacIndex();
        foreach (var o in objects) Assert.True(index.Apply(Key(o), o));
        return index;
    }

    public static void Put(this RbacIndex index, JsonObject obj) => Assert.True(index.Apply(Key(obj), obj));
    public static void Delete(this RbacIndex index, JsonObject obj) => Assert.True(index.Apply(Key(obj), null));

    public static UserInfo Person(string name, params string[] groups) => new(name, "", groups, UserInfo.NoExtra);

    public static UserInfo Sa(string ns, string name) =>
        new($"system:serviceaccount:{ns}:{name}", "", ["system:serviceaccounts", $"system:serviceaccounts:{ns}", UserInfo.AllAuthenticated], UserInfo.NoExtra);

    public static AuthorizationAttributes Res(UserInfo user, string verb, string ns, string resource,
        string subresource = "", string name = "", string group = "") =>
        new(user, new Verb(verb), true, "", ns, group, "v1", resource, subresource, name);

    public static AuthorizationAttributes NonRes(UserInfo user, string verb, string path) => new(user, new Verb(verb), false, path);

    public static AuthorizationResult Decide(this RbacIndex index, AuthorizationAttributes a) => new RbacAuthorizer(index).Authorize(a);

    public static bool Allows(this RbacIndex index, AuthorizationAttributes a)
    {
        var d = index.Decide(a);
        Assert.NotEqual(Decision.Deny, d.Decision); // RBAC never denies
        return d.Decision == Decision.Allow;
    }
}
