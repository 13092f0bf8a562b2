using System.Buffers;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Http;

/// <summary>Writes API objects: content negotiation, pretty printing and encoding in one place.</summary>
public static class Responses
{
    public const string Json = "application/json";
    public const string Yaml = "application/yaml";
    public const string Protobuf = "application/vnd.kubernetes.protobuf";

    /// <summary>
    /// Pretty output as upstream decides it: <c>?pretty=true</c>, or a client that is a person
    /// (user agents starting with curl, Wget or Mozilla/).
    /// </summary>
    public static bool IsPretty(HttpRequest req)
    {
        if (req.Query.TryGetValue("pretty", out var p)) return Registry.ListOptions.IsTrue(p.ToString());
        var ua = req.Headers.UserAgent.ToString();
        return ua.StartsWith("curl", StringComparison.Ordinal) || ua.StartsWith("Wget", StringComparison.Ordinal) || ua.StartsWith("Mozilla/", StringComparison.Ordinal);
    }

    /// <summary>The media type to answer in, from the Accept header; 406 when nothing we speak is acceptable.</summary>
    public static string Negotiate(HttpRequest req)
    {
        var accept = req.Headers.Accept.ToString();
        if (accept.Length == 0) return Json;
        foreach (var raw in accept.Split(','))
        {
            var part = raw.Trim();
            var semi = part.IndexOf(';');
            var type = (semi >= 0 ? part[..semi] : part).Trim().ToLowerInvariant();
            var pars = semi >= 0 ? part[(semi + 1)..] : "";
            // Table and PartialObjectMetadata conversions are not served yet: skip those offers.
            if (pars.Contains("as=", StringComparison.Ordinal)) continue;
            switch (type)
            {
                case Json or "application/*" or "*/*" or "application/json-patch+json" or "application/merge-patch+json": return Json;
                case Yaml or "application/yml": return Yaml;
            }
        }
        throw ApiErrors.NotAcceptable("only the following media types are accepted: application/json, application/yaml");
    }

    public static async Task WriteObjectAsync(HttpContext ctx, int status, JsonNode obj)
    {
        string media;
        try { media = Negotiate(ctx.Request); }
        catch (ApiException) { media = Json; status = 406; obj = ApiErrors.NotAcceptable("only the following media types are accepted: application/json, application/yaml").ToStatus(); }
        ctx.Response.StatusCode = status;
        if (media == Yaml)
        {
            ctx.Response.ContentType = Yaml;
            await ctx.Response.WriteAsync(YamlCodec.ToYaml(obj));
            return;
        }
        ctx.Response.ContentType = Json;
        var pretty = IsPretty(ctx.Request);
        var buf = new ArrayBufferWriter<byte>(1024);
        GoJsonWriter.Write(buf, obj, pretty);
        // Go's json.Encoder ends with a newline; MarshalIndent (pretty) does not.
        if (!pretty) buf.Write("\n"u8);
        ctx.Response.ContentLength = buf.WrittenCount;
        await ctx.Response.Body.WriteAsync(buf.WrittenMemory);
    }

    public static Task WriteErrorAsync(HttpContext ctx, ApiException e) => WriteObjectAsync(ctx, e.Code, e.ToStatus());
}
