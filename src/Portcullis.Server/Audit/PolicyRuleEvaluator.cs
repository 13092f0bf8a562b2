using Portcullis.Server.Authentication;
using Portcullis.Server.Http;

namespace Portcullis.Server.Audit;

/// <summary>What a policy says about one request (audit.RequestAuditConfig).</summary>
public readonly record struct RequestAuditConfig(AuditLevel Level, AuditStages OmitStages, bool OmitManagedFields);

/// <summary>
/// The policy checker (k8s.io/apiserver/pkg/audit/policy/checker.go): the first rule that matches the request decides
/// its level, omitted stages and omitManagedFields; no match is level None. Evaluated once per request.
/// </summary>
public sealed class PolicyRuleEvaluator(AuditPolicy policy)
{
    /// <summary>The policy, each rule's omitStages made the union of its own and the policy's (NewPolicyRuleEvaluator).</summary>
    public AuditPolicy Policy { get; } = policy with { Rules = [.. policy.Rules.Select(r => r with { OmitStages = r.OmitStages | policy.OmitStages })] };

    /// <summary>The rule for a request; <paramref name="user"/> is null for a request that failed authentication.</summary>
    public RequestAuditConfig Evaluate(UserInfo? user, RequestInfo info)
    {
        foreach (var rule in Policy.Rules)
            if (Matches(rule, user, info))
                return new RequestAuditConfig(rule.Level, rule.OmitStages, rule.OmitManagedFields ?? Policy.OmitManagedFields);
        return new RequestAuditConfig(AuditLevel.None, Policy.OmitStages, Policy.OmitManagedFields);
    }

    private static bool Matches(AuditPolicyRule r, UserInfo? user, RequestInfo info)
    {
        if (r.Users.Count > 0 && (user is null || !r.Users.Contains(user.Name))) return false;
        if (r.UserGroups.Count > 0 && (user is null || !user.Groups.Any(r.UserGroups.Contains))) return false;
        if (r.Verbs.Count > 0 && !r.Verbs.Contains(info.Verb.Value)) return false;
        if (r.Namespaces.Count > 0 || r.Resources.Count > 0) return MatchesResource(r, info);
        if (r.NonResourceUrls.Count > 0) return MatchesNonResource(r, info);
        return true;
    }

    private static bool MatchesNonResource(AuditPolicyRule r, RequestInfo info)
    {
        if (info.IsResourceRequest) return false;
        foreach (var spec in r.NonResourceUrls)
            if (PathMatches(info.Path, spec)) return true;
        return false;
    }

    private static bool PathMatches(string path, string spec) =>
        spec == "*" || spec == path || (spec.EndsWith('*') && path.StartsWith(spec.TrimEnd('*'), StringComparison.Ordinal));

    private static bool MatchesResource(AuditPolicyRule r, RequestInfo info)
    {
        if (!info.IsResourceRequest) return false;
        // Cluster-scoped resources have the empty namespace.
        if (r.Namespaces.Count > 0 && !r.Namespaces.Contains(info.Namespace)) return false;
        if (r.Resources.Count == 0) return true;
        var sub = info.Subresource;
        var combined = sub.Length > 0 ? info.Resource + "/" + sub : info.Resource;
        foreach (var gr in r.Resources)
        {
            if (gr.Group != info.ApiGroup) continue;
            if (gr.Resources.Count == 0) return true;
            foreach (var res in gr.Resources)
            {
                if (gr.ResourceNames.Count > 0 && !gr.ResourceNames.Contains(info.Name)) continue;
                if (res == combined || res == "*") return true;
                if (sub.Length > 0 && res.StartsWith("*/", StringComparison.Ordinal) && sub == res[2..]) return true;
                if (res.EndsWith("/*", StringComparison.Ordinal) && info.Resource == res[..^2]) return true;
            }
        }
        return false;
    }
}
