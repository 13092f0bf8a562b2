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

    /// <summary>
    /// Writes an API object as JSON or YAML, as negotiated from the Accept header. When nothing
    /// acceptable can be written, a success answers 406, but an error keeps its own status and
    /// Status, written as JSON (upstream's WriteObjectNegotiated: "we cannot hide it behind
    /// negotiation problems"): a forbidden list asked as PartialObjectMetadataList is a 403.
    /// </summary>
    public static Task WriteObjectAsync(HttpContext ctx, int status, JsonNode obj)
    {
        Negotiated n;
        try { n = MediaTypes.Negotiate(ctx.Request.Headers.Accept.ToString()); }
        catch (ApiException e)
        {
            var json = new Negotiated(WireEncoding.Json, Conversion.None);
            return status is < 200 or >= 400 ? WriteEncodedAsync(ctx, status, obj, json) : WriteEncodedAsync(ctx, e.Code, e.ToStatus(), json);
        }
        return WriteEncodedAsync(ctx, status, obj, n);
    }

    /// <summary>Writes an already converted object with the negotiated content type.</summary>
    public static async Task WriteEncodedAsync(HttpContext ctx, int status, JsonNode obj, Negotiated n)
    {
        Audit.AuditContext.LogResponseObject(ctx, obj); // a Status answer's fields become the audit event's responseStatus
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = n.ContentType;
        if (n.Encoding == WireEncoding.Yaml)
        {
            await ctx.Response.WriteAsync(YamlCodec.ToYaml(obj));
            return;
        }
        var pretty = IsPretty(ctx.Request);
        var buf = new ArrayBufferWriter<byte>(1024);
        GoJsonWriter.Write(buf, obj, pretty);
        // Go's json.Encoder ends with a newline; MarshalIndent (pretty) does not.
        if (!pretty) buf.Write("\n"u8);
        ctx.Response.ContentLength = buf.WrittenCount;
        await ctx.Response.Body.WriteAsync(buf.WrittenMemory);
    }

    /// <summary>
    /// Whether the answer is compact JSON with the given conversion: the answers made from kept or
    /// streamed bytes (not YAML, not <c>pretty</c>).
    /// </summary>
    internal static bool IsCompactJson(Negotiated n, HttpRequest req, Conversion conversion = Conversion.None) =>
        n.Encoding == WireEncoding.Json && n.Conversion == conversion && !IsPretty(req);

    /// <summary>Writes one object already encoded as compact JSON (200), as <see cref="WriteEncodedAsync"/> would.</summary>
    internal static async Task WriteServedAsync(HttpContext ctx, Registry.ServedItem item)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = Json;
        ctx.Response.ContentLength = item.Length + 1;
        var body = ctx.Response.BodyWriter;
        item.Write(body);
        body.Write("\n"u8);
        await body.FlushAsync(ctx.RequestAborted);
    }

    /// <summary>
    /// Writes a list whose items are already encoded, as compact JSON (200): the same bytes
    /// <see cref="WriteEncodedAsync"/> writes for the decoded list.
    /// </summary>
    internal static Task WriteListAsync(HttpContext ctx, Registry.EncodedList list) =>
        WriteSplicedAsync(ctx, Json, new JsonObject
        {
            ["kind"] = list.ListKind,
            ["apiVersion"] = list.GroupVersion,
            ["metadata"] = list.Metadata,
            ["items"] = new JsonArray(),
        }, list.Items.Count, i => list.Items[i].ItemLength, (i, w) => list.Items[i].WriteListItem(w));

    /// <summary>
    /// Writes <paramref name="envelope"/> as compact JSON (200) with <paramref name="count"/> elements,
    /// already encoded, in its last field (an empty array): the envelope is written by the same writer
    /// and the elements go between its brackets, so the bytes are those of the whole object written at
    /// once. Flushed as it goes, so the answer is never held twice. With <paramref name="length"/> the
    /// answer has a Content-Length; without, it is sent chunked, and <paramref name="prepare"/> is told
    /// each run of up to <see cref="SplicedChunk"/> elements before they are written, so a caller can
    /// make them a run at a time.
    /// </summary>
    internal static async Task WriteSplicedAsync(HttpContext ctx, string contentType, JsonObject envelope, int count,
        Func<int, int>? length, Action<int, IBufferWriter<byte>> write, Action<int, int>? prepare = null)
    {
        var head = new ArrayBufferWriter<byte>(512);
        GoJsonWriter.Write(head, envelope, pretty: false);
        var open = head.WrittenMemory[..^2]; // up to and including the last field's "["
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = contentType;
        if (length is not null)
        {
            long total = head.WrittenCount + 1; // the envelope, its closing "]}" and the final newline
            for (var i = 0; i < count; i++) total += length(i);
            if (count > 1) total += count - 1;
            ctx.Response.ContentLength = total;
        }
        var body = ctx.Response.BodyWriter;
        body.Write(open.Span);
        for (var start = 0; start < count; start += SplicedChunk)
        {
            var end = Math.Min(count, start + SplicedChunk);
            prepare?.Invoke(start, end);
            for (var i = start; i < end; i++)
            {
                if (i > 0) body.Write(","u8);
                write(i, body);
                if (body.UnflushedBytes > 1 << 16) await body.FlushAsync(ctx.RequestAborted);
            }
        }
        body.Write("]}\n"u8);
        await body.FlushAsync(ctx.RequestAborted);
    }

    /// <summary>How many elements <see cref="WriteSplicedAsync"/> hands to its caller's <c>prepare</c> at a time.</summary>
    internal const int SplicedChunk = 1024;

    public static Task WriteErrorAsync(HttpContext ctx, ApiException e) => WriteObjectAsync(ctx, e.Code, e.ToStatus());
}
