using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Http;

/// <summary>Routes an authorized request to the resource handler or a non-resource endpoint.</summary>
public sealed class Dispatcher(ResourceHandler resources, Discovery discovery, HealthChecks health, VersionInfo version, OpenApiEndpoints openApi,
    Authentication.ServiceAccounts.OidcDiscovery? oidc = null)
{
    public async Task DispatchAsync(HttpContext ctx)
    {
        var f = ctx.Features.GetRequiredFeature<RequestContextFeature>();
        var info = f.Info;
        if (info.IsResourceRequest)
        {
            if (f.Resource is null) throw ApiErrors.PathNotFound();
            await resources.HandleAsync(ctx, info, f.Resource);
            return;
        }
        var path = info.Path.TrimEnd('/');
        if (path.Length == 0) path = "/";
        if (ctx.Request.Method is not ("GET" or "HEAD"))
        {
            if (await discovery.TryServeAsync(ctx, path) || health.Handles(path) || path == "/version")
                throw ApiErrors.MethodNotAllowed();
            await NotFoundAsync(ctx);
            return;
        }
        if (path == "/version")
        {
            await Responses.WriteObjectAsync(ctx, 200, version.ToJson());
            return;
        }
        if (path == "/")
        {
            await Responses.WriteObjectAsync(ctx, 200, new JsonObject { ["paths"] = new JsonArray(RootPaths().Select(p => (JsonNode)p!).ToArray()) });
            return;
        }
        if (await health.TryServeAsync(ctx, path)) return;
        if (await openApi.TryServeAsync(ctx, path)) return;
        if (oidc is not null && (path == Authentication.ServiceAccounts.OidcDiscovery.ConfigPath || path == Authentication.ServiceAccounts.OidcDiscovery.JwksPath))
        {
            var isConfig = path == Authentication.ServiceAccounts.OidcDiscovery.ConfigPath;
            var bytes = isConfig ? oidc.ConfigJson : oidc.JwksJson;
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = isConfig ? Authentication.ServiceAccounts.OidcDiscovery.ConfigContentType : Authentication.ServiceAccounts.OidcDiscovery.JwksContentType;
            ctx.Response.Headers.CacheControl = Authentication.ServiceAccounts.OidcDiscovery.CacheControl;
            ctx.Response.ContentLength = bytes.Length;
            await ctx.Response.Body.WriteAsync(bytes);
            return;
        }
        if (await discovery.TryServeAsync(ctx, path)) return;
        await NotFoundAsync(ctx);
    }

    private IEnumerable<string> RootPaths()
    {
        var paths = new List<string> { "/api", "/api/v1", "/apis", "/apis/" };
        paths.AddRange(discovery.GroupPaths());
        paths.AddRange(["/healthz", "/healthz/etcd", "/healthz/log", "/healthz/ping", "/livez", "/livez/etcd", "/livez/log", "/livez/ping",
            "/metrics", "/readyz", "/readyz/etcd", "/readyz/log", "/readyz/ping", "/readyz/shutdown", "/version"]);
        paths.Sort(StringComparer.Ordinal);
        return paths;
    }

    /// <summary>An unknown non-resource path: Go's mux answer, as upstream.</summary>
    private static async Task NotFoundAsync(HttpContext ctx)
    {
        ctx.Response.StatusCode = 404;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await ctx.Response.WriteAsync("404 page not found\n");
    }
}
