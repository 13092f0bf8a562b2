using Microsoft.AspNetCore.Http;
using Portcullis.Server.Api.OpenApi;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Http;

/// <summary>
/// /openapi/v3 (index and one document per group version) and /openapi/v2 (JSON, or gnostic protobuf
/// by Accept, as kube-openapi negotiates it), generated from the
/// resource and schema definitions on first request and cached (start-up stays fast). Documents
/// are served with their hash as ETag; a stale <c>?hash=</c> is redirected to the current one, as upstream.
/// </summary>
public sealed class OpenApiEndpoints
{
    /// <summary>The documents of one registry generation, made on first request; kinds coming or going make new ones.</summary>
    private sealed class Documents
    {
        public required long Generation { get; init; }
        public required Lazy<Dictionary<string, (byte[] Bytes, string Hash)>> V3 { get; init; }
        public required Lazy<byte[]> V3Index { get; init; }
        public required Lazy<(byte[] Bytes, string Hash)> V2 { get; init; }
        public required Lazy<byte[]> V2Protobuf { get; init; }
    }

    private readonly ResourceRegistry _resources;
    private readonly string _serverVersion;
    private volatile Documents? _docs;

    /// <summary>
    /// The media types /openapi/v2 serves, in kube-openapi's order (the first match of the best Accept
    /// clause wins); both protobuf subtypes are answered with the dotted, MIME-parsable content type.
    /// </summary>
    private static readonly (string Type, string SubType, string ContentType, bool Protobuf)[] V2MediaTypes =
    [
        ("application", "json", "application/json", false),
        ("application", OpenApiV2Protobuf.AcceptType["application/".Length..], OpenApiV2Protobuf.ContentType, true),
        ("application", OpenApiV2Protobuf.ContentType["application/".Length..], OpenApiV2Protobuf.ContentType, true),
    ];

    public OpenApiEndpoints(ResourceRegistry resources, string serverVersion)
    {
        _resources = resources;
        _serverVersion = serverVersion;
    }

    private Documents Current()
    {
        var generation = _resources.Generation;
        if (_docs is { } d && d.Generation == generation) return d;
        var resources = _resources;
        var serverVersion = _serverVersion;
        Lazy<Dictionary<string, (byte[] Bytes, string Hash)>> v3 = new(() => OpenApiV3Builder.BuildAllV3(resources, SchemaRegistry.Default, serverVersion)
            .ToDictionary(kv => kv.Key, kv => { var b = OpenApiHash.Serialize(kv.Value); return (b, OpenApiHash.Compute(b)); }));
        Lazy<(byte[] Bytes, string Hash)> v2 = new(() =>
        {
            var b = OpenApiHash.Serialize(OpenApiV2Builder.BuildV2(resources, SchemaRegistry.Default, serverVersion));
            return (b, OpenApiHash.Compute(b));
        });
        var docs = new Documents
        {
            Generation = generation,
            V3 = v3,
            V3Index = new(() => OpenApiHash.Serialize(OpenApiV3Builder.BuildV3Index(v3.Value.ToDictionary(kv => kv.Key, kv => kv.Value.Hash)))),
            V2 = v2,
            // As kube-apiserver does: the protobuf is gnostic's reading of the served JSON bytes, and
            // shares the JSON's ETag (responses vary by Accept).
            V2Protobuf = new(() => OpenApiV2Protobuf.Encode(System.Text.Json.Nodes.JsonNode.Parse(v2.Value.Bytes)!.AsObject())),
        };
        _docs = docs;
        return docs;
    }

    public async Task<bool> TryServeAsync(HttpContext ctx, string path)
    {
        var docs = Current();
        if (path == "/openapi/v3")
        {
            await WriteAsync(ctx, docs.V3Index.Value, null);
            return true;
        }
        if (path.StartsWith("/openapi/v3/", StringComparison.Ordinal))
        {
            var gv = path["/openapi/v3/".Length..];
            if (!docs.V3.Value.TryGetValue(gv, out var doc)) return false;
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
            ctx.Response.Headers.Vary = "Accept";
            var media = NegotiateV2(ctx.Request.Headers.Accept.ToString())
                ?? throw Errors.ApiErrors.NotAcceptable("only the following media types are accepted: " + string.Join(", ", V2MediaTypes.Select(m => m.ContentType)));
            var body = media.Protobuf ? docs.V2Protobuf.Value : docs.V2.Value.Bytes;
            await WriteAsync(ctx, body, docs.V2.Value.Hash, contentType: media.ContentType);
            return true;
        }
        return false;
    }

    /// <summary>
    /// kube-openapi's negotiation for /openapi/v2: Accept clauses (none means <c>*/*</c>) sorted by q
    /// and then specificity; the first clause matching any served type picks the first such type.
    /// </summary>
    private static (string Type, string SubType, string ContentType, bool Protobuf)? NegotiateV2(string accept)
    {
        if (string.IsNullOrWhiteSpace(accept)) accept = "*/*";
        var clauses = new List<(string Type, string SubType, double Q)>();
        foreach (var part in accept.Split(','))
        {
            var mrp = part.Trim().Split(';');
            var sp = mrp[0].Split('/');
            var type = sp[0].Trim();
            string subType;
            if (sp.Length == 1 && type == "*") subType = "*";
            else if (sp.Length == 2) subType = sp[1].Trim();
            else continue;
            var q = 1.0;
            foreach (var param in mrp.Skip(1))
            {
                var kv = param.Split('=', 2);
                if (kv.Length == 2 && kv[0].Trim() == "q")
                    q = double.TryParse(kv[1].Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0;
            }
            if (q > 0) clauses.Add((type, subType, q));
        }
        foreach (var c in clauses.OrderByDescending(c => c.Q).ThenBy(c => c.Type == "*").ThenBy(c => c.SubType == "*"))
        {
            foreach (var m in V2MediaTypes)
            {
                if ((c.Type == m.Type || c.Type == "*") && (c.SubType == m.SubType || c.SubType == "*")) return m;
            }
        }
        return null;
    }

    private static async Task WriteAsync(HttpContext ctx, byte[] body, string? hash, bool immutable = false, string contentType = "application/json")
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = contentType;
        if (hash is not null) ctx.Response.Headers.ETag = OpenApiHash.ETag(hash);
        ctx.Response.Headers.CacheControl = immutable ? "public, immutable" : "no-cache, private";
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.Body.WriteAsync(body);
    }
}
