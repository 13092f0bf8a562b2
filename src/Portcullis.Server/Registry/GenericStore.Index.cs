using System.Text.Json.Nodes;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Registry;

public sealed partial class GenericStore
{
    private SelectorIndex? _index;
    private readonly Lock _indexStart = new();

    /// <summary>Whether lists with an equality selector may use the label and field index (tests turn it off to compare with the scan).</summary>
    internal bool UseIndex { get; init; } = true;

    /// <summary>The label and field index, once a list started it (tests).</summary>
    internal SelectorIndex? Index => Volatile.Read(ref _index);

    /// <summary>How many lists the index answered (tests).</summary>
    internal int IndexedLists => Volatile.Read(ref _indexedLists);
    private int _indexedLists;

    /// <summary>Stops the index's feed (tests; at shutdown the backend ending its watches stops it).</summary>
    internal void StopIndex() => Index?.Dispose();

    /// <summary>
    /// The index, started by the first list that can use it, so a store never listed with a selector
    /// costs nothing on writes. Only kinds served in their storage version are indexed: their stored
    /// bytes are what the selectors read.
    /// </summary>
    private SelectorIndex? IndexFor(ListOptions o)
    {
        if (!UseIndex || !Spliceable || (o.Labels.IsEmpty && o.Fields.IsEmpty)) return null;
        if (!SelectorIndex.CanNarrow(o.Labels, o.Fields, def.Strategy.IndexedFields)) return null;
        if (Volatile.Read(ref _index) is { } index) return index;
        lock (_indexStart)
        {
            if (_index is null)
            {
                var created = new SelectorIndex(kv, def.KeyPrefix, def.Strategy.IndexedFields, SlowField);
                created.Start();
                Volatile.Write(ref _index, created);
            }
            return _index;
        }
    }

    private string SlowField(KeyValue stored, int i)
    {
        try { return def.Strategy.FieldLabels[def.Strategy.IndexedFields[i]](Decode(stored)) ?? ""; }
        catch (Exception) { return ""; }
    }

    /// <summary>
    /// The first page of a list at the current revision from the index: the candidates its equality
    /// requirements allow, each handed to <paramref name="add"/> (which applies the full selectors) in
    /// key order, paged as <see cref="ListCoreAsync"/> pages. Null when the index cannot answer (not
    /// applicable, or not caught up with the revision the request started at): the caller scans.
    /// </summary>
    private async Task<JsonObject?> ListIndexedAsync(string prefix, ListOptions o, Func<KeyValue, bool> add, CancellationToken ct)
    {
        if (IndexFor(o) is not { } index) return null;
        var started = await kv.ConsistentRevisionAsync(ct);
        if (await index.SelectAsync(prefix, o.Labels, o.Fields, started, FreshnessWait, ct) is not { } selection) return null;
        Interlocked.Increment(ref _indexedLists);
        var taken = 0;
        string? lastKey = null;
        var more = false;
        foreach (var item in selection.Candidates)
        {
            if (!add(item)) continue;
            taken++;
            lastKey = item.Key;
            if (o.Limit > 0 && taken == o.Limit)
            {
                // As a scan: more when any key, matching or not, follows the last one taken.
                more = selection.LastKey is { } last && Storage.Utf8Order.Instance.Compare(lastKey, last) < 0;
                break;
            }
        }
        return ListMeta(selection.Revision, more, lastKey, prefix, o, 0);
    }
}
