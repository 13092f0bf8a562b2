using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Matching;

namespace Portcullis.Server.Admission.Cel;

/// <summary>
/// The <c>request</c> variable (apiserver cel/condition.go CreateAdmissionRequest, as admission/v1 AdmissionRequest
/// JSON): kind and resource as matched, requestKind and requestResource as sent, the user, dryRun and the options.
/// </summary>
public static class AdmissionCelRequest
{
    public static JsonObject ToJson(AdmissionRequest r, MatchedResource matched)
    {
        var o = new JsonObject
        {
            ["uid"] = "",
            ["kind"] = Gvk(matched.Kind),
            ["resource"] = Gvr(matched.Resource),
        };
        if (r.Subresource.Length > 0) o["subResource"] = r.Subresource;
        o["requestKind"] = Gvk(r.Kind);
        o["requestResource"] = Gvr(r.GroupVersionResource);
        if (r.Subresource.Length > 0) o["requestSubResource"] = r.Subresource;
        if (r.Name.Length > 0) o["name"] = r.Name;
        if (r.Namespace.Length > 0) o["namespace"] = r.Namespace;
        o["operation"] = r.Operation.ToWire();
        o["userInfo"] = UserInfo(r.User);
        o["dryRun"] = r.DryRun;
        if (r.Options is { } options) o["options"] = options.DeepClone();
        return o;
    }

    /// <summary>authenticationv1.UserInfo JSON (empty fields left out, as their omitempty tags say); AdmissionReview's too.</summary>
    public static JsonObject UserInfo(Authentication.UserInfo u)
    {
        var o = new JsonObject();
        if (u.Name.Length > 0) o["username"] = u.Name;
        if (u.Uid.Length > 0) o["uid"] = u.Uid;
        if (u.Groups.Count > 0) o["groups"] = new JsonArray([.. u.Groups.Select(g => (JsonNode?)JsonValue.Create(g))]);
        if (u.Extra.Count > 0)
        {
            var extra = new JsonObject();
            foreach (var (k, v) in u.Extra) extra[k] = new JsonArray([.. v.Select(s => (JsonNode?)JsonValue.Create(s))]);
            o["extra"] = extra;
        }
        return o;
    }

    /// <summary>metav1.GroupVersionKind JSON.</summary>
    public static JsonObject Gvk((string Group, string Version, string Kind) k) =>
        new() { ["group"] = k.Group, ["version"] = k.Version, ["kind"] = k.Kind };

    /// <summary>metav1.GroupVersionResource JSON.</summary>
    public static JsonObject Gvr(Api.GroupVersionResource r) =>
        new() { ["group"] = r.Group, ["version"] = r.Version, ["resource"] = r.Resource };

    private static readonly string[] NamespaceMetadataFields =
        ["name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
         "deletionGracePeriodSeconds", "labels", "annotations", "finalizers"];

    /// <summary>CreateNamespaceObject: the namespace with only these metadata fields, its spec and its status.</summary>
    public static JsonObject NamespaceObject(JsonObject ns)
    {
        var meta = new JsonObject();
        if (ns["metadata"] is JsonObject m)
            foreach (var f in NamespaceMetadataFields)
                if (m[f] is { } v) meta[f] = v.DeepClone();
        var o = new JsonObject { ["metadata"] = meta };
        o["spec"] = ns["spec"]?.DeepClone() ?? new JsonObject();
        o["status"] = ns["status"]?.DeepClone() ?? new JsonObject();
        return o;
    }
}
