using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// A generic store for every stored kind, each running the admission chain; Services also allocate a cluster IP.
/// Fills <see cref="StorageModule.Stores"/>, which admission's lookups and the system client already hold,
/// and returns the Services' allocator, whose repair loop the server runs.
/// </summary>
internal static class ResourceStoresModule
{
    public static ServiceAllocator Fill(StorageModule storage, AdmissionChain admission, TimeProvider time)
    {
        var stores = storage.Stores;
        var serviceDef = storage.Resources.Find("", "v1", "services")!;
        var allocator = new ServiceAllocator(storage.Backend, async c =>
            (await stores[serviceDef].ListAsync("", new ListOptions(), c))["items"]!.AsArray().Select(i => (JsonObject)i!));
        var created = new Dictionary<ResourceDefinition, GenericStore>();
        foreach (var d in storage.Resources.All.Where(d => !d.Virtual))
            created[d] = new GenericStore(d, storage.Backend, time, admission, d == serviceDef ? allocator : null);
        stores.Fill(created);
        return allocator;
    }
}
