using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>
/// Who asks: a user name and its groups, as the authenticator would give them. <see cref="For"/>
/// adds the groups a real login carries: a ServiceAccount's token gives
/// <c>system:serviceaccounts</c> and <c>system:serviceaccounts:NS</c>; every named user is in
/// <c>system:authenticated</c>, <c>system:anonymous</c> in <c>system:unauthenticated</c> (as
/// upstream's impersonation and authenticators do).
/// </summary>
public sealed record AccessIdentity(string User, IReadOnlyList<string> Groups)
{
    public static AccessIdentity For(string user, IEnumerable<string>? groups = null)
    {
        if (string.IsNullOrEmpty(user)) throw new ArgumentException("a user is required (--as USER)");
        var list = new List<string>();
        if (ServiceAccountOf(user) is var (ns, _))
        {
            list.Add("system:serviceaccounts");
            list.Add("system:serviceaccounts:" + ns);
        }
        foreach (var g in groups ?? [])
            if (g.Length > 0 && !list.Contains(g)) list.Add(g);
        if (user == UserInfo.Anonymous)
        {
            if (!list.Contains(UserInfo.AllUnauthenticated)) list.Add(UserInfo.AllUnauthenticated);
        }
        else if (!list.Contains(UserInfo.AllAuthenticated) && !list.Contains(UserInfo.AllUnauthenticated))
            list.Add(UserInfo.AllAuthenticated);
        return new AccessIdentity(user, list);
    }

    /// <summary>The namespace and name when the user is a ServiceAccount's <c>system:serviceaccount:NS:NAME</c>.</summary>
    public static (string Namespace, string Name)? ServiceAccountOf(string user)
    {
        if (!user.StartsWith(RbacSubject.ServiceAccountPrefix, StringComparison.Ordinal)) return null;
        var parts = user[RbacSubject.ServiceAccountPrefix.Length..].Split(':');
        return parts is [var ns, var name] && ns.Length > 0 && name.Length > 0 ? (ns, name) : null;
    }

    public (string Namespace, string Name)? ServiceAccount => ServiceAccountOf(User);

    public UserInfo ToUserInfo() => new(User, "", Groups, UserInfo.NoExtra);
}
