using System.Text.Json.Nodes;
using Portcullis.Cel;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Api.CustomResources.Schema;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>x-kubernetes-validations over custom objects: typing of self, oldSelf correlation, messages, reasons and paths.</summary>
public sealed class CelRulesTests
{
    private static CelRules Rules(string schema) => CelRules.Build(JsonSchemaProps.Parse((JsonObject)JsonNode.Parse(schema)!))!;
    private static JsonObject O(string json) => (JsonObject)JsonNode.Parse(json)!;
    private static List<string> Errors(CelRules rules, string obj, string? old = null) =>
        rules.Validate(O(obj), old is null ? null : O(old)).Select(e => e.ToString()).ToList();

    [Fact]
    public void SchemaWithoutRules_HasNone() =>
        Assert.Null(CelRules.Build(JsonSchemaProps.Parse(O("""{"type":"object","properties":{"spec":{"type":"object"}}}"""))));

    [Fact]
    public void Self_IsTypedFromTheSchema()
    {
        var s = JsonSchemaProps.Parse(O("""
            {"type":"object","properties":{
              "n":{"type":"integer"},"d":{"type":"number"},"t":{"type":"string","format":"date-time"},"dur":{"type":"string","format":"duration"},
              "ios":{"x-kubernetes-int-or-string":true},"m":{"type":"object","additionalProperties":{"type":"string"}},
              "l":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"set"},"my-field":{"type":"boolean"}}}
            """));
        var t = SchemaDecl.From(s, isResourceRoot: false)!.Type;
        Assert.NotNull(t.Fields);
        Assert.Equal(["int", "double", "timestamp", "duration", "dyn", "map(string, string)", "list(string)", "bool"],
            new[] { "n", "d", "t", "dur", "ios", "m", "l", "my__dash__field" }.Select(f => t.Fields![f].ToString()));
    }

    [Fact]
    public void FailedRules_ReportUpstreamsMessages_AtTheirNodes()
    {
        var rules = Rules("""
            {"type":"object","x-kubernetes-validations":[{"rule":"has(self.spec)"}],"properties":{"spec":{"type":"object",
              "x-kubernetes-validations":[
                {"rule":"self.min <= self.max","message":"  min must not exceed max  "},
                {"rule":"self.max < 10","messageExpression":"'max is ' + string(self.max)"},
                {"rule":"self.max < 20","messageExpression":"''"},
                {"rule":"self.max < 30"}],
              "properties":{"min":{"type":"integer"},"max":{"type":"integer"},
                "items":{"type":"array","items":{"type":"string","x-kubernetes-validations":[{"rule":"self != 'bad'","reason":"FieldValueForbidden"}]}}}}}}
            """);
        Assert.Equal(
        [
            "spec: Invalid value: \"object\": min must not exceed max",
            "spec: Invalid value: \"object\": max is 50",
            // An empty messageExpression falls back to the static message (here the default one).
            "spec: Invalid value: \"object\": failed rule: self.max < 20",
            "spec: Invalid value: \"object\": failed rule: self.max < 30",
            "spec.items[1]: Forbidden: failed rule: self != 'bad'",
        ], Errors(rules, """{"spec":{"min":60,"max":50,"items":["ok","bad"]}}"""));
        Assert.Equal(["<nil>: Invalid value: \"object\": failed rule: has(self.spec)"], Errors(rules, "{}"));
    }

    [Fact]
    public void EvaluationErrors_AreReported_WithTheRule()
    {
        var rules = Rules("""{"type":"object","properties":{"spec":{"type":"object","x-kubernetes-validations":[{"rule":"self.a / self.b > 0"}],"properties":{"a":{"type":"integer"},"b":{"type":"integer"}}}}}""");
        Assert.Equal(["spec: Invalid value: \"object\": division by zero evaluating rule: self.a / self.b > 0"],
            Errors(rules, """{"spec":{"a":1,"b":0}}"""));
    }

    [Fact]
    public void TransitionRules_RunOnlyWithAnOldValue_CorrelatedByKey()
    {
        var rules = Rules("""
            {"type":"object","properties":{"spec":{"type":"object","properties":{
              "name":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf","message":"immutable"}]},
              "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
                "items":{"type":"object","properties":{"name":{"type":"string"},"port":{"type":"integer"}},
                  "x-kubernetes-validations":[{"rule":"self.port >= oldSelf.port","message":"ports only grow"}]}},
              "seen":{"type":"string","x-kubernetes-validations":[{"rule":"!oldSelf.hasValue() || oldSelf.value() == self","optionalOldSelf":true,"message":"set once"}]}}}}}
            """);
        // Create: no old object, the transition rules do not run; the optional one does (oldSelf is none).
        Assert.Empty(Errors(rules, """{"spec":{"name":"a","ports":[{"name":"http","port":80}],"seen":"x"}}"""));
        // Update: items correlate by their key, whatever their position; a new item has no old self.
        Assert.Equal(["spec.name: Invalid value: \"string\": immutable", "spec.ports[1]: Invalid value: \"object\": ports only grow", "spec.seen: Invalid value: \"string\": set once"],
            Errors(rules, """{"spec":{"name":"b","ports":[{"name":"new","port":1},{"name":"http","port":79}],"seen":"y"}}""",
                """{"spec":{"name":"a","ports":[{"name":"http","port":80}],"seen":"x"}}"""));
    }

    [Fact]
    public void FieldPath_MovesTheError_AndReasonChoosesItsType()
    {
        var rules = Rules("""
            {"type":"object","properties":{"spec":{"type":"object",
              "x-kubernetes-validations":[{"rule":"has(self.a)","reason":"FieldValueRequired","fieldPath":".a","message":"a is required"},
                                          {"rule":"self.b != 'x'","reason":"FieldValueDuplicate","fieldPath":".b"}],
              "properties":{"a":{"type":"string"},"b":{"type":"string"}}}}}
            """);
        Assert.Equal(["spec.a: Required value: a is required", "spec.b: Duplicate value: \"object\""], Errors(rules, """{"spec":{"b":"x"}}"""));
    }

    [Fact]
    public void CompileErrors_NameTheRule_AsTheCrdValidationReportsThem()
    {
        var s = JsonSchemaProps.Parse(O("""
            {"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"integer"}},
              "x-kubernetes-validations":[{"rule":"self.b > 0"},{"rule":"self.a + 1"},{"rule":"self.a > 0","messageExpression":"self.a"}]}}}
            """));
        var errs = CelRules.CompileErrors(s, "spec.validation.openAPIV3Schema").Select(e => e.ToString()).ToList();
        Assert.Equal(3, errs.Count);
        Assert.StartsWith("spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:\"self.b > 0\"", errs[0]);
        Assert.EndsWith(": compilation failed: ERROR: <input>:1:5: undefined field 'b'\n | self.b > 0\n | ....^", errs[0]);
        Assert.EndsWith(": cel expression must evaluate to a bool", errs[1]);
        Assert.StartsWith("spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].messageExpression: Invalid value:", errs[2]);
        Assert.EndsWith(": messageExpression must evaluate to a string", errs[2]);
    }

    [Fact]
    public void KubernetesLibraries_AreAvailableToRules()
    {
        var rules = Rules("""
            {"type":"object","properties":{"spec":{"type":"object","properties":{
              "memory":{"type":"string"},"url":{"type":"string"},"cidr":{"type":"string"},"ip":{"type":"string"},
              "tags":{"type":"array","items":{"type":"string"}},"name":{"type":"string"}},
              "x-kubernetes-validations":[
                {"rule":"quantity(self.memory).isLessThan(quantity('1Gi'))","message":"memory under 1Gi"},
                {"rule":"isURL(self.url) && url(self.url).getScheme() == 'https'","message":"an https URL"},
                {"rule":"cidr(self.cidr).containsIP(self.ip)","message":"ip in cidr"},
                {"rule":"self.tags.isSorted()","message":"sorted tags"},
                {"rule":"self.name.find('[0-9]+') != ''","message":"a number in the name"},
                {"rule":"!format.dns1123Label().validate(self.name).hasValue()","message":"a DNS label"}]}}}
            """);
        Assert.Empty(Errors(rules, """{"spec":{"memory":"512Mi","url":"https://example.com/x","cidr":"10.0.0.0/8","ip":"10.1.2.3","tags":["a","b"],"name":"web-1"}}"""));
        Assert.Equal(
        [
            "spec: Invalid value: \"object\": memory under 1Gi",
            "spec: Invalid value: \"object\": an https URL",
            "spec: Invalid value: \"object\": ip in cidr",
            "spec: Invalid value: \"object\": sorted tags",
            "spec: Invalid value: \"object\": a number in the name",
            "spec: Invalid value: \"object\": a DNS label",
        ], Errors(rules, """{"spec":{"memory":"2Gi","url":"http://example.com","cidr":"10.0.0.0/8","ip":"192.168.0.1","tags":["b","a"],"name":"Web"}}"""));
    }

    private static string List(int n) => "[" + string.Join(",", Enumerable.Range(0, n).Select(i => "\"" + i + "\"")) + "]";

    [Fact]
    public void ARuleCostingMoreThanThePerCallLimit_StopsTheValidation()
    {
        var rules = Rules("""
            {"type":"object","properties":{"l":{"type":"array","items":{"type":"string"}}},
             "x-kubernetes-validations":[{"rule":"self.l.all(x, self.l.all(y, x != y || x == y))"},{"rule":"false","message":"never reached"}]}
            """);
        Assert.Empty(Errors(rules, "{\"l\":" + List(10) + "}").Where(e => !e.Contains("never reached")));
        Assert.Equal(["<nil>: Invalid value: \"object\": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: self.l.all(x, self.l.all(y, x != y || x == y))"],
            Errors(rules, "{\"l\":" + List(2000) + "}"));
    }

    [Fact]
    public void RulesSpendingMoreThanTheObjectsBudget_StopTheValidation()
    {
        // Each item's rule costs a few hundred thousand (under the per-call limit); sixty of them pass the 10,000,000 budget.
        var rules = Rules("""
            {"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"l":{"type":"array","items":{"type":"string"}}},
              "x-kubernetes-validations":[{"rule":"self.l.all(x, self.l.all(y, true))"}]}}}}
            """);
        var item = "{\"l\":" + List(450) + "}";
        var errs = Errors(rules, "{\"items\":[" + string.Join(",", Enumerable.Repeat(item, 60)) + "]}");
        var only = Assert.Single(errs);
        Assert.Matches(@"^items\[\d+\]: Invalid value: ""object"": validation failed due to running out of cost budget, no further validation rules will be run$", only);
        Assert.Empty(Errors(rules, "{\"items\":[" + string.Join(",", Enumerable.Repeat(item, 2)) + "]}"));
    }
}
