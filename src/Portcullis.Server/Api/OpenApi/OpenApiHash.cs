using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>
/// Serialization and hashing of OpenAPI documents. Upstream (kube-openapi handler3) names a
/// document by the upper-case hex SHA-512 of its JSON bytes; that value is the <c>hash</c> query
/// parameter in the /openapi/v3 index and, quoted, the document's ETag.
/// </summary>
public static class OpenApiHash
{
    private static readonly JsonWriterOptions s_writer = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    /// <summary>The compact JSON bytes of a document, exactly as they should be served (and hashed).</summary>
    public static byte[] Serialize(JsonNode document)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, s_writer)) document.WriteTo(w);
        return ms.ToArray();
    }

    /// <summary>Upper-case hex SHA-512 of the bytes (upstream's computeETag).</summary>
    public static string Compute(ReadOnlySpan<byte> json) => Convert.ToHexString(SHA512.HashData(json));

    /// <summary>The hash of a document's serialized form.</summary>
    public static string Compute(JsonNode document) => Compute(Serialize(document));

    /// <summary>The ETag header value for a hash: the hash in double quotes.</summary>
    public static string ETag(string hash) => "\"" + hash + "\"";

    /// <summary>Path under /openapi/v3 with its hash, as the index lists it.</summary>
    public static string ServerRelativeUrl(string groupVersionPath, string hash) =>
        "/openapi/v3/" + groupVersionPath + "?hash=" + hash;
}
