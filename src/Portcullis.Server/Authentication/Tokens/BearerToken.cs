using Microsoft.AspNetCore.Http;

namespace Portcullis.Server.Authentication.Tokens;

/// <summary>
/// The bearer token of a request, read as upstream's bearertoken authenticator reads it: the
/// first Authorization header, trimmed, split on single spaces; the scheme is "bearer" in any
/// case and the token is the second field, which must not be empty.
/// </summary>
public static class BearerToken
{
    public static string? From(HttpContext context)
    {
        var values = context.Request.Headers.Authorization;
        return values.Count == 0 ? null : Parse(values[0]);
    }

    public static string? Parse(string? authorization)
    {
        var auth = authorization?.Trim();
        if (string.IsNullOrEmpty(auth)) return null;
        var parts = auth.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].Equals("bearer", StringComparison.OrdinalIgnoreCase)) return null;
        return parts[1].Length == 0 ? null : parts[1];
    }

    /// <summary>A bearer scheme, then two spaces and more: upstream ignores the header and warns.</summary>
    public static bool HasSpaceBeforeToken(string? authorization)
    {
        var auth = authorization?.Trim();
        if (string.IsNullOrEmpty(auth)) return false;
        var parts = auth.Split(' ', 3);
        return parts.Length == 3 && parts[0].Equals("bearer", StringComparison.OrdinalIgnoreCase) && parts[1].Length == 0;
    }
}
