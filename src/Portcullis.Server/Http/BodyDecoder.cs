using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;
using Portcullis.Server.Serialization.Protobuf;

namespace Portcullis.Server.Http;

/// <summary>
/// Reads a request body into an object of the endpoint's kind: size limit, media type, JSON or
/// YAML, apiVersion/kind defaulting and checking, and field validation (Strict, Warn, Ignore).
/// </summary>
public static class BodyDecoder
{
    public const int MaxBodyBytes = 3 * 1024 * 1024;

    public static readonly string[] AcceptedMediaTypes = [Responses.Json, Responses.Yaml, Responses.Protobuf];

    public static async Task<byte[]> ReadBodyAsync(HttpRequest req, CancellationToken ct)
    {
        if (req.ContentLength > MaxBodyBytes) throw TooLarge();
        if (req.ContentLength is { } length)
        {
            // The usual case: the size is known, so the body is read straight into its array.
            var body = new byte[length];
            var read = 0;
            while (read < body.Length)
            {
                var got = await req.Body.ReadAsync(body.AsMemory(read), ct);
                if (got == 0) break;
                read += got;
            }
            return read == body.Length ? body : body[..read];
        }
        using var ms = new MemoryStream();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await req.Body.ReadAsync(buffer, ct)) > 0)
            {
                ms.Write(buffer, 0, n);
                if (ms.Length > MaxBodyBytes) throw TooLarge();
            }
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
        return ms.ToArray();
    }

    private static ApiException TooLarge() => ApiErrors.RequestEntityTooLarge($"Request entity too large: limit is {MaxBodyBytes}");

    public static string MediaType(HttpRequest req)
    {
        var ct = req.ContentType ?? "";
        var semi = ct.IndexOf(';');
        return (semi >= 0 ? ct[..semi] : ct).Trim().ToLowerInvariant();
    }

    /// <summary>Parses the body as JSON (or YAML) without a schema.</summary>
    public static JsonNode? ParseRaw(byte[] body, string mediaType, List<string>? duplicates)
    {
        try { return Parse(body, mediaType, duplicates); }
        catch (JsonException e) { throw ApiErrors.BadRequest(JsonError(e, body)); }
        catch (FormatException e) { throw ApiErrors.BadRequest("error converting YAML to JSON: " + e.Message); }
    }

    /// <exception cref="JsonException">malformed JSON.</exception>
    /// <exception cref="FormatException">malformed YAML, with go-yaml's message (<c>yaml: ...</c>).</exception>
    private static JsonNode? Parse(byte[] body, string mediaType, List<string>? duplicates) => mediaType switch
    {
        // A JSON media type is read as JSON whatever the bytes; so is a body without Content-Type
        // (NegotiateInputSerializer takes the first supported type, JSON). YAML sent that way, as
        // kubectl create --raw -f pod.yaml does, fails with encoding/json's syntax error.
        Responses.Json or "" or "application/json-patch+json" or "application/merge-patch+json" or "application/strategic-merge-patch+json"
            => JsonParser.Parse(body, duplicates),
        "application/apply-patch+yaml" when LooksLikeJson(body) => ParseApplyJson(body, duplicates),
        Responses.Yaml or "application/yml" or "application/apply-patch+yaml" => YamlCodec.ToJson(body),
        _ => throw ApiErrors.UnsupportedMediaType(mediaType, AcceptedMediaTypes),
    };

    private static string JsonError(JsonException e, byte[] body) => $"couldn't get version/kind; json parse error: {GoSyntaxError(e, body)}";

    /// <summary>encoding/json's syntax error for the body (our own depth limit keeps its message).</summary>
    internal static string GoSyntaxError(JsonException e, byte[] body) =>
        e.Message.Contains("exceeded max depth", StringComparison.Ordinal) ? GoJsonError(e) : GoJsonSyntax.Error(body) ?? GoJsonError(e);

    /// <summary>
    /// A body that could not be read at all, so no kind is known yet: handlers' transformDecodeError
    /// names the expected kind and the start of the body.
    /// </summary>
    private static ApiException Unrecognized(string expectedKind, string cause, byte[] body) =>
        ApiErrors.BadRequest($"the object provided is unrecognized (must be of type {expectedKind}): {cause} ({Summarize(body)})");

    /// <summary>summarizeData: up to 30 bytes, as text when the body starts with '{' and in hex otherwise.</summary>
    internal static string Summarize(byte[] data, int max = 30)
    {
        if (data.Length == 0) return "<empty>";
        var n = Math.Min(data.Length, max);
        var text = data[0] == (byte)'{' ? Encoding.UTF8.GetString(data, 0, n) : Convert.ToHexStringLower(data, 0, n);
        return data.Length > max ? text + " ..." : text;
    }

    /// <summary>
    /// An apply configuration as applyPatcher decodes it (sigs.k8s.io/yaml's Unmarshal into a map): a body that does
    /// not parse, or parses to something other than an object, is a 400 "error decoding YAML: …"; <c>null</c> is an
    /// empty configuration.
    /// </summary>
    public static JsonObject ApplyConfiguration(byte[] body)
    {
        JsonNode? node;
        try { node = ParseRaw(body, "application/apply-patch+yaml", null); }
        catch (ApiException e) when (e.Code == 400) { throw ApiErrors.BadRequest("error decoding YAML: " + e.Message); }
        return node switch
        {
            JsonObject o => o,
            null => new JsonObject(),
            _ => throw ApiErrors.BadRequest("error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
                + GoJsonKind(node) + " into Go value of type map[string]interface {}"),
        };
    }

    /// <summary>encoding/json's name of a JSON value's kind in an UnmarshalTypeError.</summary>
    private static string GoJsonKind(JsonNode node) => node switch
    {
        JsonArray => "array",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "string",
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "bool",
        _ => "number",
    };

    /// <summary>
    /// An apply patch is YAML (applyPatcher's yaml.Unmarshal), of which JSON is the flow style: JSON is read
    /// as JSON, and what JSON refuses but YAML's flow style allows (a trailing comma, as upstream's own apply
    /// tests send) is read as YAML, whose error is the one reported when neither reads it.
    /// </summary>
    private static JsonNode? ParseApplyJson(byte[] body, List<string>? duplicates)
    {
        try { return JsonParser.Parse(body, duplicates); }
        catch (JsonException) { return YamlCodec.ToJson(body); }
    }

    private static bool LooksLikeJson(byte[] body)
    {
        foreach (var b in body)
        {
            if (b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') continue;
            return b is (byte)'{' or (byte)'[';
        }
        return true;
    }

    private static string GoJsonError(JsonException e)
    {
        var msg = e.Message;
        var cut = msg.IndexOf(" LineNumber", StringComparison.Ordinal);
        if (cut > 0) msg = msg[..cut];
        return msg.TrimEnd('.');
    }

    /// <summary>
    /// Decodes an object for <paramref name="def"/>. Unknown and duplicate fields are an error under
    /// Strict and warnings under Warn (the default), as upstream's server-side field validation.
    /// </summary>
    public static JsonObject DecodeObject(byte[] body, string mediaType, ResourceDefinition def, string fieldValidation, List<string> warnings) =>
        Decode(body, mediaType, def.Schema, def.GroupVersion, def.Kind, fieldValidation, warnings, def.CustomShape);

    /// <summary>
    /// Decodes a body of a given kind (an API object or a review/request type) from JSON, YAML or protobuf;
    /// a custom kind's own <paramref name="shape"/> replaces the Go type's (and it has no protobuf form).
    /// </summary>
    public static JsonObject Decode(byte[] body, string mediaType, StructSchema schema, string groupVersion, string expectedKind,
        string fieldValidation, List<string> warnings, Func<JsonObject, DecodeProblems?, JsonObject>? shape = null)
    {
        var version = groupVersion.Contains('/') ? groupVersion[(groupVersion.IndexOf('/') + 1)..] : groupVersion;
        var problems = new DecodeProblems();
        JsonObject obj;
        string apiVersion, kind;
        if (mediaType == Responses.Protobuf && shape is not null)
            throw ApiErrors.UnsupportedMediaType(mediaType, [Responses.Json, "application/yaml"]);
        if (mediaType == Responses.Protobuf)
        {
            try
            {
                var (av, k, raw) = ProtobufDecoder.ReadEnvelope(body);
                apiVersion = av;
                kind = k;
                obj = ProtobufDecoder.DecodeMessage(raw, schema, problems);
            }
            catch (ProtobufFormatException e)
            {
                throw ApiErrors.BadRequest($"{expectedKind} in version \"{version}\" cannot be handled as a {expectedKind}: {e.Message}");
            }
        }
        else
        {
            var dups = new List<string>();
            JsonNode? node;
            try { node = Parse(body, mediaType, dups); }
            catch (JsonException e) { throw Unrecognized(expectedKind, JsonError(e, body), body); }
            catch (FormatException e) { throw Unrecognized(expectedKind, e.Message, body); }
            if (node is not JsonObject o)
                throw ApiErrors.BadRequest($"Object 'Kind' is missing in '{System.Text.Encoding.UTF8.GetString(body).Trim()}'");
            obj = o;
            problems.DuplicateFields.AddRange(dups);
            apiVersion = obj["apiVersion"] is JsonValue av && av.GetValueKind() == JsonValueKind.String ? av.GetValue<string>() : "";
            kind = obj["kind"] is JsonValue kv && kv.GetValueKind() == JsonValueKind.String ? kv.GetValue<string>() : "";
        }
        if (apiVersion.Length > 0 && apiVersion != groupVersion)
            throw ApiErrors.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({groupVersion})");
        if (kind.Length > 0 && kind != expectedKind)
            throw ApiErrors.BadRequest($"{kind} in version \"{version}\" cannot be handled as a {expectedKind}: the kind in the data ({kind}) does not match the expected kind ({expectedKind})");
        obj["apiVersion"] = groupVersion;
        obj["kind"] = expectedKind;

        var shaped = shape is not null ? shape(obj, problems) : ObjectShaper.Shape(obj, schema, problems);
        if (problems.TypeErrors.Count > 0)
            throw ApiErrors.BadRequest($"{expectedKind} in version \"{version}\" cannot be handled as a {expectedKind}: {problems.TypeErrors[0]}");
        // create.go/update.go: a strict decoding error goes through transformDecodeError, which names the kind.
        ReportFieldProblems(problems, fieldValidation, warnings, $"{expectedKind} in version \"{version}\" cannot be handled as a {expectedKind}: ");
        return shaped;
    }

    public static void ReportFieldProblems(DecodeProblems problems, string fieldValidation, List<string> warnings, string strictPrefix = "")
    {
        var msgs = problems.UnknownFields.Select(f => $"unknown field \"{f}\"")
            .Concat(problems.DuplicateFields.Select(f => $"duplicate field \"{f}\"")).ToList();
        if (msgs.Count == 0) return;
        switch (fieldValidation)
        {
            case "Strict":
                throw ApiErrors.BadRequest(strictPrefix + "strict decoding error: " + string.Join(", ", msgs));
            case "Ignore":
                return;
            default:
                warnings.AddRange(msgs);
                return;
        }
    }

    /// <summary>The fieldValidation query parameter; anything else is a 400 as upstream.</summary>
    public static string FieldValidation(HttpRequest req)
    {
        var v = req.Query["fieldValidation"].ToString();
        return v switch
        {
            "" => "Warn",
            "Strict" or "Warn" or "Ignore" => v,
            _ => throw ApiErrors.BadRequest($"fieldValidation parameter unsupported: {v}. Supported values are: Ignore, Warn, Strict"),
        };
    }
}
