using static Portcullis.Server.Tests.CustomResources.SchemaValidationTests;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>
/// x-kubernetes-list-type uniqueness (listtype.ValidateListSetsAndMaps) and embedded resources
/// (objectmeta.Validate) as the custom resource strategy adds them to schema validation.
/// </summary>
public class SchemaListAndEmbeddedTests
{
    private const string Lists = """
        {"type":"object","properties":{"spec":{"type":"object","properties":{
          "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
          "nums":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"number"}},
          "atomic":{"type":"array","x-kubernetes-list-type":"atomic","items":{"type":"string"}},
          "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
                   "items":{"type":"object","properties":{"name":{"type":"string"},"port":{"type":"integer"}}}},
          "routes":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["host","path"],
                   "items":{"type":"object","properties":{"host":{"type":"string"},"path":{"type":"string"}}}},
          "byName":{"type":"object","additionalProperties":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}}}
        }}}}
        """;

    [Fact]
    public void SetDuplicatesAreReportedOncePerValue()
    {
        var errs = SchemaValidationTests.Schema(Lists).Validate(Obj("""{"spec":{"tags":["a","b","a","a","b"]}}"""));
        Assert.Equal(["spec.tags[2]: Duplicate value: \"a\"", "spec.tags[4]: Duplicate value: \"b\""], errs.Select(e => e.ToString()));
        Assert.Equal("FieldValueDuplicate", errs[0].CauseReason);
        Assert.Equal(["spec.nums[1]: Duplicate value: 1.5"], Errs(Lists, """{"spec":{"nums":[1.5,1.5,2]}}"""));
        // int64(1) and float64(1.5) are different Go values
        Assert.Empty(Errs(Lists, """{"spec":{"nums":[1,1.5]}}"""));
    }

    [Fact]
    public void AtomicListsMayRepeat() => Assert.Empty(Errs(Lists, """{"spec":{"atomic":["a","a"]}}"""));

    [Fact]
    public void MapKeysMustBeUnique()
    {
        Assert.Empty(Errs(Lists, """{"spec":{"ports":[{"name":"http","port":80},{"name":"https","port":443}]}}"""));
        Assert.Equal(["spec.ports[1]: Duplicate value: map[string]interface {}{\"name\":\"http\"}"],
            Errs(Lists, """{"spec":{"ports":[{"name":"http","port":80},{"name":"http","port":8080}]}}"""));
        Assert.Equal(["spec.ports[1]: Duplicate value: map[string]interface {}{}"],
            Errs(Lists, """{"spec":{"ports":[{"port":80},{"port":8080}]}}"""));
        Assert.Equal(["spec.routes[2]: Duplicate value: map[string]interface {}{\"host\":\"a\", \"path\":\"/\"}"],
            Errs(Lists, """{"spec":{"routes":[{"host":"a","path":"/"},{"host":"a","path":"/x"},{"path":"/","host":"a"}]}}"""));
    }

    [Fact]
    public void MapListItemsMustBeObjects() =>
        Assert.Equal(Sorted(
                "spec.ports[0]: Invalid value: \"string\": spec.ports[0] in body must be of type object: \"string\"",
                "spec.ports[0]: Invalid value: \"x\": must be an object for an array of list-type map"),
            Errs(Lists, """{"spec":{"ports":["x",{"name":"a"}]}}"""));

    [Fact]
    public void SetsUnderAdditionalPropertiesUseKeyPaths() =>
        Assert.Equal(["spec.byName[k][1]: Duplicate value: \"x\""], Errs(Lists, """{"spec":{"byName":{"k":["x","x"]}}}"""));

    private const string Embedded = """
        {"type":"object","properties":{
          "embedded":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true},
          "nested":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{
            "embedded":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}}},
          "items":{"type":"array","items":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}},
          "additionalProperties":{"type":"object","additionalProperties":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}}
        }}
        """;

    // objectmeta/validation_test.go TestValidate
    [Theory]
    [InlineData("{}", new string[0])]
    [InlineData("""{"embedded":{}}""", new[] { "embedded.apiVersion", "embedded.kind" })]
    [InlineData("""{"nested":{"embedded":{}}}""", new[] { "nested.apiVersion", "nested.embedded.apiVersion", "nested.embedded.kind", "nested.kind" })]
    [InlineData("""{"items":[{}]}""", new[] { "items[0].apiVersion", "items[0].kind" })]
    [InlineData("""{"additionalProperties":{"foo":{}}}""", new[] { "additionalProperties[foo].apiVersion", "additionalProperties[foo].kind" })]
    public void EmbeddedResourcesNeedApiVersionAndKind(string obj, string[] paths) =>
        Assert.Equal(paths.Select(p => p + ": Required value: must not be empty").Order(StringComparer.Ordinal), Errs(Embedded, obj));

    [Fact]
    public void EmbeddedApiVersionKindAndMetadataAreChecked()
    {
        Assert.Empty(Errs(Embedded, """{"embedded":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","labels":{"a":"b"}}}}"""));
        Assert.Equal(Sorted(
                "embedded.apiVersion: Invalid value: \"a/b/c\": unexpected GroupVersion string: a/b/c",
                "embedded.kind: Invalid value: \"My_Kind\": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
                "embedded.metadata.name: Invalid value: \"a/b\": may not contain '/'",
                "embedded.metadata.namespace: Invalid value: \"Bad\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"),
            Errs(Embedded, """{"embedded":{"apiVersion":"a/b/c","kind":"My_Kind","metadata":{"name":"a/b","namespace":"Bad"}}}"""));
        Assert.Equal(Sorted("embedded.apiVersion: Invalid value: 1: must be a string", "embedded.kind: Invalid value: \"\": must not be empty"),
            Errs(Embedded, """{"embedded":{"apiVersion":1,"kind":""}}"""));
    }

    [Fact]
    public void EmbeddedFinalizersAreChecked() =>
        Assert.Equal(Sorted(
                "embedded.metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\"}: finalizer orphan and foregroundDeletion cannot be both set"),
            Errs(Embedded, """{"embedded":{"apiVersion":"v1","kind":"Pod","metadata":{"finalizers":["orphan","foregroundDeletion"]}}}"""));

    [Fact]
    public void EmbeddedMetadataMayOmitTheName() =>
        Assert.Empty(Errs(Embedded, """{"embedded":{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app":"x"}}}}"""));

        [Fact]
    public void RequestDecodingRefusesEmbeddedTypeFieldsThatAreNotStrings()
    {
        var s = SchemaValidationTests.Schema(Embedded);
        Assert.Null(s.CoerceError(Obj("""{"items":[{"apiVersion":"v1","kind":"Pod","metadata":{}}]}""")));
        Assert.Equal("items[0].kind: Invalid value: 1: must be a string", s.CoerceError(Obj("""{"items":[{"apiVersion":"v1","kind":1}]}"""))?.ToString());
        Assert.Equal("embedded.metadata: Invalid value: \"x\": json: cannot unmarshal string into Go value of type v1.ObjectMeta",
            s.CoerceError(Obj("""{"embedded":{"metadata":"x"}}"""))?.ToString());
    }

    private static List<string> Sorted(params string[] s) => s.Order(StringComparer.Ordinal).ToList();
}
