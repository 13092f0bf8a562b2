using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Admission;

/// <summary>
/// The namespaces admission reads on every write (NamespaceLifecycle, PodSecurity): one key read per call, and the
/// stored namespace is decoded again only when its revision changed. The object returned is shared between callers,
/// so the plugins given it only read it. A namespace that is gone answers null and leaves the cache.
/// </summary>
internal sealed class NamespaceCache(IKeyValueBackend kv, IReadOnlyDictionary<ResourceDefinition, GenericStore> stores, ResourceDefinition namespaces)
{
    private readonly ConcurrentDictionary<string, (long Revision, JsonObject Object)> _decoded = new();

    public async Task<JsonObject?> GetAsync(string name, CancellationToken ct)
    {
        var store = stores[namespaces];
        var kvp = await kv.GetAsync(store.Key("", name), ct);
        if (kvp is null)
        {
            _decoded.TryRemove(name, out _);
            return null;
        }
        if (_decoded.TryGetValue(name, out var hit) && hit.Revision == kvp.ModRevision) return hit.Object;
        var obj = store.Decode(kvp);
        _decoded[name] = (kvp.ModRevision, obj);
        return obj;
    }
}
