using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// One kind's objects as the <see cref="InformerHub"/> last saw them (client-go's shared informer and lister):
/// the stored values by key and by namespace, and each object decoded at most once per revision.
/// </summary>
/// <remarks>
/// Decoded objects are shared: a reader must not change them (<see cref="JsonNode.DeepClone"/> first). The
/// stored values are the backend's own <see cref="KeyValue"/> instances, so keeping them costs no copy of
/// the bytes; an object is decoded only when a controller reads it, and its decoded tree is dropped when
/// the object changes.
/// </remarks>
public sealed class Informer
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, KeyValue> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, KeyValue>> _byNamespace = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Revision, JsonObject Object)> _decoded = new(StringComparer.Ordinal);
    // The controller index (read from the stored bytes, without decoding): keys by their controller's uid, and
    // each namespace's objects that have no controller.
    private readonly Dictionary<string, string> _controllerOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _byController = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _orphans = new(StringComparer.Ordinal);

    internal Informer(GenericStore store) => Store = store;

    public GenericStore Store { get; }
    public string Prefix => Store.Definition.KeyPrefix;
    public bool Namespaced => Store.Definition.Namespaced;

    /// <summary>How many objects are known.</summary>
    public int Count { get { lock (_gate) return _byKey.Count; } }

    /// <summary>The namespace and name a storage key stands for.</summary>
    public (string Namespace, string Name) Split(string key)
    {
        var rest = key.AsSpan(Prefix.Length);
        if (!Namespaced) return ("", rest.ToString());
        var slash = rest.IndexOf('/');
        return slash < 0 ? ("", rest.ToString()) : (rest[..slash].ToString(), rest[(slash + 1)..].ToString());
    }

    /// <summary>The object, decoded (shared: do not change it), or null.</summary>
    public JsonObject? Get(string ns, string name)
    {
        KeyValue? kv;
        lock (_gate) _byKey.TryGetValue(Store.Key(ns, name), out kv);
        return kv is null ? null : Decode(kv);
    }

    /// <summary>Every object of the namespace ("" for all, or for a cluster-scoped kind), decoded and shared.</summary>
    public List<JsonObject> List(string ns = "") => Stored(ns).Select(Decode).ToList();

    /// <summary>The stored values of the namespace ("" for all), without decoding them.</summary>
    public List<KeyValue> Stored(string ns = "")
    {
        lock (_gate)
        {
            if (ns.Length == 0 || !Namespaced) return [.. _byKey.Values];
            return _byNamespace.TryGetValue(ns, out var items) ? [.. items.Values] : [];
        }
    }

    /// <summary>
    /// The objects a controller may claim (decoded, shared): those whose controller reference has the uid, and the
    /// namespace's objects that have no controller.
    /// </summary>
    public List<JsonObject> ControlledOrOrphans(string ns, string controllerUid)
    {
        var kvs = new List<KeyValue>();
        lock (_gate)
        {
            if (_byController.TryGetValue(controllerUid, out var mine)) foreach (var k in mine) kvs.Add(_byKey[k]);
            if (_orphans.TryGetValue(ns, out var orphans)) foreach (var k in orphans) kvs.Add(_byKey[k]);
        }
        return kvs.Select(Decode).ToList();
    }

    /// <summary>The objects whose controller reference has the uid (decoded, shared).</summary>
    public List<JsonObject> ControlledBy(string controllerUid)
    {
        var kvs = new List<KeyValue>();
        lock (_gate)
            if (_byController.TryGetValue(controllerUid, out var mine)) foreach (var k in mine) kvs.Add(_byKey[k]);
        return kvs.Select(Decode).ToList();
    }

    /// <summary>The value decoded, kept until the object changes.</summary>
    public JsonObject Decode(KeyValue kv)
    {
        lock (_gate)
            if (_decoded.TryGetValue(kv.Key, out var known) && known.Revision == kv.ModRevision) return known.Object;
        var obj = Store.Decode(kv);
        obj.Remove("kind");
        obj.Remove("apiVersion");
        lock (_gate)
            if (_byKey.TryGetValue(kv.Key, out var current) && current.ModRevision == kv.ModRevision)
                _decoded[kv.Key] = (kv.ModRevision, obj);
        return obj;
    }

    internal void Reset(IEnumerable<KeyValue> items)
    {
        lock (_gate)
        {
            _byKey.Clear();
            _byNamespace.Clear();
            _decoded.Clear();
            _controllerOf.Clear();
            _byController.Clear();
            _orphans.Clear();
            foreach (var kv in items) PutLocked(kv);
        }
    }

    internal void Apply(WatchEvent ev)
    {
        lock (_gate)
        {
            _decoded.Remove(ev.Kv.Key);
            if (ev.Type == KeyEventType.Put) { PutLocked(ev.Kv); return; }
            _byKey.Remove(ev.Kv.Key);
            var (ns, _) = Split(ev.Kv.Key);
            if (_byNamespace.TryGetValue(ns, out var items) && items.Remove(ev.Kv.Key) && items.Count == 0) _byNamespace.Remove(ns);
            Unindex(ev.Kv.Key, ns);
        }
    }

    private void PutLocked(KeyValue kv)
    {
        _byKey[kv.Key] = kv;
        var (ns, _) = Split(kv.Key);
        if (!_byNamespace.TryGetValue(ns, out var items)) _byNamespace[ns] = items = new(StringComparer.Ordinal);
        items[kv.Key] = kv;
        Unindex(kv.Key, ns);
        var uid = ReadControllerUid(kv.Value);
        var set = uid.Length > 0 ? Bucket(_byController, uid) : Bucket(_orphans, ns);
        set.Add(kv.Key);
        _controllerOf[kv.Key] = uid;
    }

    private static HashSet<string> Bucket(Dictionary<string, HashSet<string>> index, string key)
    {
        if (!index.TryGetValue(key, out var set)) index[key] = set = new(StringComparer.Ordinal);
        return set;
    }

    private void Unindex(string key, string ns)
    {
        if (!_controllerOf.Remove(key, out var uid)) return;
        var (index, bucket) = uid.Length > 0 ? (_byController, uid) : (_orphans, ns);
        if (index.TryGetValue(bucket, out var set) && set.Remove(key) && set.Count == 0) index.Remove(bucket);
    }

    private static readonly string[] OwnerReferencesPath = ["metadata", "ownerReferences"];

    /// <summary>The uid of the owner reference marked <c>controller: true</c> in the stored bytes, or "".</summary>
    internal static string ReadControllerUid(byte[] json)
    {
        try
        {
            var r = new System.Text.Json.Utf8JsonReader(json);
            if (!SelectorIndex.Find(ref r, OwnerReferencesPath) || r.TokenType != System.Text.Json.JsonTokenType.StartArray) return "";
            while (r.Read() && r.TokenType == System.Text.Json.JsonTokenType.StartObject)
            {
                var controller = false;
                var uid = "";
                while (r.Read() && r.TokenType == System.Text.Json.JsonTokenType.PropertyName)
                {
                    if (r.ValueTextEquals("controller")) { r.Read(); controller = r.TokenType == System.Text.Json.JsonTokenType.True; }
                    else if (r.ValueTextEquals("uid")) { r.Read(); uid = r.TokenType == System.Text.Json.JsonTokenType.String ? r.GetString()! : ""; }
                    else { r.Read(); r.Skip(); }
                }
                if (controller) return uid;
            }
        }
        catch (System.Text.Json.JsonException) { }
        return "";
    }
}

/// <summary>A change the hub saw: the informer it belongs to, and the stored values before and after.</summary>
public sealed class InformerEvent(Informer source, WatchEvent ev)
{
    public Informer Source => source;
    public KeyEventType Type => ev.Type;
    public string Key => ev.Kv.Key;
    public string Namespace => source.Split(ev.Kv.Key).Namespace;
    public string Name => source.Split(ev.Kv.Key).Name;

    /// <summary>The object after the change (null for a deletion), decoded and shared.</summary>
    public JsonObject? Object => ev.Type == KeyEventType.Put ? _new ??= source.Decode(ev.Kv) : null;

    /// <summary>The object before the change (null for a creation), or the deleted object.</summary>
    public JsonObject? OldObject => _old ??= ev.Type == KeyEventType.Delete ? Decode(ev.PrevKv ?? ev.Kv) : ev.PrevKv is { } p ? Decode(p) : null;

    private JsonObject? _new;
    private JsonObject? _old;

    private JsonObject? Decode(KeyValue kv)
    {
        // A deletion's value may be empty (the backend's tombstone); its previous value is the object.
        if (kv.Value.Length == 0) return null;
        var o = source.Store.Decode(kv);
        o.Remove("kind");
        o.Remove("apiVersion");
        return o;
    }
}
