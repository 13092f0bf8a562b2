using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// The JWS compact serialization as far as service account tokens need it: RS256 signing, and
/// strict splitting/decoding of presented tokens. Nothing here decides whether a token is valid.
/// </summary>
internal static class Jwt
{
    public const string Rs256 = "RS256";

    /// <summary>Signs a payload with RS256 under <c>{"alg":"RS256","kid":…}</c>.</summary>
    public static string Sign(JsonObject claims, RSA key, string kid)
    {
        var header = new JsonObject { ["alg"] = Rs256, ["kid"] = kid };
        var signingInput = Base64UrlEncode(GoJsonWriter.ToBytes(header)) + "." + Base64UrlEncode(GoJsonWriter.ToBytes(claims));
        var sig = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64UrlEncode(sig);
    }

    public static bool VerifyRs256(string signingInput, byte[] signature, RSA key)
    {
        try
        {
            return key.VerifyData(Encoding.ASCII.GetBytes(signingInput), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException) { return false; }
    }

    /// <summary>
    /// The three parts of a compact JWS, as upstream's issuer pre-check sees them: not JSON
    /// serialization (leading <c>{</c>), exactly three dot-separated parts.
    /// </summary>
    public static bool TrySplit(string token, out string header, out string payload, out string signature)
    {
        header = payload = signature = "";
        if (token.TrimStart().StartsWith('{')) return false;
        var first = token.IndexOf('.');
        if (first < 0) return false;
        var second = token.IndexOf('.', first + 1);
        if (second < 0 || token.IndexOf('.', second + 1) >= 0) return false;
        header = token[..first];
        payload = token[(first + 1)..second];
        signature = token[(second + 1)..];
        return true;
    }

    /// <summary>Unpadded base64url, as RFC 7515 writes it.</summary>
    public static string Base64UrlEncode(ReadOnlySpan<byte> data) =>
        Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Strict unpadded base64url (Go's RawURLEncoding): no padding, whitespace or other alphabets.</summary>
    public static bool TryBase64UrlDecode(string s, out byte[] bytes)
    {
        bytes = [];
        if (s.Length % 4 == 1) return false;
        foreach (var c in s)
            if (!(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_')) return false;
        var b64 = s.Replace('-', '+').Replace('_', '/');
        b64 += (b64.Length % 4) switch { 2 => "==", 3 => "=", _ => "" };
        try { bytes = Convert.FromBase64String(b64); return true; }
        catch (FormatException) { return false; }
    }

    private static readonly JsonDocumentOptions StrictJson = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 32,
        AllowDuplicateProperties = false,
    };

    /// <summary>A JSON object, or null for anything else (malformed, duplicate keys, not an object).</summary>
    public static JsonDocument? TryParseObject(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var doc = JsonDocument.Parse(utf8.ToArray(), StrictJson);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
            doc.Dispose();
            return null;
        }
        catch (JsonException) { return null; }
        catch (ArgumentException) { return null; }
    }
}
