using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>A binding and the role it refers to.</summary>
public sealed record BindingRef(string Kind, string Namespace, string Name, string RoleKind, string RoleName)
{
    internal static BindingRef Of(RbacBinding b) =>
        new(b.IsClusterBinding ? "ClusterRoleBinding" : "RoleBinding", b.Namespace, b.Name, b.RoleKind, b.RoleName);

    public override string ToString() => Namespace.Length > 0 ? $"{Kind}/{Namespace}/{Name}" : $"{Kind}/{Name}";
}

/// <summary>A binding's subject as written (namespace: the ServiceAccount's, or "" when it has none).</summary>
public sealed record SubjectRef(string Kind, string Name, string Namespace)
{
    public override string ToString() => Kind == SubjectKinds.ServiceAccount
        ? $"ServiceAccount {Quote(Namespace.Length > 0 ? Namespace + "/" + Name : Name)}"
        : $"{Kind} {Quote(Name)}";

    private static string Quote(string s) => "\"" + s + "\"";
}

/// <summary>
/// One of the identity's bindings (a subject of it applies to the identity), whatever its scope:
/// whether its role exists, whether it can apply to this request (<see cref="Scope"/>: why not)
/// and the rule that allows the request when it does.
/// </summary>
public sealed record SubjectBinding(BindingRef Binding, SubjectRef Subject, string RoleProblem, string Scope, PolicyRule? AllowingRule)
{
    public bool Allows => AllowingRule is not null;
}

/// <summary>
/// A rule of one of the identity's bindings that would allow the request were one attribute of the
/// request different: <see cref="Attribute"/> is verb, apiGroup, resource, subresource, resourceName,
/// namespace (the binding is a RoleBinding of another namespace) or nonResourceURL;
/// <see cref="Requested"/> is the request's value, <see cref="Allowed"/> the values that would match.
/// </summary>
public sealed record NearRule(BindingRef Binding, PolicyRule Rule, string Attribute, string Requested, IReadOnlyList<string> Allowed);

/// <summary>
/// A binding whose role allows the request where it is asked, but none of whose subjects is the
/// identity, with a subject that looks meant for it. <see cref="Problem"/> is one of
/// serviceaccount-without-namespace, serviceaccount-namespace, user-named-like-serviceaccount,
/// kind-mismatch, unknown-kind, name-case.
/// </summary>
public sealed record NearSubject(BindingRef Binding, SubjectRef Subject, string Problem, string Message);

/// <summary>Someone able to grant the request: how (each of <see cref="How"/> is a permission they hold).</summary>
public sealed record Grantor(SubjectRef Subject, IReadOnlyList<string> How);

/// <summary>The answer to "why is this denied" (or "what allows it").</summary>
public sealed record DenialExplanation(
    WhoCanQuery Query,
    AccessIdentity Identity,
    bool Allowed,
    IReadOnlyList<WhoCanEntry> AllowedBy,
    IReadOnlyList<SubjectBinding> Bindings,
    IReadOnlyList<NearRule> NearestRules,
    IReadOnlyList<NearSubject> NearSubjects,
    JsonObject? SuggestedRole,
    JsonObject? SuggestedBinding,
    IReadOnlyList<Grantor> WhoCanGrant);

/// <summary>
/// Explains a decision of the authorizer chain (system:masters, then RBAC) for one identity and
/// request, over an <see cref="RbacIndex"/>, with the authorizer's own matching and scoping.
/// </summary>
public static class Explainer
{
    private const string RbacGroup = "rbac.authorization.k8s.io";
    private const string SuggestionPrefix = "portcullis-allow-";

    public static DenialExplanation Explain(AccessModel model, AccessIdentity identity, WhoCanQuery query) =>
        Explain(model.Index, identity, query, full: true);

    /// <summary>
    /// <paramref name="full"/>: also the suggested Role and binding and who can grant it (three
    /// who-can questions over every binding); without it only what a 403 hint needs.
    /// </summary>
    /// <remarks>
    /// For an index nobody writes any more (an <see cref="AccessModel"/>'s), the bindings are
    /// indexed once more by subject name and by role (<see cref="ExplainIndex"/>, built on first
    /// use), so an explanation looks only at bindings naming the identity and at roles.
    /// </remarks>
    public static DenialExplanation Explain(RbacIndex index, AccessIdentity identity, WhoCanQuery query, bool full) =>
        Explain(index.Current, ExplainIndex.For(index.Current), identity, query, full);

    private static DenialExplanation Explain(RbacState state, ExplainIndex? aux, AccessIdentity identity, WhoCanQuery query, bool full)
    {
        var user = identity.ToUserInfo();
        var request = new RuleRequest(query.Attributes(user));
        var resource = query.IsResourceRequest;

        var allowedBy = new List<WhoCanEntry>();
        if (identity.Groups.Contains(UserInfo.SystemMasters))
            allowedBy.Add(new WhoCanEntry(SubjectKinds.Group, UserInfo.SystemMasters, "", WhoCanEntry.SystemMastersReason));
        var bindings = new List<SubjectBinding>();
        var nearRules = new List<NearRule>();
        var nearSubjects = new List<NearSubject>();

        var requestNs = resource ? query.Namespace : "";
        var taken = aux?.Suggested ?? new HashSet<(bool Cluster, string Namespace, string Name)>();
        foreach (var b in aux is null ? state.AllBindings : aux.Candidates(identity))
        {
            if (aux is null && b.Name.StartsWith(SuggestionPrefix, StringComparison.Ordinal)) taken.Add((b.IsClusterBinding, b.Namespace, b.Name));
            var inScope = b.IsClusterBinding || (requestNs.Length > 0 && b.Namespace == requestNs);
            var applying = Applying(b, user);
            if (applying is null && !inScope) continue; // most bindings: someone else's, elsewhere
            var scope = inScope ? "" : ScopeProblem(b, query);
            var role = b.Slot?.Role;
            if (applying is not null)
            {
                var roleProblem = RoleProblem(b);
                PolicyRule? allowing = null;
                if (role is not null && scope.Length == 0) allowing = FirstMatch(role, resource, in request);
                bindings.Add(new SubjectBinding(BindingRef.Of(b), Ref(applying, b), roleProblem, scope, allowing));
                if (allowing is not null)
                {
                    allowedBy.Add(new WhoCanEntry(Ref(applying, b).Kind, applying.Name, Ref(applying, b).Namespace, WhoCanEntry.RbacReason,
                        BindingRef.Of(b).Kind, b.Namespace, b.Name, b.RoleKind, b.RoleName, allowing));
                    continue;
                }
                if (role is null) continue;
                if (scope.Length == 0)
                    foreach (var rule in resource ? role.ResourceRules : role.NonResourceRules)
                        Near(b, rule, query, user, nearRules);
                else if (resource && !b.IsClusterBinding && FirstMatch(role, resource, in request) is { } other)
                    nearRules.Add(new NearRule(BindingRef.Of(b), other, "namespace", query.Namespace, [b.Namespace]));
                continue;
            }

            // Not the identity's: does it allow the request where asked, with a subject meant for the identity?
            if (role is null || scope.Length > 0) continue;
            List<(RbacSubject S, string Problem, string Message)>? near = null;
            foreach (var s in b.Subjects)
                if (NearMiss(s, b, identity) is { } miss) (near ??= []).Add((s, miss.Problem, miss.Message));
            if (near is null || FirstMatch(role, resource, in request) is null) continue;
            foreach (var (s, problem, message) in near)
                nearSubjects.Add(new NearSubject(BindingRef.Of(b), Ref(s, b), problem, message));
        }

        var allowed = allowedBy.Count > 0;
        JsonObject? role2 = null, binding2 = null;
        var grantors = new List<Grantor>();
        if (full && !allowed)
        {
            (role2, binding2) = Suggest(state, identity, query, taken);
            grantors = WhoCanGrant(state, aux, query, role2);
        }

        return new DenialExplanation(query, identity, allowed, allowedBy,
            bindings.OrderBy(x => x.Allows ? 0 : 1).ThenBy(x => x.Binding.Kind, StringComparer.Ordinal)
                .ThenBy(x => x.Binding.Namespace, StringComparer.Ordinal).ThenBy(x => x.Binding.Name, StringComparer.Ordinal).ToList(),
            nearRules.OrderBy(x => x.Binding.Kind, StringComparer.Ordinal).ThenBy(x => x.Binding.Namespace, StringComparer.Ordinal)
                .ThenBy(x => x.Binding.Name, StringComparer.Ordinal).ToList(),
            nearSubjects.OrderBy(x => x.Binding.Kind, StringComparer.Ordinal).ThenBy(x => x.Binding.Namespace, StringComparer.Ordinal)
                .ThenBy(x => x.Binding.Name, StringComparer.Ordinal).ToList(),
            role2, binding2, grantors);
    }

    /// <summary>The first subject of the binding that applies to the user (upstream's appliesTo), or null.</summary>
    private static RbacSubject? Applying(RbacBinding b, UserInfo user)
    {
        foreach (var s in b.Subjects)
            if (s.AppliesTo(user)) return s;
        return null;
    }

    private static SubjectRef Ref(RbacSubject s, RbacBinding b) => s.Kind switch
    {
        SubjectKind.ServiceAccount => new SubjectRef(SubjectKinds.ServiceAccount, s.Name, s.Namespace.Length > 0 ? s.Namespace : b.Namespace),
        _ => new SubjectRef(s.KindText, s.Name, ""),
    };

    /// <summary>Why the binding cannot apply to the request where it is asked ("" when it can).</summary>
    private static string ScopeProblem(RbacBinding b, WhoCanQuery q)
    {
        if (b.IsClusterBinding) return "";
        if (!q.IsResourceRequest) return "a RoleBinding never grants non-resource URLs (only ClusterRoleBindings do)";
        if (q.Namespace.Length == 0) return $"the request is cluster-wide; a RoleBinding grants only in its namespace \"{b.Namespace}\"";
        return b.Namespace == q.Namespace ? "" : $"the RoleBinding is in namespace \"{b.Namespace}\", the request in \"{q.Namespace}\"";
    }

    private static string RoleProblem(RbacBinding b)
    {
        if (b.ResolutionError() is not { } e) return "";
        return b.IsClusterBinding && b.RoleKind == "Role" ? "a ClusterRoleBinding cannot refer to a Role: " + e : e;
    }

    private static PolicyRule? FirstMatch(CompiledRole role, bool resource, in RuleRequest request)
    {
        foreach (var rule in resource ? role.ResourceRules : role.NonResourceRules)
            if (resource ? rule.MatchesResource(in request) : rule.MatchesNonResource(in request)) return rule.Source;
        return null;
    }

    /// <summary>Adds a near rule for each attribute whose change alone makes <paramref name="rule"/> match.</summary>
    private static void Near(RbacBinding b, CompiledRule rule, WhoCanQuery q, UserInfo user, List<NearRule> into)
    {
        var r = rule.Source;
        Try("verb", q.Verb, r.Verbs.Where(v => v != "*"), v => q with { Verb = v });
        if (q.IsResourceRequest)
        {
            Try("apiGroup", q.ApiGroup, r.ApiGroups.Where(g => g != "*"), g => q with { ApiGroup = g });
            var resources = new List<string>();
            var subresources = new List<string>();
            foreach (var rr in r.Resources)
            {
                var slash = rr.IndexOf('/');
                if (slash < 0)
                {
                    if (rr == "*") continue;
                    resources.Add(rr);
                    if (rr == q.Resource) subresources.Add("");
                }
                else
                {
                    var (res, sub) = (rr[..slash], rr[(slash + 1)..]);
                    if (res != "*") resources.Add(res);
                    if (res == "*" || res == q.Resource) subresources.Add(sub);
                }
            }
            Try("resource", q.Resource, resources, x => q with { Resource = x });
            Try("subresource", q.Subresource, subresources, x => q with { Subresource = x });
            Try("resourceName", q.Name, r.ResourceNames, x => q with { Name = x });
        }
        else
        {
            Try("nonResourceURL", q.NonResourceUrl!, r.NonResourceUrls.Where(u => u != "*").Select(u => u.TrimEnd('*')),
                u => q with { NonResourceUrl = u });
        }

        void Try(string attribute, string requested, IEnumerable<string> candidates, Func<string, WhoCanQuery> change)
        {
            var ok = new List<string>();
            foreach (var c in candidates.Distinct(StringComparer.Ordinal))
            {
                if (c == requested || ok.Contains(c)) continue;
                var changed = new RuleRequest(change(c).Attributes(user));
                if (q.IsResourceRequest ? rule.MatchesResource(in changed) : rule.MatchesNonResource(in changed)) ok.Add(c);
            }
            if (ok.Count > 0) into.Add(new NearRule(BindingRef.Of(b), r, attribute, requested, ok));
        }
    }

    /// <summary>A subject that does not apply to the identity but looks meant for it, and why it does not apply.</summary>
    private static (string Problem, string Message)? NearMiss(RbacSubject s, RbacBinding b, AccessIdentity id)
    {
        var sa = id.ServiceAccount;
        var user = id.User;
        switch (s.Kind)
        {
            case SubjectKind.ServiceAccount:
                if (s.MatchName is null && (s.Name == sa?.Name || s.Name == user))
                    return ("serviceaccount-without-namespace",
                        $"ServiceAccount \"{s.Name}\" has no namespace; in a ClusterRoleBinding such a subject applies to no one (give subjects[].namespace)");
                if (sa is { } a && s.Name == a.Name && s.MatchName is not null)
                    return ("serviceaccount-namespace",
                        $"the subject is the ServiceAccount {s.MatchName}, the request is made by {user} (another namespace)");
                if (s.Name == user)
                    return ("kind-mismatch", $"the subject is the ServiceAccount {s.MatchName}, not the User \"{user}\"");
                break;
            case SubjectKind.User:
                if (sa is { } a2 && s.Name == a2.Name)
                    return ("user-named-like-serviceaccount",
                        $"User \"{s.Name}\" is not the ServiceAccount: its user name is {user} (use kind: ServiceAccount, namespace: {a2.Namespace})");
                if (id.Groups.Contains(s.Name))
                    return ("kind-mismatch", $"\"{s.Name}\" is one of the identity's groups, but the subject is a User (use kind: Group)");
                if (string.Equals(s.Name, user, StringComparison.OrdinalIgnoreCase))
                    return ("name-case", $"User \"{s.Name}\" differs from \"{user}\" in case only; names are compared exactly");
                break;
            case SubjectKind.Group:
                if (s.Name == user)
                    return ("kind-mismatch", $"\"{s.Name}\" is the identity's user name, but the subject is a Group (use kind: User)");
                if (id.Groups.Any(g => !string.Equals(g, s.Name, StringComparison.Ordinal) && string.Equals(g, s.Name, StringComparison.OrdinalIgnoreCase)))
                    return ("name-case", $"Group \"{s.Name}\" differs from one of the identity's groups in case only; names are compared exactly");
                break;
            default:
                if (s.Name == user || s.Name == sa?.Name || id.Groups.Contains(s.Name))
                    return ("unknown-kind", $"subject kind \"{s.KindText}\" is none of User, Group, ServiceAccount: it applies to no one");
                break;
        }
        return null;
    }

    // ---- the smallest grant ----

    /// <summary>
    /// The smallest Role and RoleBinding that allow the request (a ClusterRole and
    /// ClusterRoleBinding for cluster-wide and non-resource requests): one rule with just the
    /// request's verb, group, resource[/subresource] and name (or URL), bound to the identity's user
    /// (as a ServiceAccount subject for a ServiceAccount's user name). Names not taken yet.
    /// </summary>
    internal static (JsonObject Role, JsonObject Binding) Suggest(RbacState state, AccessIdentity id, WhoCanQuery q,
        HashSet<(bool Cluster, string Namespace, string Name)> takenBindings)
    {
        var namespaced = q.IsResourceRequest && q.Namespace.Length > 0;
        var rule = new JsonObject();
        if (q.IsResourceRequest)
        {
            rule["apiGroups"] = new JsonArray(q.ApiGroup);
            rule["resources"] = new JsonArray(q.Subresource.Length > 0 ? q.Resource + "/" + q.Subresource : q.Resource);
            if (q.Name.Length > 0) rule["resourceNames"] = new JsonArray(q.Name);
        }
        else rule["nonResourceURLs"] = new JsonArray(q.NonResourceUrl);
        rule["verbs"] = new JsonArray(q.Verb);

        var what = q.IsResourceRequest
            ? q.Verb + "-" + q.Resource + (q.Subresource.Length > 0 ? "-" + q.Subresource : "") + (q.Name.Length > 0 ? "-" + q.Name : "")
            : q.Verb + "-" + q.NonResourceUrl!.Trim('/');
        var subjectName = id.ServiceAccount is { } sa ? sa.Name : id.User;
        var baseName = Clean(SuggestionPrefix + subjectName + "-" + what);
        var name = baseName;
        var roleKind = namespaced ? "Role" : "ClusterRole";
        var bindingKind = namespaced ? "RoleBinding" : "ClusterRoleBinding";
        var ns = namespaced ? q.Namespace : "";
        for (var i = 2; state.HasRole(roleKind, ns, name) || takenBindings.Contains((!namespaced, ns, name)); i++) name = baseName + "-" + i;

        var meta = new JsonObject { ["name"] = name };
        if (namespaced) meta["namespace"] = q.Namespace;
        var role = new JsonObject
        {
            ["apiVersion"] = RbacGroup + "/v1", ["kind"] = roleKind, ["metadata"] = meta, ["rules"] = new JsonArray(rule),
        };
        var subject = id.ServiceAccount is { } s
            ? new JsonObject { ["kind"] = "ServiceAccount", ["name"] = s.Name, ["namespace"] = s.Namespace }
            : new JsonObject { ["kind"] = "User", ["apiGroup"] = RbacGroup, ["name"] = id.User };
        var binding = new JsonObject
        {
            ["apiVersion"] = RbacGroup + "/v1", ["kind"] = bindingKind, ["metadata"] = meta.DeepClone(),
            ["roleRef"] = new JsonObject { ["apiGroup"] = RbacGroup, ["kind"] = roleKind, ["name"] = name },
            ["subjects"] = new JsonArray(subject),
        };
        return (role, binding);
    }

    /// <summary>An RBAC object name: no '/', no '%' (upstream's path-segment rule), lower case, at most 253 characters.</summary>
    private static string Clean(string s)
    {
        var chars = s.ToLowerInvariant().Select(c => c is '/' or '%' or ' ' or '*' ? '-' : c).ToArray();
        var name = new string(chars).Trim('-');
        return name.Length > 240 ? name[..240] : name;
    }

    /// <summary>
    /// Who can create the suggested role and binding (upstream's escalation check): create on the
    /// role kind and (escalate on it, or holding the permission), and create on the binding kind
    /// and (bind on the role by name, or holding the permission). Subjects are matched as listed
    /// by who-can: a subject holding one part as a user and the other through a group is not listed.
    /// </summary>
    private static List<Grantor> WhoCanGrant(RbacState state, ExplainIndex? aux, WhoCanQuery q, JsonObject role)
    {
        var namespaced = (string)role["kind"]! == "Role";
        var ns = namespaced ? q.Namespace : "";
        var roles = namespaced ? "roles" : "clusterroles";
        var bindings = namespaced ? "rolebindings" : "clusterrolebindings";
        var roleName = (string)role["metadata"]!["name"]!;

        // The five who-can questions share their scope (the namespace's RoleBindings and every
        // ClusterRoleBinding, or ClusterRoleBindings only), so one walk over the bindings answers all.
        var nobody = new UserInfo("", "", [], UserInfo.NoExtra);
        WhoCanQuery[] questions =
        [
            q,
            new("create", roles, "", RbacGroup, ns),
            new("escalate", roles, "", RbacGroup, ns),
            new("create", bindings, "", RbacGroup, ns),
            new("bind", roles, "", RbacGroup, ns, roleName),
        ];
        var requests = questions.Select(x => new RuleRequest(x.Attributes(nobody))).ToArray();
        var who = questions.Select(_ => new HashSet<SubjectRef> { new(SubjectKinds.Group, UserInfo.SystemMasters, "") }).ToArray();
        // By role: each role is matched once, and only the bindings of roles that match are read.
        IEnumerable<(RoleSlot Slot, IReadOnlyList<RbacBinding> Bindings)> groups = aux is not null
            ? aux.ByRole(ns)
            : state.AllBindings.Where(b => b.Slot is not null && (b.IsClusterBinding || (ns.Length > 0 && b.Namespace == ns)))
                .GroupBy(b => b.Slot!).Select(g => (g.Key, (IReadOnlyList<RbacBinding>)g.ToList()));
        foreach (var (slot, members) in groups)
        {
            if (slot.Role is not { } compiled) continue;
            for (var i = 0; i < questions.Length; i++)
            {
                var resource = questions[i].IsResourceRequest;
                var matched = false;
                foreach (var rule in resource ? compiled.ResourceRules : compiled.NonResourceRules)
                    if (resource ? rule.MatchesResource(in requests[i]) : rule.MatchesNonResource(in requests[i])) { matched = true; break; }
                if (!matched) continue;
                foreach (var b in members)
                {
                if (!resource && !b.IsClusterBinding) continue;
                foreach (var s in b.Subjects)
                {
                    switch (s.Kind)
                    {
                        case SubjectKind.User: who[i].Add(new SubjectRef(SubjectKinds.User, s.Name, "")); break;
                        case SubjectKind.Group: who[i].Add(new SubjectRef(SubjectKinds.Group, s.Name, "")); break;
                        case SubjectKind.ServiceAccount when s.MatchName is not null:
                            who[i].Add(new SubjectRef(SubjectKinds.ServiceAccount, s.Name, s.Namespace.Length > 0 ? s.Namespace : b.Namespace));
                            break;
                    }
                }
                }
            }
        }
        var (holds, createRole, escalate, createBinding, bind) = (who[0], who[1], who[2], who[3], who[4]);

        var result = new List<Grantor>();
        foreach (var s in createRole)
        {
            if (!createBinding.Contains(s)) continue;
            var how = new List<string> { "create " + roles, "create " + bindings };
            var held = holds.Contains(s);
            if (escalate.Contains(s)) how.Add("escalate " + roles);
            else if (!held) continue;
            if (bind.Contains(s)) how.Add("bind " + roles + " " + roleName);
            else if (!held) continue;
            if (held) how.Add("holds the permission");
            result.Add(new Grantor(s, how));
        }
        return result
            .OrderBy(g => g.Subject.Name == UserInfo.SystemMasters && g.Subject.Kind == SubjectKinds.Group ? 0 : 1)
            .ThenBy(g => g.Subject.Kind, StringComparer.Ordinal).ThenBy(g => g.Subject.Namespace, StringComparer.Ordinal)
            .ThenBy(g => g.Subject.Name, StringComparer.Ordinal).ToList();
    }

    // ---- the 403 hint ----

    /// <summary>
    /// A one-line hint for a denied request (null when nothing useful can be said): the near
    /// subject or the nearest rule first found. The server puts it in a Warning header when
    /// started with --explain-denials.
    /// </summary>
    public static string? Hint(RbacIndex index, AccessIdentity identity, WhoCanQuery query) =>
        Hint(Explain(index, identity, query, full: false));

    /// <summary>
    /// The hint for a request the server's authorizer denied, over the server's live index (read
    /// with its writes held off, since it walks every binding).
    /// </summary>
    public static string? Hint(RbacIndex index, AuthorizationAttributes a)
    {
        var identity = new AccessIdentity(a.User.Name, a.User.Groups);
        var query = a.IsResourceRequest
            ? new WhoCanQuery(a.Verb.Value, a.Resource, a.Subresource, a.ApiGroup, a.Namespace, a.Name)
            : new WhoCanQuery(a.Verb.Value, NonResourceUrl: a.Path);
        // The live index changes in place: no cached ExplainIndex, one walk over the bindings.
        return index.ReadExclusive(state => Hint(Explain(state, null, identity, query, full: false)));
    }

    private static string? Hint(DenialExplanation e)
    {
        if (e.Allowed) return null;
        if (e.NearSubjects.Count > 0)
        {
            var n = e.NearSubjects[0];
            return $"portcullis: {n.Binding} would allow this, but its subject {n.Subject} does not apply: {n.Message}";
        }
        if (e.NearestRules.Count > 0)
        {
            var r = e.NearestRules[0];
            var wanted = string.Join(", ", r.Allowed.Select(a => "\"" + a + "\""));
            return r.Attribute == "namespace"
                ? $"portcullis: {r.Binding} (role {r.Binding.RoleKind} \"{r.Binding.RoleName}\") allows this only in namespace {wanted}"
                : $"portcullis: {r.Binding} (role {r.Binding.RoleKind} \"{r.Binding.RoleName}\") would allow this with {r.Attribute} {wanted} instead of \"{r.Requested}\"";
        }
        var missing = e.Bindings.FirstOrDefault(b => b.RoleProblem.Length > 0);
        if (missing is not null) return $"portcullis: {missing.Binding} refers to a role that does not resolve: {missing.RoleProblem}";
        return null;
    }
}

/// <summary>
/// The bindings of a state nobody writes any more, indexed for explain: by the name of each
/// subject (compared ignoring case, so near misses by case are found too) and, per scope
/// (cluster-wide, each namespace), by role. Built once per state, on first use.
/// </summary>
internal sealed class ExplainIndex
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<RbacState, ExplainIndex> Cache = new();

    private readonly Dictionary<string, List<RbacBinding>> _bySubjectName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<RoleSlot, List<RbacBinding>> _clusterByRole = [];
    private readonly Dictionary<string, Dictionary<RoleSlot, List<RbacBinding>>> _namespaceByRole = new(StringComparer.Ordinal);

    /// <summary>Bindings named like a suggestion (<c>portcullis-allow-...</c>): cluster or not, namespace, name.</summary>
    public HashSet<(bool Cluster, string Namespace, string Name)> Suggested { get; } = [];

    public static ExplainIndex For(RbacState state) => Cache.GetValue(state, s => new ExplainIndex(s));

    private ExplainIndex(RbacState state)
    {
        foreach (var b in state.AllBindings)
        {
            if (b.Name.StartsWith("portcullis-allow-", StringComparison.Ordinal)) Suggested.Add((b.IsClusterBinding, b.Namespace, b.Name));
            foreach (var s in b.Subjects)
            {
                if (!_bySubjectName.TryGetValue(s.Name, out var list)) _bySubjectName[s.Name] = list = [];
                if (list.Count == 0 || !ReferenceEquals(list[^1], b)) list.Add(b);
            }
            if (b.Slot is not { } slot) continue;
            var byRole = b.IsClusterBinding ? _clusterByRole
                : _namespaceByRole.TryGetValue(b.Namespace, out var m) ? m : _namespaceByRole[b.Namespace] = [];
            if (!byRole.TryGetValue(slot, out var members)) byRole[slot] = members = [];
            members.Add(b);
        }
    }

    /// <summary>
    /// Every binding with a subject named (ignoring case) like the user, its ServiceAccount's short
    /// name or one of its groups: all that can apply to the identity or look meant for it.
    /// </summary>
    public IEnumerable<RbacBinding> Candidates(AccessIdentity id)
    {
        var seen = new HashSet<RbacBinding>(ReferenceEqualityComparer.Instance);
        var names = new List<string> { id.User };
        if (id.ServiceAccount is { } sa) names.Add(sa.Name);
        names.AddRange(id.Groups);
        foreach (var n in names)
            if (_bySubjectName.TryGetValue(n, out var list))
                foreach (var b in list)
                    if (seen.Add(b)) yield return b;
    }

    /// <summary>The bindings that apply in <paramref name="ns"/> (every ClusterRoleBinding, and the namespace's RoleBindings), by role.</summary>
    public IEnumerable<(RoleSlot Slot, IReadOnlyList<RbacBinding> Bindings)> ByRole(string ns)
    {
        foreach (var (slot, list) in _clusterByRole) yield return (slot, list);
        if (ns.Length > 0 && _namespaceByRole.TryGetValue(ns, out var m))
            foreach (var (slot, list) in m) yield return (slot, list);
    }
}
