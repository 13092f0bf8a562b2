using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources.Schema;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>
/// Value validation of custom objects against their CRD schema. Expected texts are upstream's
/// (apiextensions-apiserver 1.33 pkg/apiserver/validation/validation_test.go where a case is there,
/// otherwise kube-openapi's messages at c8a335a9a2ff passed through kubeOpenAPIResultToFieldErrors).
/// </summary>
public class SchemaValidationTests
{
    internal static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    internal static CustomResourceSchema Schema(string json) => CustomResourceSchema.Build(Obj(json));

    /// <summary>The errors as a sorted list (upstream's tests compare sets: Go's map order makes their order random).</summary>
    internal static List<string> Errs(string schema, string obj) =>
        Schema(schema).Validate(Obj(obj)).Select(e => e.ToString()).Order(StringComparer.Ordinal).ToList();

    private static string Field(string fieldSchema) => "{\"type\":\"object\",\"properties\":{\"field\":" + fieldSchema + "}}";

    private static List<string> Sorted(params string[] s) => s.Order(StringComparer.Ordinal).ToList();

    [Theory]
    [InlineData("\"foo\"", "string")]
    [InlineData("42", "integer")]
    [InlineData("true", "boolean")]
    [InlineData("1.2", "number")]
    [InlineData("[]", "array")]
    [InlineData("null", "null")]
    public void WrongTypeForAnObject(string value, string type) =>
        Assert.Equal([$"field: Invalid value: \"{type}\": field in body must be of type object: \"{type}\""],
            Errs(Field("""{"type":"object"}"""), $$"""{"field":{{value}}}"""));

    [Fact]
    public void WrongTypeIsFieldValueTypeInvalid()
    {
        var e = Assert.Single(Schema(Field("""{"type":"integer"}""")).Validate(Obj("""{"field":"x"}""")));
        Assert.Equal("FieldValueTypeInvalid", e.CauseReason);
        Assert.Equal("field", e.Field);
        Assert.Equal("Invalid value: \"string\": field in body must be of type integer: \"string\"", e.CauseMessage);
    }

    [Fact]
    public void TheStatusMessageReadsAsKubeApiservers()
    {
        var s = Schema("""{"type":"object","properties":{"spec":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}""");
        var e = Portcullis.Server.Errors.ApiErrors.Invalid("Widget", "example.com", "w1", s.Validate(Obj("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"replicas":"string"}}""")));
        Assert.Equal(422, e.Code);
        Assert.Equal("Widget.example.com \"w1\" is invalid: spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"", e.Message);
        var cause = Assert.Single(e.Causes!);
        Assert.Equal("FieldValueTypeInvalid", cause.Reason);
        Assert.Equal("spec.replicas", cause.Field);
    }

    [Fact]
    public void NumbersAndIntegers()
    {
        var integer = Field("""{"type":"integer"}""");
        Assert.Empty(Errs(integer, """{"field":3}"""));
        Assert.Empty(Errs(integer, """{"field":3.0}""")); // a float that is an integer passes
        Assert.Equal(["field: Invalid value: \"number\": field in body must be of type integer: \"number\""], Errs(integer, """{"field":3.5}"""));
        var number = Field("""{"type":"number"}""");
        Assert.Empty(Errs(number, """{"field":3}"""));
        Assert.Empty(Errs(number, """{"field":3.5}"""));
        Assert.Equal(["field: Invalid value: \"string\": field in body must be of type number: \"string\""], Errs(number, """{"field":"3"}"""));
        Assert.Equal(["field: Invalid value: \"integer\": field in body must be of type boolean: \"integer\""], Errs(Field("""{"type":"boolean"}"""), """{"field":1}"""));
        Assert.Equal(["field: Invalid value: \"object\": field in body must be of type array: \"object\""], Errs(Field("""{"type":"array","items":{"type":"string"}}"""), """{"field":{}}"""));
        Assert.Equal(["field: Invalid value: \"boolean\": field in body must be of type string: \"boolean\""], Errs(Field("""{"type":"string"}"""), """{"field":false}"""));
    }

    [Fact]
    public void NullableAllowsNull()
    {
        Assert.Empty(Errs(Field("""{"type":"object","nullable":true}"""), """{"field":null}"""));
        Assert.Empty(Errs(Field("""{"type":"string","nullable":true}"""), """{"field":null}"""));
        Assert.Equal(["field: Invalid value: \"null\": field in body must be of type string: \"null\""], Errs(Field("""{"type":"string"}"""), """{"field":null}"""));
    }

    [Fact]
    public void IntOrString()
    {
        var s = Field("""{"x-kubernetes-int-or-string":true}""");
        Assert.Empty(Errs(s, """{"field":42}"""));
        Assert.Empty(Errs(s, """{"field":"foo"}"""));
        Assert.Equal(["field: Invalid value: \"null\": field in body must be of type integer,string: \"null\""], Errs(s, """{"field":null}"""));
        Assert.Equal(["field: Invalid value: \"boolean\": field in body must be of type integer,string: \"boolean\""], Errs(s, """{"field":true}"""));
        Assert.Equal(["field: Invalid value: \"number\": field in body must be of type integer,string: \"number\""], Errs(s, """{"field":1.2}"""));
        Assert.Equal(["field: Invalid value: \"object\": field in body must be of type integer,string: \"object\""], Errs(s, """{"field":{}}"""));
    }

    [Fact]
    public void IntOrStringWithAnyOf()
    {
        var s = Field("""{"nullable":true,"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]}""");
        Assert.Empty(Errs(s, """{"field":null}"""));
        Assert.Empty(Errs(s, """{"field":42}"""));
        Assert.Equal(Sorted(
            "<nil>: Invalid value: \"\": \"field\" must validate at least one schema (anyOf)",
            "field: Invalid value: \"boolean\": field in body must be of type integer,string: \"boolean\"",
            "field: Invalid value: \"boolean\": field in body must be of type integer: \"boolean\""), Errs(s, """{"field":true}"""));
        Assert.Equal(Sorted(
            "<nil>: Invalid value: \"\": \"field\" must validate at least one schema (anyOf)",
            "field: Invalid value: \"array\": field in body must be of type integer,string: \"array\"",
            "field: Invalid value: \"array\": field in body must be of type integer: \"array\""), Errs(s, """{"field":[]}"""));
    }

    [Fact]
    public void IntOrStringWithAllOf()
    {
        var s = Field("""{"nullable":true,"x-kubernetes-int-or-string":true,"allOf":[{"anyOf":[{"type":"integer"},{"type":"string"}]}]}""");
        Assert.Empty(Errs(s, """{"field":"foo"}"""));
        Assert.Equal(Sorted(
            "<nil>: Invalid value: \"\": \"field\" must validate all the schemas (allOf). None validated",
            "<nil>: Invalid value: \"\": \"field\" must validate at least one schema (anyOf)",
            "field: Invalid value: \"boolean\": field in body must be of type integer,string: \"boolean\"",
            "field: Invalid value: \"boolean\": field in body must be of type integer: \"boolean\""), Errs(s, """{"field":true}"""));
    }

    [Fact]
    public void OneOfAndNot()
    {
        var s = Field("""{"type":"object","oneOf":[{"required":["a"]},{"required":["b"]}]}""");
        Assert.Empty(Errs(s, """{"field":{"a":1}}"""));
        Assert.Equal(["<nil>: Invalid value: \"\": \"field\" must validate one and only one schema (oneOf). Found 2 valid alternatives"], Errs(s, """{"field":{"a":1,"b":2}}"""));
        Assert.Equal(Sorted(
            "<nil>: Invalid value: \"\": \"field\" must validate one and only one schema (oneOf). Found none valid",
            "field.a: Required value"), Errs(s, """{"field":{}}"""));
        var not = Field("""{"type":"string","not":{"enum":["forbidden"]}}""");
        Assert.Empty(Errs(not, """{"field":"ok"}"""));
        Assert.Equal(["<nil>: Invalid value: \"\": \"field\" must not validate the schema (not)"], Errs(not, """{"field":"forbidden"}"""));
        var allOf = Field("""{"type":"integer","allOf":[{"minimum":1},{"maximum":5}]}""");
        Assert.Equal(Sorted(
            "<nil>: Invalid value: \"\": \"field\" must validate all the schemas (allOf)",
            "field: Invalid value: 7: field in body should be less than or equal to 5"), Errs(allOf, """{"field":7}"""));
    }

    [Fact]
    public void Enum()
    {
        var s = Field("""{"type":"string","enum":["red","blue"]}""");
        Assert.Empty(Errs(s, """{"field":"red"}"""));
        var errs = Schema(s).Validate(Obj("""{"field":"pink"}"""));
        Assert.Equal(["field: Unsupported value: \"pink\": supported values: \"red\", \"blue\""], errs.Select(e => e.ToString()));
        Assert.Equal("FieldValueNotSupported", errs[0].CauseReason);
        var n = Field("""{"type":"integer","enum":[1,2]}""");
        Assert.Empty(Errs(n, """{"field":2}"""));
        Assert.Equal(["field: Unsupported value: 3: supported values: \"1\", \"2\""], Errs(n, """{"field":3}"""));
        var o = Field("""{"type":"object","enum":[{"a":1}],"x-kubernetes-preserve-unknown-fields":true}""");
        Assert.Equal(["field: Unsupported value: map[string]interface {}{\"a\":2}: supported values: \"{\\\"a\\\":1}\""], Errs(o, """{"field":{"a":2}}"""));
    }

    [Fact]
    public void Pattern()
    {
        var s = Field("""{"type":"string","pattern":"^[a-z]+$"}""");
        Assert.Empty(Errs(s, """{"field":"abc"}"""));
        Assert.Equal(["field: Invalid value: \"ABC\": field in body should match '^[a-z]+$'"], Errs(s, """{"field":"ABC"}"""));
        // RE2: $ is the end of the text (no newline before it), \d is ASCII only
        Assert.Single(Errs(s, """{"field":"abc\n"}"""));
        var digits = Field("""{"type":"string","pattern":"^\\d+$"}""");
        Assert.Empty(Errs(digits, """{"field":"123"}"""));
        Assert.Single(Errs(digits, """{"field":"١٢٣"}"""));
    }

    [Fact]
    public void NumericLimits()
    {
        var s = Field("""{"type":"integer","minimum":1,"maximum":10}""");
        Assert.Empty(Errs(s, """{"field":10}"""));
        Assert.Equal(["field: Invalid value: 11: field in body should be less than or equal to 10"], Errs(s, """{"field":11}"""));
        Assert.Equal(["field: Invalid value: 0: field in body should be greater than or equal to 1"], Errs(s, """{"field":0}"""));
        var ex = Field("""{"type":"integer","minimum":1,"exclusiveMinimum":true,"maximum":10,"exclusiveMaximum":true}""");
        Assert.Equal(["field: Invalid value: 10: field in body should be less than 10"], Errs(ex, """{"field":10}"""));
        Assert.Equal(["field: Invalid value: 1: field in body should be greater than 1"], Errs(ex, """{"field":1}"""));
        var f = Field("""{"type":"number","maximum":2.5}""");
        Assert.Equal(["field: Invalid value: 2.75: field in body should be less than or equal to 2.5"], Errs(f, """{"field":2.75}"""));
        var m = Field("""{"type":"integer","multipleOf":5}""");
        Assert.Empty(Errs(m, """{"field":15}"""));
        Assert.Equal(["field: Invalid value: 7: field in body should be a multiple of 5"], Errs(m, """{"field":7}"""));
        var mf = Field("""{"type":"number","multipleOf":0.5}""");
        Assert.Empty(Errs(mf, """{"field":1.5}"""));
        Assert.Equal(["field: Invalid value: 1.3: field in body should be a multiple of 0.5"], Errs(mf, """{"field":1.3}"""));
    }

    [Fact]
    public void StringArrayAndObjectSizes()
    {
        var s = Field("""{"type":"string","minLength":2,"maxLength":3}""");
        Assert.Empty(Errs(s, """{"field":"héé"}""")); // runes, not bytes
        var tooLong = Schema(s).Validate(Obj("""{"field":"abcd"}"""));
        Assert.Equal(["field: Too long: may not be more than 3 bytes"], tooLong.Select(e => e.ToString()));
        Assert.Equal("FieldValueTooLong", tooLong[0].CauseReason);
        Assert.Equal(["field: Invalid value: \"a\": field in body should be at least 2 chars long"], Errs(s, """{"field":"a"}"""));
        var a = Field("""{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":3}""");
        var tooMany = Schema(a).Validate(Obj("""{"field":[1,2,3,4]}"""));
        Assert.Equal(["field: Too many: 4: must have at most 3 items"], tooMany.Select(e => e.ToString()));
        Assert.Equal("FieldValueTooMany", tooMany[0].CauseReason);
        Assert.Equal(["field: Invalid value: 1: field in body should have at least 2 items"], Errs(a, """{"field":[1]}"""));
        var o = Field("""{"type":"object","additionalProperties":{"type":"string"},"minProperties":1,"maxProperties":2}""");
        Assert.Equal(["field: Too many: 3: must have at most 2 items"], Errs(o, """{"field":{"a":"1","b":"2","c":"3"}}"""));
        Assert.Equal(["field: Invalid value: 0: field in body should have at least 1 properties"], Errs(o, """{"field":{}}"""));
        Assert.Equal(["field.b: Invalid value: \"integer\": field.b in body must be of type string: \"integer\""], Errs(o, """{"field":{"b":2}}"""));
    }

    [Fact]
    public void Required()
    {
        var s = """{"type":"object","required":["spec"],"properties":{"spec":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}}}""";
        Assert.Equal(["spec: Required value"], Errs(s, "{}"));
        var errs = Schema(s).Validate(Obj("""{"spec":{}}"""));
        Assert.Equal(["spec.name: Required value"], errs.Select(e => e.ToString()));
        Assert.Equal("FieldValueRequired", errs[0].CauseReason);
    }

    [Fact]
    public void ItemsAreValidatedWithTheirIndex()
    {
        var s = """{"type":"object","properties":{"spec":{"type":"object","properties":{"ports":{"type":"array","items":{"type":"object","properties":{"port":{"type":"integer","maximum":65535}}}}}}}}""";
        Assert.Equal(["spec.ports[1].port: Invalid value: 70000: spec.ports[1].port in body should be less than or equal to 65535"],
            Errs(s, """{"spec":{"ports":[{"port":80},{"port":70000}]}}"""));
    }

    [Theory]
    [InlineData("uuid", "8f4d4c4e-0b4a-4c1e-9f3a-0a1b2c3d4e5f", "not-a-uuid")]
    [InlineData("date-time", "2024-01-02T03:04:05Z", "2024-01-02 03:04")]
    [InlineData("date", "2024-02-29", "2023-02-29")]
    [InlineData("ipv4", "10.0.0.1", "10.0.0")]
    [InlineData("ipv6", "fe80::1", "10.0.0.1")]
    [InlineData("cidr", "10.0.0.0/8", "10.0.0.0/33")]
    [InlineData("cidr", "010.0.0.0/08", "fe80::/129")]
    [InlineData("ipv6", "::ffff:1.2.3.4", "[::1]")]
    [InlineData("ipv4", "010.001.0.1", "1.2.3.256")]
    [InlineData("hostname", "example.com", "-bad-.com")]
    [InlineData("email", "a@example.com", "not an email")]
    [InlineData("byte", "aGVsbG8=", "not base64!")]
    [InlineData("duration", "1h30m", "soon")]
    [InlineData("mac", "01:23:45:67:89:ab", "01:23:45")]
    [InlineData("hexcolor", "#fff", "#ggg")]
    [InlineData("uri", "https://example.com/x", "not a uri")]
    public void Formats(string format, string good, string bad)
    {
        var s = Field($$"""{"type":"string","format":"{{format}}"}""");
        Assert.Empty(Errs(s, $$"""{"field":"{{good}}"}"""));
        Assert.Equal([$"field: Invalid value: \"{bad}\": field in body must be of type {format}: \"{bad}\""], Errs(s, $$"""{"field":"{{bad}}"}"""));
    }

    [Fact]
    public void FormatsOutsideTheListAreIgnored()
    {
        Assert.Empty(Errs(Field("""{"type":"string","format":"something-else"}"""), """{"field":"x"}"""));
        Assert.Empty(Errs(Field("""{"type":"integer","format":"int32"}"""), """{"field":5000000000}"""));
    }

    [Fact]
    public void NullIsNotInANullableEnum() =>
        Assert.Equal(["field: Unsupported value: \"null\": supported values: \"a\", \"b\""],
            Errs(Field("""{"type":"string","nullable":true,"enum":["a","b"]}"""), """{"field":null}"""));

    [Fact]
    public void AdditionalPropertiesFalseForbidsEveryKey() =>
        Assert.Equal(["field: Invalid value: \"foo\": field.foo in body is a forbidden property"],
            Errs(Field("""{"type":"object","additionalProperties":false}"""), """{"field":{"foo":1}}"""));

    [Fact]
    public void PreservedUnknownFieldsAreNotValidated() =>
        Assert.Empty(Errs(Field("""{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{"a":{"type":"string"}}}"""), """{"field":{"a":"x","b":{"c":1}}}"""));

    [Fact]
    public void AdditionalPropertiesSchemaValidatesEachValue()
    {
        var s = Field("""{"type":"object","additionalProperties":{"type":"integer","minimum":0}}""");
        Assert.Equal(["field.b: Invalid value: -1: field.b in body should be greater than or equal to 0"], Errs(s, """{"field":{"a":1,"b":-1}}"""));
    }

    private const string Ratchet = """
        {"type":"object","properties":{
          "spec":{"type":"object","properties":{
            "a":{"type":"integer","maximum":5},
            "b":{"type":"integer","maximum":5},
            "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
              "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"port":{"type":"integer","maximum":100}}}},
            "tags":{"type":"array","items":{"type":"string","maxLength":2}}}},
          "status":{"type":"object","properties":{"ready":{"type":"integer","minimum":0}}}}}
        """;

    private static List<string> Update(string obj, string old) =>
        Schema(Ratchet).ValidateUpdate(Obj(obj), Obj(old)).Select(e => e.ToString()).ToList();

    [Fact]
    public void UpdatesRatchetUnchangedInvalidValues()
    {
        // an invalid value the old object already had is let through; a new or changed one is not
        Assert.Empty(Update("""{"spec":{"a":9,"b":1}}""", """{"spec":{"a":9,"b":2}}"""));
        Assert.Equal(["spec.a: Invalid value: 8: spec.a in body should be less than or equal to 5"], Update("""{"spec":{"a":8}}""", """{"spec":{"a":9}}"""));
        Assert.Equal(["spec.b: Invalid value: 9: spec.b in body should be less than or equal to 5"], Update("""{"spec":{"a":9,"b":9}}""", """{"spec":{"a":9}}"""));
        // list-type=map items correlate by key, wherever they moved
        Assert.Empty(Update("""{"spec":{"ports":[{"name":"x","port":1},{"name":"h","port":500}]}}""", """{"spec":{"ports":[{"name":"h","port":500}]}}"""));
        Assert.Equal(["spec.ports[0].port: Invalid value: 501: spec.ports[0].port in body should be less than or equal to 100"],
            Update("""{"spec":{"ports":[{"name":"h","port":501}]}}""", """{"spec":{"ports":[{"name":"h","port":500}]}}"""));
        // atomic list items do not correlate: only an unchanged whole list ratchets
        Assert.Equal(["spec.tags[1]: Too long: may not be more than 2 bytes"], Update("""{"spec":{"tags":["a","long"]}}""", """{"spec":{"tags":["long"]}}"""));
        Assert.Empty(Update("""{"spec":{"tags":["long"]},"x":1}""", """{"spec":{"tags":["long"]}}"""));
        // a create validates everything
        Assert.Single(Schema(Ratchet).Validate(Obj("""{"spec":{"a":9}}""")));
    }

    [Fact]
    public void StatusIsValidatedAgainstItsOwnSchema()
    {
        var s = Schema(Ratchet);
        Assert.Equal(["status.ready: Invalid value: -1: ready in body should be greater than or equal to 0"],
            s.ValidateStatus(Obj("""{"spec":{"a":9},"status":{"ready":-1}}""")).Select(e => e.ToString()));
        Assert.Empty(s.ValidateStatus(Obj("""{"status":{"ready":-1}}"""), Obj("""{"status":{"ready":-1}}""")));
        Assert.Empty(s.ValidateStatus(Obj("""{"spec":{}}""")));
    }
}
