using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Resources.Autoscaling;
using Portcullis.Server.Api.Resources.Core;
using Portcullis.Server.Errors;
using static Portcullis.Server.Tests.Admission.PodAdmissionTestKit;

namespace Portcullis.Server.Tests.Admission.Matching;

/// <summary>
/// Rule, selector and matchPolicy matching shared by webhooks and policies (cases after apiserver's
/// predicates/rules/rules_test.go, generic/webhook_test.go and policy/matching/matching_test.go).
/// </summary>
public class AdmissionMatcherTests
{
    private static readonly ResourceRegistry Registry = new(BuiltinResources.All);

    private static readonly Dictionary<string, JsonObject> NamespaceObjects = new()
    {
        ["prod"] = Json("""{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"prod","labels":{"env":"prod"}}}"""),
        ["dev"] = Json("""{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"dev","labels":{"env":"dev"}}}"""),
    };

    private static readonly AdmissionMatcher Matcher =
        new(Registry, (name, _) => Task.FromResult(NamespaceObjects.GetValueOrDefault(name)));

    private static JsonObject Pod(string ns, string name = "p", string labels = "{}") =>
        Json($$$"""{"kind":"Pod","apiVersion":"v1","metadata":{"name":"{{{name}}}","namespace":"{{{ns}}}","labels":{{{labels}}}}}""");

    private static AdmissionRequest Req(Operation op, ResourceDefinition def, string ns, string name, JsonObject obj, JsonObject? old = null, string sub = "") =>
        new(op, def, sub, ns, name, obj, old, User, false);

    private static AdmissionRequest PodCreate(string ns = "prod", string name = "p", string labels = "{}") =>
        Req(Operation.Create, PodKind.V1, ns, name, Pod(ns, name, labels));

    private static JsonObject Rule(string json) => Json(json);

    [Theory]
    [InlineData("""{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}""", true)]
    [InlineData("""{"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],"resources":["*"]}""", true)]
    [InlineData("""{"operations":["UPDATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}""", false)]
    [InlineData("""{"operations":["CREATE"],"apiGroups":["apps"],"apiVersions":["v1"],"resources":["pods"]}""", false)]
    [InlineData("""{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v2"],"resources":["pods"]}""", false)]
    [InlineData("""{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods/*"]}""", true)]
    [InlineData("""{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["*/*"]}""", true)]
    [InlineData("""{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"Namespaced"}""", true)]
    [InlineData("""{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"Cluster"}""", false)]
    [InlineData("""{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"Bogus"}""", false)]
    [InlineData("""{"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}""", false)]
    public void RuleOnPodCreate(string rule, bool matches) =>
        Assert.Equal(matches, RuleMatcher.Matches(Rule(rule), PodCreate()));

    [Theory]
    [InlineData("pods", false)]
    [InlineData("pods/status", true)]
    [InlineData("pods/*", true)]
    [InlineData("*/status", true)]
    [InlineData("*", false)]
    [InlineData("*/scale", false)]
    public void Subresources(string resource, bool matches)
    {
        var pod = Pod("prod");
        var r = Req(Operation.Update, PodKind.V1, "prod", "p", pod, pod, "status");
        var rule = new JsonObject
        {
            ["operations"] = new JsonArray("UPDATE"), ["apiGroups"] = new JsonArray(""), ["apiVersions"] = new JsonArray("v1"),
            ["resources"] = new JsonArray(resource),
        };
        Assert.Equal(matches, RuleMatcher.Matches(rule, r));
    }

    [Fact]
    public void NamespacesAreClusterScopedForScope()
    {
        var ns = Json("""{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"x"}}""");
        var r = Req(Operation.Create, NamespaceKind.V1, "", "x", ns);
        Assert.True(RuleMatcher.Matches(Rule("""{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["namespaces"],"scope":"Cluster"}"""), r));
        Assert.False(RuleMatcher.Matches(Rule("""{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["namespaces"],"scope":"Namespaced"}"""), r));
    }

    [Fact]
    public void AdmissionConfigurationKindsAreExempt()
    {
        var vwc = Json("""{"kind":"ValidatingWebhookConfiguration","apiVersion":"admissionregistration.k8s.io/v1","metadata":{"name":"x"}}""");
        Assert.True(RuleMatcher.IsExemptAdmissionConfiguration(Req(Operation.Create, Api.Resources.AdmissionRegistration.WebhookConfigurationKind.Validating, "", "x", vwc)));
        Assert.True(RuleMatcher.IsExemptAdmissionConfiguration(Req(Operation.Delete, Api.Resources.AdmissionRegistration.ValidatingAdmissionPolicyBindingKind.V1, "", "x", vwc, vwc)));
        Assert.False(RuleMatcher.IsExemptAdmissionConfiguration(PodCreate()));
    }

    [Fact]
    public void EquivalentVersionIsMatchedOnlyUnderEquivalentPolicy()
    {
        var hpa = Json("""{"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","metadata":{"name":"h","namespace":"prod"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"d","apiVersion":"apps/v1"},"minReplicas":1,"maxReplicas":3,"metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}]}}""");
        var r = Req(Operation.Create, HorizontalPodAutoscalerKind.V2, "prod", "h", hpa);
        var rules = new JsonArray(Rule("""{"operations":["CREATE"],"apiGroups":["autoscaling"],"apiVersions":["v1"],"resources":["horizontalpodautoscalers"]}"""));
        Assert.Null(Matcher.MatchRules(rules, "Exact", r));
        var m = Matcher.MatchRules(rules, "Equivalent", r);
        Assert.NotNull(m);
        Assert.Equal(new Api.GroupVersionResource("autoscaling", "v1", "horizontalpodautoscalers"), m.Resource);
        Assert.Equal(("autoscaling", "v1", "HorizontalPodAutoscaler"), m.Kind);
        Assert.True(m.IsEquivalent(r));
        var converted = AdmissionMatcher.Convert(r.Object, r.Resource, m.Definition)!;
        Assert.Equal("autoscaling/v1", converted["apiVersion"]!.GetValue<string>());
        Assert.Equal(50L, Portcullis.Server.Serialization.JsonRead.Long(converted["spec"]!["targetCPUUtilizationPercentage"]));
        Assert.Equal("autoscaling/v2", hpa["apiVersion"]!.GetValue<string>());
    }

    [Fact]
    public void OwnVersionWinsOverEquivalents()
    {
        var rules = new JsonArray(Rule("""{"operations":["CREATE"],"apiGroups":["*"],"apiVersions":["*"],"resources":["*"]}"""));
        var m = Matcher.MatchRules(rules, "Equivalent", PodCreate())!;
        Assert.False(m.IsEquivalent(PodCreate()));
        Assert.Equal(("", "v1", "Pod"), m.Kind);
    }

    [Fact]
    public async Task NamespaceSelector()
    {
        var prodOnly = Json("""{"matchLabels":{"env":"prod"}}""");
        Assert.True(await Matcher.NamespaceSelectorMatchesAsync(prodOnly, PodCreate("prod"), default));
        Assert.False(await Matcher.NamespaceSelectorMatchesAsync(prodOnly, PodCreate("dev"), default));
        Assert.True(await Matcher.NamespaceSelectorMatchesAsync(new JsonObject(), PodCreate("dev"), default));
        var e = await Assert.ThrowsAsync<ApiException>(async () => await Matcher.NamespaceSelectorMatchesAsync(prodOnly, PodCreate("missing"), default));
        Assert.Equal(404, e.Code);

        // A namespace being created is matched by its own labels; cluster-scoped objects always match.
        var ns = Json("""{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"new","labels":{"env":"prod"}}}""");
        Assert.True(await Matcher.NamespaceSelectorMatchesAsync(prodOnly, Req(Operation.Create, NamespaceKind.V1, "", "new", ns), default));
        var node = Json("""{"kind":"Node","apiVersion":"v1","metadata":{"name":"n"}}""");
        Assert.True(await Matcher.NamespaceSelectorMatchesAsync(prodOnly, Req(Operation.Create, NodeKind.V1, "", "n", node), default));
    }

    [Fact]
    public void ObjectSelectorReadsObjectOrOldObject()
    {
        var sel = Json("""{"matchExpressions":[{"key":"app","operator":"In","values":["web"]}]}""");
        Assert.True(AdmissionMatcher.ObjectSelectorMatches(sel, PodCreate(labels: """{"app":"web"}""")));
        Assert.False(AdmissionMatcher.ObjectSelectorMatches(sel, PodCreate(labels: """{"app":"db"}""")));
        var old = Pod("prod", labels: """{"app":"web"}""");
        var update = Req(Operation.Update, PodKind.V1, "prod", "p", Pod("prod", labels: """{"app":"db"}"""), old);
        Assert.True(AdmissionMatcher.ObjectSelectorMatches(sel, update));
        Assert.True(AdmissionMatcher.ObjectSelectorMatches(new JsonObject(), PodCreate()));
    }

    [Fact]
    public async Task PolicyMatchResources()
    {
        var match = Json("""
            {"namespaceSelector":{"matchLabels":{"env":"prod"}},"objectSelector":{},"matchPolicy":"Equivalent",
             "resourceRules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"resourceNames":["a","b"]}],
             "excludeResourceRules":[{"operations":["*"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"resourceNames":["b"]}]}
            """);
        Assert.NotNull(await Matcher.MatchAsync(match, PodCreate("prod", "a"), default));
        Assert.Null(await Matcher.MatchAsync(match, PodCreate("prod", "b"), default)); // excluded
        Assert.Null(await Matcher.MatchAsync(match, PodCreate("prod", "c"), default)); // not named
        Assert.Null(await Matcher.MatchAsync(match, PodCreate("dev", "a"), default)); // namespace
        // No resourceRules (a binding's matchResources may leave them out): everything matches.
        Assert.NotNull(await Matcher.MatchAsync(Json("""{"namespaceSelector":{},"objectSelector":{}}"""), PodCreate("dev", "z"), default));
        // A missing namespace is an error only when the rules match.
        var podsOnly = Json("""{"namespaceSelector":{"matchLabels":{"env":"prod"}},"resourceRules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"]}]}""");
        Assert.Null(await Matcher.MatchAsync(podsOnly, PodCreate("missing"), default));
        await Assert.ThrowsAsync<ApiException>(async () => await Matcher.MatchAsync(match, PodCreate("missing", "a"), default));
    }
}
