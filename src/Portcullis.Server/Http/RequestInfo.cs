using Portcullis.Server.Authorization;

namespace Portcullis.Server.Http;

/// <summary>
/// What a request is about, parsed once from method, path and query (as upstream's
/// RequestInfoFactory). Every later stage reads it; nobody re-parses the URL.
/// </summary>
public sealed record RequestInfo
{
    public bool IsResourceRequest { get; init; }
    public required string Path { get; init; }
    /// <summary>get, list, watch, create, update, patch, delete, deletecollection, or a lowercased HTTP method for non-resource paths.</summary>
    public required Verb Verb { get; init; }
    public string ApiPrefix { get; init; } = "";
    public string ApiGroup { get; init; } = "";
    public string ApiVersion { get; init; } = "";
    public string Namespace { get; init; } = "";
    public string Resource { get; init; } = "";
    public string Subresource { get; init; } = "";
    public string Name { get; init; } = "";
    public string[] Parts { get; init; } = [];
}

/// <summary>Parses <see cref="RequestInfo"/> like k8s.io/apiserver/pkg/endpoints/request.RequestInfoFactory.</summary>
public static class RequestInfoParser
{
    private static readonly HashSet<string> NamespaceSubresources = ["status", "finalize"];

    public static RequestInfo Parse(string method, string path, Func<string, string?> query)
    {
        var nonResource = new RequestInfo { Path = path, Verb = new Verb(method.ToLowerInvariant()) };
        var parts = path.Trim('/').Split('/');
        if (parts.Length < 1 || parts[0] is not ("api" or "apis")) return nonResource;
        var prefix = parts[0];
        var rest = parts.AsSpan(1);
        string group = "", version;
        if (prefix == "apis")
        {
            if (rest.Length < 2) return nonResource; // /apis, /apis/GROUP: discovery
            group = rest[0];
            version = rest[1];
            rest = rest[2..];
        }
        else
        {
            if (rest.Length < 1) return nonResource; // /api
            version = rest[0];
            rest = rest[1..];
        }
        if (rest.Length == 0 || (rest.Length == 1 && rest[0].Length == 0))
            return nonResource; // /api/v1: discovery of a group version
        var verb = method switch
        {
            "POST" => Verb.Create,
            "GET" or "HEAD" => Verb.Get,
            "PUT" => Verb.Update,
            "PATCH" => Verb.Patch,
            "DELETE" => Verb.Delete,
            _ => new Verb(""),
        };
        if (rest[0] is "watch" or "proxy")
        {
            if (rest.Length < 2) return nonResource with { };
            verb = rest[0] == "watch" ? Verb.Watch : Verb.Proxy;
            rest = rest[1..];
        }
        var ns = "";
        if (rest[0] == "namespaces")
        {
            if (rest.Length > 1)
            {
                ns = rest[1];
                if (rest.Length > 2 && !NamespaceSubresources.Contains(rest[2])) rest = rest[2..];
            }
        }
        string resource = "", name = "", sub = "";
        if (rest.Length >= 3 && verb != Verb.Proxy) sub = rest[2];
        if (rest.Length >= 2) name = rest[1];
        if (rest.Length >= 1) resource = rest[0];

        if (name.Length == 0 && verb == Verb.Get)
        {
            verb = IsTrue(query("watch")) ? Verb.Watch : Verb.List;
            // A list narrowed to one name by field selector is authorized as that name.
            if (query("fieldSelector") is { } fs && Portcullis.Server.Selectors.FieldSelector.TryParse(fs, out var sel) &&
                sel!.RequiresExactMatch("metadata.name") is { } exact && IsValidPathSegment(exact))
                name = exact;
        }
        if (name.Length == 0 && verb == Verb.Delete) verb = Verb.DeleteCollection;
        return new RequestInfo
        {
            IsResourceRequest = true,
            Path = path,
            Verb = verb,
            ApiPrefix = prefix,
            ApiGroup = group,
            ApiVersion = version,
            Namespace = ns,
            Resource = resource,
            Subresource = sub,
            Name = name,
            Parts = rest.ToArray(),
        };
    }

    /// <summary>
    /// How a query parameter decodes into a bool (runtime.Convert_Slice_string_To_bool): absent, "0" and
    /// "false" (any case) are false; anything else, the empty string included, is true.
    /// </summary>
    private static bool IsTrue(string? v) => v is not null && v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase);

    private static bool IsValidPathSegment(string s) => s is not ("." or "..") && !s.Contains('/') && !s.Contains('%');
}
