using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>
/// A request to ask about: a resource request (<see cref="Resource"/> set; <see cref="Namespace"/>
/// empty for a cluster-wide one, such as listing pods in all namespaces) or a non-resource one
/// (<see cref="NonResourceUrl"/> set, e.g. <c>/healthz</c>).
/// </summary>
public sealed record WhoCanQuery(
    string Verb,
    string Resource = "",
    string Subresource = "",
    string ApiGroup = "",
    string Namespace = "",
    string Name = "",
    string? NonResourceUrl = null,
    bool AllNamespaces = false)
{
    public bool IsResourceRequest => NonResourceUrl is null;

    /// <summary>
    /// The query for command-line arguments: <paramref name="target"/> is a non-resource URL when it
    /// starts with <c>/</c> (as kubectl auth can-i decides), otherwise <c>RESOURCE[/SUBRESOURCE]</c>
    /// where RESOURCE may be <c>resource.group</c> (split at the first dot, as apimachinery's
    /// ParseGroupResource; lower-cased as can-i does); short names, singulars and kinds of built-in
    /// resources are resolved with the server's resource table (<see cref="BuiltinNames"/>).
    /// </summary>
    /// <exception cref="ArgumentException">arguments that do not make one request; the message is one line.</exception>
    public static WhoCanQuery Parse(string verb, string target, string? @namespace, string? name, string? apiGroup, bool allNamespaces = false)
    {
        if (allNamespaces && !string.IsNullOrEmpty(@namespace)) throw new ArgumentException("--all-namespaces and --namespace cannot be used together");
        if (allNamespaces && target.StartsWith('/')) throw new ArgumentException("a non-resource URL takes no --all-namespaces");
        if (string.IsNullOrEmpty(verb)) throw new ArgumentException("a verb is required");
        if (string.IsNullOrEmpty(target)) throw new ArgumentException("a resource or a non-resource URL is required");
        if (target.StartsWith('/'))
        {
            if (!string.IsNullOrEmpty(name) || !string.IsNullOrEmpty(apiGroup) || !string.IsNullOrEmpty(@namespace))
                throw new ArgumentException("a non-resource URL takes no --name, --namespace or --api-group");
            return new WhoCanQuery(verb, NonResourceUrl: target);
        }
        var lower = target.ToLowerInvariant();
        var parts = lower.Split('/');
        if (parts.Length > 2 || parts.Any(p => p.Length == 0))
            throw new ArgumentException($"{Quote(target)} is not RESOURCE, RESOURCE/SUBRESOURCE or a URL starting with /");
        var resource = parts[0];
        var group = "";
        var dot = resource.IndexOf('.');
        if (dot >= 0)
        {
            group = resource[(dot + 1)..];
            resource = resource[..dot];
        }
        if (!string.IsNullOrEmpty(apiGroup))
        {
            if (dot >= 0 && group != apiGroup)
                throw new ArgumentException($"{Quote(target)} names API group {Quote(group)} but --api-group is {Quote(apiGroup)}");
            group = apiGroup;
        }
        // Short names, singulars and kinds of built-in resources (BuiltinNames).
        (resource, group) = BuiltinNames.Resolve(resource, dot >= 0 || !string.IsNullOrEmpty(apiGroup) ? group : null);
        return new WhoCanQuery(verb, resource, parts.Length == 2 ? parts[1] : "", group, @namespace ?? "", name ?? "", AllNamespaces: allNamespaces);
    }

    private static string Quote(string s) => "\"" + s + "\"";

    /// <summary>The request as the authorizer sees it, made by <paramref name="user"/>.</summary>
    public AuthorizationAttributes Attributes(UserInfo user) => IsResourceRequest
        ? new AuthorizationAttributes(user, new Verb(Verb), true, Namespace: Namespace, ApiGroup: ApiGroup, Resource: Resource, Subresource: Subresource, Name: Name)
        : new AuthorizationAttributes(user, new Verb(Verb), false, Path: NonResourceUrl!);
}

/// <summary>The kinds of subject an entry names (as in a binding's subjects).</summary>
public static class SubjectKinds
{
    public const string User = "User";
    public const string Group = "Group";
    public const string ServiceAccount = "ServiceAccount";
}

/// <summary>
/// One subject granted the request, and why: the binding (kind, namespace, name), the role it
/// refers to and the first of the role's rules that allows the request (the rule the authorizer
/// would stop at). For a member of <c>system:masters</c> the reason is <c>system:masters</c> and
/// there is no binding: the authorizer chain allows that group before RBAC is asked.
/// <see cref="OnlyForNames"/> is set on the entries of <see cref="WhoCanResult.OnlyForNames"/>:
/// the request is allowed only with one of those resource names.
/// </summary>
public sealed record WhoCanEntry(
    string SubjectKind,
    string SubjectName,
    string SubjectNamespace,
    string Reason,
    string BindingKind = "",
    string BindingNamespace = "",
    string BindingName = "",
    string RoleKind = "",
    string RoleName = "",
    PolicyRule? Rule = null,
    IReadOnlyList<string>? OnlyForNames = null,
    string ViaGroup = "")
{
    public const string RbacReason = "RBAC";
    public const string SystemMastersReason = UserInfo.SystemMasters;

    /// <summary>
    /// Whether this subject stands for the identity: a User by its name, a Group by membership, a
    /// ServiceAccount by its user name <c>system:serviceaccount:NS:NAME</c>.
    /// </summary>
    public bool AppliesTo(string user, IReadOnlyCollection<string> groups) => SubjectKind switch
    {
        SubjectKinds.User => string.Equals(SubjectName, user, StringComparison.Ordinal),
        SubjectKinds.Group => groups.Contains(SubjectName, StringComparer.Ordinal),
        SubjectKinds.ServiceAccount => string.Equals(RbacSubject.ServiceAccountPrefix + SubjectNamespace + ":" + SubjectName, user, StringComparison.Ordinal),
        _ => false,
    };
}

/// <summary>
/// The answer: <see cref="Allowed"/> lists every (subject, binding) that allows the request;
/// <see cref="OnlyForNames"/>, for a request without a name only, lists the grants limited by
/// resourceNames (they do not allow the request as asked, only for the names given).
/// </summary>
public sealed record WhoCanResult(WhoCanQuery Query, IReadOnlyList<WhoCanEntry> Allowed, IReadOnlyList<WhoCanEntry> OnlyForNames);

/// <summary>
/// who-can over an <see cref="AccessModel"/>'s index, with the authorizer's own rule matching
/// (<see cref="CompiledRule"/>) and scoping: a ClusterRoleBinding applies everywhere; a
/// RoleBinding (whether it refers to a Role or a ClusterRole) only to resource requests in its own
/// namespace; a binding whose role does not exist grants nothing. Each subject that can apply
/// (User, Group, ServiceAccount with a namespace) becomes an entry, so an identity is allowed
/// exactly when one entry applies to it (checked by the property tests against the authorizer).
/// </summary>
public static class WhoCan
{
    private static readonly UserInfo Nobody = new("", "", [], UserInfo.NoExtra);

    public static WhoCanResult Ask(AccessModel model, WhoCanQuery query) => Ask(model.Index, query);

    /// <summary>
    /// As <see cref="Ask(AccessModel, WhoCanQuery)"/>; with <paramref name="expandGroups"/>, every
    /// grant to <c>system:serviceaccounts</c>, <c>system:serviceaccounts:NS</c> or
    /// <c>system:authenticated</c> is also listed for each ServiceAccount of the model in that
    /// group (a ServiceAccount's token carries those groups), with <see cref="WhoCanEntry.ViaGroup"/>
    /// naming the group; once per (ServiceAccount, binding), and not when the binding names the
    /// ServiceAccount itself.
    /// </summary>
    public static WhoCanResult Ask(AccessModel model, WhoCanQuery query, bool expandGroups)
    {
        var result = Ask(model.Index, query);
        if (!expandGroups) return result;
        return result with { Allowed = Expand(result.Allowed, model.ServiceAccounts), OnlyForNames = Expand(result.OnlyForNames, model.ServiceAccounts) };
    }

    /// <summary>Whether a ServiceAccount's token puts it in <paramref name="group"/>.</summary>
    public static bool ServiceAccountInGroup(string group, string saNamespace) =>
        group is ServiceAccountsGroup or UserInfo.AllAuthenticated || group == ServiceAccountsGroup + ":" + saNamespace;

    private const string ServiceAccountsGroup = "system:serviceaccounts";

    private static List<WhoCanEntry> Expand(IReadOnlyList<WhoCanEntry> entries, IReadOnlyList<(string Namespace, string Name)> serviceAccounts)
    {
        var all = entries.ToList();
        var listed = new HashSet<(string, string, string, string, string)>(
            entries.Where(e => e.SubjectKind == SubjectKinds.ServiceAccount).Select(e => (e.SubjectNamespace, e.SubjectName, e.BindingKind, e.BindingNamespace, e.BindingName)));
        foreach (var e in entries)
        {
            if (e.SubjectKind != SubjectKinds.Group || e.Reason != WhoCanEntry.RbacReason) continue;
            foreach (var (ns, name) in serviceAccounts)
            {
                if (!ServiceAccountInGroup(e.SubjectName, ns)) continue;
                if (!listed.Add((ns, name, e.BindingKind, e.BindingNamespace, e.BindingName))) continue;
                all.Add(e with { SubjectKind = SubjectKinds.ServiceAccount, SubjectName = name, SubjectNamespace = ns, ViaGroup = e.SubjectName });
            }
        }
        all.Sort(EntryOrder.Instance);
        return all;
    }

    public static WhoCanResult Ask(RbacIndex index, WhoCanQuery query)
    {
        var request = new RuleRequest(query.Attributes(Nobody));
        var resource = query.IsResourceRequest;
        var ns = resource ? query.Namespace : "";
        var allowed = new List<WhoCanEntry>
        {
            new(SubjectKinds.Group, UserInfo.SystemMasters, "", WhoCanEntry.SystemMastersReason),
        };
        var onlyForNames = new List<WhoCanEntry>();
        var withoutNames = new Dictionary<CompiledRule, CompiledRule>(ReferenceEqualityComparer.Instance);
        // Many bindings share a role: the role's verdict is worked out once per question.
        var verdicts = new Dictionary<CompiledRole, Verdict>(ReferenceEqualityComparer.Instance);

        foreach (var b in index.Current.AllBindings)
        {
            // A RoleBinding applies in its namespace only; with AllNamespaces, every namespace's do (each listed with its namespace).
            if (!b.IsClusterBinding && !(resource && query.AllNamespaces) && (ns.Length == 0 || b.Namespace != ns)) continue;
            if (b.Slot?.Role is not { } role) continue;
            if (!verdicts.TryGetValue(role, out var verdict))
                verdicts[role] = verdict = Judge(role, in request, resource, resource && query.Name.Length == 0, withoutNames);
            if (verdict.Granting is { } granting) AddEntries(allowed, b, granting, null);
            else if (verdict.FirstNamed is { } first) AddEntries(onlyForNames, b, first, verdict.Names);
        }

        allowed.Sort(EntryOrder.Instance);
        onlyForNames.Sort(EntryOrder.Instance);
        return new WhoCanResult(query, allowed, onlyForNames);
    }

    /// <summary>What one role says about the request: the first rule that allows it or, failing that
    /// (asked without a name), the first rule that would allow it for some names and all such names.</summary>
    private readonly record struct Verdict(PolicyRule? Granting, PolicyRule? FirstNamed, List<string>? Names);

    private static Verdict Judge(CompiledRole role, in RuleRequest request, bool resource, bool nameless,
        Dictionary<CompiledRule, CompiledRule> withoutNames)
    {
        var rules = resource ? role.ResourceRules : role.NonResourceRules;
        foreach (var rule in rules)
            if (resource ? rule.MatchesResource(in request) : rule.MatchesNonResource(in request))
                return new Verdict(rule.Source, null, null);
        if (!nameless) return default;

        PolicyRule? first = null;
        List<string>? names = null;
        foreach (var rule in rules)
        {
            if (rule.Source.ResourceNames.Count == 0) continue;
            if (!withoutNames.TryGetValue(rule, out var open))
                withoutNames[rule] = open = new CompiledRule(rule.Source with { ResourceNames = [] });
            if (!open.MatchesResource(in request)) continue;
            first ??= rule.Source;
            names ??= [];
            foreach (var n in rule.Source.ResourceNames)
                if (!names.Contains(n)) names.Add(n);
        }
        return new Verdict(null, first, names);
    }

    private static void AddEntries(List<WhoCanEntry> into, RbacBinding b, PolicyRule rule, IReadOnlyList<string>? names)
    {
        var seen = b.Subjects.Length > 1 ? new HashSet<(string, string, string)>() : null;
        foreach (var s in b.Subjects)
        {
            string kind, ns;
            switch (s.Kind)
            {
                case SubjectKind.User: kind = SubjectKinds.User; ns = ""; break;
                case SubjectKind.Group: kind = SubjectKinds.Group; ns = ""; break;
                case SubjectKind.ServiceAccount when s.MatchName is not null:
                    kind = SubjectKinds.ServiceAccount;
                    ns = s.Namespace.Length > 0 ? s.Namespace : b.Namespace;
                    break;
                default: continue; // an unknown kind, or a ServiceAccount without a namespace: never applies
            }
            if (seen is not null && !seen.Add((kind, ns, s.Name))) continue;
            into.Add(new WhoCanEntry(kind, s.Name, ns, WhoCanEntry.RbacReason,
                b.IsClusterBinding ? "ClusterRoleBinding" : "RoleBinding", b.Namespace, b.Name, b.RoleKind, b.RoleName, rule, names));
        }
    }

    /// <summary>Stable order: system:masters first, then by subject kind, namespace, name, then binding kind, namespace, name.</summary>
    private sealed class EntryOrder : IComparer<WhoCanEntry>
    {
        public static readonly EntryOrder Instance = new();

        public int Compare(WhoCanEntry? x, WhoCanEntry? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x is null) return -1;
            if (y is null) return 1;
            var c = (x.Reason == WhoCanEntry.SystemMastersReason ? 0 : 1) - (y.Reason == WhoCanEntry.SystemMastersReason ? 0 : 1);
            if (c == 0) c = string.CompareOrdinal(x.SubjectKind, y.SubjectKind);
            if (c == 0) c = string.CompareOrdinal(x.SubjectNamespace, y.SubjectNamespace);
            if (c == 0) c = string.CompareOrdinal(x.SubjectName, y.SubjectName);
            if (c == 0) c = string.CompareOrdinal(x.BindingKind, y.BindingKind);
            if (c == 0) c = string.CompareOrdinal(x.BindingNamespace, y.BindingNamespace);
            if (c == 0) c = string.CompareOrdinal(x.BindingName, y.BindingName);
            if (c == 0) c = string.CompareOrdinal(x.ViaGroup, y.ViaGroup);
            return c;
        }
    }
}
