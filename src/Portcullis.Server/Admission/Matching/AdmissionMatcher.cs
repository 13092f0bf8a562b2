using System.Text.Json.Nodes;
using Portcullis.Server.Api;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Admission.Matching;

/// <summary>
/// What a webhook or policy matched: the resource and kind it asked for (the request's own, or under matchPolicy
/// Equivalent another version of it) and that version's definition, which the object is converted to before the
/// webhook or the policy sees it.
/// </summary>
public sealed record MatchedResource(GroupVersionResource Resource, string Subresource, (string Group, string Version, string Kind) Kind, ResourceDefinition Definition)
{
    /// <summary>The match of the request's own resource.</summary>
    public static MatchedResource Of(AdmissionRequest r) => new(r.GroupVersionResource, r.Subresource, r.Kind, r.Resource);

    /// <summary>Whether the object must be converted (an equivalent version was matched).</summary>
    public bool IsEquivalent(AdmissionRequest r) => Resource != r.GroupVersionResource;
}

/// <summary>
/// The matching webhooks and ValidatingAdmissionPolicies share (k8s.io/apiserver pkg/admission/plugin/webhook/predicates
/// and generic/webhook.go ShouldCallHook; pkg/admission/plugin/policy/matching): rules with matchPolicy, the
/// namespace selector (the namespace's labels looked up) and the object selector. The equivalent resources of a
/// request are upstream's EquivalentResourceRegistry keyed by storage prefix: the served versions stored under the
/// same keys (a CustomResourceDefinition's versions, autoscaling/v1 and v2 HorizontalPodAutoscalers, core/v1 and
/// events.k8s.io/v1 Events) that serve the same subresource.
/// </summary>
public sealed class AdmissionMatcher(ResourceRegistry resources, Func<string, CancellationToken, Task<JsonObject?>> getNamespace)
{
    /// <summary>
    /// A webhook's rules (ShouldCallHook): the first rule matching the request's own resource, else with matchPolicy
    /// Equivalent the first rule (in order) matching an equivalent resource; null when none matches.
    /// </summary>
    public MatchedResource? MatchRules(JsonArray? rules, string? matchPolicy, AdmissionRequest r)
    {
        var list = rules?.OfType<JsonObject>().ToList() ?? [];
        foreach (var rule in list)
            if (RuleMatcher.Matches(rule, r)) return MatchedResource.Of(r);
        if (matchPolicy != "Equivalent") return null;
        var equivalents = Equivalents(r);
        foreach (var rule in list)
            foreach (var eq in equivalents)
                if (RuleMatcher.Matches(rule, r, eq.GroupVersionResource)) return Matched(eq, r);
        return null;
    }

    /// <summary>
    /// A policy's matchConstraints or a binding's matchResources (policy matching.Matcher.Matches without the
    /// selectors): excluded rules first, then resourceRules (none matches everything) honouring resourceNames;
    /// null when it does not match.
    /// </summary>
    public MatchedResource? MatchResourceRules(JsonObject? matchResources, AdmissionRequest r)
    {
        var policy = JsonRead.Str(matchResources?["matchPolicy"]);
        if (NamedRules(matchResources?["excludeResourceRules"] as JsonArray, policy, r) is not null) return null;
        if (matchResources?["resourceRules"] is not JsonArray { Count: > 0 } rules) return MatchedResource.Of(r);
        return NamedRules(rules, policy, r);
    }

    /// <summary>Policy matching in full (selectors first, as upstream): the matched resource, or null.</summary>
    public async ValueTask<MatchedResource?> MatchAsync(JsonObject? matchResources, AdmissionRequest r, CancellationToken ct)
    {
        // Upstream evaluates both selectors first but reports their errors only when the rules match too.
        ApiException? nsError = null;
        bool nsMatch;
        try { nsMatch = await NamespaceSelectorMatchesAsync(matchResources?["namespaceSelector"] as JsonObject, r, ct); }
        catch (ApiException e) { nsError = e; nsMatch = false; }
        if (!nsMatch && nsError is null) return null;
        if (!ObjectSelectorMatches(matchResources?["objectSelector"] as JsonObject, r)) return null;
        var matched = MatchResourceRules(matchResources, r);
        if (matched is null) return null;
        if (nsError is not null) throw nsError;
        return matched;
    }

    private MatchedResource? NamedRules(JsonArray? rules, string? matchPolicy, AdmissionRequest r)
    {
        var list = rules?.OfType<JsonObject>().ToList() ?? [];
        foreach (var rule in list)
            if (RuleMatcher.Matches(rule, r) && NameMatches(rule, r)) return MatchedResource.Of(r);
        if (matchPolicy is null or "Exact") return null;
        var equivalents = Equivalents(r);
        foreach (var rule in list)
            foreach (var eq in equivalents)
                if (RuleMatcher.Matches(rule, r, eq.GroupVersionResource) && NameMatches(rule, r)) return Matched(eq, r);
        return null;
    }

    /// <summary>An empty resourceNames list matches every name; else the request's name must be listed.</summary>
    private static bool NameMatches(JsonObject rule, AdmissionRequest r) =>
        rule["resourceNames"] is not JsonArray { Count: > 0 } names || names.Any(n => JsonRead.Str(n) == r.Name);

    private static MatchedResource Matched(ResourceDefinition eq, AdmissionRequest r) =>
        new(eq.GroupVersionResource, r.Subresource,
            r.Subresource.Length > 0 && eq.SubresourceKinds.TryGetValue(r.Subresource, out var k) ? k : (eq.Group, eq.Version, eq.Kind), eq);

    /// <summary>The other served versions of the request's resource (same storage keys, serving the subresource), in the registry's order.</summary>
    public List<ResourceDefinition> Equivalents(AdmissionRequest r)
    {
        var own = r.Resource;
        var result = new List<ResourceDefinition>();
        foreach (var d in resources.All)
        {
            if (ReferenceEquals(d, own) || d.GroupVersionResource == own.GroupVersionResource || d.Virtual) continue;
            if (d.KeyPrefix != own.KeyPrefix) continue;
            if (r.Subresource.Length > 0 && !d.Subresources.Contains(r.Subresource) && !d.SubresourceVerbs.ContainsKey(r.Subresource)) continue;
            result.Add(d);
        }
        return result;
    }

    /// <summary>
    /// namespace.Matcher.MatchNamespaceSelector: requests outside a namespace (other than on namespaces) match; an
    /// empty selector matches; a Namespace being created or updated is matched by its own labels, anything else by
    /// its namespace's labels. A namespace that does not exist is the NotFound upstream returns.
    /// </summary>
    public async ValueTask<bool> NamespaceSelectorMatchesAsync(JsonObject? selector, AdmissionRequest r, CancellationToken ct)
    {
        var isNamespace = r.Resource.Group.Length == 0 && r.Resource.Plural == "namespaces";
        var ns = isNamespace ? r.Name : r.Namespace;
        if (ns.Length == 0 && !isNamespace) return true;
        if (selector is null) return true;
        var parsed = MetaLabelSelector.AsSelector(selector)
            ?? throw ApiErrors.Internal("invalid label selector in the namespace selector");
        if (parsed.IsEmpty) return true;
        Dictionary<string, string> labels;
        if (isNamespace && r.Subresource.Length == 0 && r.Operation is Operation.Create or Operation.Update)
            labels = Labels(r.Object);
        else
        {
            var namespaceObject = await getNamespace(ns, ct) ?? throw ApiErrors.NotFound("namespaces", "", ns);
            labels = Labels(namespaceObject);
        }
        return parsed.Matches(labels);
    }

    /// <summary>object.Matcher: an empty selector matches; else the object's or the old object's labels must match.</summary>
    public static bool ObjectSelectorMatches(JsonObject? selector, AdmissionRequest r)
    {
        if (selector is null) return true;
        var parsed = MetaLabelSelector.AsSelector(selector)
            ?? throw ApiErrors.Internal("invalid label selector in the object selector");
        if (parsed.IsEmpty) return true;
        var obj = r.Operation == Operation.Delete ? null : r.Object;
        return Matches(obj) || Matches(r.OldObject);

        bool Matches(JsonObject? o) => o?["metadata"] is JsonObject && parsed.Matches(Labels(o));
    }

    /// <summary>The object in the matched version (a deep copy; the request's own object when nothing was converted).</summary>
    public static JsonObject? Convert(JsonObject? obj, ResourceDefinition from, ResourceDefinition to)
    {
        if (obj is null || ReferenceEquals(from, to) || from.GroupVersionResource == to.GroupVersionResource) return obj;
        var copy = (JsonObject)obj.DeepClone();
        var stored = from.ToStorage is { } toStorage ? toStorage(copy) : copy;
        var converted = to.FromStorage is { } fromStorage ? fromStorage(stored) : stored;
        converted["apiVersion"] = to.GroupVersion;
        return converted;
    }

    private static Dictionary<string, string> Labels(JsonObject? o)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (o?["metadata"] is JsonObject m && m["labels"] is JsonObject labels)
            foreach (var (k, v) in labels)
                if (JsonRead.Str(v) is { } s) result[k] = s;
        return result;
    }
}
