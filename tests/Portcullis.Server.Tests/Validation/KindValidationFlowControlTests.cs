using System.Text.Json.Nodes;
using Portcullis.Server.FlowControl;
using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

/// <summary>flowcontrol.apiserver.k8s.io/v1 FlowSchema and PriorityLevelConfiguration: v1 defaults and pkg/apis/flowcontrol/validation's messages.</summary>
public sealed class KindValidationFlowControlTests
{
    private const string G = "flowcontrol.apiserver.k8s.io";

    private static JsonObject Fs(string name, string spec)
    {
        var o = Obj($$"""{"apiVersion":"flowcontrol.apiserver.k8s.io/v1","kind":"FlowSchema","metadata":{"name":"{{name}}"},"spec":{{spec}}}""");
        Kinds.Of(G, "FlowSchema").Default(o);
        return o;
    }

    private static JsonObject Pl(string name, string spec)
    {
        var o = Obj($$"""{"apiVersion":"flowcontrol.apiserver.k8s.io/v1","kind":"PriorityLevelConfiguration","metadata":{"name":"{{name}}"},"spec":{{spec}}}""");
        Kinds.Of(G, "PriorityLevelConfiguration").Default(o);
        return o;
    }

    private const string AllResources = """{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"clusterScope":true,"namespaces":["*"]}""";

    [Fact]
    public void A_valid_schema_has_no_errors_and_gets_precedence_1000_by_default()
    {
        var fs = Fs("mine", """{"priorityLevelConfiguration":{"name":"workload-low"},"rules":[{"subjects":[{"kind":"User","user":{"name":"bob"}}],"resourceRules":[""" + AllResources + "]}]}");
        Assert.Equal(1000, fs["spec"]!["matchingPrecedence"]!.GetValue<int>());
        Assert.Empty(Check(G, "FlowSchema", fs));
    }

    [Fact]
    public void Schema_errors_carry_upstreams_messages()
    {
        var fs = Fs("mine", """
            {"priorityLevelConfiguration":{"name":""},"matchingPrecedence":1,"distinguisherMethod":{"type":"ByColor"},
             "rules":[{"subjects":[{"kind":"User","group":{"name":"g"}}]},
                      {"subjects":[],"resourceRules":[{"verbs":["*","get"],"apiGroups":["*","apps"],"resources":[],"namespaces":[]}],
                       "nonResourceRules":[{"verbs":["fly"],"nonResourceURLs":["healthz","/a/*/b"]}]}]}
            """);
        Assert.Equal(
        [
            "spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1",
            "spec.distinguisherMethod.type: Unsupported value: v1.FlowDistinguisherMethod{Type:\"ByColor\"}: supported values: \"ByNamespace\", \"ByUser\"",
            "spec.priorityLevelConfiguration.name: Required value: must reference a priority level",
            "spec.rules[0].subjects[0].user: Required value: user is required when subject kind is 'User'",
            "spec.rules[0].subjects[0].group: Forbidden: group is forbidden when subject kind is not 'Group'",
            "spec.rules[0]: Required value: at least one of resourceRules and nonResourceRules has to be non-empty",
            "spec.rules[1].subjects: Required value: subjects must contain at least one value",
            "spec.rules[1].resourceRules[0].verbs: Invalid value: []string{\"*\", \"get\"}: if '*' is present, must not specify other verbs",
            "spec.rules[1].resourceRules[0].apiGroups: Invalid value: []string{\"*\", \"apps\"}: if '*' is present, must not specify other api groups",
            "spec.rules[1].resourceRules[0].resources: Required value: resource rules must supply at least one resource",
            "spec.rules[1].resourceRules[0].namespaces: Required value: resource rules that are not cluster scoped must supply at least one namespace",
            "spec.rules[1].nonResourceRules[0].verbs: Unsupported value: []string{\"fly\"}: supported values: \"create\", \"delete\", \"deletecollection\", \"get\", \"list\", \"patch\", \"proxy\", \"update\", \"watch\"",
            "spec.rules[1].nonResourceRules[0].nonResourceURLs[0]: Invalid value: \"healthz\": must start with slash",
            "spec.rules[1].nonResourceRules[0].nonResourceURLs[1]: Invalid value: \"/a/*/b\": wildcard can only do suffix matching",
        ], Check(G, "FlowSchema", fs));
    }

    [Fact]
    public void Precedence_beyond_10000_and_bad_namespaces_are_invalid()
    {
        var fs = Fs("mine", """
            {"priorityLevelConfiguration":{"name":"x"},"matchingPrecedence":10001,
             "rules":[{"subjects":[{"kind":"ServiceAccount","serviceAccount":{"name":"a"}}],"resourceRules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"],"namespaces":["Bad_NS"]}]}]}
            """);
        Assert.Equal(
        [
            "spec.matchingPrecedence: Invalid value: 10001: must not be greater than 10000",
            "spec.rules[0].subjects[0].serviceAccount.namespace: Required value: must specify namespace for service account",
            "spec.rules[0].resourceRules[0].namespaces[0]: Invalid value: \"Bad_NS\": each member of this list must be '*' or a DNS-1123 label; a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ], Check(G, "FlowSchema", fs));
    }

    [Fact]
    public void A_mandatory_schema_must_keep_its_fixed_spec()
    {
        var exempt = BootstrapConfiguration.MandatoryFlowSchemas()[0];
        Assert.Empty(Check(G, "FlowSchema", exempt));
        ((JsonObject)exempt["spec"]!)["matchingPrecedence"] = 2;
        var e = Assert.Single(Check(G, "FlowSchema", exempt));
        Assert.StartsWith("spec: Invalid value: ", e);
        Assert.EndsWith(": spec of 'exempt' must equal the fixed value", e);
    }

    [Fact]
    public void Every_bootstrap_object_is_valid_and_unchanged_by_defaulting()
    {
        foreach (var fs in BootstrapConfiguration.MandatoryFlowSchemas().Concat(BootstrapConfiguration.SuggestedFlowSchemas()))
        {
            var defaulted = (JsonObject)fs.DeepClone();
            Kinds.Of(G, "FlowSchema").Default(defaulted);
            Assert.True(JsonNode.DeepEquals(fs, defaulted), fs.ToJsonString());
            Assert.Empty(Check(G, "FlowSchema", fs));
        }
        foreach (var pl in BootstrapConfiguration.MandatoryPriorityLevels().Concat(BootstrapConfiguration.SuggestedPriorityLevels()))
        {
            var defaulted = (JsonObject)pl.DeepClone();
            Kinds.Of(G, "PriorityLevelConfiguration").Default(defaulted);
            Assert.True(JsonNode.DeepEquals(pl, defaulted), pl.ToJsonString());
            Assert.Empty(Check(G, "PriorityLevelConfiguration", pl));
        }
    }

    [Fact]
    public void A_limited_level_is_defaulted_as_v1()
    {
        var pl = Pl("mine", """{"type":"Limited","limited":{"limitResponse":{"type":"Queue","queuing":{}}}}""");
        Assert.Equal("""{"type":"Limited","limited":{"limitResponse":{"type":"Queue","queuing":{"handSize":8,"queues":64,"queueLengthLimit":50}},"nominalConcurrencyShares":30,"lendablePercent":0}}""",
            pl["spec"]!.ToJsonString());
        Assert.Empty(Check(G, "PriorityLevelConfiguration", pl));
        // v1 keeps an explicit 0 (a "jail" level).
        Assert.Equal(0, Pl("j", """{"type":"Limited","limited":{"nominalConcurrencyShares":0,"limitResponse":{"type":"Reject"}}}""")["spec"]!["limited"]!["nominalConcurrencyShares"]!.GetValue<int>());
    }

    [Fact]
    public void Level_errors_carry_upstreams_messages()
    {
        Assert.Equal(
        [
            "spec.limited.nominalConcurrencyShares: Invalid value: -1: must be a non-negative integer",
            "spec.limited.limitResponse.queuing.queueLengthLimit: Invalid value: -5: must be positive",
            "spec.limited.limitResponse.queuing.handSize: Invalid value: 100: should not be greater than queues (64)",
            "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive",
            "spec.limited.borrowingLimitPercent: Invalid value: -1: if specified, must be a non-negative integer",
        ], Check(G, "PriorityLevelConfiguration", Pl("mine", """
            {"type":"Limited","limited":{"nominalConcurrencyShares":-1,"lendablePercent":101,"borrowingLimitPercent":-1,
             "limitResponse":{"type":"Queue","queuing":{"queues":64,"handSize":100,"queueLengthLimit":-5}}}}
            """)));
        Assert.Equal(
        [
            "spec.type: Invalid value: \"Exempt\": type must be 'Exempt' if and only if name is 'exempt'",
            "spec.limited: Forbidden: must be nil if the type is not Limited",
        ], Check(G, "PriorityLevelConfiguration", Pl("mine", """{"type":"Exempt","limited":{"limitResponse":{"type":"Reject"}}}""")));
        Assert.Equal(["spec.limited: Required value: must not be empty when type is Limited"],
            Check(G, "PriorityLevelConfiguration", Pl("mine", """{"type":"Limited"}""")));
        Assert.Equal(["spec.limited.limitResponse.queuing: Forbidden: must be nil if limited.limitResponse.type is not Limited"],
            Check(G, "PriorityLevelConfiguration", Pl("mine", """{"type":"Limited","limited":{"limitResponse":{"type":"Reject","queuing":{"queues":1,"handSize":1,"queueLengthLimit":1}}}}""")));
        Assert.Equal(["spec.limited.limitResponse.queuing.handSize: Invalid value: 16: required entropy bits of deckSize 10000 and handSize 16 should not be greater than 60"],
            Check(G, "PriorityLevelConfiguration", Pl("mine", """{"type":"Limited","limited":{"limitResponse":{"type":"Queue","queuing":{"queues":10000,"handSize":16,"queueLengthLimit":1}}}}""")));
    }

    [Fact]
    public void The_exempt_level_may_change_only_its_exempt_settings()
    {
        Assert.Empty(Check(G, "PriorityLevelConfiguration", Pl("exempt", """{"type":"Exempt","exempt":{"nominalConcurrencyShares":10,"lendablePercent":50}}""")));
        Assert.Equal(["spec.exempt.lendablePercent: Invalid value: 200: must be between 0 and 100, inclusive"],
            Check(G, "PriorityLevelConfiguration", Pl("exempt", """{"type":"Exempt","exempt":{"lendablePercent":200}}""")));
    }
}
