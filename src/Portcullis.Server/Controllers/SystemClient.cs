using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Controllers;

/// <summary>
/// How in-process controllers reach the API: straight into the generic stores (no HTTP), as a
/// privileged system user, through the same admission and validation as any client.
/// </summary>
public sealed class SystemClient(IReadOnlyDictionary<ResourceDefinition, GenericStore> stores, ResourceRegistry resources, IKeyValueBackend kv)
{
    public static readonly UserInfo Controller = new("system:kube-controller-manager", "", [UserInfo.SystemMasters, UserInfo.AllAuthenticated], UserInfo.NoExtra);

    public IKeyValueBackend Backend => kv;
    public ResourceRegistry Resources => resources;

    public GenericStore Store(string group, string plural) =>
        stores[resources.Find(group, "v1", plural) ?? throw new KeyNotFoundException(plural)];

    public IEnumerable<GenericStore> All => stores.Values;

    public async Task<JsonObject?> TryGetAsync(GenericStore s, string ns, string name, CancellationToken ct)
    {
        try { return await s.GetAsync(ns, name, ct); }
        catch (ApiException e) when (e.Code == 404) { return null; }
    }

    /// <summary>Creates the object unless it exists; returns whether it created it. <paramref name="fieldManager"/> is
    /// the manager upstream's component records (kube-controller-manager, kube-apiserver, kubelet).</summary>
    public async Task<bool> EnsureAsync(GenericStore s, string ns, JsonObject obj, CancellationToken ct, string fieldManager = "kube-controller-manager")
    {
        if (await TryGetAsync(s, ns, Meta.Name(obj), ct) is not null) return false;
        try { await s.CreateAsync(ns, obj, new WriteOptions(Controller) { FieldManager = fieldManager }, ct); return true; }
        catch (ApiException e) when (e.Code == 409) { return false; }
        catch (ApiException e) when (e.Code == 422)
        {
            // Another replica created it between the read and the create, and the create failed before the name clash
            // (the kubernetes Service's fixed cluster IP already allocated): it exists, which is all this wants.
            if (await TryGetAsync(s, ns, Meta.Name(obj), ct) is not null) return false;
            throw;
        }
    }

    public async Task<List<JsonObject>> ListAsync(GenericStore s, string ns, CancellationToken ct, string? fieldSelector = null)
    {
        var opts = new ListOptions();
        if (fieldSelector is not null) opts = opts with { Fields = Selectors.FieldSelector.Parse(fieldSelector) };
        var list = await s.ListAsync(ns, opts, ct);
        return list["items"]!.AsArray().Select(i => (JsonObject)i!).ToList();
    }

    /// <summary>Runs <paramref name="onChange"/> for the current state, then whenever keys under the prefix change.</summary>
    public async Task WatchPrefixAsync(string prefix, Func<CancellationToken, Task> onChange, CancellationToken ct)
    {
        var from = kv.CurrentRevision;
        await onChange(ct);
        await foreach (var _ in kv.WatchAsync(prefix, from, ct))
            await onChange(ct);
    }
}
