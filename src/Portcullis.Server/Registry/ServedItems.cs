using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Registry;

/// <summary>
/// One stored object as a list serves it: its compact JSON as <see cref="GoJsonWriter"/> writes it
/// (without kind and apiVersion, resourceVersion stamped), and its labels for selectors.
/// </summary>
internal sealed record ServedItem(long ModRevision, byte[] Json, IReadOnlyDictionary<string, string> Labels);

/// <summary>
/// The served form of each object a store has listed, by key, valid for one stored revision: a list
/// decodes and encodes only the objects written since it last served them. An entry is replaced when
/// the object's revision moves on, dropped when the store deletes the object, and a list of a whole
/// prefix drops the entries under it that it did not see (objects deleted by other means).
/// </summary>
internal sealed class ServedItems
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();
    private readonly ConcurrentDictionary<string, ServedItem> _items = new(StringComparer.Ordinal);

    public int Count => _items.Count;

    public ServedItem Get(KeyValue stored, Func<KeyValue, JsonObject> decode)
    {
        if (_items.TryGetValue(stored.Key, out var kept) && kept.ModRevision == stored.ModRevision) return kept;
        var obj = decode(stored);
        obj.Remove("kind");
        obj.Remove("apiVersion");
        var buffer = new ArrayBufferWriter<byte>(stored.Value.Length + 64);
        GoJsonWriter.Write(buffer, obj, pretty: false);
        var labels = Meta.Labels(obj);
        var item = new ServedItem(stored.ModRevision, buffer.WrittenSpan.ToArray(), labels.Count == 0 ? NoLabels : labels);
        // Two readers of different revisions: the newer one stays.
        _items.AddOrUpdate(stored.Key, item, (_, current) => current.ModRevision > item.ModRevision ? current : item);
        return item;
    }

    public void Forget(string key) => _items.TryRemove(key, out _);

    /// <summary>Drops the entries under <paramref name="prefix"/> whose keys a whole list of it did not see.</summary>
    public void Forget(string prefix, HashSet<string> live)
    {
        foreach (var key in _items.Keys)
            if (key.StartsWith(prefix, StringComparison.Ordinal) && !live.Contains(key)) _items.TryRemove(key, out _);
    }
}

/// <summary>A list answer whose items are already encoded: see <see cref="GenericStore.ListEncodedAsync"/>.</summary>
public sealed record EncodedList(string ListKind, string GroupVersion, JsonObject Metadata, IReadOnlyList<byte[]> Items);
