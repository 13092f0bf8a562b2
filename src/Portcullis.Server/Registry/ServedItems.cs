using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Registry;

/// <summary>
/// One stored object as the API serves it in compact JSON, as <see cref="GoJsonWriter"/> writes it
/// (resourceVersion stamped): <see cref="Json"/> is the whole object (a GET, a watch event), and as a
/// list item it is the same without kind and apiVersion (<see cref="WriteListItem"/>). Its labels are
/// kept for selectors.
/// </summary>
internal sealed class ServedItem(long modRevision, byte[] json, int itemStart, byte[]? item, IReadOnlyDictionary<string, string> labels)
{
    public long ModRevision { get; } = modRevision;
    public byte[] Json { get; } = json;
    public IReadOnlyDictionary<string, string> Labels { get; } = labels;

    /// <summary>The length of the list item: <c>{</c> and what follows kind and apiVersion in <see cref="Json"/>.</summary>
    public int ItemLength => item?.Length ?? 1 + Json.Length - itemStart;

    /// <summary>Writes the object as a list item (without kind and apiVersion).</summary>
    public void WriteListItem(System.Buffers.IBufferWriter<byte> w)
    {
        if (item is not null)
        {
            w.Write(item);
            return;
        }
        w.Write("{"u8);
        w.Write(Json.AsSpan(itemStart));
    }

    /// <summary>
    /// The object decoded for a table printer, with the bytes of its metadata: everything but
    /// metadata.managedFields, which no printer reads (a third of a pod's bytes), so a Table row
    /// decodes less and splices its PartialObjectMetadata from <see cref="Json"/> unchanged.
    /// </summary>
    public (JsonObject Object, ReadOnlyMemory<byte> Metadata) DecodeForPrinting()
    {
        var json = Json.AsSpan();
        var r = new Utf8JsonReader(json);
        var obj = new JsonObject();
        ReadOnlyMemory<byte> metadata = default;
        r.Read();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var key = r.GetString()!;
            r.Read();
            var start = (int)r.TokenStartIndex;
            if (key == "metadata" && r.TokenType == JsonTokenType.StartObject)
            {
                var meta = new JsonObject();
                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    var field = r.GetString()!;
                    r.Read();
                    var at = (int)r.TokenStartIndex;
                    r.Skip();
                    if (field != "managedFields") meta[field] = JsonParser.Parse(json[at..(int)r.BytesConsumed]);
                }
                obj[key] = meta;
                metadata = Json.AsMemory(start, (int)r.BytesConsumed - start);
                continue;
            }
            r.Skip();
            obj[key] = JsonParser.Parse(json[start..(int)r.BytesConsumed]);
        }
        return (obj, metadata);
    }

    public static ServedItem Of(KeyValue stored, JsonObject obj)
    {
        var full = new ArrayBufferWriter<byte>(stored.Value.Length + 64);
        GoJsonWriter.Write(full, obj, pretty: false);
        var json = full.WrittenSpan.ToArray();
        var labels = Meta.Labels(obj);
        // Kind and apiVersion first, then more: the item is "{" and the rest after them (no second encoding).
        if (obj.Count > 2 && obj.First().Key == "kind" && obj.ElementAt(1).Key == "apiVersion")
        {
            var head = new ArrayBufferWriter<byte>(64);
            GoJsonWriter.Write(head, new JsonObject { ["kind"] = obj["kind"]?.DeepClone(), ["apiVersion"] = obj["apiVersion"]?.DeepClone() }, pretty: false);
            var prefix = head.WrittenSpan[..^1]; // without the closing brace
            if (json.AsSpan().StartsWith(prefix) && json.Length > prefix.Length && json[prefix.Length] == (byte)',')
                return new ServedItem(stored.ModRevision, json, prefix.Length + 1, null, labels.Count == 0 ? NoLabels : labels);
        }
        obj.Remove("kind");
        obj.Remove("apiVersion");
        var itemBuffer = new ArrayBufferWriter<byte>(json.Length);
        GoJsonWriter.Write(itemBuffer, obj, pretty: false);
        return new ServedItem(stored.ModRevision, json, 0, itemBuffer.WrittenSpan.ToArray(), labels.Count == 0 ? NoLabels : labels);
    }

    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();
}

/// <summary>
/// The served form of each object a store has listed, by key, valid for one stored revision: a list
/// decodes and encodes only the objects written since it last served them. An entry is replaced when
/// the object's revision moves on, dropped when the store deletes the object, and a list of a whole
/// prefix drops the entries under it that it did not see (objects deleted by other means).
/// </summary>
internal sealed class ServedItems
{
    private readonly ConcurrentDictionary<string, ServedItem> _items = new(StringComparer.Ordinal);

    public int Count => _items.Count;

    /// <summary>The served form of <paramref name="stored"/> (a current value: listed or read), made once per revision and kept.</summary>
    public ServedItem Get(KeyValue stored, Func<KeyValue, JsonObject> decode)
    {
        if (_items.TryGetValue(stored.Key, out var kept) && kept.ModRevision == stored.ModRevision) return kept;
        var item = ServedItem.Of(stored, decode(stored));
        // Two readers of different revisions: the newer one stays.
        _items.AddOrUpdate(stored.Key, item, (_, current) => current.ModRevision > item.ModRevision ? current : item);
        return item;
    }

    /// <summary>Served forms made for watch events, by key and revision: the newest <see cref="RecentCapacity"/>.</summary>
    private readonly ConcurrentDictionary<(string, long), ServedItem> _recent = new();
    private readonly ConcurrentQueue<(string, long)> _recentOrder = new();
    public const int RecentCapacity = 4096;

    /// <summary>
    /// The served form of a watch event's object, made once for every watcher. A watcher may read an
    /// event long after it was written (the object deleted since), so what it makes is kept among the
    /// recent events only (a bounded set), and replaces the kept form of a key only while one is kept.
    /// </summary>
    public ServedItem GetForEvent(KeyValue stored, Func<KeyValue, JsonObject> decode)
    {
        if (_items.TryGetValue(stored.Key, out var kept) && kept.ModRevision == stored.ModRevision) return kept;
        var id = (stored.Key, stored.ModRevision);
        if (_recent.TryGetValue(id, out var recent)) return recent;
        var item = ServedItem.Of(stored, decode(stored));
        if (_recent.TryAdd(id, item))
        {
            _recentOrder.Enqueue(id);
            while (_recentOrder.Count > RecentCapacity && _recentOrder.TryDequeue(out var old)) _recent.TryRemove(old, out _);
        }
        if (kept is not null) _items.TryUpdate(stored.Key, item, kept);
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
internal sealed record EncodedList(string ListKind, string GroupVersion, JsonObject Metadata, IReadOnlyList<ServedItem> Items);
