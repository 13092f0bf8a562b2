using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Authentication;

/// <summary>
/// The Impersonate-* headers (upstream's WithImpersonation filter): each requested identity part
/// is authorized as <c>impersonate</c> on users, groups, serviceaccounts, uids or userextras/KEY,
/// then the request continues as the impersonated user. The headers are removed afterwards.
/// </summary>
public static class Impersonation
{
    public const string UserHeader = "Impersonate-User";
    public const string GroupHeader = "Impersonate-Group";
    public const string UidHeader = "Impersonate-Uid";
    public const string ExtraPrefix = "Impersonate-Extra-";

    public static bool IsRequested(IHeaderDictionary h) =>
        h.ContainsKey(UserHeader) || h.ContainsKey(GroupHeader) || h.ContainsKey(UidHeader) ||
        h.Keys.Any(k => k.StartsWith(ExtraPrefix, StringComparison.OrdinalIgnoreCase));

    /// <summary>The impersonated user, or an ApiException (403 when not allowed, 400 for a malformed request).</summary>
    public static async ValueTask<UserInfo> ApplyAsync(HttpRequest req, UserInfo requester, IAuthorizer authorizer, CancellationToken ct)
    {
        var h = req.Headers;
        var user = h[UserHeader].ToString();
        var groupsRequested = h[GroupHeader].Where(g => g is not null).Select(g => g!).ToList();
        var uid = h[UidHeader].ToString();
        var extras = new Dictionary<string, List<string>>();
        foreach (var (name, values) in h)
        {
            if (!name.StartsWith(ExtraPrefix, StringComparison.OrdinalIgnoreCase)) continue;
            var key = Uri.UnescapeDataString(name[ExtraPrefix.Length..]).ToLowerInvariant();
            extras[key] = values.Where(v => v is not null).Select(v => v!).ToList();
        }
        if (user.Length == 0)
            throw ApiErrors.BadRequest("requested impersonation of groups, uid or user-extra without impersonating a user");

        async ValueTask Check(string group, string resource, string ns, string name, string sub = "")
        {
            var a = new AuthorizationAttributes(requester, Verb.Impersonate, true, req.Path, ns, group, "", resource, sub, name);
            var d = await authorizer.AuthorizeAsync(a, ct);
            if (d.Decision != Decision.Allow) throw Http.Pipeline.Forbidden(a, d.Reason);
        }

        var groups = new List<string>();
        const string saPrefix = "system:serviceaccount:";
        if (user.StartsWith(saPrefix, StringComparison.Ordinal) && user[saPrefix.Length..].Split(':') is [var ns, var sa] && ns.Length > 0 && sa.Length > 0)
        {
            await Check("", "serviceaccounts", ns, sa);
            if (groupsRequested.Count == 0) groups.AddRange(["system:serviceaccounts", "system:serviceaccounts:" + ns]);
        }
        else await Check("", "users", "", user);
        foreach (var g in groupsRequested)
        {
            await Check("", "groups", "", g);
            groups.Add(g);
        }
        if (uid.Length > 0) await Check("authentication.k8s.io", "uids", "", uid);
        foreach (var (key, values) in extras)
            foreach (var v in values) await Check("authentication.k8s.io", "userextras", "", v, key);

        // As upstream, whether or not groups were requested: a named user is system:authenticated
        // (unless it asked for either all-group itself), anonymous is system:unauthenticated.
        if (user != UserInfo.Anonymous)
        {
            if (!groups.Contains(UserInfo.AllAuthenticated) && !groups.Contains(UserInfo.AllUnauthenticated))
                groups.Add(UserInfo.AllAuthenticated);
        }
        else if (!groups.Contains(UserInfo.AllUnauthenticated)) groups.Add(UserInfo.AllUnauthenticated);

        foreach (var k in h.Keys.Where(k => k.StartsWith("Impersonate-", StringComparison.OrdinalIgnoreCase)).ToList()) h.Remove(k);
        return new UserInfo(user, uid, groups, extras.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value));
    }
}
