using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Registry;

namespace Portcullis.Analysis;

/// <summary>
/// Escalation paths: a breadth-first walk over footholds from the start subjects, each foothold's
/// moves found with the authorizer's own rule matching (<see cref="CompiledRule"/>) over the
/// bindings that apply to it (as <see cref="RbacAuthorizer"/> finds them), then a walk back from
/// every foothold that has the goal, so each start gets one shortest path (fewest moves). Footholds
/// that have the goal are not expanded further. See docs/analysis.md for every move and its rule.
/// </summary>
public sealed class EscalationSearch
{
    /// <summary>The name a move uses where any name would do (a rule without resourceNames allows it).</summary>
    public const string AnyName = "portcullis-any-name";
    /// <summary>The user name of "any member of a group" (a Group subject as a start).</summary>
    public const string AnyMember = "";

    private const string Rbac = BootstrapPolicy.Group;
    private const string Certificates = "certificates.k8s.io";
    private const string KubeApiserverClient = "kubernetes.io/kube-apiserver-client";

    private static readonly UserInfo Nobody = new("", "", [], UserInfo.NoExtra);
    private static readonly (string Group, string Resource)[] Workloads =
    [
        ("", "pods"), ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"), ("apps", "daemonsets"),
        ("batch", "jobs"), ("batch", "cronjobs"), ("", "replicationcontrollers"),
    ];

    private readonly AccessModel _model;
    private readonly RbacState _state;
    private readonly EscalationGoal _goal;
    private readonly Dictionary<string, List<RbacBinding>> _nsByUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<RbacBinding>> _nsByGroup = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _namespaces = new(StringComparer.Ordinal);
    private readonly HashSet<(string, string)> _serviceAccounts;
    private readonly Dictionary<string, List<string>> _saByNs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _impersonableSaByNs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<PodInfo>> _runningPodsByNs = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, List<PodInfo>> _runningPodsByNode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<SecretInfo>> _tokenSecretsByNs = new(StringComparer.Ordinal);
    private readonly List<string> _users;
    private readonly List<string> _groups;
    private readonly List<string> _clusterRoles;
    private readonly Dictionary<string, List<string>> _rolesByNs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CompiledRole> _compiledRoles = new(StringComparer.Ordinal);
    private static readonly CompiledRole Everything = new([new PolicyRule(["*"], ["*"], ["*"], [], []), new PolicyRule(["*"], [], [], [], ["*"])]);

    private readonly Dictionary<string, Foothold> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Move>> _out = new(StringComparer.Ordinal);

    public EscalationSearch(AccessModel model, EscalationGoal goal)
    {
        _model = model;
        _goal = goal;
        _state = model.Index.Current;
        var users = new SortedSet<string>(StringComparer.Ordinal);
        var groups = new SortedSet<string>(StringComparer.Ordinal) { UserInfo.SystemMasters };
        var impersonable = new SortedSet<(string, string)>(model.ServiceAccounts);
        foreach (var b in _state.AllBindings)
        {
            if (!b.IsClusterBinding) _namespaces.Add(b.Namespace);
            foreach (var s in b.Subjects)
            {
                switch (s.Kind)
                {
                    case SubjectKind.User:
                        users.Add(s.Name);
                        if (!b.IsClusterBinding) Add(_nsByUser, s.Name, b);
                        break;
                    case SubjectKind.Group:
                        groups.Add(s.Name);
                        if (!b.IsClusterBinding) Add(_nsByGroup, s.Name, b);
                        break;
                    case SubjectKind.ServiceAccount when s.MatchName is not null:
                        impersonable.Add((s.Namespace.Length > 0 ? s.Namespace : b.Namespace, s.Name));
                        if (!b.IsClusterBinding) Add(_nsByUser, s.MatchName, b);
                        break;
                }
            }
        }
        _users = users.Where(u => u.Length > 0 && !u.StartsWith(RbacSubject.ServiceAccountPrefix, StringComparison.Ordinal)).ToList();
        _groups = groups.Where(g => g.Length > 0).ToList();
        _serviceAccounts = model.ServiceAccounts.ToHashSet();
        foreach (var (ns, name) in model.ServiceAccounts) { _namespaces.Add(ns); Add(_saByNs, ns, name); }
        foreach (var (ns, name) in impersonable) { _namespaces.Add(ns); Add(_impersonableSaByNs, ns, name); }
        foreach (var p in model.Pods)
        {
            _namespaces.Add(p.Namespace);
            if (!p.IsRunning) continue;
            Add(_runningPodsByNs, p.Namespace, p);
            if (p.NodeName.Length > 0) Add(_runningPodsByNode, p.NodeName, p);
        }
        foreach (var s in model.Secrets)
        {
            _namespaces.Add(s.Namespace);
            // A legacy token is valid only while its ServiceAccount exists.
            if (s.IsServiceAccountToken && _serviceAccounts.Contains((s.Namespace, s.ServiceAccountName))) Add(_tokenSecretsByNs, s.Namespace, s);
        }
        _clusterRoles = [];
        foreach (var (key, obj) in model.RbacObjects.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (key.StartsWith(RbacIndex.ClusterRolesPrefix, StringComparison.Ordinal)) _clusterRoles.Add(Meta.Name(obj));
            else if (key.StartsWith(RbacIndex.RolesPrefix, StringComparison.Ordinal)) { _namespaces.Add(Meta.Namespace(obj)); Add(_rolesByNs, Meta.Namespace(obj), Meta.Name(obj)); }
        }
    }

    private static void Add<TK, TV>(IDictionary<TK, List<TV>> map, TK key, TV value) where TK : notnull
    {
        if (!map.TryGetValue(key, out var list)) map[key] = list = [];
        list.Add(value);
    }

    // ---- footholds ----

    public static IReadOnlyList<string> GroupsOf(string user, IEnumerable<string> groups)
    {
        var list = groups.Distinct(StringComparer.Ordinal).ToList();
        // As the authenticators and impersonation do: a named user is system:authenticated, anonymous is not.
        if (user == UserInfo.Anonymous) { if (!list.Contains(UserInfo.AllUnauthenticated)) list.Add(UserInfo.AllUnauthenticated); }
        else if (!list.Contains(UserInfo.AllAuthenticated) && !list.Contains(UserInfo.AllUnauthenticated)) list.Add(UserInfo.AllAuthenticated);
        return list;
    }

    public static Foothold IdentityNode(string user, IReadOnlyList<string> groups)
    {
        var label = user == AnyMember ? "any member of " + string.Join(", ", groups.Where(g => g != UserInfo.AllAuthenticated))
            : groups.Count == 1 && groups[0] is UserInfo.AllAuthenticated or UserInfo.AllUnauthenticated ? "User " + user
            : "User " + user + " with groups " + string.Join(", ", groups);
        return new Foothold("identity:" + user + "|" + string.Join(",", groups), FootholdKinds.Identity, label, User: user, Groups: groups);
    }

    public static Foothold ServiceAccountNode(string ns, string name) =>
        new("serviceaccount:" + ns + "/" + name, FootholdKinds.ServiceAccount, $"ServiceAccount {ns}/{name} (a token)", ns, name,
            RbacSubject.ServiceAccountPrefix + ns + ":" + name, ["system:serviceaccounts", "system:serviceaccounts:" + ns, UserInfo.AllAuthenticated]);

    private static Foothold PodStartNode(string ns) => new("podstart:" + ns, FootholdKinds.PodStart, $"start a pod in {ns}", ns);
    private static Foothold PodShellNode(PodInfo p) => new("pod:" + p.Namespace + "/" + p.Name, FootholdKinds.PodShell, $"shell in pod {p.Namespace}/{p.Name}", p.Namespace, p.Name);
    private static Foothold KubeletNode(string node) => new("kubelet:" + node, FootholdKinds.Kubelet, $"kubelet API of node {node}", Name: node);
    private static Foothold GrantNode(string scope, string kind, string name) =>
        new("grant:" + (scope.Length > 0 ? scope : "cluster") + ":" + kind + "/" + name, FootholdKinds.RoleGrant,
            $"{kind} {name} bound to oneself {(scope.Length > 0 ? "in " + scope : "cluster-wide")}", scope, RoleKind: kind, RoleName: name);
    private static Foothold AnyRulesNode(string scope) =>
        new("anyrules:" + (scope.Length > 0 ? scope : "cluster"), FootholdKinds.AnyRules,
            $"any rules {(scope.Length > 0 ? "in " + scope : "cluster-wide")}", scope);
    public static Foothold CertificateNode { get; } =
        new("certificate:any", FootholdKinds.Certificate, "client certificate for any identity (system:masters)", User: "portcullis:certificate",
            Groups: [UserInfo.SystemMasters, UserInfo.AllAuthenticated]);
    private static Foothold WebhookNode { get; } = new("webhook:mutating", FootholdKinds.MutatingWebhook, "mutating admission webhook");

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

    private CompiledRole? RoleOf(string kind, string ns, string name)
    {
        var key = kind == "Role" ? RbacIndex.RolesPrefix + ns + "/" + name : RbacIndex.ClusterRolesPrefix + name;
        if (_compiledRoles.TryGetValue(key, out var role)) return role;
        if (!_model.RbacObjects.TryGetValue(key, out var obj)) return null;
        var rules = obj["rules"] is JsonArray a ? a.OfType<JsonObject>().Select(PolicyRule.FromJson).ToList() : [];
        return _compiledRoles[key] = new CompiledRole(rules);
    }

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

    // ---- the goal ----

    /// <summary>Whether a foothold has the goal: cluster-admin-equivalent power, or the requested permission.</summary>
    public bool HasGoal(Foothold f) => f.Kind switch
    {
        FootholdKinds.Certificate => true,
        FootholdKinds.AnyRules => f.Namespace.Length == 0 || (_goal.Request is { IsResourceRequest: true } q && q.Namespace == f.Namespace),
        FootholdKinds.Identity or FootholdKinds.ServiceAccount or FootholdKinds.RoleGrant => PermsOf(f) is { } p && HasGoal(p),
        _ => false,
    };

    private bool HasGoal(Perms p)
    {
        if (p.Masters) return true;
        var q = _goal.Request ?? EscalationGoal.AllOfEverything;
        if (q.IsResourceRequest) return Find(p, new Permission(q.Verb, q.ApiGroup, q.Resource, q.Subresource, q.Namespace, q.Name)) is not null;
        var request = new RuleRequest(q.Attributes(Nobody));
        foreach (var g in p.Cluster)
            foreach (var r in g.Role.NonResourceRules)
                if (r.MatchesNonResource(in request)) return true;
        return false;
    }

    // ---- moves ----

    private List<Move> Expand(Foothold f)
    {
        var moves = new List<Move>();
        switch (f.Kind)
        {
            case FootholdKinds.PodStart:
                foreach (var sa in _saByNs.GetValueOrDefault(f.Namespace) ?? [])
                    moves.Add(new Move(f.Id, SaNode(f.Namespace, sa), Moves.RunAs, [], new ObjectRef("ServiceAccount", f.Namespace, sa)));
                return moves;
            case FootholdKinds.PodShell:
            {
                var pod = _runningPodsByNs[f.Namespace].First(p => p.Name == f.Name);
                if (_serviceAccounts.Contains((pod.Namespace, pod.ServiceAccount)))
                    moves.Add(new Move(f.Id, SaNode(pod.Namespace, pod.ServiceAccount), Moves.MountedToken, [],
                        PodRef(pod)));
                return moves;
            }
            case FootholdKinds.Kubelet:
                foreach (var pod in _runningPodsByNode.GetValueOrDefault(f.Name) ?? [])
                    moves.Add(new Move(f.Id, ShellNode(pod), Moves.KubeletExec, [], PodRef(pod)));
                return moves;
            case FootholdKinds.MutatingWebhook:
                foreach (var ns in _namespaces)
                    if (_saByNs.ContainsKey(ns)) moves.Add(new Move(f.Id, Node(PodStartNode(ns)), Moves.MutatePods, [], null));
                return moves;
        }
        if (PermsOf(f) is not { } p || !p.Useful) return moves;

        foreach (var ns in _namespaces)
        {
            if (!p.AppliesIn(ns)) continue;
            // Start a pod (or a workload whose controller starts it): any ServiceAccount of the namespace.
            if (_saByNs.ContainsKey(ns))
                foreach (var (group, resource) in Workloads)
                    if (Find(p, new Permission("create", group, resource, "", ns, "")) is { } e)
                    {
                        moves.Add(new Move(f.Id, Node(PodStartNode(ns)), Moves.CreatePod, [e], null));
                        break;
                    }
            // A token for a ServiceAccount (the TokenRequest API needs the ServiceAccount to exist).
            foreach (var (sa, e) in AllowedOne(p, new Permission("create", "", "serviceaccounts", "token", ns, ""), _saByNs.GetValueOrDefault(ns) ?? []))
                moves.Add(new Move(f.Id, SaNode(ns, sa), Moves.CreateToken, e, new ObjectRef("ServiceAccount", ns, sa)));
            // Legacy token Secrets of existing ServiceAccounts: list or watch reveals them all, get needs the name.
            if (_tokenSecretsByNs.TryGetValue(ns, out var tokens))
            {
                var all = Find(p, new Permission("list", "", "secrets", "", ns, "")) ?? Find(p, new Permission("watch", "", "secrets", "", ns, ""));
                // get alone does not reveal a token Secret's name (random suffix): only a rule that lists it counts.
                var byName = all is null ? Allowed(p, new Permission("get", "", "secrets", "", ns, ""), tokens.Select(t => t.Name).ToList(), listedOnly: true)
                    .ToDictionary(x => x.Name, x => x.Evidence) : null;
                var done = new HashSet<string>(StringComparer.Ordinal);
                foreach (var t in tokens)
                {
                    var e = all ?? byName!.GetValueOrDefault(t.Name);
                    if (e is null || !done.Add(t.ServiceAccountName)) continue;
                    moves.Add(new Move(f.Id, SaNode(ns, t.ServiceAccountName), Moves.ReadTokenSecret, [e], new ObjectRef("Secret", ns, t.Name)));
                }
            }
            // A shell in a running pod: exec, attach, or an ephemeral container.
            if (_runningPodsByNs.TryGetValue(ns, out var pods))
            {
                var names = pods.Select(x => x.Name).ToList();
                var shell = new Dictionary<string, (string Move, IReadOnlyList<Evidence> E)>(StringComparer.Ordinal);
                foreach (var (move, verb, sub) in new[] { (Moves.Exec, "create", "exec"), (Moves.Attach, "create", "attach"),
                             (Moves.EphemeralContainer, "update", "ephemeralcontainers"), (Moves.EphemeralContainer, "patch", "ephemeralcontainers") })
                    foreach (var (name, e) in AllowedOne(p, new Permission(verb, "", "pods", sub, ns, ""), names))
                        shell.TryAdd(name, (move, e));
                foreach (var pod in pods)
                    if (shell.TryGetValue(pod.Name, out var s))
                        moves.Add(new Move(f.Id, ShellNode(pod), s.Move, s.E, PodRef(pod)));
            }
            // Impersonating a ServiceAccount (it need not exist: its bindings apply by name).
            foreach (var (sa, e) in AllowedOne(p, new Permission("impersonate", "", "serviceaccounts", "", ns, ""), _impersonableSaByNs.GetValueOrDefault(ns) ?? []))
                moves.Add(new Move(f.Id, SaNode(ns, sa), Moves.ImpersonateServiceAccount, e, null));
            // Binding oneself a role in the namespace.
            if (Find(p, new Permission("create", Rbac, "rolebindings", "", ns, "")) is { } createRb)
            {
                foreach (var (role, e) in Allowed(p, new Permission("bind", Rbac, "clusterroles", "", ns, ""), _clusterRoles))
                    moves.Add(new Move(f.Id, Node(GrantNode(ns, "ClusterRole", role)), Moves.Bind, [createRb, e], null));
                foreach (var (role, e) in Allowed(p, new Permission("bind", Rbac, "roles", "", ns, ""), _rolesByNs.GetValueOrDefault(ns) ?? []))
                    moves.Add(new Move(f.Id, Node(GrantNode(ns, "Role", role)), Moves.Bind, [createRb, e], null));
            }
        }

        // Cluster-scoped moves.
        foreach (var (node, e) in Allowed(p, new Permission("get", "", "nodes", "proxy", "", ""), _runningPodsByNode.Keys.ToList())
                     .Concat(Allowed(p, new Permission("create", "", "nodes", "proxy", "", ""), _runningPodsByNode.Keys.ToList()))
                     .DistinctBy(x => x.Name))
            moves.Add(new Move(f.Id, Node(KubeletNode(node)), Moves.NodeProxy, [e], new ObjectRef("Node", "", node)));

        foreach (var (user, e) in Allowed(p, new Permission("impersonate", "", "users", "", "", ""), _users))
            moves.Add(new Move(f.Id, Node(IdentityNode(user, GroupsOf(user, []))), Moves.ImpersonateUser, [e], null));
        // A group needs a user to go with it: any user name the rules allow.
        var asUser = Find(p, new Permission("impersonate", "", "users", "", "", AnyName)) is { Rule.ResourceNames.Count: 0 } anyUser ? anyUser
            : Allowed(p, new Permission("impersonate", "", "users", "", "", ""), _users).Select(x => x.Evidence).FirstOrDefault();
        if (asUser is not null)
        {
            var userName = asUser.Permission.Name;
            foreach (var (group, e) in Allowed(p, new Permission("impersonate", "", "groups", "", "", ""), _groups))
                moves.Add(new Move(f.Id, Node(IdentityNode(userName, GroupsOf(userName, [group]))), Moves.ImpersonateGroup, [asUser, e], null));
        }

        if (Find(p, new Permission("create", Rbac, "clusterrolebindings", "", "", "")) is { } createCrb)
            foreach (var (role, e) in Allowed(p, new Permission("bind", Rbac, "clusterroles", "", "", ""), _clusterRoles))
                moves.Add(new Move(f.Id, Node(GrantNode("", "ClusterRole", role)), Moves.Bind, [createCrb, e], null));

        // escalate + update on a role bound to oneself: write any rules into it.
        var escalated = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in p.Cluster.Concat(p.ByNamespace.Values.SelectMany(x => x)))
        {
            if (g.Binding is null) continue;
            var (resource, roleNs) = g.RoleKind == "Role" ? ("roles", g.Scope) : ("clusterroles", "");
            if (Find(p, new Permission("escalate", Rbac, resource, "", roleNs, g.RoleName)) is not { } esc) continue;
            var write = Find(p, new Permission("update", Rbac, resource, "", roleNs, g.RoleName)) ?? Find(p, new Permission("patch", Rbac, resource, "", roleNs, g.RoleName));
            if (write is null) continue;
            var target = AnyRulesNode(g.Scope);
            if (!escalated.Add(target.Id)) continue;
            moves.Add(new Move(f.Id, Node(target), Moves.Escalate, [esc, write],
                new ObjectRef(g.BindingKind, g.Scope, g.BindingName)));
        }

        // A client certificate for any identity: create a CSR for kube-apiserver-client, approve it, read the certificate.
        if (Find(p, new Permission("create", Certificates, "certificatesigningrequests", "", "", "")) is { } createCsr
            && (Find(p, new Permission("approve", Certificates, "signers", "", "", KubeApiserverClient))
                ?? Find(p, new Permission("approve", Certificates, "signers", "", "", "kubernetes.io/*"))) is { } approve)
        {
            var candidates = new List<string> { AnyName };
            foreach (var g in p.Cluster) foreach (var r in g.Role.ResourceRules) candidates.AddRange(r.Source.ResourceNames);
            foreach (var name in candidates.Distinct(StringComparer.Ordinal))
            {
                var approval = Find(p, new Permission("update", Certificates, "certificatesigningrequests", "approval", "", name));
                var read = Find(p, new Permission("get", Certificates, "certificatesigningrequests", "", "", name))
                    ?? Find(p, new Permission("list", Certificates, "certificatesigningrequests", "", "", ""))
                    ?? Find(p, new Permission("watch", Certificates, "certificatesigningrequests", "", "", ""));
                if (approval is null || read is null) continue;
                moves.Add(new Move(f.Id, Node(CertificateNode), Moves.SignCertificate, [createCsr, approval, approve, read], null));
                break;
            }
        }

        if (Find(p, new Permission("create", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", "", "", "")) is { } hook)
            moves.Add(new Move(f.Id, Node(WebhookNode), Moves.MutatingWebhook, [hook], null));
        return moves;
    }

    private string Node(Foothold f)
    {
        _nodes.TryAdd(f.Id, f);
        return f.Id;
    }

    // The footholds many moves lead to, made once each (a cluster has thousands of them).
    private readonly Dictionary<(string, string), string> _saIds = [];
    private readonly Dictionary<PodInfo, string> _shellIds = new(ReferenceEqualityComparer.Instance);

    private string SaNode(string ns, string name)
    {
        if (!_saIds.TryGetValue((ns, name), out var id)) _saIds[(ns, name)] = id = Node(ServiceAccountNode(ns, name));
        return id;
    }

    // One ObjectRef per pod, shared by every move into it (exec, attach, kubelet-exec, mounted-token).
    private readonly Dictionary<PodInfo, ObjectRef> _podRefs = new(ReferenceEqualityComparer.Instance);

    private ObjectRef PodRef(PodInfo pod)
    {
        if (!_podRefs.TryGetValue(pod, out var r)) _podRefs[pod] = r = new ObjectRef("Pod", pod.Namespace, pod.Name);
        return r;
    }

    private string ShellNode(PodInfo pod)
    {
        if (!_shellIds.TryGetValue(pod, out var id)) _shellIds[pod] = id = Node(PodShellNode(pod));
        return id;
    }

    // ---- the search ----

    /// <summary>Every start subject for <c>--all</c>: each User, Group and ServiceAccount named by a binding or read as an object.</summary>
    public IEnumerable<(string Kind, string Name, string Namespace, Foothold Start)> AllSubjects()
    {
        foreach (var u in _users) yield return (SubjectKinds.User, u, "", IdentityNode(u, GroupsOf(u, [])));
        foreach (var g in _groups) yield return (SubjectKinds.Group, g, "", IdentityNode(AnyMember, GroupsOf(AnyMember, [g])));
        foreach (var (ns, names) in _impersonableSaByNs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            foreach (var n in names) yield return (SubjectKinds.ServiceAccount, n, ns, ServiceAccountNode(ns, n));
    }

    /// <summary>Every move found while searching (also those on no shortest path), for checking.</summary>
    public IEnumerable<Move> ExploredMoves => _out.Values.SelectMany(m => m);

    /// <summary>A foothold met while searching, by id.</summary>
    public Foothold NodeById(string id) => _nodes[id];

    public EscalationResult Run(IReadOnlyList<(string Kind, string Name, string Namespace, Foothold Start)> starts)
    {
        var queue = new Queue<string>();
        var goals = new List<string>();
        foreach (var s in starts)
            if (!_out.ContainsKey(s.Start.Id) && _nodes.TryAdd(s.Start.Id, s.Start)) queue.Enqueue(s.Start.Id);
        var expanded = new HashSet<string>(StringComparer.Ordinal);
        while (queue.Count > 0)
        {
            var id = queue.Dequeue();
            if (!expanded.Add(id)) continue;
            var f = _nodes[id];
            if (HasGoal(f)) { goals.Add(id); _out[id] = []; continue; }
            var moves = Expand(f);
            _perms.Remove(id); // each foothold is expanded once: its grants are not needed again
            _out[id] = moves;
            foreach (var m in moves)
                if (!expanded.Contains(m.To)) queue.Enqueue(m.To);
        }

        // Back from the goals: the first move of a shortest path from every foothold.
        var incoming = new Dictionary<string, List<Move>>(StringComparer.Ordinal);
        foreach (var (_, moves) in _out)
            foreach (var m in moves) Add(incoming, m.To, m);
        var next = new Dictionary<string, Move?>(StringComparer.Ordinal);
        var back = new Queue<string>();
        foreach (var g in goals) { next[g] = null; back.Enqueue(g); }
        while (back.Count > 0)
        {
            var v = back.Dequeue();
            foreach (var m in incoming.GetValueOrDefault(v) ?? [])
                if (next.TryAdd(m.From, m)) back.Enqueue(m.From);
        }

        var paths = new List<EscalationPath>();
        var usedNodes = new Dictionary<string, Foothold>(StringComparer.Ordinal);
        var usedEdges = new List<Move>();
        var usedEdgeSet = new HashSet<Move>(ReferenceEqualityComparer.Instance);
        foreach (var (kind, name, ns, start) in starts)
        {
            List<Move>? steps = null;
            if (next.ContainsKey(start.Id))
            {
                steps = [];
                usedNodes.TryAdd(start.Id, start);
                for (var at = start.Id; next[at] is { } m; at = m.To)
                {
                    steps.Add(m);
                    usedNodes.TryAdd(m.To, _nodes[m.To]);
                    if (usedEdgeSet.Add(m)) usedEdges.Add(m);
                }
            }
            paths.Add(new EscalationPath(kind, name, ns, start.Groups ?? [], start, steps));
        }
        return new EscalationResult(_goal, paths, usedNodes.Values.ToList(), usedEdges);
    }

    /// <summary>Paths for one subject (<paramref name="user"/> with <paramref name="groups"/>, or a ServiceAccount's user name).</summary>
    public static EscalationResult ForSubject(AccessModel model, EscalationGoal goal, string user, IEnumerable<string> groups)
    {
        var search = new EscalationSearch(model, goal);
        var groupList = groups.ToList();
        (string, string, string, Foothold) start;
        if (user.StartsWith(RbacSubject.ServiceAccountPrefix, StringComparison.Ordinal)
            && user[RbacSubject.ServiceAccountPrefix.Length..].Split(':') is [var ns, var sa] && ns.Length > 0 && sa.Length > 0 && groupList.Count == 0)
            start = (SubjectKinds.ServiceAccount, sa, ns, ServiceAccountNode(ns, sa));
        else
            start = (SubjectKinds.User, user, "", IdentityNode(user, GroupsOf(user, groupList)));
        return search.Run([start]);
    }

    public static EscalationResult ForAll(AccessModel model, EscalationGoal goal)
    {
        var search = new EscalationSearch(model, goal);
        return search.Run(search.AllSubjects().ToList());
    }
}
