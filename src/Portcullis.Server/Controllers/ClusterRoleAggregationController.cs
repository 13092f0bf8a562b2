using System.Text.Json.Nodes;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Selectors;

namespace Portcullis.Server.Controllers;

/// <summary>
/// kube-controller-manager's clusterrole-aggregation controller: a ClusterRole with an
/// <c>aggregationRule</c> gets as rules the union of the rules of the other ClusterRoles its
/// selectors match, kept current as cluster roles change. Per selector, matching roles are taken
/// in name order and each rule is added once; the role is written only when its rules differ.
/// </summary>
public sealed class ClusterRoleAggregationController(SystemClient client, Microsoft.Extensions.Logging.ILogger? log = null) : IController
{
    public string Name => "clusterrole-aggregation";

    public Task RunAsync(CancellationToken ct)
    {
        var store = client.Store(BootstrapPolicy.Group, "clusterroles");
        return client.WatchPrefixAsync(store.Prefix(""), SyncAllAsync, ct);
    }

    /// <summary>Brings every aggregated cluster role up to date.</summary>
    public async Task SyncAllAsync(CancellationToken ct)
    {
        var store = client.Store(BootstrapPolicy.Group, "clusterroles");
        var all = await client.ListAsync(store, "", ct);
        foreach (var role in all)
        {
            if (role["aggregationRule"] is not JsonObject) continue;
            var rules = AggregateRules(role, all);
            if (rules is null || SameRules(rules, CurrentRules(role))) continue;
            try
            {
                await store.UpdateAsync("", Meta.Name(role), "", current =>
                {
                    if (current["aggregationRule"] is not JsonObject) return current;
                    current["rules"] = new JsonArray(rules.Select(r => (JsonNode)r.ToJson()).ToArray());
                    Meta.Remove(current, "resourceVersion");
                    return current;
                }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);
            }
            catch (ApiException e) when (e.Code is 404 or 409) { }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // This role alone: the others are still aggregated; the next change retries it.
                await PerObject.TryAsync(log, Name, "clusterrole " + Meta.Name(role), () => Task.FromException(e), ct);
            }
        }
    }

    /// <summary>
    /// The rules <paramref name="role"/> aggregates from <paramref name="all"/>; null when it has
    /// no aggregation rule or one of its selectors is invalid (upstream leaves such a role alone).
    /// </summary>
    public static List<PolicyRule>? AggregateRules(JsonObject role, IEnumerable<JsonObject> all)
    {
        if (role["aggregationRule"] is not JsonObject agg) return null;
        var name = Meta.Name(role);
        var roles = all.ToList();
        var result = new List<PolicyRule>();
        var selectors = agg["clusterRoleSelectors"] as JsonArray ?? [];
        foreach (var node in selectors)
        {
            var selector = MetaLabelSelector.Convert(node as JsonObject);
            if (selector is null) return null;
            var matching = roles.Where(r => selector.Matches(Meta.Labels(r)))
                .OrderBy(Meta.Name, StringComparer.Ordinal);
            foreach (var r in matching)
            {
                if (Meta.Name(r) == name) continue;
                foreach (var rule in CurrentRules(r))
                    if (!result.Any(x => SameRule(x, rule))) result.Add(rule);
            }
        }
        return result;
    }

    private static List<PolicyRule> CurrentRules(JsonObject role) =>
        role["rules"] is JsonArray a ? a.OfType<JsonObject>().Select(PolicyRule.FromJson).ToList() : [];

    private static bool SameRules(IReadOnlyList<PolicyRule> a, IReadOnlyList<PolicyRule> b) =>
        a.Count == b.Count && a.Zip(b).All(p => SameRule(p.First, p.Second));

    /// <summary>Field-by-field equality of two rules (the record's own equality compares list references).</summary>
    public static bool SameRule(PolicyRule a, PolicyRule b) =>
        a.Verbs.SequenceEqual(b.Verbs) && a.ApiGroups.SequenceEqual(b.ApiGroups) && a.Resources.SequenceEqual(b.Resources)
        && a.ResourceNames.SequenceEqual(b.ResourceNames) && a.NonResourceUrls.SequenceEqual(b.NonResourceUrls);
}

/// <summary>metav1.LabelSelector (matchLabels / matchExpressions JSON) as a <see cref="LabelSelector"/>-style matcher.</summary>
public static class MetaLabelSelector
{
    /// <summary>A selector that matches nothing (a missing selector).</summary>
    public static readonly Matcher Nothing = new(_ => false);

    public sealed class Matcher(Func<IReadOnlyDictionary<string, string>, bool> match)
    {
        public bool Matches(IReadOnlyDictionary<string, string> labels) => match(labels);
    }

    /// <summary>
    /// Converts as metav1.LabelSelectorAsSelector: null matches nothing, an empty selector
    /// everything; null is returned for an invalid selector (unknown operator, or values that
    /// do not fit the operator).
    /// </summary>
    public static Matcher? Convert(JsonObject? selector)
    {
        if (selector is null) return Nothing;
        var s = AsSelector(selector);
        return s is null ? null : new Matcher(s.Matches);
    }

    /// <summary>
    /// metav1.LabelSelectorAsSelector for a present selector: an empty one selects everything; null for an
    /// invalid one (unknown operator, or values that do not fit the operator). Usable as a list's selector.
    /// </summary>
    public static LabelSelector? AsSelector(JsonObject selector)
    {
        var requirements = new List<LabelRequirement>();
        if (selector["matchLabels"] is JsonObject ml)
            foreach (var (k, v) in ml)
                requirements.Add(new LabelRequirement(k, SelectorOp.Equals, [Text(v)]));
        if (selector["matchExpressions"] is JsonArray exprs)
        {
            foreach (var e in exprs.OfType<JsonObject>())
            {
                var values = e["values"] is JsonArray va ? va.Select(Text).ToList() : [];
                SelectorOp op;
                switch (Text(e["operator"]))
                {
                    case "In": op = SelectorOp.In; break;
                    case "NotIn": op = SelectorOp.NotIn; break;
                    case "Exists": op = SelectorOp.Exists; break;
                    case "DoesNotExist": op = SelectorOp.DoesNotExist; break;
                    default: return null;
                }
                if (op is SelectorOp.In or SelectorOp.NotIn ? values.Count == 0 : values.Count > 0) return null;
                requirements.Add(new LabelRequirement(Text(e["key"]), op, values));
            }
        }
        return LabelSelector.Of(requirements);
    }

    private static string Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
}
