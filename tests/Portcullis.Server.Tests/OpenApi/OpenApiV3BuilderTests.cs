using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.OpenApi;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Tests.OpenApi;

public sealed class OpenApiV3BuilderTests
{
    private static readonly ResourceRegistry Resources = new(BuiltinResources.All);
    private static readonly SchemaRegistry Schemas = SchemaRegistry.Default;
    private static readonly Lazy<JsonObject> CoreDoc = new(() => OpenApiV3Builder.BuildV3("api/v1", Resources, Schemas)!);

    private static JsonObject Schema(JsonObject doc, string name) => doc["components"]!["schemas"]![name]!.AsObject();

    private static string RefOf(JsonNode? node) =>
        (node!["allOf"] is JsonArray all ? all[0]!["$ref"] : node["$ref"])!.GetValue<string>();

    [Fact]
    public void CoreDocument_HasOpenApiHeader()
    {
        var doc = CoreDoc.Value;
        Assert.Equal("3.0.0", doc["openapi"]!.GetValue<string>());
        Assert.Equal("Kubernetes", doc["info"]!["title"]!.GetValue<string>());
        Assert.NotNull(doc["components"]!["securitySchemes"]!["BearerToken"]);
        // Keys come out sorted, like Go's encoder.
        Assert.Equal(["components", "info", "openapi", "paths"], doc.Select(p => p.Key));
    }

    [Fact]
    public void Pod_HasGvkExtension_AndSpecIsAnAllOfReferenceToPodSpec()
    {
        var pod = Schema(CoreDoc.Value, "io.k8s.api.core.v1.Pod");
        var gvk = Assert.Single(pod["x-kubernetes-group-version-kind"]!.AsArray())!;
        Assert.Equal("", gvk["group"]!.GetValue<string>());
        Assert.Equal("v1", gvk["version"]!.GetValue<string>());
        Assert.Equal("Pod", gvk["kind"]!.GetValue<string>());
        Assert.Equal("object", pod["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(pod["description"]?.GetValue<string>()));

        var spec = pod["properties"]!["spec"]!;
        Assert.Equal("#/components/schemas/io.k8s.api.core.v1.PodSpec", spec["allOf"]![0]!["$ref"]!.GetValue<string>());
        Assert.Empty(spec["default"]!.AsObject());
        Assert.Equal("#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", RefOf(pod["properties"]!["metadata"]));
        Assert.Equal("string", pod["properties"]!["apiVersion"]!["type"]!.GetValue<string>());

        var list = Schema(CoreDoc.Value, "io.k8s.api.core.v1.PodList");
        Assert.Equal("PodList", list["x-kubernetes-group-version-kind"]![0]!["kind"]!.GetValue<string>());
        Assert.Contains("items", list["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("#/components/schemas/io.k8s.api.core.v1.Pod", RefOf(list["properties"]!["items"]!["items"]));
    }

    [Fact]
    public void Containers_CarryPatchAndListExtensions()
    {
        var spec = Schema(CoreDoc.Value, "io.k8s.api.core.v1.PodSpec");
        var containers = spec["properties"]!["containers"]!;
        Assert.Equal("array", containers["type"]!.GetValue<string>());
        Assert.Equal("name", containers["x-kubernetes-patch-merge-key"]!.GetValue<string>());
        Assert.Equal("merge", containers["x-kubernetes-patch-strategy"]!.GetValue<string>());
        Assert.Equal("#/components/schemas/io.k8s.api.core.v1.Container", RefOf(containers["items"]));
        Assert.Empty(containers["items"]!["default"]!.AsObject());
        Assert.Contains("containers", spec["required"]!.AsArray().Select(n => n!.GetValue<string>()));

        var container = Schema(CoreDoc.Value, "io.k8s.api.core.v1.Container");
        Assert.Equal(["name"], container["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        var ports = container["properties"]!["ports"]!;
        Assert.Equal("containerPort", ports["x-kubernetes-patch-merge-key"]!.GetValue<string>());
        Assert.Equal("map", ports["x-kubernetes-list-type"]!.GetValue<string>());
        Assert.Contains("containerPort", ports["x-kubernetes-list-map-keys"]!.AsArray().Select(n => n!.GetValue<string>()));

        var meta = Schema(CoreDoc.Value, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
        var labels = meta["properties"]!["labels"]!;
        Assert.Equal("object", labels["type"]!.GetValue<string>());
        Assert.Equal("string", labels["additionalProperties"]!["type"]!.GetValue<string>());
        Assert.False(meta.ContainsKey("required"));
        var owner = Schema(CoreDoc.Value, "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference");
        Assert.Equal("atomic", owner["x-kubernetes-map-type"]!.GetValue<string>());
        Assert.Equal(["apiVersion", "kind", "name", "uid"], owner["required"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void ScalarTypes_AndSpecialTypes_HaveUpstreamShapes()
    {
        var doc = CoreDoc.Value;
        var quantity = Schema(doc, "io.k8s.apimachinery.pkg.api.resource.Quantity");
        Assert.Equal(["string", "number"], quantity["oneOf"]!.AsArray().Select(n => n!["type"]!.GetValue<string>()));
        var ios = Schema(doc, "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
        Assert.Equal("int-or-string", ios["format"]!.GetValue<string>());
        Assert.Equal(["integer", "string"], ios["oneOf"]!.AsArray().Select(n => n!["type"]!.GetValue<string>()));
        var time = Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.Time");
        Assert.Equal(("string", "date-time"), (time["type"]!.GetValue<string>(), time["format"]!.GetValue<string>()));
        var micro = Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime");
        Assert.Equal("date-time", micro["format"]!.GetValue<string>());
        Assert.Equal("object", Schema(doc, "io.k8s.apimachinery.pkg.runtime.RawExtension")["type"]!.GetValue<string>());
        Assert.Equal("object", Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1")["type"]!.GetValue<string>());

        var requirements = Schema(doc, "io.k8s.api.core.v1.ResourceRequirements");
        Assert.Equal("#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity",
            requirements["properties"]!["limits"]!["additionalProperties"]!["$ref"]!.GetValue<string>());

        var container = Schema(doc, "io.k8s.api.core.v1.Container")["properties"]!;
        Assert.Equal(("string", ""), (container["name"]!["type"]!.GetValue<string>(), container["name"]!["default"]!.GetValue<string>()));
        Assert.Equal("string", container["command"]!["items"]!["type"]!.GetValue<string>());
        Assert.Equal("boolean", container["stdin"]!["type"]!.GetValue<string>());
        var port = Schema(doc, "io.k8s.api.core.v1.ContainerPort")["properties"]!["containerPort"]!;
        Assert.Equal(("integer", "int32", 0), (port["type"]!.GetValue<string>(), port["format"]!.GetValue<string>(), port["default"]!.GetValue<int>()));
        var grace = Schema(doc, "io.k8s.api.core.v1.PodSpec")["properties"]!["terminationGracePeriodSeconds"]!;
        Assert.Equal("int64", grace["format"]!.GetValue<string>());
        Assert.Null(grace["default"]);
        var secretData = Schema(doc, "io.k8s.api.core.v1.Secret")["properties"]!["data"]!["additionalProperties"]!;
        Assert.Equal(("string", "byte"), (secretData["type"]!.GetValue<string>(), secretData["format"]!.GetValue<string>()));
        var created = Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")["properties"]!["creationTimestamp"]!;
        Assert.Equal("#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time", RefOf(created));
        Assert.Null(created["default"]);
    }

    [Fact]
    public void MetaKinds_CarryGvksForEveryServedGroupVersion()
    {
        var doc = OpenApiV3Builder.BuildV3("apis/apps/v1", Resources, Schemas)!;
        foreach (var kind in new[] { "DeleteOptions", "WatchEvent" })
        {
            var gvks = Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1." + kind)["x-kubernetes-group-version-kind"]!.AsArray()
                .Select(n => (n!["group"]!.GetValue<string>(), n["version"]!.GetValue<string>())).ToList();
            foreach (var gv in Resources.GroupVersions) Assert.Contains(gv, gvks);
        }
        Assert.Equal("", Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.Status")["x-kubernetes-group-version-kind"]![0]!["group"]!.GetValue<string>());
        var deployment = Schema(doc, "io.k8s.api.apps.v1.Deployment");
        Assert.Equal("apps", deployment["x-kubernetes-group-version-kind"]![0]!["group"]!.GetValue<string>());
        Assert.NotNull(Schema(doc, "io.k8s.api.core.v1.PodTemplateSpec"));
        Assert.Null(doc["components"]!["schemas"]!["io.k8s.api.core.v1.Service"]);
    }

    [Fact]
    public void Paths_ServeVerbsWithKubectlNeededExtensions()
    {
        var paths = CoreDoc.Value["paths"]!.AsObject();
        var pod = paths["/api/v1/namespaces/{namespace}/pods/{name}"]!;
        var patch = pod["patch"]!;
        Assert.Equal("patchCoreV1NamespacedPod", patch["operationId"]!.GetValue<string>());
        Assert.Equal("patch", patch["x-kubernetes-action"]!.GetValue<string>());
        Assert.Equal("Pod", patch["x-kubernetes-group-version-kind"]!["kind"]!.GetValue<string>());
        var names = patch["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("fieldValidation", names);
        Assert.Contains("dryRun", names);
        Assert.All(patch["parameters"]!.AsArray(), p => Assert.Equal("query", p!["in"]!.GetValue<string>()));
        Assert.NotNull(patch["requestBody"]!["content"]!["application/strategic-merge-patch+json"]);
        Assert.Equal(["name", "namespace", "pretty"], pod["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
        Assert.NotNull(pod["get"]);
        Assert.NotNull(pod["put"]);
        // Pods answer DELETE with the object.
        Assert.Equal("#/components/schemas/io.k8s.api.core.v1.Pod",
            pod["delete"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());

        Assert.Equal("listCoreV1PodForAllNamespaces", paths["/api/v1/pods"]!["get"]!["operationId"]!.GetValue<string>());
        Assert.Equal("createCoreV1NamespacedPod", paths["/api/v1/namespaces/{namespace}/pods"]!["post"]!["operationId"]!.GetValue<string>());
        Assert.NotNull(paths["/api/v1/namespaces/{namespace}/pods/{name}/status"]!["patch"]);
        Assert.NotNull(paths["/api/v1/watch/namespaces/{namespace}/pods"]);
        Assert.NotNull(paths["/api/v1/"]);
        // Namespaces do not serve deletecollection.
        Assert.Null(paths["/api/v1/namespaces"]!["delete"]);
        Assert.NotNull(paths["/api/v1/namespaces"]!["post"]);

        var rbac = OpenApiV3Builder.BuildV3("apis/rbac.authorization.k8s.io/v1", Resources, Schemas)!;
        var roles = rbac["paths"]!["/apis/rbac.authorization.k8s.io/v1/clusterroles"]!;
        Assert.Equal("listRbacAuthorizationV1ClusterRole", roles["get"]!["operationId"]!.GetValue<string>());
        Assert.Equal("rbacAuthorization_v1", roles["get"]!["tags"]![0]!.GetValue<string>());
    }

    [Fact]
    public void EveryReference_ResolvesInItsDocument()
    {
        foreach (var (path, doc) in OpenApiV3Builder.BuildAllV3(Resources, Schemas))
        {
            var schemas = doc["components"]!["schemas"]!.AsObject();
            foreach (var r in Refs(doc))
            {
                Assert.StartsWith("#/components/schemas/", r);
                Assert.True(schemas.ContainsKey(r["#/components/schemas/".Length..]), $"{path}: dangling {r}");
            }
        }
    }

    [Fact]
    public void Index_ListsEveryServedGroupVersion_WithDocumentHashes()
    {
        var index = OpenApiV3Builder.BuildV3Index(Resources, Schemas);
        var paths = index["paths"]!.AsObject();
        foreach (var (g, v) in Resources.GroupVersions)
        {
            var key = g.Length == 0 ? "api/" + v : $"apis/{g}/{v}";
            Assert.True(paths.ContainsKey(key), key);
            var url = paths[key]!["serverRelativeURL"]!.GetValue<string>();
            var doc = OpenApiV3Builder.BuildV3(key, Resources, Schemas)!;
            Assert.Equal($"/openapi/v3/{key}?hash={OpenApiHash.Compute(OpenApiHash.Serialize(doc))}", url);
            if (g.Length > 0) Assert.True(paths.ContainsKey("apis/" + g));
        }
        foreach (var key in new[] { "api", "apis", "version" }) Assert.True(paths.ContainsKey(key), key);
        foreach (var key in paths.Select(p => p.Key)) Assert.NotNull(OpenApiV3Builder.BuildV3(key, Resources, Schemas));

        Assert.Null(OpenApiV3Builder.BuildV3("apis/nope.example.com/v1", Resources, Schemas));
        Assert.Null(OpenApiV3Builder.BuildV3("api/v2", Resources, Schemas));
        Assert.NotNull(OpenApiV3Builder.BuildV3("/apis/apps/", Resources, Schemas));
        var version = OpenApiV3Builder.BuildV3("version", Resources, Schemas)!;
        Assert.NotNull(version["components"]!["schemas"]!["io.k8s.apimachinery.pkg.version.Info"]);
    }

    [Fact]
    public void Hash_IsUpperHexSha512_AndStable()
    {
        var a = OpenApiHash.Serialize(OpenApiV3Builder.BuildV3("apis/batch/v1", Resources, Schemas)!);
        var b = OpenApiHash.Serialize(OpenApiV3Builder.BuildV3("apis/batch/v1", Resources, Schemas)!);
        Assert.Equal(a, b);
        var hash = OpenApiHash.Compute(a);
        Assert.Matches("^[0-9A-F]{128}$", hash);
        Assert.Equal("\"" + hash + "\"", OpenApiHash.ETag(hash));
        // '+' in media types is written as is.
        Assert.Contains("application/apply-patch+yaml", Encoding.UTF8.GetString(a));
    }

    internal static IEnumerable<string> Refs(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                {
                    // A "$ref" holding a schema is a property of that name (JSONSchemaProps has one, as upstream).
                    if (k == "$ref" && v is JsonValue) yield return v.GetValue<string>();
                    else foreach (var r in Refs(v)) yield return r;
                }
                break;
            case JsonArray a:
                foreach (var e in a) foreach (var r in Refs(e)) yield return r;
                break;
        }
    }
}
