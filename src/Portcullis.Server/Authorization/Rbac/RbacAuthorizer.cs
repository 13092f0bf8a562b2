using System.Collections.Concurrent;
using Portcullis.Server.Authentication;

namespace Portcullis.Server.Authorization.Rbac;

/// <summary>
/// Kubernetes' RBAC authorizer over an <see cref="RbacIndex"/>: a request is allowed when a rule of
/// a role bound to the user, one of its groups or its service account matches it, cluster-wide
/// (ClusterRoleBindings) or in the request's namespace (RoleBindings); otherwise RBAC has no
/// opinion (it never denies). Non-resource requests have no namespace, so only ClusterRoleBindings
/// (and the nonResourceURLs rules of their ClusterRoles) can allow them.
/// </summary>
/// <remarks>
/// The allow reason is upstream's, naming the binding, its role and the first of its subjects that
/// applies, e.g. <c>RBAC: allowed by RoleBinding "b/ns" of Role "r" to ServiceAccount "sa/ns"</c>.
/// When nothing allows, the reason lists the bindings' unresolvable roles as upstream does (empty
/// when there are none). Decisions take no lock, and allocate nothing unless a role is missing.
/// </remarks>
public sealed class RbacAuthorizer(RbacIndex index) : IAuthorizer, IRuleResolver
{
    public ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes attributes, CancellationToken ct = default) =>
        new(Authorize(attributes));

    /// <summary>The decision, synchronously (it never waits).</summary>
    public AuthorizationResult Authorize(AuthorizationAttributes a)
    {
        var state = index.Current;
        var user = a.User;
        var request = new RuleRequest(a);
        var resource = a.IsResourceRequest;
        List<RbacBinding>? unresolved = null;

        var match = Find(state.ClusterByUser, user.Name, resource, in request, ref unresolved);
        var groups = user.Groups;
        for (var i = 0; match is null && i < groups.Count; i++)
            match = Find(state.ClusterByGroup, groups[i], resource, in request, ref unresolved);

        var ns = resource ? a.Namespace ?? "" : "";
        if (match is null && ns.Length > 0)
        {
            match = Find(state.NamespaceByUser, new NamespacedName(ns, user.Name), resource, in request, ref unresolved);
            for (var i = 0; match is null && i < groups.Count; i++)
                match = Find(state.NamespaceByGroup, new NamespacedName(ns, groups[i]), resource, in request, ref unresolved);
        }

        if (match is not null) return AuthorizationResult.Allowed(match.AllowReason(user));
        return unresolved is null ? AuthorizationResult.NoOpinion() : AuthorizationResult.NoOpinion(DenyReason(unresolved));
    }

    private static RbacBinding? Find<TKey>(
        ConcurrentDictionary<TKey, RbacBinding[]> map, TKey key, bool resource, in RuleRequest request, ref List<RbacBinding>? unresolved)
        where TKey : notnull
    {
        if (!map.TryGetValue(key, out var bindings)) return null;
        foreach (var b in bindings)
        {
            var role = b.Slot?.Role;
            if (role is null)
            {
                unresolved ??= [];
                if (!unresolved.Contains(b)) unresolved.Add(b);
                continue;
            }
            if (resource)
            {
                foreach (var rule in role.ResourceRules)
                    if (rule.MatchesResource(in request)) return b;
            }
            else
            {
                foreach (var rule in role.NonResourceRules)
                    if (rule.MatchesNonResource(in request)) return b;
            }
        }
        return null;
    }

    /// <summary>Upstream's "RBAC: " and its error aggregate: one message alone, several (repeats dropped) in brackets.</summary>
    private static string DenyReason(List<RbacBinding> unresolved)
    {
        var messages = new List<string>();
        foreach (var b in unresolved)
            if (b.ResolutionError() is { } e && !messages.Contains(e)) messages.Add(e);
        return messages.Count switch
        {
            0 => "",
            1 => "RBAC: " + messages[0],
            _ => "RBAC: [" + string.Join(", ", messages) + "]",
        };
    }

    /// <summary>
    /// The rules of every role bound to the user, its groups or its service account: cluster-wide,
    /// then (when <paramref name="namespace"/> is set) in that namespace, each binding once, bindings
    /// in name order; and an error for each such binding whose role does not exist.
    /// </summary>
    public (IReadOnlyList<PolicyRule> Rules, IReadOnlyList<string> Errors) RulesFor(UserInfo user, string @namespace)
    {
        var state = index.Current;
        var rules = new List<PolicyRule>();
        var errors = new List<string>();

        var seen = new HashSet<RbacBinding>(ReferenceEqualityComparer.Instance);
        var cluster = new List<RbacBinding>();
        Collect(state.ClusterByUser, user.Name, cluster, seen);
        foreach (var g in user.Groups) Collect(state.ClusterByGroup, g, cluster, seen);
        Emit(cluster);

        if (!string.IsNullOrEmpty(@namespace))
        {
            var local = new List<RbacBinding>();
            Collect(state.NamespaceByUser, new NamespacedName(@namespace, user.Name), local, seen);
            foreach (var g in user.Groups) Collect(state.NamespaceByGroup, new NamespacedName(@namespace, g), local, seen);
            Emit(local);
        }
        return (rules, errors);

        void Emit(List<RbacBinding> bindings)
        {
            bindings.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));
            foreach (var b in bindings)
            {
                if (b.Slot?.Role is { } role) rules.AddRange(role.Rules);
                else if (b.ResolutionError() is { } e) errors.Add(e);
            }
        }
    }

    private static void Collect<TKey>(ConcurrentDictionary<TKey, RbacBinding[]> map, TKey key, List<RbacBinding> into, HashSet<RbacBinding> seen)
        where TKey : notnull
    {
        if (!map.TryGetValue(key, out var bindings)) return;
        foreach (var b in bindings)
            if (seen.Add(b)) into.Add(b);
    }
}
