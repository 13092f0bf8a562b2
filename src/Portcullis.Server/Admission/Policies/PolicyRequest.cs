using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// The <c>request</c> variable (apiserver pkg/admission/plugin/cel/condition.go CreateAdmissionRequest): an
/// admission.k8s.io/v1 AdmissionRequest as JSON, with kind/resource the matched (equivalent) ones and
/// requestKind/requestResource as the client sent them.
/// </summary>
public static class PolicyRequest
{
    public sealed record Gvk(string Group, string Version, string Kind);
    public sealed record Gvr(string Group, string Version, string Resource);

    public static JsonObject Build(Operation operation, Gvk kind, Gvr resource, string subresource, Gvk requestKind, Gvr requestResource,
        string name, string ns, UserInfo user, bool dryRun, JsonObject? options = null)
    {
        var extra = new JsonObject();
        foreach (var (k, v) in user.Extra) extra[k] = new JsonArray([.. v.Select(s => (JsonNode)s)]);
        var userInfo = new JsonObject { ["username"] = user.Name, ["uid"] = user.Uid };
        userInfo["groups"] = new JsonArray([.. user.Groups.Select(g => (JsonNode)g)]);
        userInfo["extra"] = extra;
        var request = new JsonObject
        {
            ["kind"] = Kind(kind),
            ["resource"] = Resource(resource),
            ["subResource"] = subresource,
            ["requestKind"] = Kind(requestKind),
            ["requestResource"] = Resource(requestResource),
            ["requestSubResource"] = subresource,
            ["name"] = name,
            ["namespace"] = ns,
            ["operation"] = operation.ToWire(),
            ["userInfo"] = userInfo,
            ["dryRun"] = dryRun,
        };
        if (options is not null) request["options"] = options.DeepClone();
        return request;
    }

    /// <summary>The request of an admission call, kind and resource as served (Portcullis serves one version per resource).</summary>
    public static JsonObject From(AdmissionRequest r)
    {
        var gvk = new Gvk(r.Resource.Group, r.Resource.Version, r.Resource.Kind);
        var gvr = new Gvr(r.Resource.Group, r.Resource.Version, r.Resource.Plural);
        return Build(r.Operation, gvk, gvr, r.Subresource, gvk, gvr, r.Name, r.Namespace, r.User, r.DryRun);
    }

    private static JsonObject Kind(Gvk k) => new() { ["group"] = k.Group, ["version"] = k.Version, ["kind"] = k.Kind };
    private static JsonObject Resource(Gvr r) => new() { ["group"] = r.Group, ["version"] = r.Version, ["resource"] = r.Resource };
}
