using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;

namespace Portcullis.Server.Authorization.Rbac;

/// <summary>An RBAC rule (rbac/v1 PolicyRule), immutable.</summary>
public sealed record PolicyRule(
    IReadOnlyList<string> Verbs,
    IReadOnlyList<string> ApiGroups,
    IReadOnlyList<string> Resources,
    IReadOnlyList<string> ResourceNames,
    IReadOnlyList<string> NonResourceUrls)
{
    public static PolicyRule FromJson(JsonObject rule)
    {
        static string[] List(JsonNode? n) => n is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? "").ToArray() : [];
        return new PolicyRule(List(rule["verbs"]), List(rule["apiGroups"]), List(rule["resources"]), List(rule["resourceNames"]), List(rule["nonResourceURLs"]));
    }

    /// <summary>The rule as rbac/v1 JSON (empty lists omitted, as upstream's omitempty).</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["verbs"] = Arr(Verbs) };
        if (ApiGroups.Count > 0) o["apiGroups"] = Arr(ApiGroups);
        if (Resources.Count > 0) o["resources"] = Arr(Resources);
        if (ResourceNames.Count > 0) o["resourceNames"] = Arr(ResourceNames);
        if (NonResourceUrls.Count > 0) o["nonResourceURLs"] = Arr(NonResourceUrls);
        return o;
    }

    private static JsonArray Arr(IReadOnlyList<string> l) => new(l.Select(x => (JsonNode)x!).ToArray());
}

/// <summary>
/// What a user may do in a namespace, as rules (upstream's RuleResolver): the union of the rules
/// of every role bound to the user, one of their groups, or their service account, cluster-wide
/// and (when <paramref name="namespace"/> is not empty) in that namespace.
/// </summary>
public interface IRuleResolver
{
    /// <summary>The rules, and errors for bindings that refer to missing roles (upstream reports them as incomplete).</summary>
    (IReadOnlyList<PolicyRule> Rules, IReadOnlyList<string> Errors) RulesFor(UserInfo user, string @namespace);
}
