using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Api.OpenApi;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Http;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Http;

/// <summary>
/// apiextensions.k8s.io/v1 CustomResourceDefinitions: the type schema (upstream's field numbers and
/// markers), discovery (legacy and aggregated: every verb, and the status subresource) and the OpenAPI documents.
/// </summary>
public sealed class CustomResourceDefinitionListTests
{
    private static readonly ResourceRegistry Resources = new(BuiltinResources.All);
    private const string Prefix = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.";

    private static async Task<JsonNode> Serve(string path, string? accept = null)
    {
        var discovery = new Discovery(Resources);
        var ctx = new DefaultHttpContext();
        ctx.Request.Method = "GET";
        ctx.Request.Path = path;
        if (accept is not null) ctx.Request.Headers.Accept = accept;
        var body = new MemoryStream();
        ctx.Response.Body = body;
        Assert.True(await discovery.TryServeAsync(ctx, path));
        return JsonNode.Parse(body.ToArray())!;
    }

    [Fact]
    public void Schema_HasUpstreamsFieldsAndNumbers()
    {
        var reg = SchemaRegistry.Default;
        var crd = reg.Get("apiextensions/v1.CustomResourceDefinition");
        Assert.Equal(["kind", "apiVersion", "metadata", "spec", "status"], crd.Fields.Select(f => f.JsonName));
        var spec = reg.Get("apiextensions/v1.CustomResourceDefinitionSpec");
        Assert.Equal([("group", 1), ("names", 3), ("scope", 4), ("versions", 7), ("conversion", 9), ("preserveUnknownFields", 10)],
            spec.Fields.Select(f => (f.JsonName, f.ProtoNumber)));
        var status = reg.Get("apiextensions/v1.CustomResourceDefinitionStatus");
        Assert.Equal("map", status.Field("conditions")!.ListType);
        Assert.Equal(["type"], status.Field("conditions")!.ListMapKeys);

        // JSONSchemaProps is recursive: properties, allOf and not refer to itself.
        var props = reg.Get("apiextensions/v1.JSONSchemaProps");
        Assert.Equal(44, props.Fields.Length);
        Assert.Same(props, props.Field("properties")!.Type.Elem!.Struct);
        Assert.Same(props, props.Field("not")!.Type.Deref.Struct);
        Assert.Same(props, props.Field("allOf")!.Type.Elem!.Struct);
        Assert.Equal(TypeKind.Json, props.Field("default")!.Type.Deref.Kind);
        Assert.Equal(TypeKind.Json, props.Field("items")!.Type.Deref.Kind);
        var validations = props.Field("x-kubernetes-validations")!;
        Assert.Equal((44, "rule", "merge", "map"), (validations.ProtoNumber, validations.MergeKey, validations.PatchStrategy, validations.ListType));
        Assert.Equal(38, props.Field("x-kubernetes-preserve-unknown-fields")!.ProtoNumber);
        Assert.Equal(3, props.Field("$ref")!.ProtoNumber);
    }

    [Fact]
    public void Shape_KeepsSchemaOrArrayItems_AndOrdersFieldsAsGo()
    {
        var json = """
            {"spec":{"versions":[{"schema":{"openAPIV3Schema":{"type":"object","properties":{"tags":{"items":{"type":"string"},"type":"array"},
              "pair":{"type":"array","items":[{"type":"string"},{"type":"integer"}]},"any":{"x-kubernetes-preserve-unknown-fields":true,"additionalProperties":false}}}},
              "storage":true,"served":true,"name":"v1"}],"scope":"Namespaced","names":{"kind":"Widget","plural":"widgets"},"group":"example.com"},
             "metadata":{"name":"widgets.example.com"},"kind":"CustomResourceDefinition","apiVersion":"apiextensions.k8s.io/v1"}
            """;
        var shaped = GoJsonWriter.ToString(ObjectShaper.Shape(JsonNode.Parse(json)!.AsObject(), SchemaRegistry.Default.Get("apiextensions/v1.CustomResourceDefinition")));
        Assert.Equal("""
            {"kind":"CustomResourceDefinition","apiVersion":"apiextensions.k8s.io/v1","metadata":{"name":"widgets.example.com","creationTimestamp":null},"spec":{"group":"example.com","names":{"plural":"widgets","kind":"Widget"},"scope":"Namespaced","versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"any":{"additionalProperties":false,"x-kubernetes-preserve-unknown-fields":true},"pair":{"type":"array","items":[{"type":"string"},{"type":"integer"}]},"tags":{"type":"array","items":{"type":"string"}}}}}}]},"status":{"conditions":null,"acceptedNames":{"plural":"","kind":""},"storedVersions":null}}
            """, shaped);
    }

    [Fact]
    public async Task LegacyDiscovery_ListsTheGroupAndTheReadOnlyResource()
    {
        var groups = (await Serve("/apis"))["groups"]!.AsArray();
        var group = groups.Single(g => (string?)g!["name"] == "apiextensions.k8s.io")!;
        Assert.Equal("apiextensions.k8s.io/v1", (string?)group["preferredVersion"]!["groupVersion"]);

        var one = await Serve("/apis/apiextensions.k8s.io");
        Assert.Equal("APIGroup", (string?)one["kind"]);
        Assert.Equal("v1", (string?)one["versions"]![0]!["version"]);

        var list = await Serve("/apis/apiextensions.k8s.io/v1");
        Assert.Equal("apiextensions.k8s.io/v1", (string?)list["groupVersion"]);
        Assert.Equal("""
            [{"name":"customresourcedefinitions","singularName":"customresourcedefinition","namespaced":false,"kind":"CustomResourceDefinition","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["crd","crds"],"categories":["api-extensions"],"storageVersionHash":"jfWCUB31mvA="},{"name":"customresourcedefinitions/status","singularName":"","namespaced":false,"kind":"CustomResourceDefinition","verbs":["get","patch","update"]}]
            """, list["resources"]!.ToJsonString());
    }

    [Fact]
    public async Task AggregatedDiscovery_ListsTheResource()
    {
        var list = await Serve("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
        var group = list["items"]!.AsArray().Single(g => (string?)g!["metadata"]!["name"] == "apiextensions.k8s.io")!;
        var r = Assert.Single(group["versions"]![0]!["resources"]!.AsArray())!;
        Assert.Equal("""
            {"resource":"customresourcedefinitions","responseKind":{"group":"apiextensions.k8s.io","version":"v1","kind":"CustomResourceDefinition"},"scope":"Cluster","singularResource":"customresourcedefinition","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["crd","crds"],"categories":["api-extensions"],"subresources":[{"subresource":"status","responseKind":{"group":"apiextensions.k8s.io","version":"v1","kind":"CustomResourceDefinition"},"verbs":["get","patch","update"]}]}
            """, r.ToJsonString());
    }

    [Fact]
    public void OpenApiV3_HasEveryOperation_AndTheApiextensionsDefinitions()
    {
        var doc = OpenApiV3Builder.BuildV3("apis/apiextensions.k8s.io/v1", Resources, SchemaRegistry.Default)!;
        var paths = doc["paths"]!.AsObject();
        var collection = paths["/apis/apiextensions.k8s.io/v1/customresourcedefinitions"]!.AsObject();
        Assert.NotNull(collection["get"]);
        Assert.Equal("createApiextensionsV1CustomResourceDefinition", (string?)collection["post"]!["operationId"]);
        Assert.Equal("deleteApiextensionsV1CollectionCustomResourceDefinition", (string?)collection["delete"]!["operationId"]);
        var item = paths["/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"]!.AsObject();
        Assert.Equal("readApiextensionsV1CustomResourceDefinition", (string?)item["get"]!["operationId"]);
        Assert.Equal("patchApiextensionsV1CustomResourceDefinition", (string?)item["patch"]!["operationId"]);
        Assert.Equal("replaceApiextensionsV1CustomResourceDefinition", (string?)item["put"]!["operationId"]);
        Assert.Equal("deleteApiextensionsV1CustomResourceDefinition", (string?)item["delete"]!["operationId"]);
        Assert.NotNull(paths["/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}/status"]!["put"]);

        var schemas = doc["components"]!["schemas"]!.AsObject();
        var crd = schemas[Prefix + "CustomResourceDefinition"]!;
        Assert.Equal("CustomResourceDefinition", (string?)crd["x-kubernetes-group-version-kind"]![0]!["kind"]);
        Assert.Equal("apiextensions.k8s.io", (string?)crd["x-kubernetes-group-version-kind"]![0]!["group"]);
        Assert.NotNull(schemas[Prefix + "JSONSchemaProps"]);
        Assert.NotNull(schemas[Prefix + "CustomResourceDefinitionList"]);
        Assert.DoesNotContain(schemas, p => p.Key.StartsWith("io.k8s.api.apiextensions", StringComparison.Ordinal));
    }

    [Fact]
    public void OpenApiV2_HasTheListAndPatchOperations()
    {
        var doc = OpenApiV2Builder.BuildV2(Resources, SchemaRegistry.Default);
        var item = doc["paths"]!["/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"]!.AsObject();
        Assert.NotNull(item["get"]);
        Assert.NotNull(item["patch"]);
        Assert.NotNull(doc["paths"]!["/apis/apiextensions.k8s.io/v1/customresourcedefinitions"]!["get"]);
        Assert.NotNull(doc["definitions"]![Prefix + "CustomResourceDefinition"]);
    }
}
