using System.Text.Json.Nodes;
using Portcullis.Server.Api;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Admission.Matching;

/// <summary>
/// Whether one admissionregistration RuleWithOperations (or the rule part of a NamedRuleWithOperations) matches a
/// request: upstream's webhook/predicates/rules Matcher (scope, operations, apiGroups, apiVersions, resources with
/// their subresource part, each with the <c>*</c> wildcard).
/// </summary>
public static class RuleMatcher
{
    private static readonly GroupVersionResource Namespaces = new("", "v1", "namespaces");

    /// <summary>The rule against the request, with the request's resource replaced by <paramref name="resource"/> (an equivalent one).</summary>
    public static bool Matches(JsonObject rule, AdmissionRequest r, GroupVersionResource resource) =>
        Scope(JsonRead.Str(rule["scope"]), resource, r.Namespace)
        && Operation(rule["operations"] as JsonArray, r.Operation)
        && ExactOrWildcard(rule["apiGroups"] as JsonArray, resource.Group)
        && ExactOrWildcard(rule["apiVersions"] as JsonArray, resource.Version)
        && Resource(rule["resources"] as JsonArray, resource.Resource, r.Subresource);

    public static bool Matches(JsonObject rule, AdmissionRequest r) => Matches(rule, r, r.GroupVersionResource);

    /// <summary>
    /// IsExemptAdmissionConfigurationResource: webhooks and policies never see writes of their own configuration
    /// kinds, so no webhook or policy can lock the administrator out of removing it.
    /// </summary>
    public static bool IsExemptAdmissionConfiguration(AdmissionRequest r) =>
        r.Kind is ("admissionregistration.k8s.io", _, "ValidatingWebhookConfiguration" or "MutatingWebhookConfiguration"
            or "ValidatingAdmissionPolicy" or "ValidatingAdmissionPolicyBinding" or "MutatingAdmissionPolicy" or "MutatingAdmissionPolicyBinding");

    /// <summary>
    /// A nil scope or <c>*</c> matches all. <c>Namespaced</c> matches requests in a namespace (never a Namespace
    /// object); <c>Cluster</c> matches requests outside any namespace and Namespace objects. (Upstream's attributes give a
    /// Namespace object its own name as namespace, which is why namespaces are named here.)
    /// </summary>
    private static bool Scope(string? scope, GroupVersionResource resource, string ns) => scope switch
    {
        null or "*" => true,
        "Namespaced" => resource != Namespaces && ns.Length > 0,
        "Cluster" => resource == Namespaces || ns.Length == 0,
        _ => false,
    };

    private static bool ExactOrWildcard(JsonArray? items, string requested)
    {
        if (items is null) return false;
        foreach (var item in items)
            if (JsonRead.Str(item) is { } s && (s == "*" || s == requested)) return true;
        return false;
    }

    private static bool Operation(JsonArray? ops, Operation op)
    {
        if (ops is null || op == 0) return false;
        var wire = op.ToWire();
        foreach (var o in ops)
            if (JsonRead.Str(o) is { } s && (s == "*" || s == wire)) return true;
        return false;
    }

    /// <summary>"pods" matches only the resource, "pods/*" every subresource, "*/status" status of anything, "*/*" all.</summary>
    private static bool Resource(JsonArray? resources, string resource, string subresource)
    {
        if (resources is null) return false;
        foreach (var item in resources)
        {
            if (JsonRead.Str(item) is not { } spec) continue;
            var slash = spec.IndexOf('/');
            var res = slash < 0 ? spec : spec[..slash];
            var sub = slash < 0 ? "" : spec[(slash + 1)..];
            if ((res == "*" || res == resource) && (sub == "*" || sub == subresource)) return true;
        }
        return false;
    }
}
