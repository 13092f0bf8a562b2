using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Registry;

/// <summary>
/// Upstream's continue token: base64url (no padding) of <c>{"v":"meta.k8s.io/v1","rv":N,"start":"KEY\u0000"}</c>,
/// where KEY is the last returned key relative to the listed prefix.
/// </summary>
public static class ContinueToken
{
    public static string Encode(long rv, string startAfterRelative)
    {
        var o = new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = rv, ["start"] = startAfterRelative + "\0" };
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(o.ToJsonString()));
    }

    public static (long Rv, string StartAfterRelative) Decode(string token)
    {
        try
        {
            var bytes = Base64Url.DecodeFromChars(token);
            var o = JsonNode.Parse(bytes)!.AsObject();
            if (o["v"]?.GetValue<string>() != "meta.k8s.io/v1") throw new FormatException();
            var rv = o["rv"]!.GetValue<long>();
            var start = o["start"]!.GetValue<string>();
            if (start.Contains("..") || start.StartsWith('/')) throw new FormatException();
            if (start.EndsWith('\0')) start = start[..^1];
            return (rv, start);
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException or NullReferenceException)
        {
            throw ApiErrors.BadRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
        }
    }
}
