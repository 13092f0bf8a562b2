using Microsoft.AspNetCore.Http;
using Portcullis.Server.Api.OpenApi;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Http;

/// <summary>
/// /openapi/v3 (index and one document per group version) and /openapi/v2, generated from the
/// resource and schema definitions on first request and cached (start-up stays fast). Documents
/// are served with their hash as ETag; a stale <c>?hash=</c> is redirected to the current one, as upstream.
/// </summary>
public sealed class OpenApiEndpoints
{
    private readonly Lazy<Dictionary<string, (byte[] Bytes, string Hash)>> _v3;
    private readonly Lazy<byte[]> _v3Index;
    private readonly Lazy<(byte[] Bytes, string Hash)> _v2;

    public OpenApiEndpoints(ResourceRegistry resources, string serverVersion)
    {
        _v3 = new(() => OpenApiV3Builder.BuildAllV3(resources, SchemaRegistry.Default, serverVersion)
            .ToDictionary(kv => kv.Key, kv => { var b = OpenApiHash.Serialize(kv.Value); return (b, OpenApiHash.Compute(b)); }));
        _v3Index = new(() => OpenApiHash.Serialize(OpenApiV3Builder.BuildV3Index(_v3.Value.ToDictionary(kv => kv.Key, kv => kv.Value.Hash))));
        _v2 = new(() =>
        {
            var b = OpenApiHash.Serialize(OpenApiV2Builder.BuildV2(resources, SchemaRegistry.Default, serverVersion));
            return (b, OpenApiHash.Compute(b));
        });
    }

    public async Task<bool> TryServeAsync(HttpContext ctx, string path)
    {
        if (path == "/openapi/v3")
        {
            await WriteAsync(ctx, _v3Index.Value, null);
            return true;
        }
        if (path.StartsWith("/openapi/v3/", StringComparison.Ordinal))
        {
            var gv = path["/openapi/v3/".Length..];
            if (!_v3.Value.TryGetValue(gv, out var doc)) return false;
            var asked = ctx.Request.Query["hash"].ToString();
            if (asked.Length > 0 && asked != doc.Hash)
            {
                ctx.Response.StatusCode = 301;
                ctx.Response.Headers.Location = OpenApiHash.ServerRelativeUrl(gv, doc.Hash);
                return true;
            }
            await WriteAsync(ctx, doc.Bytes, doc.Hash, immutable: asked.Length > 0);
            return true;
        }
        if (path == "/openapi/v2")
        {
            var accept = ctx.Request.Headers.Accept.ToString();
            if (accept.Contains("protobuf", StringComparison.Ordinal) && !accept.Contains("json", StringComparison.Ordinal) && !accept.Contains("*/*", StringComparison.Ordinal))
                throw Errors.ApiErrors.NotAcceptable("only the following media types are accepted: application/json");
            await WriteAsync(ctx, _v2.Value.Bytes, _v2.Value.Hash);
            return true;
        }
        return false;
    }

    private static async Task WriteAsync(HttpContext ctx, byte[] body, string? hash, bool immutable = false)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        if (hash is not null) ctx.Response.Headers.ETag = OpenApiHash.ETag(hash);
        ctx.Response.Headers.CacheControl = immutable ? "public, immutable" : "no-cache, private";
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.Body.WriteAsync(body);
    }
}
