using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Authorization.Rbac;

/// <summary>
/// RBAC's privilege-escalation prevention, applied when Roles, ClusterRoles and their bindings
/// are created or updated (upstream's policy-based RBAC storage): nobody may grant a permission
/// they do not hold, unless they are allowed to <c>escalate</c> (roles) or <c>bind</c> (bindings).
/// Members of system:masters (which includes the in-process controller user) are never checked.
/// </summary>
public static class EscalationCheck
{
    private const string Group = "rbac.authorization.k8s.io";

    /// <summary>What an aggregationRule needs: everything, as cluster-admin holds.</summary>
    private static readonly PolicyRule[] FullAuthority =
    [
        new(["*"], ["*"], ["*"], [], []),
        new(["*"], [], [], [], ["*"]),
    ];

    /// <summary>
    /// Refuses (403) a create or update of <paramref name="obj"/> that would grant permissions the
    /// user does not hold. <paramref name="resource"/> is roles, clusterroles, rolebindings or
    /// clusterrolebindings; <paramref name="ns"/> the request's namespace (empty for cluster-scoped).
    /// <paramref name="getRole"/> reads a referenced role (namespace, kind Role|ClusterRole, name), null when missing.
    /// </summary>
    public static ValueTask CheckAsync(Operation operation, string resource, string ns, JsonObject obj, UserInfo user,
        IRuleResolver resolver, IAuthorizer authorizer, Func<string, string, string, CancellationToken, Task<JsonObject?>> getRole,
        CancellationToken ct) =>
        CheckAsync(operation, resource, ns, obj, null, user, resolver, authorizer, getRole, ct);

    /// <summary>
    /// As the other overload; with the stored object on update, so that changes to nothing but
    /// the garbage collector's fields (owner references, finalizers) pass unchecked, as upstream.
    /// </summary>
    public static async ValueTask CheckAsync(Operation operation, string resource, string ns, JsonObject obj, JsonObject? oldObj,
        UserInfo user, IRuleResolver resolver, IAuthorizer authorizer,
        Func<string, string, string, CancellationToken, Task<JsonObject?>> getRole, CancellationToken ct)
    {
        if (user.Groups.Contains(UserInfo.SystemMasters)) return;
        var isUpdate = operation == Operation.Update;
        var name = Registry.Meta.Name(obj);
        switch (resource)
        {
            case "roles":
            case "clusterroles":
            {
                var scope = resource == "roles" ? ns : "";
                // The escalate check uses the request's name, which a create (POST) does not have.
                if (await AuthorizedAsync(authorizer, user, Verb.Escalate, Group, resource, isUpdate ? name : "", scope, "*", ct)) return;
                if (isUpdate && oldObj is not null && OnlyGarbageCollectorFieldsChanged(obj, oldObj)) return;
                if (ConfirmNoEscalation(user, scope, RulesOf(obj), resolver) is { } refusal)
                    throw ApiErrors.Forbidden(resource, Group, name, refusal);
                if (resource == "clusterroles" && (HasAggregationRule(obj) || (isUpdate && oldObj is not null && HasAggregationRule(oldObj)))
                    && ConfirmNoEscalation(user, "", FullAuthority, resolver) is not null)
                    throw ApiErrors.Forbidden(resource, Group, name, "must have cluster-admin privileges to use the aggregationRule");
                return;
            }
            case "rolebindings":
            case "clusterrolebindings":
            {
                var bindingNs = resource == "rolebindings" ? ns : "";
                if (resource == "rolebindings" && bindingNs.Length == 0) throw ApiErrors.BadRequest("namespace is required");
                if (isUpdate && oldObj is not null && OnlyGarbageCollectorFieldsChanged(obj, oldObj)) return;
                var roleRef = obj["roleRef"] as JsonObject;
                var kind = JsonRead.StrOrEmpty(roleRef?["kind"]);
                var roleName = JsonRead.StrOrEmpty(roleRef?["name"]);
                var roleResource = kind switch { "Role" => "roles", "ClusterRole" => "clusterroles", _ => "" };
                if (roleResource.Length > 0
                    && await AuthorizedAsync(authorizer, user, Verb.Bind, JsonRead.StrOrEmpty(roleRef?["apiGroup"]), roleResource, roleName, bindingNs, "", ct))
                    return;
                if (roleResource.Length == 0)
                    throw ApiErrors.Forbidden(resource, Group, name, $"unsupported role reference kind: {GoText.Quote(kind)}");
                var role = await getRole(kind == "Role" ? bindingNs : "", kind, roleName, ct);
                // Upstream's binding storage returns the role getter's error as it is: a 404 from the role registry.
                if (role is null) throw ApiErrors.NotFound(roleResource, Group, roleName);
                if (ConfirmNoEscalation(user, bindingNs, RulesOf(role), resolver) is { } refusal)
                    throw ApiErrors.Forbidden(resource, Group, name, refusal);
                return;
            }
            default:
                return;
        }
    }

    /// <summary>
    /// Null when the user holds every rule in <paramref name="ns"/> (cluster-wide rules always
    /// count); otherwise upstream's refusal text, naming the missing permissions compactly.
    /// </summary>
    public static string? ConfirmNoEscalation(UserInfo user, string ns, IReadOnlyList<PolicyRule> rules, IRuleResolver resolver)
    {
        var (owned, errors) = resolver.RulesFor(user, ns);
        var (covered, missing) = RuleCoverage.Covers(owned, rules);
        if (covered) return null;
        var descriptions = RuleCoverage.Compact(missing).Select(CompactString).Distinct().Order(StringComparer.Ordinal);
        var msg = $"user {GoText.Quote(user.Name)} (groups={GoText.QuoteList(user.Groups)}) is attempting to grant RBAC permissions not currently held:\n"
            + string.Join("\n", descriptions);
        if (errors.Count > 0) msg += "; resolution errors: [" + Aggregate(errors) + "]";
        return msg;
    }

    /// <summary>A rule as upstream prints it in refusals: <c>{APIGroups:[""], Resources:["pods"], Verbs:["create"]}</c>.</summary>
    public static string CompactString(PolicyRule r)
    {
        var parts = new List<string>();
        if (r.ApiGroups.Count > 0) parts.Add("APIGroups:" + GoText.QuoteList(r.ApiGroups));
        if (r.Resources.Count > 0) parts.Add("Resources:" + GoText.QuoteList(r.Resources));
        if (r.NonResourceUrls.Count > 0) parts.Add("NonResourceURLs:" + GoText.QuoteList(r.NonResourceUrls));
        if (r.ResourceNames.Count > 0) parts.Add("ResourceNames:" + GoText.QuoteList(r.ResourceNames));
        if (r.Verbs.Count > 0) parts.Add("Verbs:" + GoText.QuoteList(r.Verbs));
        return "{" + string.Join(", ", parts) + "}";
    }

    private static async ValueTask<bool> AuthorizedAsync(IAuthorizer authorizer, UserInfo user, Verb verb, string group,
        string resource, string name, string ns, string apiVersion, CancellationToken ct)
    {
        var attrs = new AuthorizationAttributes(user, verb, IsResourceRequest: true, Namespace: ns, ApiGroup: group,
            ApiVersion: apiVersion, Resource: resource, Name: name);
        return (await authorizer.AuthorizeAsync(attrs, ct)).Decision == Decision.Allow;
    }

    private static List<PolicyRule> RulesOf(JsonObject obj) =>
        obj["rules"] is JsonArray a ? a.OfType<JsonObject>().Select(PolicyRule.FromJson).ToList() : [];

    private static bool HasAggregationRule(JsonObject obj) =>
        obj["aggregationRule"] is JsonObject ar && ar["clusterRoleSelectors"] is JsonArray { Count: > 0 };

    /// <summary>Whether the update touches only owner references, finalizers, selfLink and managedFields.</summary>
    private static bool OnlyGarbageCollectorFieldsChanged(JsonObject obj, JsonObject old)
    {
        var copy = (JsonObject)obj.DeepClone();
        var oldMeta = Registry.Meta.Of(old);
        var meta = Registry.Meta.Of(copy);
        foreach (var f in new[] { "ownerReferences", "finalizers", "selfLink", "managedFields" })
        {
            meta.Remove(f);
            if (oldMeta[f] is { } v) meta[f] = v.DeepClone();
        }
        return JsonNode.DeepEquals(Normalize(copy), Normalize(old));
    }

    /// <summary>Drops empty lists, maps and nulls, which upstream's semantic equality does not tell from absent.</summary>
    private static JsonNode? Normalize(JsonNode? n)
    {
        switch (n)
        {
            case JsonObject o:
            {
                var r = new JsonObject();
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                    if (Normalize(v) is { } nv) r[k] = nv;
                return r.Count == 0 ? null : r;
            }
            case JsonArray a:
                return a.Count == 0 ? null : new JsonArray(a.Select(x => Normalize(x) ?? JsonValue.Create("")).ToArray());
            case null:
                return null;
            default:
                return n.DeepClone();
        }
    }


    /// <summary>An aggregate of errors printed as upstream does: one alone, several in brackets, duplicates once.</summary>
    private static string Aggregate(IReadOnlyList<string> errors)
    {
        var distinct = errors.Distinct().ToList();
        return distinct.Count == 1 ? distinct[0] : "[" + string.Join(", ", distinct) + "]";
    }
}

/// <summary>Upstream's rule coverage (validation.Covers) and compaction of missing rules.</summary>
public static class RuleCoverage
{
    /// <summary>Whether <paramref name="owner"/> covers every permission in <paramref name="servant"/>; the uncovered ones, atomised.</summary>
    public static (bool Covered, List<PolicyRule> Missing) Covers(IReadOnlyList<PolicyRule> owner, IEnumerable<PolicyRule> servant)
    {
        var missing = new List<PolicyRule>();
        foreach (var sub in servant.SelectMany(Breakdown))
            if (!owner.Any(o => RuleCovers(o, sub))) missing.Add(sub);
        return (missing.Count == 0, missing);
    }

    /// <summary>A rule split into rules of one group, resource, verb and (if any) resource name; or one URL and verb.</summary>
    public static IEnumerable<PolicyRule> Breakdown(PolicyRule rule)
    {
        foreach (var g in rule.ApiGroups)
            foreach (var r in rule.Resources)
                foreach (var v in rule.Verbs)
                {
                    if (rule.ResourceNames.Count > 0)
                        foreach (var n in rule.ResourceNames) yield return new PolicyRule([v], [g], [r], [n], []);
                    else yield return new PolicyRule([v], [g], [r], [], []);
                }
        foreach (var u in rule.NonResourceUrls)
            foreach (var v in rule.Verbs)
                yield return new PolicyRule([v], [], [], [], [u]);
    }

    /// <summary>Whether one owner rule covers an atomised rule.</summary>
    public static bool RuleCovers(PolicyRule owner, PolicyRule sub)
    {
        var verbs = owner.Verbs.Contains("*") || HasAll(owner.Verbs, sub.Verbs);
        var groups = owner.ApiGroups.Contains("*") || HasAll(owner.ApiGroups, sub.ApiGroups);
        var resources = ResourcesCover(owner.Resources, sub.Resources);
        var urls = sub.NonResourceUrls.All(p => owner.NonResourceUrls.Any(o => UrlCovers(o, p)));
        var names = sub.ResourceNames.Count == 0
            ? owner.ResourceNames.Count == 0
            : owner.ResourceNames.Count == 0 || HasAll(owner.ResourceNames, sub.ResourceNames);
        return verbs && groups && resources && names && urls;
    }

    private static bool HasAll(IReadOnlyList<string> set, IReadOnlyList<string> items) => items.All(set.Contains);

    private static bool ResourcesCover(IReadOnlyList<string> owned, IReadOnlyList<string> wanted)
    {
        if (owned.Contains("*") || HasAll(owned, wanted)) return true;
        foreach (var path in wanted)
        {
            if (owned.Contains(path)) continue;
            var slash = path.IndexOf('/');
            // "*/scale" covers the scale subresource of every resource.
            if (slash < 0 || !owned.Contains("*/" + path[(slash + 1)..])) return false;
        }
        return true;
    }

    private static bool UrlCovers(string owner, string path) =>
        owner == path || (owner.EndsWith('*') && path.StartsWith(owner.TrimEnd('*'), StringComparison.Ordinal));

    /// <summary>Merges rules of one group and resource (and at most one name) that differ only in verbs.</summary>
    public static List<PolicyRule> Compact(IReadOnlyList<PolicyRule> rules)
    {
        var result = new List<PolicyRule>();
        var simple = new Dictionary<(string, string, string?), List<string>>();
        var order = new List<(string, string, string?)>();
        foreach (var r in rules)
        {
            if (r.ResourceNames.Count > 1 || r.NonResourceUrls.Count > 0 || r.ApiGroups.Count != 1 || r.Resources.Count != 1)
            {
                result.Add(r);
                continue;
            }
            var key = (r.ApiGroups[0], r.Resources[0], r.ResourceNames.Count == 1 ? r.ResourceNames[0] : null);
            if (!simple.TryGetValue(key, out var verbs))
            {
                simple[key] = verbs = [];
                order.Add(key);
            }
            foreach (var v in r.Verbs) if (!verbs.Contains(v)) verbs.Add(v);
        }
        foreach (var key in order)
            result.Add(new PolicyRule(simple[key], [key.Item1], [key.Item2], key.Item3 is null ? [] : [key.Item3], []));
        return result;
    }
}
