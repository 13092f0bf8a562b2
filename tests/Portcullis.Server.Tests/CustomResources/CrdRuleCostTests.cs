using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Api.CustomResources.Schema;
using Portcullis.Server.Api.Resources.ApiExtensions;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>
/// What a CRD's validation says of its rules' estimated costs and of oldSelf (apiextensions-apiserver 1.33
/// validation.go and its TestValidateCustomResourceDefinitionValidation cases): a rule's cost times how often its
/// node can occur, against 10,000,000 per expression and 100,000,000 per schema; transition rules under lists
/// and maps that cannot correlate; optionalOldSelf without oldSelf.
/// </summary>
public sealed class CrdRuleCostTests
{
    private const string P = "spec.validation.openAPIV3Schema";
    private const string Advice = "(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)";

    private static List<string> Errors(string schema) =>
        [.. CelRules.CompileErrors(JsonSchemaProps.Parse((JsonObject)JsonNode.Parse(schema)!), P).Select(e => e.ToString())];

    private static string Property(string value) => """{"type":"object","properties":{"value":VALUE}}""".Replace("VALUE", value);

    private static string NestedMaps(string value, string key, string items) => """
        {"type":"object","properties":{"value":{"type":"array",VALUE"items":{"type":"object",ITEMS"additionalProperties":{"type":"object","required":["key"],
          "properties":{"key":KEY}}},"x-kubernetes-validations":[{"rule":"self.all(x, x.all(y, x[y].key == x[y].key))"}]}}}
        """.Replace("VALUE", value).Replace("ITEMS", items).Replace("KEY", key);

    [Fact]
    public void DoubleNestedRule_WithoutLimits_IsForbidden()
    {
        const string rule = $"{P}.properties[value].x-kubernetes-validations[0].rule";
        var expected = new[]
        {
            $"{rule}: Forbidden: estimated rule cost exceeds budget by factor of more than 100x {Advice}",
            $"{rule}: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema",
            $"{P}: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x {Advice}",
        };
        Assert.Equal(expected, Errors(NestedMaps("", """{"type":"string"}""", "")));
        Assert.Equal(expected, Errors(NestedMaps("", """{"type":"string","maxLength":10}""", "")));
    }

    [Fact]
    public void DoubleNestedRule_WithLimits_IsAllowed()
    {
        Assert.Empty(Errors(NestedMaps("\"maxItems\":10,", """{"type":"string","maxLength":10}""", "\"maxProperties\":10,")));
        Assert.Empty(Errors(NestedMaps("\"maxItems\":4,", """{"type":"number"}""", "")));
    }

    [Fact]
    public void ARuleAtTheRootObject_HasCardinalityOne() =>
        Assert.Empty(Errors("""{"type":"object","properties":{"value":{"type":"integer","x-kubernetes-validations":[{"rule":"self < 1024"}]}}}"""));

    [Fact]
    public void TheTotal_NamesTheRulesThatContributeAtLeastOnePercent()
    {
        // 100,000 items of 20,000 bytes: contains costs 2,001 each, 200,100,000 in all (20.0x the per-rule limit);
        // 1,000 map values cost 2,001,000 (under the per-rule limit, over 1 % of the total's); the integer rule is
        // too cheap to name.
        var errors = Errors("""
            {"type":"object","properties":{
              "list":{"type":"array","maxItems":100000,"items":{"type":"string","maxLength":5000,"x-kubernetes-validations":[{"rule":"self.contains('keyword')"}]}},
              "map":{"type":"object","maxProperties":1000,"additionalProperties":{"type":"string","maxLength":5000,"x-kubernetes-validations":[{"rule":"self.contains('keyword')"}]}},
              "field":{"type":"integer","x-kubernetes-validations":[{"rule":"self > 50 && self < 100"}]}}}
            """);
        Assert.Equal(
        [
            $"{P}.properties[list].items.x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of 20.0x {Advice}",
            $"{P}.properties[list].items.x-kubernetes-validations[0].rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema",
            $"{P}.properties[map].additionalProperties.x-kubernetes-validations[0].rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema",
            $"{P}: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of 2.0x {Advice}",
        ], errors);
    }

    [Fact]
    public void MessageExpressionCosts_AreLimitedAndCounted()
    {
        const string at = $"{P}.properties[f].x-kubernetes-validations[0].messageExpression";
        // eight unbounded strings concatenated: over the per-expression limit
        var eight = Errors("""
            {"type":"object","properties":{"f":{"type":"array","items":{"type":"string"},
              "x-kubernetes-validations":[{"rule":"true","messageExpression":"self[0] + self[1] + self[2] + self[3] + self[4] + self[5] + self[6] + self[7]"}]}}}
            """);
        Assert.StartsWith(at + ": Forbidden: estimated messageExpression cost exceeds budget by factor of ", Assert.Single(eight));
        // string() of three unbounded strings: over the per-expression limit and the schema's total
        var three = Errors("""
            {"type":"object","properties":{"f":{"type":"array","items":{"type":"string"},
              "x-kubernetes-validations":[{"rule":"true","messageExpression":"string(self[0]) + string(self[1]) + string(self[2])"}]}}}
            """);
        Assert.Equal(3, three.Count);
        Assert.StartsWith(at + ": Forbidden: estimated messageExpression cost exceeds budget", three[0]);
        Assert.Equal(at + ": Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema", three[1]);
        Assert.StartsWith(P + ": Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget", three[2]);
        // lowerAscii in a nested loop over five five-character strings stays well within
        Assert.Empty(Errors("""
            {"type":"object","properties":{"f":{"type":"array","maxItems":5,"items":{"type":"string","maxLength":5},
              "x-kubernetes-validations":[{"rule":"self.all(x, self.exists_one(y, x.lowerAscii() == y.lowerAscii()))"}]}}}
            """));
    }

    [Theory]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"atomic","items":{"type":"string","maxLength":10,"x-kubernetes-validations":[RULE]}}""", ".items")]
    [InlineData("""{"type":"array","items":{"type":"string","maxLength":10,"x-kubernetes-validations":[RULE]}}""", ".items")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string","maxLength":10,"x-kubernetes-validations":[RULE]}}""", ".items")]
    public void TransitionRules_UnderUncorrelatableLists_AreInvalid(string value, string under)
    {
        foreach (var (rule, text) in new[] { ("""{"rule":"self == oldSelf"}""", "self == oldSelf"), ("""{"rule":"self == oldSelf.orValue('')","optionalOldSelf":true}""", "self == oldSelf.orValue('')") })
        {
            var errors = Errors(Property(value.Replace("RULE", rule)));
            Assert.Equal([$"{P}.properties[value]{under}.x-kubernetes-validations[0].rule: Invalid value: \"{text}\": oldSelf cannot be used on the uncorrelatable portion of the schema within {P}.properties[value]"], errors);
        }
    }

    [Theory]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"atomic","items":{"type":"string"},"x-kubernetes-validations":[{"rule":"self == oldSelf"}]}""")]
    [InlineData("""{"type":"array","items":{"type":"string"},"maxItems":10,"x-kubernetes-validations":[{"rule":"self == oldSelf"}]}""")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string","maxLength":10},"maxItems":10,"x-kubernetes-validations":[{"rule":"self == oldSelf"}]}""")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","required":["name"],"properties":{"name":{"type":"string","maxLength":10}},"x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}""")]
    [InlineData("""{"type":"object","x-kubernetes-map-type":"granular","properties":{"subfield":{"type":"string","maxLength":10,"x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}}""")]
    [InlineData("""{"type":"object","x-kubernetes-map-type":"atomic","properties":{"subfield":{"type":"string","maxLength":10,"x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}}""")]
    [InlineData("""{"type":"object","properties":{"subfield":{"type":"string","maxLength":10,"x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}}""")]
    [InlineData("""{"type":"object","additionalProperties":{"type":"string","maxLength":10,"x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}""")]
    public void TransitionRules_WhereValuesCorrelate_AreAllowed(string value) =>
        Assert.Empty(Errors(Property(value)));

    [Fact]
    public void TransitionRules_UnderAMapOfAnUnknownType_AreInvalid() =>
        Assert.Equal([$"{P}.properties[value].properties[subfield].x-kubernetes-validations[0].rule: Invalid value: \"self == oldSelf\": oldSelf cannot be used on the uncorrelatable portion of the schema within {P}.properties[value]"],
            Errors("""{"type":"object","properties":{"value":{"type":"object","x-kubernetes-map-type":"future","properties":{"subfield":{"type":"string","maxLength":10,"x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}}}}"""));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OptionalOldSelf_WithoutOldSelf_IsInvalid(bool optional) =>
        Assert.Equal([$"{P}.properties[value].x-kubernetes-validations[0].optionalOldSelf: Invalid value: {(optional ? "true" : "false")}: may not be set if oldSelf is not used in rule"],
            Errors(Property("""{"type":"string","maxLength":10,"x-kubernetes-validations":[{"rule":"self == \"foo\"","optionalOldSelf":OPT}]}""".Replace("OPT", optional ? "true" : "false"))));

    [Fact]
    public void AnIdentifierOnlyShadowingOldSelf_IsNoTransitionRule() =>
        Assert.Equal([$"{P}.properties[value].x-kubernetes-validations[0].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule"],
            Errors("""{"type":"object","properties":{"value":{"type":"array","maxItems":5,"items":{"type":"integer"},"x-kubernetes-validations":[{"rule":"self.all(oldSelf, oldSelf > 0)","optionalOldSelf":true}]}}}"""));

    [Fact]
    public void RulesOnANodeCelCannotSee_AreAnInternalError() =>
        Assert.Equal([$"{P}.properties[value].x-kubernetes-validations: Internal error: internal error: failed to construct type information for x-kubernetes-validations rules: unable to convert structural schema to CEL declarations"],
            Errors("""{"type":"object","properties":{"value":{"x-kubernetes-preserve-unknown-fields":true,"x-kubernetes-validations":[{"rule":"true"}]}}}"""));

    [Fact]
    public void TheRootDeclaresOnlyNameAndGenerateNameOfMetadata()
    {
        Assert.Empty(Errors("""{"type":"object","x-kubernetes-validations":[{"rule":"self.metadata.name.startsWith('a') && self.kind == 'K' && self.apiVersion != ''"}]}"""));
        var errors = Errors("""{"type":"object","properties":{"metadata":{"type":"object"}},"x-kubernetes-validations":[{"rule":"self.metadata.namespace == 'x'"}]}""");
        Assert.Contains("undefined field 'namespace'", Assert.Single(errors));
    }

    private static JsonObject Crd(params (string Name, string MessageExpression)[] versions) => new()
    {
        ["apiVersion"] = "apiextensions.k8s.io/v1", ["kind"] = "CustomResourceDefinition",
        ["metadata"] = new JsonObject { ["name"] = "plural.group.com", ["resourceVersion"] = "1" },
        ["spec"] = new JsonObject
        {
            ["group"] = "group.com", ["scope"] = "Cluster",
            ["names"] = new JsonObject { ["plural"] = "plural", ["singular"] = "singular", ["kind"] = "Plural", ["listKind"] = "PluralList" },
            ["versions"] = new JsonArray([.. versions.Select((v, i) => (JsonNode)new JsonObject
            {
                ["name"] = v.Name, ["served"] = true, ["storage"] = i == 0,
                ["schema"] = JsonNode.Parse("""
                    {"openAPIV3Schema":{"type":"object","properties":{"f":{"type":"array","items":{"type":"string"},
                      "x-kubernetes-validations":[{"rule":"true","messageExpression":"MESSAGE"}]}}}}
                    """.Replace("MESSAGE", v.MessageExpression)),
            })]),
        },
        ["status"] = new JsonObject { ["storedVersions"] = new JsonArray("v1") },
    };

    private const string Eight = "self[0] + self[1] + self[2] + self[3] + self[4] + self[5] + self[6] + self[7]";

    [Fact]
    public void AnUpdate_DoesNotHoldAnUnchangedSchemaToThePerExpressionLimit()
    {
        var old = Crd(("v1", Eight));
        var updated = Crd(("v1", Eight), ("v2", Eight + " + self[8]"), ("v3", Eight));
        var errors = CustomResourceDefinitionValidation.Validate(updated, old).Select(e => e.Field).ToList();
        Assert.Equal(
        [
            "spec.versions[1].schema.openAPIV3Schema.properties[f].x-kubernetes-validations[0].messageExpression",
            "spec.versions[2].schema.openAPIV3Schema.properties[f].x-kubernetes-validations[0].messageExpression",
        ], errors);
        // a create holds every version to it
        Assert.Single(CustomResourceDefinitionValidation.Validate(Crd(("v1", Eight)), null));
    }
}
