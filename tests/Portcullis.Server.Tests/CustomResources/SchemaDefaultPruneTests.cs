using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources.Schema;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>
/// Structural defaulting and pruning, with cases from apiextensions-apiserver 1.33
/// pkg/apiserver/schema/{defaulting,pruning}/algorithm_test.go (wrapped under a root object where
/// upstream's case is a list).
/// </summary>
public class SchemaDefaultPruneTests
{
    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    private static string Defaulted(string schema, string obj)
    {
        var o = Obj(obj);
        CustomResourceSchema.Build(Obj(schema)).Default(o);
        return o.ToJsonString();
    }

    private static string Json(string json) => JsonNode.Parse(json)!.ToJsonString();

    [Fact]
    public void DefaultsGoIntoListItemsObjectsAndAdditionalProperties()
    {
        const string schema = """
            {"type":"object","properties":{
              "array":{"type":"array","items":{"type":"object","properties":{"a":{"type":"string","default":"A"},"b":{"type":"string","default":"B"}}}},
              "object":{"type":"object","properties":{"a":{"type":"string","default":"N"},"b":{"type":"string","default":"O"}}},
              "additionalProperties":{"type":"object","additionalProperties":{"type":"object","properties":{"a":{"type":"string","default":"alpha"},"b":{"type":"string","default":"beta"}}}},
              "foo":{"type":"string","default":"bar"}}}
            """;
        Assert.Equal(
            Json("""{"array":[{"a":1,"b":"B"},{"b":2,"a":"A"}],"object":{"a":1,"b":"O"},"additionalProperties":{"x":{"a":1,"b":"beta"},"y":{"b":2,"a":"alpha"}},"foo":"bar"}"""),
            Defaulted(schema, """{"array":[{"a":1},{"b":2}],"object":{"a":1},"additionalProperties":{"x":{"a":1},"y":{"b":2}}}"""));
    }

    [Fact]
    public void DefaultsDoNotCreateMissingParents()
    {
        const string schema = """{"type":"object","properties":{"spec":{"type":"object","properties":{"replicas":{"type":"integer","default":1}}}}}""";
        Assert.Equal("{}", Defaulted(schema, "{}"));
        Assert.Equal("""{"spec":{"replicas":1}}""", Defaulted(schema, """{"spec":{}}"""));
        Assert.Equal("""{"spec":{"replicas":3}}""", Defaulted(schema, """{"spec":{"replicas":3}}"""));
    }

    [Fact]
    public void AnObjectDefaultIsDefaultedInside()
    {
        const string schema = """{"type":"object","properties":{"spec":{"type":"object","default":{},"properties":{"replicas":{"type":"integer","default":1}}}}}""";
        Assert.Equal("""{"spec":{"replicas":1}}""", Defaulted(schema, "{}"));
    }

    [Fact]
    public void EmptyValuesAreKeptOnlyNullIsReplaced()
    {
        const string schema = """{"type":"object","properties":{"l":{"type":"array","items":{"type":"object","properties":{"a":{"x-kubernetes-preserve-unknown-fields":true,"default":"A"}}}}}}""";
        Assert.Equal(Json("""{"l":[{"a":"A"},{"a":1},{"a":0},{"a":0.0},{"a":""},{"a":"A"},{"a":[]},{"a":{}}]}"""),
            Defaulted(schema, """{"l":[{},{"a":1},{"a":0},{"a":0.0},{"a":""},{"a":null},{"a":[]},{"a":{}}]}"""));
    }

    [Fact]
    public void NullableRules()
    {
        Assert.Equal("""{"l":[null]}""", Defaulted("""{"type":"object","properties":{"l":{"type":"array","items":{"type":"object","nullable":true,"default":{}}}}}""", """{"l":[null]}"""));
        Assert.Equal("""{"l":["A"]}""", Defaulted("""{"type":"object","properties":{"l":{"type":"array","items":{"type":"string","default":"A"}}}}""", """{"l":[null]}"""));
        Assert.Equal("""{"a":null}""", Defaulted("""{"type":"object","properties":{"a":{"type":"string","nullable":true,"default":"A"}}}""", """{"a":null}"""));
        Assert.Equal("""{"a":"A"}""", Defaulted("""{"type":"object","properties":{"a":{"type":"string","default":"A"}}}""", """{"a":null}"""));
        Assert.Equal("""{"m":{"a":null}}""", Defaulted("""{"type":"object","properties":{"m":{"type":"object","additionalProperties":{"type":"string","nullable":true,"default":"A"}}}}""", """{"m":{"a":null}}"""));
        Assert.Equal("""{"m":{"a":"A"}}""", Defaulted("""{"type":"object","properties":{"m":{"type":"object","additionalProperties":{"type":"string","default":"A"}}}}""", """{"m":{"a":null}}"""));
    }

    [Fact]
    public void DefaultsAreCopies()
    {
        var s = CustomResourceSchema.Build(Obj("""{"type":"object","properties":{"l":{"type":"array","items":{"type":"object","properties":{"m":{"type":"object","default":{"x":1}}}}}}}"""));
        var o = Obj("""{"l":[{},{}]}""");
        s.Default(o);
        o["l"]![0]!["m"]!["x"] = 2;
        Assert.Equal("""{"l":[{"m":{"x":2}},{"m":{"x":1}}]}""", o.ToJsonString());
    }

    // ---- pruning -------------------------------------------------------------------------------

    private static (string Obj, List<string> Paths) Pruned(string schema, string obj)
    {
        var o = Obj(obj);
        var paths = CustomResourceSchema.Build(Obj(schema)).Prune(o);
        return (o.ToJsonString(), paths);
    }

    [Fact]
    public void UnknownFieldsArePrunedWithSortedPaths()
    {
        const string schema = """
            {"type":"object","properties":{
              "array":{"type":"array","items":{"type":"object","properties":{"a":{"type":"integer"},"c":{"type":"integer"}}}},
              "specified":{"type":"object","properties":{"a":{"type":"integer"},"c":{"type":"integer"}}}}}
            """;
        var (obj, paths) = Pruned(schema, """{"array":[{"a":1},{"b":1},{"a":1,"b":2,"c":3}],"unspecified":{"a":1},"specified":{"a":1,"b":2,"c":3}}""");
        Assert.Equal(Json("""{"array":[{"a":1},{},{"a":1,"c":3}],"specified":{"a":1,"c":3}}"""), obj);
        Assert.Equal(["array[1].b", "array[2].b", "specified.b", "unspecified"], paths);
    }

    [Fact]
    public void RootApiVersionKindAndMetadataAreKept()
    {
        var (obj, paths) = Pruned("""{"type":"object","properties":{"spec":{"type":"object","properties":{"metadata":{"type":"object"}}}}}""",
            """{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"kind":"x","metadata":{}},"status":{}}""");
        Assert.Equal(Json("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"metadata":{}}}"""), obj);
        Assert.Equal(["spec.kind", "status"], paths);
    }

    [Fact]
    public void PreserveUnknownFieldsIsNotInheritedThroughAdditionalProperties()
    {
        const string schema = """
            {"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{
              "alpha":{"type":"string"},
              "pruning":{"type":"object","properties":{"preserving":{"type":"object","x-kubernetes-preserve-unknown-fields":true},"pruning":{"type":"object"}}},
              "preserving":{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{
                "preserving":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
                "preservingUnknownType":{"x-kubernetes-preserve-unknown-fields":true},
                "pruning":{"type":"object"}}},
              "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields":{"type":"object","x-kubernetes-preserve-unknown-fields":true,
                "additionalProperties":{"type":"object","properties":{"specified":{"type":"object"}}}},
              "preservingAdditionalPropertiesKeyPruneValues":{"type":"object",
                "additionalProperties":{"type":"object","properties":{"specified":{"type":"object"}}}}}}
            """;
        var (obj, paths) = Pruned(schema, """
            {"unspecified":"bar","alpha":"abc","unspecifiedObject":{"unspecified":"bar"},
             "pruning":{"unspecified":"bar","unspecifiedObject":{"unspecified":"bar"},"pruning":{"unspecified":"bar"},"apiVersion":"unknown","preserving":{"unspecified":"bar"}},
             "preserving":{"unspecified":"bar","unspecifiedObject":{"unspecified":"bar"},"pruning":{"unspecified":"bar"},"preserving":{"unspecified":"bar"},"preservingUnknownType":[{"foo":true},{"bar":true}]},
             "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields":{"foo":{"specified":{"unspecified":"bar"},"unspecified":"bar"}},
             "preservingAdditionalPropertiesKeyPruneValues":{"foo":{"specified":{"unspecified":"bar"},"unspecified":"bar"}}}
            """);
        Assert.Equal(Json("""
            {"unspecified":"bar","alpha":"abc","unspecifiedObject":{"unspecified":"bar"},
             "pruning":{"pruning":{},"preserving":{"unspecified":"bar"}},
             "preserving":{"unspecified":"bar","unspecifiedObject":{"unspecified":"bar"},"pruning":{},"preserving":{"unspecified":"bar"},"preservingUnknownType":[{"foo":true},{"bar":true}]},
             "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields":{"foo":{"specified":{}}},
             "preservingAdditionalPropertiesKeyPruneValues":{"foo":{"specified":{}}}}
            """), obj);
        Assert.Equal([
            "preserving.pruning.unspecified",
            "preservingAdditionalPropertiesKeyPruneValues.foo.specified.unspecified",
            "preservingAdditionalPropertiesKeyPruneValues.foo.unspecified",
            "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields.foo.specified.unspecified",
            "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields.foo.unspecified",
            "pruning.apiVersion",
            "pruning.pruning.unspecified",
            "pruning.unspecified",
            "pruning.unspecifiedObject",
        ], paths);
    }

    [Fact]
    public void AdditionalPropertiesSchemaPrunesValues()
    {
        var (obj, paths) = Pruned("""{"type":"object","properties":{"a":{"type":"integer"},"c":{"type":"object","additionalProperties":{"type":"integer"}}}}""",
            """{"a":1,"b":1,"c":{"a":1,"b":2,"c":{"a":1}}}""");
        Assert.Equal("""{"a":1,"c":{"a":1,"b":2,"c":{}}}""", obj);
        Assert.Equal(["b", "c.c.a"], paths);
    }

    [Fact]
    public void EmbeddedResourcesKeepTheirTypeFieldsAndMetadataIsCutToObjectMeta()
    {
        const string schema = """
            {"type":"object","properties":{"spec":{"type":"object","properties":{
              "template":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{"spec":{"type":"object","properties":{"image":{"type":"string"}}}}}}}}}
            """;
        var (obj, paths) = Pruned(schema, """
            {"spec":{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","foo":"bar","labels":{"a":"b"},"annotations":{},"ownerReferences":[{"name":"o","extra":1}]},
             "spec":{"image":"nginx","other":true},"unknown":1}}}
            """);
        Assert.Equal(Json("""
            {"spec":{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"},"ownerReferences":[{"name":"o","apiVersion":"","kind":"","uid":""}]},
             "spec":{"image":"nginx"}}}}
            """), obj);
        Assert.Equal(["spec.template.spec.other", "spec.template.unknown", "spec.template.metadata.foo", "spec.template.metadata.ownerReferences[0].extra"], paths);
    }

    [Fact]
    public void RootMetadataIsCutOnlyWhenAsked()
    {
        var s = CustomResourceSchema.Build(Obj("""{"type":"object"}"""));
        var o = Obj("""{"metadata":{"name":"w","bogus":1}}""");
        Assert.Empty(s.Prune(o));
        Assert.Equal(["metadata.bogus"], s.Prune(o, rootMetadata: true));
        Assert.Equal("""{"metadata":{"name":"w"}}""", o.ToJsonString());
    }

    [Fact]
    public void NonNullableNullsWithoutDefaultsAreDropped()
    {
        var (obj, paths) = Pruned("""{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string","nullable":true},"c":{"type":"string","default":"x"}}}""",
            """{"a":null,"b":null,"c":null}""");
        Assert.Equal("""{"b":null,"c":null}""", obj);
        Assert.Empty(paths);
    }
}
