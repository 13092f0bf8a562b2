using System.Diagnostics.CodeAnalysis;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// The generic store of each stored kind, by definition. Admission reads objects through the stores, and every
/// store runs admission: the table breaks that cycle. <see cref="StorageModule"/> creates it empty and hands it to
/// whoever reads stores (admission's lookups, the system client, the handlers); <see cref="ResourceStoresModule"/>
/// fills it once, after admission exists. Reading it before then is a wiring error and throws
/// <see cref="InvalidOperationException"/>; nothing reads it before the server serves requests or runs controllers.
/// The kinds of CustomResourceDefinitions come and go later (<see cref="Change"/>): readers see one snapshot at a
/// time, without a lock.
/// </summary>
internal sealed class StoreTable : IReadOnlyDictionary<ResourceDefinition, GenericStore>
{
    private volatile IReadOnlyDictionary<ResourceDefinition, GenericStore>? _stores;
    private readonly Lock _write = new();

    /// <summary>Sets the stores; a second call is a wiring error.</summary>
    public void Fill(IReadOnlyDictionary<ResourceDefinition, GenericStore> stores)
    {
        if (_stores is not null) throw new InvalidOperationException("the store table is filled once");
        _stores = stores;
    }

    /// <summary>Adds the stores of kinds defined at run time and drops those of kinds that went, in one step.</summary>
    public void Change(IEnumerable<GenericStore> added, IEnumerable<ResourceDefinition> removed)
    {
        lock (_write)
        {
            var next = new Dictionary<ResourceDefinition, GenericStore>(Stores);
            foreach (var d in removed) next.Remove(d);
            foreach (var s in added) next[s.Definition] = s;
            _stores = next;
        }
    }

    private IReadOnlyDictionary<ResourceDefinition, GenericStore> Stores =>
        _stores ?? throw new InvalidOperationException("a store was read before the stores were created");

    public GenericStore this[ResourceDefinition key] => Stores[key];
    /// <summary>The store of a kind, as a method group for those given a <c>Func&lt;ResourceDefinition, GenericStore&gt;</c>.</summary>
    public GenericStore For(ResourceDefinition key) => Stores[key];
    public IEnumerable<ResourceDefinition> Keys => Stores.Keys;
    public IEnumerable<GenericStore> Values => Stores.Values;
    public int Count => Stores.Count;
    public bool ContainsKey(ResourceDefinition key) => Stores.ContainsKey(key);
    public bool TryGetValue(ResourceDefinition key, [MaybeNullWhen(false)] out GenericStore value) => Stores.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<ResourceDefinition, GenericStore>> GetEnumerator() => Stores.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
