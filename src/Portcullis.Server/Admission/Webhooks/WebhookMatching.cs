using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>
/// Whether a webhook applies to a request (generic/webhook.go ShouldCallHook, predicates/{rules,namespace,object}):
/// namespaceSelector, objectSelector, then the rules. This is the seam to the shared Admission/Matching of issue 19:
/// until it lands, rules match the request's own resource only (matchPolicy Equivalent finds nothing more, since
/// Portcullis serves each resource in one version) and matchConditions are not evaluated.
/// </summary>
internal sealed class WebhookMatching(Func<string, CancellationToken, Task<JsonObject?>> namespaces)
{
    /// <summary>predicates/rules IsExemptAdmissionConfigurationResource: no webhook sees writes of admission configuration.</summary>
    public static bool IsExempt(AdmissionRequest r) =>
        r.Resource.Group == "admissionregistration.k8s.io" && r.Resource.Kind is "ValidatingWebhookConfiguration"
            or "MutatingWebhookConfiguration" or "ValidatingAdmissionPolicy" or "ValidatingAdmissionPolicyBinding"
            or "MutatingAdmissionPolicy" or "MutatingAdmissionPolicyBinding";

    /// <summary>The namespace a request is in, as upstream's attributes give it: a namespace object's own name.</summary>
    public static string NamespaceOf(AdmissionRequest r) =>
        r.Resource.Group.Length == 0 && r.Resource.Plural == "namespaces" ? r.Name : r.Namespace;

    /// <summary>True when the webhook is to be called; an <see cref="ApiException"/> when deciding fails (as upstream, only for a webhook whose rules match).</summary>
    public async ValueTask<bool> ShouldCallAsync(Webhook hook, AdmissionRequest r, CancellationToken ct)
    {
        var (nsMatches, nsError) = await MatchNamespaceAsync(hook, r, ct);
        if (!nsMatches && nsError is null) return false;
        var (objMatches, objError) = MatchObject(hook, r);
        if (!objMatches && objError is null) return false;
        if (!hook.Rules.Any(rule => RuleMatches(rule, r))) return false;
        if (nsError is not null) throw nsError;
        if (objError is not null) throw objError;
        return true;
    }

    /// <summary>predicates/rules Matcher.Matches for one RuleWithOperations.</summary>
    public static bool RuleMatches(JsonObject rule, AdmissionRequest r)
    {
        var def = r.Resource;
        var isNamespace = def.Group.Length == 0 && def.Version == "v1" && def.Plural == "namespaces";
        var ns = NamespaceOf(r);
        var scopeOk = (string?)rule["scope"] switch
        {
            null or "*" => true,
            "Namespaced" => !isNamespace && ns.Length > 0,
            "Cluster" => isNamespace || ns.Length == 0,
            _ => false,
        };
        if (!scopeOk) return false;
        var op = r.Operation.ToWire();
        if (!Strings(rule["operations"]).Any(o => o == "*" || o == op)) return false;
        if (!ExactOrWildcard(Strings(rule["apiGroups"]), def.Group)) return false;
        if (!ExactOrWildcard(Strings(rule["apiVersions"]), def.Version)) return false;
        foreach (var res in Strings(rule["resources"]))
        {
            var slash = res.IndexOf('/');
            var (rr, rs) = slash < 0 ? (res, "") : (res[..slash], res[(slash + 1)..]);
            if ((rr == "*" || rr == def.Plural) && (rs == "*" || rs == r.Subresource)) return true;
        }
        return false;
    }

    private static bool ExactOrWildcard(IEnumerable<string> items, string requested) => items.Any(i => i == "*" || i == requested);

    private static IEnumerable<string> Strings(JsonNode? n) => (n as JsonArray ?? []).Select(v => (string?)v ?? "");

    /// <summary>predicates/namespace MatchNamespaceSelector.</summary>
    private async ValueTask<(bool, ApiException?)> MatchNamespaceAsync(Webhook hook, AdmissionRequest r, CancellationToken ct)
    {
        var ns = NamespaceOf(r);
        var isNamespaces = r.Resource.Group.Length == 0 && r.Resource.Plural == "namespaces";
        if (ns.Length == 0 && !isNamespaces) return (true, null);
        if (hook.NamespaceSelector is null) return (false, ApiErrors.Internal("invalid namespaceSelector"));
        if (hook.NamespaceSelectorEmpty) return (true, null);
        IReadOnlyDictionary<string, string> labels;
        if (isNamespaces && r.Subresource.Length == 0 && r.Operation is Operation.Create or Operation.Update)
            labels = Labels(r.Object);
        else
        {
            var nsObj = await namespaces(ns, ct);
            if (nsObj is null) return (false, ApiErrors.NotFound("namespaces", "", ns));
            labels = Labels(nsObj);
        }
        return (hook.NamespaceSelector.Matches(labels), null);
    }

    /// <summary>predicates/object MatchObjectSelector: the object's or the old object's labels.</summary>
    private static (bool, ApiException?) MatchObject(Webhook hook, AdmissionRequest r)
    {
        if (hook.ObjectSelector is null) return (false, ApiErrors.Internal("invalid objectSelector"));
        if (hook.ObjectSelectorEmpty) return (true, null);
        var obj = r.Operation == Operation.Delete ? null : r.Object;
        return ((obj is not null && hook.ObjectSelector.Matches(Labels(obj)))
            || (r.OldObject is not null && hook.ObjectSelector.Matches(Labels(r.OldObject))), null);
    }

    private static Dictionary<string, string> Labels(JsonObject obj)
    {
        var labels = new Dictionary<string, string>();
        if (obj["metadata"]?["labels"] is JsonObject l)
            foreach (var (k, v) in l) labels[k] = (string?)v ?? "";
        return labels;
    }
}
