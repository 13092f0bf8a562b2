using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Registry;

/// <summary>
/// One stored object as the API serves it in compact JSON, as <see cref="GoJsonWriter"/> writes it
/// (resourceVersion stamped): the whole object (a GET, a watch event, <see cref="Write"/>), and as a
/// list item the same without kind and apiVersion (<see cref="WriteListItem"/>). Its labels are
/// kept for selectors.
/// </summary>
/// <remarks>
/// The store writes each object with Go's encoding and a placeholder <c>"resourceVersion":"0"</c>
/// in its metadata, so for a kind served in its storage version the served bytes are the stored
/// bytes with the revision in place of the placeholder: such an item keeps a reference to the
/// stored value (the same array the storage keeps, no copy) and splices the revision in as it is
/// written. Any other object (another version's storage, a value without the placeholder) is
/// decoded and encoded once.
/// </remarks>
internal sealed class ServedItem
{
    private readonly byte[] _bytes;
    private readonly int _itemStart;
    private readonly byte[]? _item;
    // The placeholder's value token ("0", quotes included) in _bytes and the revision written there; _rv is null when the bytes are whole.
    private readonly int _rvAt;
    private readonly int _rvLength;
    private readonly byte[]? _rv;

    private ServedItem(long modRevision, byte[] bytes, int itemStart, byte[]? item, IReadOnlyDictionary<string, string> labels,
        int rvAt = 0, int rvLength = 0, byte[]? rv = null)
    {
        ModRevision = modRevision;
        _bytes = bytes;
        _itemStart = itemStart;
        _item = item;
        Labels = labels;
        _rvAt = rvAt;
        _rvLength = rvLength;
        _rv = rv;
    }

    public long ModRevision { get; }
    public IReadOnlyDictionary<string, string> Labels { get; }

    /// <summary>The length of the whole object's bytes.</summary>
    public int Length => _rv is null ? _bytes.Length : _bytes.Length - _rvLength + _rv.Length;

    /// <summary>The whole object's bytes (a copy when the revision is spliced in).</summary>
    public byte[] Json
    {
        get
        {
            if (_rv is null) return _bytes;
            var w = new ArrayBufferWriter<byte>(Length);
            Write(w);
            return w.WrittenSpan.ToArray();
        }
    }

    /// <summary>Writes the whole object.</summary>
    public void Write(IBufferWriter<byte> w) => WriteFrom(w, 0);

    /// <summary>The length of the list item: <c>{</c> and what follows kind and apiVersion.</summary>
    public int ItemLength => _item?.Length ?? 1 + Length - _itemStart;

    /// <summary>Writes the object as a list item (without kind and apiVersion).</summary>
    public void WriteListItem(IBufferWriter<byte> w)
    {
        if (_item is not null)
        {
            w.Write(_item);
            return;
        }
        w.Write("{"u8);
        WriteFrom(w, _itemStart);
    }

    private void WriteFrom(IBufferWriter<byte> w, int start)
    {
        if (_rv is null)
        {
            w.Write(_bytes.AsSpan(start));
            return;
        }
        w.Write(_bytes.AsSpan(start, _rvAt - start));
        w.Write(_rv);
        w.Write(_bytes.AsSpan(_rvAt + _rvLength));
    }

    /// <summary>
    /// The object decoded for a table printer, and where its metadata is: everything but
    /// metadata.managedFields, which no printer reads (a third of a pod's bytes), so a Table row
    /// decodes less and splices its PartialObjectMetadata with <see cref="WriteMetadata"/>.
    /// </summary>
    public JsonObject DecodeForPrinting(out Range metadata)
    {
        var json = _bytes.AsSpan();
        var r = new Utf8JsonReader(json);
        var obj = new JsonObject();
        metadata = default;
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
                // The placeholder read from the stored bytes gives way to the revision, in its place.
                if (_rv is not null) meta["resourceVersion"] = ModRevision.ToString(System.Globalization.CultureInfo.InvariantCulture);
                obj[key] = meta;
                metadata = start..(int)r.BytesConsumed;
                continue;
            }
            r.Skip();
            obj[key] = JsonParser.Parse(json[start..(int)r.BytesConsumed]);
        }
        return obj;
    }

    /// <summary>Writes the metadata found by <see cref="DecodeForPrinting"/>, with the revision spliced in.</summary>
    public void WriteMetadata(IBufferWriter<byte> w, Range metadata)
    {
        var (start, length) = metadata.GetOffsetAndLength(_bytes.Length);
        if (_rv is null || _rvAt < start || _rvAt >= start + length)
        {
            w.Write(_bytes.AsSpan(start, length));
            return;
        }
        w.Write(_bytes.AsSpan(start, _rvAt - start));
        w.Write(_rv);
        w.Write(_bytes.AsSpan(_rvAt + _rvLength, start + length - _rvAt - _rvLength));
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

    /// <summary>
    /// The served form of a stored value in the served version, without decoding it: the stored
    /// bytes with the revision spliced over the placeholder. Null when the value is not laid out as
    /// the store writes it (compact, kind and apiVersion first, the placeholder in metadata, labels
    /// strings), and then the caller decodes it.
    /// </summary>
    public static ServedItem? FromStored(KeyValue stored)
    {
        var bytes = stored.Value;
        try
        {
            var r = new Utf8JsonReader(bytes);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return null;
            if (!NextString(ref r, "kind"u8) || !NextString(ref r, "apiVersion"u8)) return null;
            var itemStart = (int)r.BytesConsumed + 1;
            if (itemStart >= bytes.Length || bytes[itemStart - 1] != (byte)',') return null;
            int rvAt = -1;
            Dictionary<string, string>? labels = null;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (!r.ValueTextEquals("metadata"u8)) { r.Read(); r.Skip(); continue; }
                if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return null;
                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    if (r.ValueTextEquals("resourceVersion"u8))
                    {
                        r.Read();
                        if (r.TokenType != JsonTokenType.String || !r.ValueTextEquals("0"u8) || r.ValueIsEscaped) return null;
                        rvAt = (int)r.TokenStartIndex;
                    }
                    else if (r.ValueTextEquals("labels"u8))
                    {
                        r.Read();
                        if (r.TokenType != JsonTokenType.StartObject) return null;
                        labels = new Dictionary<string, string>(StringComparer.Ordinal);
                        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                        {
                            var k = r.GetString()!;
                            if (!r.Read() || r.TokenType != JsonTokenType.String) return null;
                            labels[k] = r.GetString()!;
                        }
                    }
                    else { r.Read(); r.Skip(); }
                }
                break;
            }
            if (rvAt < 0) return null;
            var rv = System.Text.Encoding.ASCII.GetBytes("\"" + stored.ModRevision.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"");
            return new ServedItem(stored.ModRevision, bytes, itemStart, null, labels is { Count: > 0 } ? labels : NoLabels, rvAt, 3, rv);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool NextString(ref Utf8JsonReader r, ReadOnlySpan<byte> name) =>
        r.Read() && r.TokenType == JsonTokenType.PropertyName && r.ValueTextEquals(name) && r.Read() && r.TokenType == JsonTokenType.String;

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
    public ServedItem Get(KeyValue stored, Func<KeyValue, JsonObject> decode, bool spliceable)
    {
        if (_items.TryGetValue(stored.Key, out var kept) && kept.ModRevision == stored.ModRevision) return kept;
        var item = Make(stored, decode, spliceable);
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
    public ServedItem GetForEvent(KeyValue stored, Func<KeyValue, JsonObject> decode, bool spliceable)
    {
        if (_items.TryGetValue(stored.Key, out var kept) && kept.ModRevision == stored.ModRevision) return kept;
        var id = (stored.Key, stored.ModRevision);
        if (_recent.TryGetValue(id, out var recent)) return recent;
        var item = Make(stored, decode, spliceable);
        if (_recent.TryAdd(id, item))
        {
            _recentOrder.Enqueue(id);
            while (_recentOrder.Count > RecentCapacity && _recentOrder.TryDequeue(out var old)) _recent.TryRemove(old, out _);
        }
        if (kept is not null) _items.TryUpdate(stored.Key, item, kept);
        return item;
    }

    /// <summary>
    /// The served form of a stored value: spliced from the stored bytes when the resource is served
    /// in its storage version (<paramref name="spliceable"/>) and the value is laid out for it, else
    /// decoded and encoded.
    /// </summary>
    private static ServedItem Make(KeyValue stored, Func<KeyValue, JsonObject> decode, bool spliceable) =>
        (spliceable ? ServedItem.FromStored(stored) : null) ?? ServedItem.Of(stored, decode(stored));

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
