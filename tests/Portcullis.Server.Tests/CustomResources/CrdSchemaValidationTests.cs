using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources.Schema;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>
/// The CRD-side checks of a version's openAPIV3Schema (structural schema rules, defaults, and
/// ValidateCustomResourceDefinitionOpenAPISchema) with apiextensions-apiserver 1.33's texts.
/// </summary>
public class CrdSchemaValidationTests
{
    private const string P = "spec.versions[0].schema.openAPIV3Schema";

    private static List<string> Check(string schema, bool status = false) =>
        CustomResourceSchemaValidation.Validate(JsonNode.Parse(schema)!.AsObject(), P, status).Select(e => e.ToString()).ToList();

    [Fact]
    public void AStructuralSchemaPasses() =>
        Assert.Empty(Check("""
            {"type":"object","properties":{
              "apiVersion":{"type":"string"},"kind":{"type":"string"},"metadata":{"type":"object"},
              "spec":{"type":"object","required":["replicas"],"properties":{
                "replicas":{"type":"integer","minimum":0,"default":1},
                "port":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]},
                "labels":{"type":"object","additionalProperties":{"type":"string"}},
                "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
                  "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}},
                "template":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true},
                "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}},
              "status":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}
            """, status: true));

    [Fact]
    public void MissingTypes()
    {
        Assert.Equal([$"{P}.type: Required value: must not be empty at the root"], Check("""{"properties":{"a":{"type":"string"}}}"""));
        Assert.Equal([$"{P}.properties[a].type: Required value: must not be empty for specified object fields"], Check("""{"type":"object","properties":{"a":{"description":"x"}}}"""));
        Assert.Equal([
            $"{P}.properties[a].items.type: Required value: must not be empty for specified array items",
        ], Check("""{"type":"object","properties":{"a":{"type":"array","items":{}}}}"""));
        Assert.Equal([$"{P}.properties[a].items: Required value: must be specified"], Check("""{"type":"object","properties":{"a":{"type":"array"}}}"""));
    }

    [Fact]
    public void RootRules()
    {
        Assert.Equal([$"{P}.type: Invalid value: \"string\": must be object at the root"], Check("""{"type":"string"}"""));
        Assert.Equal([$"{P}.nullable: Forbidden: nullable cannot be true at the root"], Check("""{"type":"object","nullable":true}"""));
        Assert.Equal([$"{P}.additionalProperties: Forbidden: must not be used at the root"], Check("""{"type":"object","additionalProperties":{"type":"string"}}"""));
        Assert.Equal([$"{P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"],
            Check("""{"type":"object","properties":{"metadata":{"type":"object","properties":{"labels":{"type":"object"}}}}}"""));
        Assert.Empty(Check("""{"type":"object","properties":{"metadata":{"type":"object","properties":{"name":{"type":"string","maxLength":20}}}}}"""));
        Assert.Equal([$"{P}.properties[kind].type: Invalid value: \"integer\": must be string"], Check("""{"type":"object","properties":{"kind":{"type":"integer"}}}"""));
    }

    [Fact]
    public void NullTypeAndUnsupportedTypes()
    {
        Assert.Equal([$"{P}.properties[a].type: Unsupported value: \"null\": supported values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\"", $"{P}.properties[a].type: Forbidden: type cannot be set to null, use nullable as an alternative"],
            Check("""{"type":"object","properties":{"a":{"type":"null"}}}"""));
    }

    [Fact]
    public void AdditionalPropertiesWithProperties() =>
        Assert.Equal([$"{P}.properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"],
            Check("""{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string"}},"additionalProperties":{"type":"string"}}}}"""));

    [Fact]
    public void ValueValidationsMustNotCarryStructure()
    {
        Assert.Equal([
            $"{P}.properties[a].anyOf[0].type: Forbidden: must be empty to be structural",
            $"{P}.properties[a].anyOf[1].type: Forbidden: must be empty to be structural",
        ], Check("""{"type":"object","properties":{"a":{"type":"string","anyOf":[{"type":"string","minLength":1},{"type":"string"}]}}}"""));
        // complete.go checks the value validations reachable from the root's allOf/anyOf/oneOf/not only
        Assert.Equal([$"{P}.properties[b]: Required value: because it is defined in {P}.allOf[0].properties[b]"],
            Check("""{"type":"object","allOf":[{"properties":{"b":{"minLength":1}}}]}"""));
        Assert.Empty(Check("""{"type":"object","allOf":[{"properties":{"b":{"minLength":1}}}],"properties":{"b":{"type":"string"}}}"""));
        Assert.Equal([$"{P}.properties[a].oneOf[0].description: Forbidden: must be empty to be structural"],
            Check("""{"type":"object","properties":{"a":{"type":"string","oneOf":[{"description":"d","pattern":"x"}]}}}"""));
    }

    [Fact]
    public void IntOrStringNeedsNoType()
    {
        Assert.Empty(Check("""{"type":"object","properties":{"a":{"x-kubernetes-int-or-string":true}}}"""));
        Assert.Equal([$"{P}.properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true"],
            Check("""{"type":"object","properties":{"a":{"x-kubernetes-int-or-string":true,"x-kubernetes-preserve-unknown-fields":true}}}"""));
    }

    [Fact]
    public void EmbeddedResourceRules()
    {
        Assert.Equal([$"{P}.properties[a].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"],
            Check("""{"type":"object","properties":{"a":{"type":"object","x-kubernetes-embedded-resource":true}}}"""));
        Assert.Equal([$"{P}.properties[a].type: Invalid value: \"string\": must be object if x-kubernetes-embedded-resource is true"],
            Check("""{"type":"object","properties":{"a":{"type":"string","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}}}"""));
    }

    [Fact]
    public void PreserveUnknownFieldsFalse() =>
        Assert.Equal([$"{P}.properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"],
            Check("""{"type":"object","properties":{"a":{"type":"object","x-kubernetes-preserve-unknown-fields":false}}}"""));

    [Fact]
    public void ListAndMapTypes()
    {
        Assert.Equal([$"{P}.properties[a].x-kubernetes-list-type: Unsupported value: \"bag\": supported values: \"atomic\", \"set\", \"map\""],
            Check("""{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"bag"}}}"""));
        Assert.Equal([$"{P}.properties[a].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"],
            Check("""{"type":"object","properties":{"a":{"type":"array","items":{"type":"object"},"x-kubernetes-list-type":"map"}}}"""));
        Assert.Equal([$"{P}.properties[a].x-kubernetes-list-map-keys: Invalid value: []string{{\"name\"}}: entries must all be names of item properties"],
            Check("""{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"}}},"x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"]}}}"""));
        Assert.Equal([$"{P}.properties[a].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"],
            Check("""{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}},"x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"]}}}"""));
        Assert.Equal([$"{P}.properties[a].items.x-kubernetes-map-type: Invalid value: \"null\": must be atomic as item of a list with x-kubernetes-list-type=set"],
            Check("""{"type":"object","properties":{"a":{"type":"array","items":{"type":"object"},"x-kubernetes-list-type":"set"}}}"""));
        Assert.Equal([$"{P}.properties[a].type: Invalid value: \"string\": must be array if x-kubernetes-list-type is specified"],
            Check("""{"type":"object","properties":{"a":{"type":"string","x-kubernetes-list-type":"set"}}}"""));
        Assert.Equal([$"{P}.properties[m].x-kubernetes-map-type: Unsupported value: \"loose\": supported values: \"atomic\", \"granular\""],
            Check("""{"type":"object","properties":{"m":{"type":"object","x-kubernetes-map-type":"loose"}}}"""));
    }

    [Fact]
    public void PatternsMustBeRe2()
    {
        Assert.Equal([$"{P}.properties[a].pattern: Invalid value: \"^(?=a)\": must be a valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl syntax: `(?=`"],
            Check("""{"type":"object","properties":{"a":{"type":"string","pattern":"^(?=a)"}}}"""));
        Assert.Equal([$"{P}.properties[a].pattern: Invalid value: \"(a)\\\\1\": must be a valid regular expression, but isn't: error parsing regexp: invalid escape sequence: `\\1`"],
            Check("""{"type":"object","properties":{"a":{"type":"string","pattern":"(a)\\1"}}}"""));
        Assert.Empty(Check("""{"type":"object","properties":{"a":{"type":"string","pattern":"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}}}"""));
    }

    [Fact]
    public void UnsupportedKeywords()
    {
        Assert.Equal([$"{P}.properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"],
            Check("""{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"uniqueItems":true}}}"""));
        Assert.Equal([$"{P}.properties[a].$ref: Forbidden: $ref is not supported"], Check("""{"type":"object","properties":{"a":{"type":"object","$ref":"#/x"}}}"""));
    }

    [Fact]
    public void DefaultsAreValidatedAndPruned()
    {
        Assert.Equal([$"{P}.properties[spec].properties[replicas].default: Invalid value: \"string\":  in body must be of type integer: \"string\""],
            Check("""{"type":"object","properties":{"spec":{"type":"object","properties":{"replicas":{"type":"integer","default":"x"}}}}}"""));
        Assert.Equal([$"{P}.properties[spec].default: Invalid value: map[string]interface {{}}{{\"a\":1, \"b\":2}}: must not have unknown fields"],
            Check("""{"type":"object","properties":{"spec":{"type":"object","default":{"a":1,"b":2},"properties":{"a":{"type":"integer"}}}}}"""));
        // a default that would be pruned is reported, and is still validated
        Assert.Equal([
            $"{P}.properties[spec].default: Invalid value: map[string]interface {{}}{{\"a\":\"x\", \"b\":2}}: must not have unknown fields",
            $"{P}.properties[spec].default.a: Invalid value: \"string\": a in body must be of type integer: \"string\"",
        ], Check("""{"type":"object","properties":{"spec":{"type":"object","default":{"a":"x","b":2},"properties":{"a":{"type":"integer"}}}}}"""));
        // defaults of embedded resources must be resources
        Assert.Equal([
            $"{P}.properties[t].default.apiVersion: Required value: must not be empty",
            $"{P}.properties[t].default.kind: Required value: must not be empty",
        ], Check("""{"type":"object","properties":{"t":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true,"default":{}}}}"""));
        Assert.Equal([$"{P}.properties[t].default.kind: Invalid value: 1: must be a string"],
            Check("""{"type":"object","properties":{"t":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true,"default":{"apiVersion":"v1","kind":1}}}}"""));
        Assert.Equal([$"{P}.properties[metadata].default: Forbidden: must not be set in top-level metadata"],
            Check("""{"type":"object","properties":{"metadata":{"type":"object","default":{}}}}"""));
    }

    [Fact]
    public void StatusSubresourceRestrictsTheRoot()
    {
        Assert.Equal([$"{P}.type: Invalid value: \"string\": only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled", $"{P}.type: Invalid value: \"string\": must be object at the root"],
            Check("""{"type":"string"}""", status: true));
        var errs = Check("""{"type":"object","anyOf":[{"required":["spec"]}]}""", status: true);
        Assert.Single(errs);
        Assert.EndsWith(": only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled", errs[0]);
        Assert.StartsWith($"{P}: Invalid value: ", errs[0]);
        Assert.Empty(Check("""{"type":"object","anyOf":[{"required":["spec"]}],"properties":{"spec":{"type":"object"}}}"""));
        // an empty list is a non-nil Go slice, so it counts as set
        Assert.Single(Check("""{"type":"object","allOf":[]}""", status: true));
        Assert.Empty(Check("""{"type":"object","required":[],"properties":{}}""", status: true));
    }

    [Fact]
    public void ValidationRuleFields()
    {
        Assert.Equal([
            $"{P}.x-kubernetes-validations[0].rule: Required value: rule is not specified",
            $"{P}.x-kubernetes-validations[1].message: Invalid value: \"a\\nb\": message must not contain line breaks",
            $"{P}.x-kubernetes-validations[2].reason: Unsupported value: \"Nope\": supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\"",
        ], Check("""{"type":"object","x-kubernetes-validations":[{"rule":" "},{"rule":"self.x","message":"a\nb"},{"rule":"true","reason":"Nope"}]}"""));
    }

    [Fact]
    public void RuleFieldPathsMustResolve()
    {
        const string schema = """
            {"type":"object","properties":{"spec":{"type":"object","properties":{"a.b":{"type":"string"},"labels":{"type":"object","additionalProperties":{"type":"string"}}},
              "x-kubernetes-validations":[{"rule":"true","fieldPath":".labels['k']"},{"rule":"true","fieldPath":"['a.b']"},{"rule":"true","fieldPath":".missing"},{"rule":"true","fieldPath":"spec"}]}}}
            """;
        Assert.Equal([
            $"{P}.properties[spec].x-kubernetes-validations[2].fieldPath: Invalid value: \".missing\": fieldPath must be a valid path",
            $"{P}.properties[spec].x-kubernetes-validations[3].fieldPath: Invalid value: \"spec\": fieldPath must be a valid path",
        ], Check(schema));
        var spec = JsonSchemaProps.Parse(JsonNode.Parse("""{"type":"object","properties":{"a.b":{"type":"string"},"labels":{"type":"object","additionalProperties":{"type":"string"}}}}""")!.AsObject());
        Assert.Equal("labels[k]", FieldPaths.Resolve(".labels['k']", spec).Path);
        Assert.Equal("a.b", FieldPaths.Resolve("['a.b']", spec).Path);
        Assert.Equal("does not refer to a valid field", FieldPaths.Resolve(".nope", spec).Error);
        Assert.Equal("expected [ or . but got: spec", FieldPaths.Resolve("spec", spec).Error);
        Assert.Equal("array notation is not allowed", FieldPaths.Resolve("['a.b']", spec, allowArrayNotation: false).Error);
    }
}
