using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using static Portcullis.Server.Tests.Authorization.Rbac.RbacKit;

namespace Portcullis.Server.Tests.Authorization.Rbac;

/// <summary>
/// How one rule matches a request (upstream's RuleAllows and the rbac/v1 evaluation helpers): each
/// case binds a ClusterRole with the rule to alice cluster-wide and asks about one request.
/// </summary>
public sealed class RbacRuleMatchingTests
{
    private static readonly UserInfo Alice = Person("alice", UserInfo.AllAuthenticated);

    private static bool Allowed(JsonObject rule, Func<UserInfo, Portcullis.Server.Authorization.AuthorizationAttributes> request) =>
        Index(ClusterRole("r", rule), ClusterRoleBinding("b", "r", User("alice"))).Allows(request(Alice));

    [Theory]
    [InlineData("get", "get", true)]
    [InlineData("get,list", "list", true)]
    [InlineData("get,list", "watch", false)]
    [InlineData("*", "deletecollection", true)]
    [InlineData("*", "escalate", true)]
    [InlineData("use", "use", true)]
    [InlineData("use", "get", false)]
    [InlineData("get", "use", false)]
    [InlineData("GET", "get", false)] // verbs are compared exactly
    [InlineData("get,impersonate", "impersonate", true)]
    public void Verbs(string ruleVerbs, string verb, bool allowed) =>
        Assert.Equal(allowed, Allowed(Rule(ruleVerbs, "", "pods"), u => Res(u, verb, "default", "pods")));

    [Fact]
    public void RuleWithoutVerbs_MatchesNothing()
    {
        var rule = new JsonObject { ["verbs"] = new JsonArray(), ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*") };
        Assert.False(Allowed(rule, u => Res(u, "get", "default", "pods")));
    }

    [Theory]
    [InlineData("", "", true)]              // the core group
    [InlineData("", "apps", false)]
    [InlineData("apps", "apps", true)]
    [InlineData("apps", "", false)]
    [InlineData("apps,batch", "batch", true)]
    [InlineData("*", "example.com", true)]
    [InlineData("*", "", true)]
    [InlineData("app", "apps", false)]
    public void ApiGroups(string ruleGroups, string group, bool allowed) =>
        Assert.Equal(allowed, Allowed(Rule("get", ruleGroups, "*"), u => Res(u, "get", "default", "things", group: group)));

    [Fact]
    public void RuleWithoutApiGroups_MatchesNoResourceRequest() =>
        Assert.False(Allowed(Rule("get", resources: "pods"), u => Res(u, "get", "default", "pods")));

    [Theory]
    [InlineData("pods", "pods", "", true)]
    [InlineData("pods", "pods", "log", false)]        // pods does not cover pods/log
    [InlineData("pods/log", "pods", "log", true)]
    [InlineData("pods/log", "pods", "", false)]
    [InlineData("pods/log", "pods", "exec", false)]
    [InlineData("pods/log", "nodes", "log", false)]
    [InlineData("*", "pods", "", true)]
    [InlineData("*", "pods", "log", true)]             // * covers every resource and subresource
    [InlineData("*/scale", "deployments", "scale", true)]
    [InlineData("*/scale", "replicasets", "scale", true)]
    [InlineData("*/scale", "deployments", "", false)]
    [InlineData("*/scale", "deployments", "status", false)]
    [InlineData("*/scal", "deployments", "scale", false)]
    [InlineData("deployments/*", "deployments", "scale", false)] // only a leading * is a wildcard
    [InlineData("pod", "pods", "", false)]
    [InlineData("pods,services", "services", "", true)]
    public void Resources(string ruleResources, string resource, string subresource, bool allowed) =>
        Assert.Equal(allowed, Allowed(Rule("*", "*", ruleResources), u => Res(u, "get", "default", resource, subresource)));

    [Theory]
    [InlineData("get", "mine", true)]
    [InlineData("get", "other", false)]
    [InlineData("list", "", false)]      // a list has no name, so resourceNames never match it
    [InlineData("watch", "", false)]
    [InlineData("create", "", false)]    // neither does a create
    [InlineData("update", "mine", true)]
    [InlineData("delete", "yours", true)]
    [InlineData("deletecollection", "", false)]
    public void ResourceNames(string verb, string name, bool allowed) =>
        Assert.Equal(allowed, Allowed(Rule("*", "", "configmaps", names: "mine,yours"), u => Res(u, verb, "default", "configmaps", name: name)));

    [Theory]
    [InlineData("get", "")]
    [InlineData("list", "")]
    [InlineData("create", "")]
    [InlineData("get", "anything")]
    public void NoResourceNames_MatchesEveryNameAndNone(string verb, string name) =>
        Assert.True(Allowed(Rule("*", "", "configmaps"), u => Res(u, verb, "default", "configmaps", name: name)));

    [Fact]
    public void ResourceNames_ApplyToSubresources() =>
        Assert.True(Allowed(Rule("get", "apps", "deployments/scale", names: "web"), u => Res(u, "get", "default", "deployments", "scale", "web", "apps")));

    [Theory]
    [InlineData("/healthz", "/healthz", true)]
    [InlineData("/healthz", "/healthz/ready", false)]
    [InlineData("/healthz", "/healthz/", false)]
    [InlineData("/healthz/*", "/healthz/ready", true)]
    [InlineData("/healthz/*", "/healthz/", true)]
    [InlineData("/healthz/*", "/healthz", false)]
    [InlineData("/apis/*", "/apis/apps/v1", true)]
    [InlineData("/apis/*", "/apis", false)]
    [InlineData("/apis/*", "/api/v1", false)]
    [InlineData("/apis*", "/apis", true)]
    [InlineData("/apis*", "/apiserver", true)]
    [InlineData("*", "/anything/at/all", true)]
    [InlineData("/version,/version/", "/version/", true)]
    [InlineData("/vers*ion", "/version", false)] // only a trailing * is a wildcard
    public void NonResourceUrls(string ruleUrls, string path, bool allowed) =>
        Assert.Equal(allowed, Allowed(Rule("get", urls: ruleUrls), u => NonRes(u, "get", path)));

    [Fact]
    public void NonResourceUrls_CheckTheVerb()
    {
        Assert.False(Allowed(Rule("get", urls: "/metrics"), u => NonRes(u, "post", "/metrics")));
        Assert.True(Allowed(Rule("*", urls: "/metrics"), u => NonRes(u, "post", "/metrics")));
    }

    [Fact]
    public void ResourceRules_DoNotMatchNonResourceRequests_AndTheOtherWayRound()
    {
        Assert.False(Allowed(Rule("*", "*", "*"), u => NonRes(u, "get", "/healthz")));
        Assert.False(Allowed(Rule("*", urls: "*"), u => Res(u, "get", "default", "pods")));
    }

    [Fact]
    public void AnyRuleOfTheRole_Suffices()
    {
        var index = Index(
            ClusterRole("r", Rule("get", "", "pods"), Rule("list", "apps", "deployments"), Rule("get", urls: "/healthz")),
            ClusterRoleBinding("b", "r", User("alice")));
        Assert.True(index.Allows(Res(Alice, "get", "ns", "pods")));
        Assert.True(index.Allows(Res(Alice, "list", "ns", "deployments", group: "apps")));
        Assert.True(index.Allows(NonRes(Alice, "get", "/healthz")));
        Assert.False(index.Allows(Res(Alice, "list", "ns", "pods")));        // rules are not mixed together
        Assert.False(index.Allows(Res(Alice, "get", "ns", "deployments", group: "apps")));
    }

    [Fact]
    public void ClusterScopedRequests_UseClusterRoleBindings()
    {
        var index = Index(ClusterRole("node-reader", Rule("get,list", "", "nodes")), ClusterRoleBinding("b", "node-reader", User("alice")));
        Assert.True(index.Allows(Res(Alice, "list", "", "nodes")));
        Assert.False(index.Allows(Res(Alice, "delete", "", "nodes", name: "n1")));
    }
}
