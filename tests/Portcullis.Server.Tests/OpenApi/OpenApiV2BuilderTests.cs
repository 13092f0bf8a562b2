using System.Text.Json.Nodes;
using Portcullis.Server.Api.OpenApi;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Tests.OpenApi;

public sealed class OpenApiV2BuilderTests
{
    private static readonly ResourceRegistry Resources = new(BuiltinResources.All);
    private static readonly Lazy<JsonObject> Doc = new(() => OpenApiV2Builder.BuildV2(Resources, SchemaRegistry.Default));

    private static JsonObject Definition(string name) => Doc.Value["definitions"]![name]!.AsObject();

    [Fact]
    public void Document_IsSwagger2()
    {
        var doc = Doc.Value;
        Assert.Equal("2.0", doc["swagger"]!.GetValue<string>());
        Assert.Equal("Kubernetes", doc["info"]!["title"]!.GetValue<string>());
        Assert.NotNull(doc["securityDefinitions"]!["BearerToken"]);
        Assert.NotNull(doc["security"]![0]!["BearerToken"]);
    }

    [Fact]
    public void Definitions_AreTheSameAsAcrossV3Documents()
    {
        var v2 = Doc.Value["definitions"]!.AsObject().Select(p => p.Key).ToHashSet();
        var v3 = OpenApiV3Builder.BuildAllV3(Resources, SchemaRegistry.Default)
            .SelectMany(d => d.Value["components"]!["schemas"]!.AsObject().Select(p => p.Key)).ToHashSet();
        Assert.Equal(v3.Order(StringComparer.Ordinal), v2.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void References_AreDirectV2Refs_WithoutDefaults()
    {
        var pod = Definition("io.k8s.api.core.v1.Pod");
        Assert.Equal("Pod", pod["x-kubernetes-group-version-kind"]![0]!["kind"]!.GetValue<string>());
        var spec = pod["properties"]!["spec"]!;
        Assert.Equal("#/definitions/io.k8s.api.core.v1.PodSpec", spec["$ref"]!.GetValue<string>());
        Assert.Null(spec["allOf"]);
        Assert.Null(spec["default"]);

        var containers = Definition("io.k8s.api.core.v1.PodSpec")["properties"]!["containers"]!;
        Assert.Equal("#/definitions/io.k8s.api.core.v1.Container", containers["items"]!["$ref"]!.GetValue<string>());
        Assert.Equal("name", containers["x-kubernetes-patch-merge-key"]!.GetValue<string>());
        Assert.Equal("merge", containers["x-kubernetes-patch-strategy"]!.GetValue<string>());
        Assert.Null(Definition("io.k8s.api.core.v1.Container")["properties"]!["name"]!["default"]);

        var ios = Definition("io.k8s.apimachinery.pkg.util.intstr.IntOrString");
        Assert.Equal(("string", "int-or-string"), (ios["type"]!.GetValue<string>(), ios["format"]!.GetValue<string>()));
        Assert.Equal("string", Definition("io.k8s.apimachinery.pkg.api.resource.Quantity")["type"]!.GetValue<string>());
        Assert.Equal("date-time", Definition("io.k8s.apimachinery.pkg.apis.meta.v1.Time")["format"]!.GetValue<string>());

        var defs = Doc.Value["definitions"]!.AsObject();
        foreach (var r in OpenApiV3BuilderTests.Refs(Doc.Value))
        {
            Assert.StartsWith("#/definitions/", r);
            Assert.True(defs.ContainsKey(r["#/definitions/".Length..]), $"dangling {r}");
        }
    }

    [Fact]
    public void Paths_CoverEveryGroupVersion_WithV2Operations()
    {
        var paths = Doc.Value["paths"]!.AsObject();
        foreach (var (g, v) in Resources.GroupVersions)
            Assert.True(paths.ContainsKey(g.Length == 0 ? $"/api/{v}/" : $"/apis/{g}/{v}/"));
        foreach (var p in new[] { "/api/", "/apis/", "/version/", "/apis/apps/" }) Assert.True(paths.ContainsKey(p), p);

        var patch = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]!["patch"]!;
        Assert.Equal("patchAppsV1NamespacedDeployment", patch["operationId"]!.GetValue<string>());
        Assert.Contains("application/strategic-merge-patch+json", patch["consumes"]!.AsArray().Select(n => n!.GetValue<string>()));
        var parameters = patch["parameters"]!.AsArray();
        Assert.Equal("body", parameters[0]!["in"]!.GetValue<string>());
        Assert.Equal("#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch", parameters[0]!["schema"]!["$ref"]!.GetValue<string>());
        Assert.Contains(parameters, p => p!["name"]!.GetValue<string>() == "fieldValidation" && p["in"]!.GetValue<string>() == "query"
            && p["type"]!.GetValue<string>() == "string");
        Assert.Equal("Deployment", patch["x-kubernetes-group-version-kind"]!["kind"]!.GetValue<string>());
        Assert.Equal("#/definitions/io.k8s.api.apps.v1.Deployment", patch["responses"]!["200"]!["schema"]!["$ref"]!.GetValue<string>());

        var list = paths["/apis/apps/v1/deployments"]!["get"]!;
        Assert.Contains("application/json;stream=watch", list["produces"]!.AsArray().Select(n => n!.GetValue<string>()));
    }
}
