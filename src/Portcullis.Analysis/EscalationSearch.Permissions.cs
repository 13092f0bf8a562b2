using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Registry;

namespace Portcullis.Analysis;

/// <summary>
/// What a foothold may do: the grants (binding, role, scope) that apply to its identity, as the
/// authorizer finds them, and the evidence (binding, role, rule) for one permission or a set of names.
/// </summary>
public sealed partial class EscalationSearch
{
    // ---- permissions of a foothold ----

    private sealed record Grant(CompiledRole Role, string Scope, RbacBinding? Binding, string BindingKind, string BindingName, string RoleKind, string RoleName);

    /// <summary>The grants that apply to a foothold: cluster-wide ones, and those of each namespace.</summary>
    private sealed class Perms
    {
        public readonly List<Grant> Cluster = [];
        public readonly Dictionary<string, List<Grant>> ByNamespace = new(StringComparer.Ordinal);
        public bool Masters;
        /// <summary>Whether a cluster-wide grant can allow some move; the namespaces where a RoleBinding's grant can.</summary>
        public bool ClusterUseful;
        public readonly HashSet<string> UsefulIn = new(StringComparer.Ordinal);

        public bool AppliesIn(string ns) => ClusterUseful || UsefulIn.Contains(ns);
        public bool Useful => ClusterUseful || UsefulIn.Count > 0;
    }

    /// <summary>Every permission a move can need (names aside): a role none of whose rules allows one of them gives no move.</summary>
    private static readonly (string Verb, string Group, string Resource, string Sub)[] MovePermissions =
    [
        .. Workloads.Select(w => ("create", w.Group, w.Resource, "")),
        ("create", "", "serviceaccounts", "token"), ("list", "", "secrets", ""), ("watch", "", "secrets", ""), ("get", "", "secrets", ""),
        ("create", "", "pods", "exec"), ("create", "", "pods", "attach"), ("update", "", "pods", "ephemeralcontainers"), ("patch", "", "pods", "ephemeralcontainers"),
        ("impersonate", "", "serviceaccounts", ""), ("impersonate", "", "users", ""), ("impersonate", "", "groups", ""),
        ("create", Rbac, "rolebindings", ""), ("create", Rbac, "clusterrolebindings", ""), ("bind", Rbac, "roles", ""), ("bind", Rbac, "clusterroles", ""),
        ("escalate", Rbac, "roles", ""), ("escalate", Rbac, "clusterroles", ""),
        ("get", "", "nodes", "proxy"), ("create", "", "nodes", "proxy"),
        ("create", Certificates, "certificatesigningrequests", ""), ("approve", Certificates, "signers", ""),
        ("create", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", ""),
    ];

    private readonly Dictionary<CompiledRole, bool> _useful = new(ReferenceEqualityComparer.Instance);

    /// <summary>Whether some rule of the role allows some move permission for some name (resourceNames set aside).</summary>
    private bool Useful(CompiledRole role)
    {
        if (_useful.TryGetValue(role, out var useful)) return useful;
        foreach (var rule in role.ResourceRules)
        {
            var open = rule.Source.ResourceNames.Count == 0 ? rule : new CompiledRule(rule.Source with { ResourceNames = [] });
            foreach (var (verb, group, resource, sub) in MovePermissions)
            {
                var request = new RuleRequest(new Permission(verb, group, resource, sub, "ns", "").Attributes(Nobody));
                if (open.MatchesResource(in request)) return _useful[role] = true;
            }
        }
        return _useful[role] = false;
    }

    private readonly Dictionary<string, Perms?> _perms = new(StringComparer.Ordinal);

    private Perms? PermsOf(Foothold f)
    {
        if (!_perms.TryGetValue(f.Id, out var p)) _perms[f.Id] = p = ComputePerms(f);
        return p;
    }

    private Perms? ComputePerms(Foothold f)
    {
        switch (f.Kind)
        {
            case FootholdKinds.Identity:
            case FootholdKinds.ServiceAccount:
            {
                var p = new Perms { Masters = f.Groups!.Contains(UserInfo.SystemMasters) };
                var seen = new HashSet<RbacBinding>(ReferenceEqualityComparer.Instance);
                if (f.User!.Length > 0 && _state.ClusterByUser.TryGetValue(f.User, out var byUser)) AddBindings(p, byUser, seen);
                foreach (var g in f.Groups!)
                    if (_state.ClusterByGroup.TryGetValue(g, out var byGroup)) AddBindings(p, byGroup, seen);
                if (f.User.Length > 0 && _nsByUser.TryGetValue(f.User, out var nsUser)) AddBindings(p, nsUser, seen);
                foreach (var g in f.Groups!)
                    if (_nsByGroup.TryGetValue(g, out var nsGroup)) AddBindings(p, nsGroup, seen);
                return p;
            }
            case FootholdKinds.RoleGrant:
            {
                var p = new Perms();
                if (RoleOf(f.RoleKind, f.Namespace, f.RoleName) is { } role)
                    AddGrant(p, new Grant(role, f.Namespace, null, f.Namespace.Length > 0 ? "RoleBinding" : "ClusterRoleBinding", "", f.RoleKind, f.RoleName));
                return p;
            }
            case FootholdKinds.AnyRules:
            {
                var p = new Perms();
                AddGrant(p, new Grant(Everything, f.Namespace, null, f.Namespace.Length > 0 ? "RoleBinding" : "ClusterRoleBinding", "", "", ""));
                return p;
            }
            default:
                return null;
        }
    }

    private void AddBindings(Perms p, IEnumerable<RbacBinding> bindings, HashSet<RbacBinding> seen)
    {
        foreach (var b in bindings)
        {
            if (!seen.Add(b) || b.Slot?.Role is not { } role) continue;
            AddGrant(p, new Grant(role, b.Namespace, b, b.IsClusterBinding ? "ClusterRoleBinding" : "RoleBinding", b.Name, b.RoleKind, b.RoleName));
        }
    }

    private void AddGrant(Perms p, Grant g)
    {
        var useful = Useful(g.Role);
        if (g.Scope.Length == 0)
        {
            p.Cluster.Add(g);
            p.ClusterUseful |= useful;
        }
        else
        {
            Add(p.ByNamespace, g.Scope, g);
            if (useful) p.UsefulIn.Add(g.Scope);
        }
    }

    private CompiledRole? RoleOf(string kind, string ns, string name) => _model.FindRole(kind, kind == "Role" ? ns : "", name);

    /// <summary>The grant allowing <paramref name="perm"/>, as evidence; null when none does.</summary>
    private static Evidence? Find(Perms p, Permission perm)
    {
        var request = new RuleRequest(perm.Attributes(Nobody));
        foreach (var g in p.Cluster)
            if (Match(g, in request) is { } rule) return Ev(perm, g, rule);
        if (perm.Namespace.Length > 0 && p.ByNamespace.TryGetValue(perm.Namespace, out var local))
            foreach (var g in local)
                if (Match(g, in request) is { } rule) return Ev(perm, g, rule);
        return null;
    }

    private static PolicyRule? Match(Grant g, in RuleRequest request)
    {
        foreach (var r in g.Role.ResourceRules)
            if (r.MatchesResource(in request)) return r.Source;
        return null;
    }

    private static Evidence Ev(Permission perm, Grant g, PolicyRule rule) =>
        new(perm, g.BindingKind, g.Scope, g.BindingName, g.RoleKind, g.RoleName, rule);

    /// <summary>
    /// As <see cref="Allowed"/>, each name with its one-item evidence list; where a rule without resourceNames allows every
    /// name, the list is a <see cref="NamedEvidence"/> (the shared grant and the name), made into an <see cref="Evidence"/>
    /// only when read: a foothold that may exec into 5,000 pods keeps 5,000 small objects, not 5,000 evidence records.
    /// </summary>
    private static List<(string Name, IReadOnlyList<Evidence> Evidence)> AllowedOne(Perms p, Permission perm, IList<string> candidates)
    {
        var result = new List<(string, IReadOnlyList<Evidence>)>();
        if (candidates.Count == 0) return result;
        if (Find(p, perm with { Name = AnyName }) is { } any && any.Rule.ResourceNames.Count == 0)
        {
            foreach (var n in candidates) result.Add((n, new NamedEvidence(any, n)));
            return result;
        }
        foreach (var (n, e) in Allowed(p, perm, candidates)) result.Add((n, [e]));
        return result;
    }

    /// <summary>One evidence: <c>Any</c> (found for any name) with the permission's name set to <c>Name</c>, equal to what <see cref="Allowed"/> gives.</summary>
    private sealed class NamedEvidence(Evidence any, string name) : IReadOnlyList<Evidence>
    {
        public Evidence this[int index] => index == 0 ? any with { Permission = any.Permission with { Name = name } } : throw new ArgumentOutOfRangeException(nameof(index));
        public int Count => 1;
        public IEnumerator<Evidence> GetEnumerator() { yield return this[0]; }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>The names among <paramref name="candidates"/> for which <paramref name="perm"/> (its name ignored) is allowed, with evidence.</summary>
    /// <remarks>With <paramref name="listedOnly"/>, only names a rule lists in its resourceNames count (the grant tells the name).</remarks>
    private static List<(string Name, Evidence Evidence)> Allowed(Perms p, Permission perm, IEnumerable<string> candidates, bool listedOnly = false)
    {
        var result = new List<(string, Evidence)>();
        var list = candidates as IList<string> ?? candidates.ToList();
        if (list.Count == 0) return result;
        if (!listedOnly && Find(p, perm with { Name = AnyName }) is { } any && any.Rule.ResourceNames.Count == 0)
        {
            foreach (var n in list) result.Add((n, any with { Permission = perm with { Name = n } }));
            return result;
        }
        // Only rules limited by resourceNames can allow: ask for each candidate they list.
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in p.Cluster.Concat(perm.Namespace.Length > 0 && p.ByNamespace.TryGetValue(perm.Namespace, out var l) ? l : []))
            foreach (var r in g.Role.ResourceRules)
                foreach (var n in r.Source.ResourceNames) listed.Add(n);
        foreach (var n in list)
        {
            if (!listed.Contains(n)) continue;
            var request = new RuleRequest((perm with { Name = n }).Attributes(Nobody));
            // The first listing rule that allows it (as Find, but among rules that name it).
            foreach (var g in p.Cluster.Concat(perm.Namespace.Length > 0 && p.ByNamespace.TryGetValue(perm.Namespace, out var l2) ? l2 : []))
            {
                var rule = g.Role.ResourceRules.FirstOrDefault(r => r.Source.ResourceNames.Contains(n) && r.MatchesResource(in request));
                if (rule is null) continue;
                result.Add((n, Ev(perm with { Name = n }, g, rule.Source)));
                break;
            }
        }
        return result;
    }
}
