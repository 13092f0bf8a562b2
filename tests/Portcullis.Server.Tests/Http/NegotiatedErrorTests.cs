using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Http;

/// <summary>
/// Upstream's WriteObjectNegotiated (apiserver responsewriters, 1.33): when the Accept header allows
/// nothing the endpoint can write, an error keeps its status and Status (as JSON); only a success
/// becomes a 406.
/// </summary>
public sealed class NegotiatedErrorTests
{
    private const string MetadataOnly = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

    private static async Task<(int Status, JsonObject Body)> Write(int status, JsonNode obj)
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.Headers.Accept = MetadataOnly;
        ctx.Response.Body = new MemoryStream();
        await Responses.WriteObjectAsync(ctx, status, obj);
        ctx.Response.Body.Position = 0;
        return (ctx.Response.StatusCode, JsonNode.Parse(ctx.Response.Body)!.AsObject());
    }

    [Fact]
    public async Task AnError_KeepsItsStatus()
    {
        var forbidden = ApiErrors.Forbidden("secrets", "", "", "User \"u\" cannot list resource \"secrets\" in API group \"\" at the cluster scope");
        var (status, body) = await Write(403, forbidden.ToStatus());
        Assert.Equal(403, status);
        Assert.Equal("Forbidden", body["reason"]!.GetValue<string>());
        Assert.Equal("secrets is forbidden: User \"u\" cannot list resource \"secrets\" in API group \"\" at the cluster scope", body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task ASuccess_Is406()
    {
        var (status, body) = await Write(200, new JsonObject { ["kind"] = "Namespace" });
        Assert.Equal(406, status);
        Assert.Equal("NotAcceptable", body["reason"]!.GetValue<string>());
    }
}
