using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.FlowControl;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.FlowControl;

/// <summary>
/// Classification against the bootstrap configuration and hand-made schemas (k8s.io/apiserver pkg/util/flowcontrol/
/// rule.go, apf_controller.go): the first schema by matchingPrecedence then name whose rules match wins; subjects by
/// user, group and service account (with "*"); resource rules by verb, group, resource/subresource and namespace or
/// cluster scope; non-resource rules by exact path or "/prefix/*".
/// </summary>
public sealed class ClassificationTests
{
    private static readonly TimeProvider Time = TimeProvider.System;

    private static UserInfo User(string name, params string[] groups) =>
        new(name, "", [.. groups, UserInfo.AllAuthenticated], UserInfo.NoExtra);

    private static RequestInfo Req(string method, string path, bool watch = false) =>
        RequestInfoParser.Parse(method, path, k => watch && k == "watch" ? "true" : null);

    private static JsonObject WithUid(JsonObject o)
    {
        ((JsonObject)o["metadata"]!)["uid"] = "uid-" + o["metadata"]!["name"];
        return o;
    }

    private static ApfConfiguration Bootstrap(params JsonObject[] extraSchemas) => ApfConfiguration.Build(
        [.. BootstrapConfiguration.MandatoryFlowSchemas().Concat(BootstrapConfiguration.SuggestedFlowSchemas()).Select(WithUid), .. extraSchemas],
        [.. BootstrapConfiguration.MandatoryPriorityLevels().Concat(BootstrapConfiguration.SuggestedPriorityLevels()).Select(WithUid)],
        600, null, Time);

    private static string Classify(ApfConfiguration c, UserInfo u, RequestInfo r)
    {
        var (schema, level) = ApfFilter.Classify(c, u, r);
        return schema.Name + "/" + level.Name;
    }

    [Fact]
    public void System_masters_is_exempt_whatever_it_asks()
    {
        var c = Bootstrap();
        var admin = User("kubernetes-admin", UserInfo.SystemMasters);
        Assert.Equal("exempt/exempt", Classify(c, admin, Req("DELETE", "/api/v1/namespaces/default/pods/x")));
        Assert.Equal("exempt/exempt", Classify(c, admin, Req("GET", "/metrics")));
        Assert.Equal("uid-exempt", ApfFilter.Classify(c, admin, Req("GET", "/api/v1/pods")).Schema.Uid);
    }

    [Theory]
    [InlineData("GET", "/healthz", "probes/exempt")]
    [InlineData("GET", "/readyz", "probes/exempt")]
    [InlineData("POST", "/healthz", "global-default/global-default")] // probes is for get only
    [InlineData("GET", "/version", "global-default/global-default")]
    [InlineData("GET", "/api/v1/namespaces/default/configmaps", "global-default/global-default")]
    public void Ordinary_users_and_probes(string method, string path, string expected) =>
        Assert.Equal(expected, Classify(Bootstrap(), User("alice"), Req(method, path)));

    [Fact]
    public void Anonymous_requests_go_to_global_default_by_the_unauthenticated_group()
    {
        var anon = new UserInfo(UserInfo.Anonymous, "", [UserInfo.AllUnauthenticated], UserInfo.NoExtra);
        Assert.Equal("global-default/global-default", Classify(Bootstrap(), anon, Req("GET", "/api/v1/namespaces")));
        Assert.Equal("probes/exempt", Classify(Bootstrap(), anon, Req("GET", "/livez")));
    }

    [Theory]
    [InlineData("PUT", "/api/v1/nodes/n1/status", "system-node-high/node-high")]         // nodes/status, cluster scope
    [InlineData("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "system-node-high/node-high")]
    [InlineData("GET", "/api/v1/namespaces/default/pods/p", "system-nodes/system")]      // precedence 500 after 400
    [InlineData("GET", "/apis/coordination.k8s.io/v1/leases", "system-nodes/system")]    // leases rule has no cluster scope
    public void Nodes_by_precedence(string method, string path, string expected) =>
        Assert.Equal(expected, Classify(Bootstrap(), User("system:node:n1", "system:nodes"), Req(method, path)));

    [Theory]
    [InlineData("system:serviceaccount:kube-system:foo", "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l", "system-leader-election/leader-election")]
    [InlineData("system:serviceaccount:kube-system:foo", "PUT", "/api/v1/namespaces/kube-system/configmaps/c", "workload-leader-election/leader-election")]
    [InlineData("system:serviceaccount:kube-system:endpoint-controller", "PUT", "/api/v1/namespaces/a/endpoints/e", "endpoint-controller/workload-high")]
    [InlineData("system:serviceaccount:kube-system:foo", "GET", "/api/v1/pods", "kube-system-service-accounts/workload-high")]
    [InlineData("system:serviceaccount:kube-systemx:foo", "GET", "/api/v1/pods", "service-accounts/workload-low")] // not kube-system
    [InlineData("system:serviceaccount:team:foo", "GET", "/api/v1/pods", "service-accounts/workload-low")]
    [InlineData("system:kube-scheduler", "POST", "/api/v1/namespaces/a/pods/p/binding", "kube-scheduler/workload-high")]
    public void Service_accounts_and_components(string user, string method, string path, string expected)
    {
        var groups = user.StartsWith("system:serviceaccount:", StringComparison.Ordinal)
            ? new[] { "system:serviceaccounts", "system:serviceaccounts:" + user.Split(':')[2] } : [];
        Assert.Equal(expected, Classify(Bootstrap(), User(user, groups), Req(method, path)));
    }

    private static JsonObject Schema(string name, int precedence, string level, JsonObject rule) => WithUid(new JsonObject
    {
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["priorityLevelConfiguration"] = new JsonObject { ["name"] = level },
            ["matchingPrecedence"] = precedence,
            ["distinguisherMethod"] = new JsonObject { ["type"] = "ByUser" },
            ["rules"] = new JsonArray(rule),
        },
    });

    private static JsonObject Rule(string subjectJson, string? resourceRuleJson = null, string? nonResourceRuleJson = null)
    {
        var r = new JsonObject { ["subjects"] = JsonNode.Parse("[" + subjectJson + "]") };
        if (resourceRuleJson is not null) r["resourceRules"] = JsonNode.Parse("[" + resourceRuleJson + "]");
        if (nonResourceRuleJson is not null) r["nonResourceRules"] = JsonNode.Parse("[" + nonResourceRuleJson + "]");
        return r;
    }

    [Fact]
    public void Equal_precedence_is_decided_by_name()
    {
        var rule = """{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"clusterScope":true,"namespaces":["*"]}""";
        var c = Bootstrap(
            Schema("zeta", 50, "workload-low", Rule("""{"kind":"User","user":{"name":"bob"}}""", rule)),
            Schema("alpha", 50, "workload-high", Rule("""{"kind":"User","user":{"name":"bob"}}""", rule)));
        Assert.Equal("alpha/workload-high", Classify(c, User("bob"), Req("GET", "/api/v1/pods")));
        Assert.Equal("global-default/global-default", Classify(c, User("carol"), Req("GET", "/api/v1/pods")));
    }

    [Theory]
    [InlineData("GET", "/api/v1/namespaces/team/pods", true)]
    [InlineData("GET", "/api/v1/namespaces/team/pods/p/log", false)]        // pods/log is another resource
    [InlineData("GET", "/api/v1/namespaces/other/pods", false)]             // another namespace
    [InlineData("GET", "/api/v1/pods", false)]                              // cluster scope not asked for
    [InlineData("GET", "/api/v1/namespaces/team/pods?watch=true", true)]    // watch is named
    [InlineData("DELETE", "/api/v1/namespaces/team/pods/p", false)]         // verb not named
    [InlineData("GET", "/apis/apps/v1/namespaces/team/deployments", false)] // group not named
    public void Resource_rules_match_verb_group_resource_and_namespace(string method, string path, bool matches)
    {
        var c = Bootstrap(Schema("team-pods", 60, "workload-low", Rule("""{"kind":"Group","group":{"name":"devs"}}""",
            """{"verbs":["get","list","watch"],"apiGroups":[""],"resources":["pods","pods/status"],"namespaces":["team"]}""")));
        var watch = path.EndsWith("?watch=true", StringComparison.Ordinal);
        var info = Req(method, watch ? path[..^"?watch=true".Length] : path, watch);
        Assert.Equal(matches ? "team-pods" : "global-default", ApfFilter.Classify(c, User("dev1", "devs"), info).Schema.Name);
    }

    [Theory]
    [InlineData("/apis/metrics/x", true)]
    [InlineData("/apis/metrics", true)]
    [InlineData("/apis/metricsx", false)]
    [InlineData("/openapi/v2", true)]
    [InlineData("/openapi/v3", false)]
    public void Non_resource_rules_match_exact_paths_and_prefixes(string path, bool matches)
    {
        var c = Bootstrap(Schema("nr", 60, "workload-low", Rule("""{"kind":"User","user":{"name":"*"}}""", null,
            """{"verbs":["get"],"nonResourceURLs":["/apis/metrics/*","/apis/metrics","/openapi/v2"]}""")));
        Assert.Equal(matches ? "nr" : "global-default", ApfFilter.Classify(c, User("anyone"), Req("GET", path)).Schema.Name);
    }

    [Fact]
    public void A_service_account_subject_names_one_account_or_all_of_a_namespace()
    {
        var all = """{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"clusterScope":true,"namespaces":["*"]}""";
        var c = Bootstrap(
            Schema("one", 60, "workload-high", Rule("""{"kind":"ServiceAccount","serviceAccount":{"namespace":"ci","name":"runner"}}""", all)),
            Schema("ns", 61, "workload-low", Rule("""{"kind":"ServiceAccount","serviceAccount":{"namespace":"ci","name":"*"}}""", all)));
        Assert.Equal("one", ApfFilter.Classify(c, User("system:serviceaccount:ci:runner"), Req("GET", "/api/v1/pods")).Schema.Name);
        Assert.Equal("ns", ApfFilter.Classify(c, User("system:serviceaccount:ci:other"), Req("GET", "/api/v1/pods")).Schema.Name);
        Assert.Equal("global-default", ApfFilter.Classify(c, User("system:serviceaccount:cix:runner"), Req("GET", "/api/v1/pods")).Schema.Name);
    }

    [Fact]
    public void A_schema_whose_level_is_missing_dangles_and_is_skipped()
    {
        var all = """{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"clusterScope":true,"namespaces":["*"]}""";
        var c = Bootstrap(Schema("broken", 10, "no-such-level", Rule("""{"kind":"User","user":{"name":"bob"}}""", all)));
        Assert.True(c.Dangling["broken"]);
        Assert.False(c.Dangling["global-default"]);
        Assert.Equal("global-default", ApfFilter.Classify(c, User("bob"), Req("GET", "/api/v1/pods")).Schema.Name);
    }

    [Fact]
    public void Without_any_objects_the_mandatory_schemas_and_levels_are_imagined()
    {
        var c = ApfConfiguration.Build([], [], 600, null, Time);
        Assert.Equal(["exempt", "catch-all"], c.Schemas.Select(s => s.Schema.Name));
        Assert.Equal("catch-all/catch-all", Classify(c, User("alice"), Req("GET", "/api/v1/pods")));
        Assert.Equal("exempt/exempt", Classify(c, User("root", UserInfo.SystemMasters), Req("GET", "/api/v1/pods")));
    }

    [Fact]
    public void Nominal_limits_share_the_server_limit_by_shares()
    {
        // Bootstrap shares: catch-all 5, exempt 0, system 30, node-high 40, leader-election 10, workload-high 40,
        // workload-low 100, global-default 20: 245 in all. NominalCL = ceil(600 × shares / 245).
        var c = Bootstrap();
        Assert.Equal(13, c.Levels["catch-all"].NominalLimit);
        Assert.Equal(0, c.Levels["exempt"].NominalLimit);
        Assert.Equal(74, c.Levels["system"].NominalLimit);
        Assert.Equal(245, c.Levels["workload-low"].NominalLimit);
        Assert.Equal(49, c.Levels["global-default"].NominalLimit);
        Assert.Null(c.Levels["exempt"].QueueSet);
    }
}
