namespace Portcullis.Testing;

/// <summary>
/// Who a client, a SubjectAccessReview or a least-privilege answer is for: a user with groups (authenticated by a
/// client certificate with CN=user, O=group…) or a ServiceAccount (authenticated by a token the cluster issues).
/// </summary>
public sealed record Subject
{
    private const string ServiceAccountPrefix = "system:serviceaccount:";

    /// <summary><c>User</c> or <c>ServiceAccount</c> (RBAC's subject kinds).</summary>
    public string Kind { get; }
    /// <summary>The user's or the ServiceAccount's name.</summary>
    public string Name { get; }
    /// <summary>The ServiceAccount's namespace; empty for a user.</summary>
    public string Namespace { get; }
    /// <summary>The user's groups as given (a ServiceAccount's are the ones its token carries, see <see cref="EffectiveGroups"/>).</summary>
    public IReadOnlyList<string> Groups { get; }

    private Subject(string kind, string name, string ns, IReadOnlyList<string> groups)
    {
        Kind = kind; Name = name; Namespace = ns; Groups = groups;
    }

    /// <summary>A user: <paramref name="name"/> with <paramref name="groups"/> (a certificate's CN and O).</summary>
    public static Subject User(string name, params string[] groups)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new Subject("User", name, "", groups);
    }

    /// <summary>A ServiceAccount named <c>NAMESPACE/NAME</c> (or <c>system:serviceaccount:NAMESPACE:NAME</c>).</summary>
    public static Subject ServiceAccount(string namespacedName)
    {
        ArgumentException.ThrowIfNullOrEmpty(namespacedName);
        var parts = namespacedName.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal)
            ? namespacedName[ServiceAccountPrefix.Length..].Split(':')
            : namespacedName.Split('/');
        if (parts is not [var ns, var name] || ns.Length == 0 || name.Length == 0)
            throw new ArgumentException($"a ServiceAccount is NAMESPACE/NAME, not \"{namespacedName}\"", nameof(namespacedName));
        return ServiceAccount(ns, name);
    }

    /// <summary>The ServiceAccount <paramref name="name"/> in <paramref name="ns"/>.</summary>
    public static Subject ServiceAccount(string ns, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(ns);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new Subject("ServiceAccount", name, ns, []);
    }

    public bool IsServiceAccount => Kind == "ServiceAccount";

    /// <summary>The user name the API server sees: the name, or <c>system:serviceaccount:NS:NAME</c>.</summary>
    public string UserName => IsServiceAccount ? ServiceAccountPrefix + Namespace + ":" + Name : Name;

    /// <summary>
    /// The groups the API server sees for this subject once authenticated: a ServiceAccount's
    /// (<c>system:serviceaccounts</c>, <c>system:serviceaccounts:NS</c>), or the user's, and <c>system:authenticated</c>.
    /// </summary>
    public IReadOnlyList<string> EffectiveGroups => IsServiceAccount
        ? ["system:serviceaccounts", "system:serviceaccounts:" + Namespace, "system:authenticated"]
        : [.. Groups.Where(g => g != "system:authenticated"), "system:authenticated"];

    public override string ToString() => IsServiceAccount ? $"ServiceAccount {Namespace}/{Name}" : $"User {Name}";
}
