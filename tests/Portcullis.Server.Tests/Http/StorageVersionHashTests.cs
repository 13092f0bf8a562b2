using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Http;

/// <summary>Legacy discovery's storageVersionHash, as upstream's discovery.StorageVersionHash computes it.</summary>
public class StorageVersionHashTests
{
    [Theory]
    // Values read from a real 1.33 cluster's discovery.
    [InlineData("", "v1", "Pod", "xPOwRZ+Yhw8=")]
    [InlineData("", "v1", "ConfigMap", "qFsyl6wFWjQ=")]
    [InlineData("apps", "v1", "Deployment", "8aSe+NMegvE=")]
    [InlineData("", "v1", "Namespace", "Q3oi5N2YM8M=")]
    [InlineData("", "v1", "Secret", "S6u1pOWzb84=")]
    [InlineData("", "v1", "ServiceAccount", "pbx9ZvyFpBE=")]
    [InlineData("", "v1", "Event", "r2yiGXH7wu8=")]
    public void HashOfGroupVersionKind(string group, string version, string kind, string expected) =>
        Assert.Equal(expected, Discovery.StorageVersionHash(group, version, kind));

    private static async Task<JsonArray> Resources(string path)
    {
        var discovery = new Discovery(new ResourceRegistry(BuiltinResources.All));
        var ctx = new DefaultHttpContext();
        ctx.Request.Method = "GET";
        ctx.Request.Path = path;
        var body = new MemoryStream();
        ctx.Response.Body = body;
        Assert.True(await discovery.TryServeAsync(ctx, path));
        return JsonNode.Parse(body.ToArray())!["resources"]!.AsArray();
    }

    private static JsonObject Resource(JsonArray list, string name) => list.Single(r => (string?)r!["name"] == name)!.AsObject();

    [Fact]
    public async Task StoredResourcesHaveIt_SubresourcesAndReviewsDoNot()
    {
        var core = await Resources("/api/v1");
        Assert.Equal("xPOwRZ+Yhw8=", (string?)Resource(core, "pods")["storageVersionHash"]);
        Assert.Equal("Q3oi5N2YM8M=", (string?)Resource(core, "namespaces")["storageVersionHash"]);
        Assert.Null(Resource(core, "pods/status")["storageVersionHash"]);
        Assert.Null(Resource(core, "namespaces/finalize")["storageVersionHash"]);
        // Upstream's field order: ..., shortNames, categories, storageVersionHash.
        Assert.Equal("storageVersionHash", Resource(core, "pods").Last().Key);

        var apps = await Resources("/apis/apps/v1");
        Assert.Equal("8aSe+NMegvE=", (string?)Resource(apps, "deployments")["storageVersionHash"]);
        Assert.Null(Resource(apps, "deployments/scale")["storageVersionHash"]);

        // events.k8s.io/v1 Events are stored as core/v1 Events: the same hash.
        Assert.Equal("r2yiGXH7wu8=", (string?)Resource(await Resources("/apis/events.k8s.io/v1"), "events")["storageVersionHash"]);
        Assert.Null(Resource(await Resources("/apis/authorization.k8s.io/v1"), "subjectaccessreviews")["storageVersionHash"]);
        Assert.Null(Resource(await Resources("/apis/authentication.k8s.io/v1"), "tokenreviews")["storageVersionHash"]);
    }
}
