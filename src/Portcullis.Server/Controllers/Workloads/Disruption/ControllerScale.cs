using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads.Disruption;

/// <summary>
/// getExpectedScale and its finders (pkg/controller/disruption/disruption.go): the sum of the scales of the
/// controllers of a budget's pods — a ReplicationController, a Deployment (through the pod's ReplicaSet), a
/// ReplicaSet not owned by a Deployment, a StatefulSet, or any other kind through its scale subresource
/// (custom resources with <c>subresources.scale</c>). Pods without a controller are returned as unmanaged.
/// </summary>
public sealed class ControllerScale(ControllerContext ctx)
{
    private readonly Informer _rcs = ctx.Informers.For("", "replicationcontrollers");
    private readonly Informer _rss = ctx.Informers.For("apps", "replicasets");
    private readonly Informer _deployments = ctx.Informers.For("apps", "deployments");
    private readonly Informer _statefulSets = ctx.Informers.For("apps", "statefulsets");

    /// <summary>The expected pod count, and the names of the pods that have no controller.</summary>
    public async Task<(int Expected, List<string> Unmanaged)> ExpectedScaleAsync(IEnumerable<JsonObject> pods, CancellationToken ct)
    {
        var scales = new Dictionary<string, int>(StringComparer.Ordinal);
        var unmanaged = new List<string>();
        foreach (var pod in pods)
        {
            if (ControllerRef.Of(pod) is not { } cref) { unmanaged.Add(Meta.Name(pod)); continue; }
            if (scales.ContainsKey(JsonRead.StrOrEmpty(cref, "uid"))) continue;
            var found = Find(cref, Meta.Namespace(pod)) ?? await ScaleOfAsync(cref, Meta.Namespace(pod), ct);
            if (found is not { } f) throw new InvalidOperationException($"found no controllers for pod \"{Meta.Name(pod)}\"");
            scales[f.Uid] = f.Scale;
        }
        return (scales.Values.Sum(), unmanaged);
    }

    private static string GroupOf(JsonObject cref) => JsonRead.StrOrEmpty(cref, "apiVersion") is var av && av.Contains('/') ? av[..av.IndexOf('/')] : "";

    private static int Replicas(JsonObject obj) => (int)(JsonRead.Long(obj["spec"], "replicas") ?? 1);

    /// <summary>The built-in finders: RC, Deployment (via its ReplicaSet), ReplicaSet, StatefulSet; null if none applies.</summary>
    private (string Uid, int Scale)? Find(JsonObject cref, string ns)
    {
        var kind = JsonRead.StrOrEmpty(cref, "kind");
        var group = GroupOf(cref);
        var name = JsonRead.StrOrEmpty(cref, "name");
        var uid = JsonRead.StrOrEmpty(cref, "uid");
        switch (kind)
        {
            case "ReplicationController" when group == "":
                return _rcs.Get(ns, name) is { } rc && Meta.Uid(rc) == uid ? (uid, Replicas(rc)) : null;
            case "ReplicaSet" when group == "apps":
            {
                if (_rss.Get(ns, name) is not { } rs || Meta.Uid(rs) != uid) return null;
                if (ControllerRef.Of(rs) is { } owner && JsonRead.Str(owner, "kind") == "Deployment")
                {
                    // getPodDeployment: the ReplicaSet's Deployment is the controller that counts.
                    var d = _deployments.Get(ns, JsonRead.StrOrEmpty(owner, "name"));
                    return d is not null && Meta.Uid(d) == JsonRead.Str(owner, "uid") ? (Meta.Uid(d), Replicas(d)) : null;
                }
                return (uid, Replicas(rs));
            }
            case "StatefulSet" when group == "apps":
                return _statefulSets.Get(ns, name) is { } ss && Meta.Uid(ss) == uid ? (uid, Replicas(ss)) : null;
            default:
                return null;
        }
    }

    /// <summary>
    /// getScaleController: the controller's kind resolved to a resource (or upstream's "no matches for kind"
    /// error), its scale read (a kind without a scale subresource fails with "… does not implement the scale
    /// subresource"); null when the object is gone or is another one of the same name.
    /// </summary>
    private async Task<(string Uid, int Scale)?> ScaleOfAsync(JsonObject cref, string ns, CancellationToken ct)
    {
        var apiVersion = JsonRead.StrOrEmpty(cref, "apiVersion");
        var kind = JsonRead.StrOrEmpty(cref, "kind");
        var group = GroupOf(cref);
        var version = apiVersion.Contains('/') ? apiVersion[(apiVersion.IndexOf('/') + 1)..] : apiVersion;
        var def = ctx.Client.Resources.All.FirstOrDefault(d => d.Group == group && d.Version == version && d.Kind == kind)
                  ?? throw new InvalidOperationException($"no matches for kind \"{kind}\" in version \"{apiVersion}\"");
        var scalable = def.CustomScale is not null
                       || (def.Group, def.Plural) is ("apps", "deployments") or ("apps", "replicasets") or ("apps", "statefulsets") or ("", "replicationcontrollers");
        var store = ctx.Client.All.FirstOrDefault(s => ReferenceEquals(s.Definition, def)) ?? ctx.Client.All.FirstOrDefault(s => s.Definition.KeyPrefix == def.KeyPrefix);
        var groupResource = new Api.GroupResource(def.Group, def.Plural).ToString();
        if (!scalable || store is null) throw new InvalidOperationException($"{groupResource} does not implement the scale subresource");
        JsonObject obj;
        try { obj = await store.GetAsync(ns, JsonRead.StrOrEmpty(cref, "name"), ct); }
        catch (ApiException e) when (e.Code == 404) { return null; }
        if (Meta.Uid(obj) != JsonRead.Str(cref, "uid")) return null;
        if (def.CustomScale is { } custom)
            return (Meta.Uid(obj), (int)(JsonRead.Long(ReadPath(obj, custom.SpecReplicasPath)) ?? 0));
        return (Meta.Uid(obj), Replicas(obj));
    }

    /// <summary>A simple JSON path (<c>.spec.replicas</c>), as the CRD scale subresource names its fields.</summary>
    private static JsonNode? ReadPath(JsonObject obj, string path)
    {
        JsonNode? cur = obj;
        foreach (var part in path.TrimStart('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
            cur = cur is JsonObject o ? o[part] : null;
        return cur;
    }
}
