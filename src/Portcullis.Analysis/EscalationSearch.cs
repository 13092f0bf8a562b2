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
public sealed partial class EscalationSearch
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
        foreach (var (kind, ns, name, _) in model.Roles())
        {
            if (kind == "ClusterRole") _clusterRoles.Add(name);
            else { _namespaces.Add(ns); Add(_rolesByNs, ns, name); }
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
