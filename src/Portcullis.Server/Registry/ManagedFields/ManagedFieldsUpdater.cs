using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>Optional inputs of <see cref="ManagedFieldsUpdater.Update"/>.</summary>
public sealed class ManagedFieldsOptions
{
    /// <summary>
    /// The strategy's reset fields for this request (GetResetFields of the resource or subresource
    /// strategy). When null: <c>status</c> for the main resource of a kind with a status
    /// subresource, <c>spec</c> for the status subresource (pods/status also resets
    /// metadata.deletionTimestamp and metadata.ownerReferences, see <see cref="ResetFields"/>).
    /// </summary>
    public FieldSet? ResetFields { get; init; }

    /// <summary>
    /// Whether an entry's apiVersion other than the request's can be converted to (another served
    /// version of the kind). Entries at versions that cannot are dropped, as upstream drops them.
    /// Field paths are assumed to be the same in every convertible version.
    /// </summary>
    public Func<string, bool>? IsConvertibleVersion { get; init; }

    /// <summary>Upstream's DefaultMaxUpdateManagers.</summary>
    public int MaxUpdateManagers { get; init; } = 10;

    /// <summary>The kind's shape when the schema is not a Go type's (a custom kind: its CRD schema).</summary>
    internal TypeShape? Shape { get; init; }
}

/// <summary>
/// Upstream's managedFields tracking for create, update and patch (non-apply) requests: the
/// request's manager gets the fields it changed, other managers lose them, and the entries are
/// written back to metadata.managedFields.
/// </summary>
public static class ManagedFieldsUpdater
{
    private static readonly ManagerId CurrentOperation = new("current-operation", "", "", "");

    /// <summary>Fields never tracked: identity and bookkeeping of the object (exact paths only).</summary>
    internal static readonly FieldSet StripSet = FieldSet.Of(
        [PathElement.Field("apiVersion")],
        [PathElement.Field("kind")],
        [PathElement.Field("metadata")],
        Meta("name"), Meta("namespace"), Meta("creationTimestamp"), Meta("selfLink"), Meta("uid"),
        Meta("clusterName"), Meta("generation"), Meta("managedFields"), Meta("resourceVersion"));

    private static PathElement[] Meta(string f) => [PathElement.Field("metadata"), PathElement.Field(f)];

    /// <summary>
    /// Updates <paramref name="newObj"/>'s metadata.managedFields in place and returns it.
    /// <paramref name="newObj"/> is the object about to be stored (decoded, defaulted, shaped; its
    /// managedFields as the client sent them — keep an explicit empty list, it resets tracking);
    /// <paramref name="oldObj"/> the stored object, null on create. Never throws for bad input:
    /// where upstream's computation fails, the object is stored without managedFields.
    /// </summary>
    public static JsonObject Update(JsonObject newObj, JsonObject? oldObj, string manager, string apiVersion, string subresource,
        DateTimeOffset now, StructSchema schema, bool resourceHasStatusSubresource, ManagedFieldsOptions? options = null)
    {
        options ??= new ManagedFieldsOptions();
        var newMeta = newObj["metadata"] as JsonObject;
        var liveMeta = oldObj?["metadata"] as JsonObject;
        var managed = DecodeLiveOrNew(liveMeta?["managedFields"], newMeta?["managedFields"], subresource.Length > 0);
        newMeta?.Remove("managedFields");
        try
        {
            var isCreate = oldObj is null || string.IsNullOrEmpty((string?)(liveMeta?["uid"] as JsonValue));
            // Tracking starts on create; an existing object that has none is left untracked.
            if (managed.Fields.Count > 0 || isCreate)
            {
                var reset = options.ResetFields ?? ResetFields.For(schema, subresource, resourceHasStatusSubresource);
                var live = oldObj ?? EmptyObject(newObj, schema);
                var id = ManagerId.ForUpdate(manager, apiVersion, subresource);
                Track(managed, live, newObj, id, apiVersion, now, options.Shape ?? TypeShape.Root(schema), reset, options);
                CapUpdateManagers(managed, options.MaxUpdateManagers);
            }
            Write(newObj, ManagedFieldsCodec.Encode(managed));
        }
        catch (ManagedFieldsException)
        {
            // Upstream logs and drops the managedFields rather than storing garbage.
            Write(newObj, null);
        }
        return newObj;
    }

    private static ManagedSets DecodeLiveOrNew(JsonNode? live, JsonNode? requested, bool isSubresource)
    {
        // A subresource request never sets managedFields itself.
        if (!isSubresource)
        {
            if (ManagedFieldsCodec.IsReset(requested)) return new ManagedSets();
            try
            {
                var m = ManagedFieldsCodec.Decode(requested);
                if (m.Fields.Count > 0) return m;
            }
            catch (ManagedFieldsException)
            {
                // Invalid managedFields from the client are ignored in favour of the stored ones.
            }
        }
        try
        {
            return ManagedFieldsCodec.Decode(live);
        }
        catch (ManagedFieldsException)
        {
            return new ManagedSets();
        }
    }

    /// <summary>
    /// What the empty Go object of the kind looks like, in the version of the request: made once per
    /// schema, apiVersion and kind and shared, so it is only ever read (the live side of a create's
    /// comparison).
    /// </summary>
    private static JsonObject EmptyObject(JsonObject newObj, StructSchema schema)
    {
        var apiVersion = newObj["apiVersion"] is JsonValue av && av.GetValueKind() == JsonValueKind.String ? av.GetValue<string>() : null;
        var kind = newObj["kind"] is JsonValue k && k.GetValueKind() == JsonValueKind.String ? k.GetValue<string>() : null;
        // Only the usual case is shared: an apiVersion or kind of another JSON type is copied as given.
        if ((apiVersion is null && newObj["apiVersion"] is not null) || (kind is null && newObj["kind"] is not null))
            return MakeEmptyObject(newObj, schema);
        var bySchema = EmptyObjects.GetOrCreateValue(schema);
        return bySchema.GetOrAdd((apiVersion, kind), static (_, arg) => MakeEmptyObject(arg.newObj, arg.schema), (newObj, schema));
    }

    private static readonly ConditionalWeakTable<StructSchema, ConcurrentDictionary<(string?, string?), JsonObject>> EmptyObjects = new();

    private static JsonObject MakeEmptyObject(JsonObject newObj, StructSchema schema)
    {
        var empty = ObjectShaper.Shape(new JsonObject(), schema);
        var typed = new JsonObject();
        if (newObj["apiVersion"] is { } av) typed["apiVersion"] = av.DeepClone();
        if (newObj["kind"] is { } k) typed["kind"] = k.DeepClone();
        foreach (var (key, v) in empty)
        {
            if (typed.ContainsKey(key)) continue;
            typed[key] = v?.DeepClone();
        }
        return typed;
    }

    private static void Track(ManagedSets managed, JsonObject live, JsonObject newObj, ManagerId id, string version, DateTimeOffset now,
        TypeShape root, FieldSet reset, ManagedFieldsOptions options)
    {
        bool Convertible(string v) => v == version || options.IsConvertibleVersion?.Invoke(v) == true;

        // Bring stored sets in line with the schema; entries of versions that no longer exist go.
        foreach (var (m, vs) in managed.Fields.ToList())
        {
            if (!Convertible(vs.ApiVersion))
            {
                managed.Fields.Remove(m);
                continue;
            }
            if (ObjectFields.Reconcile(vs.Set, root) is { } fixedSet) managed.Fields[m] = vs with { Set = fixedSet };
        }

        var compare = ObjectFields.Compare(live, newObj, root).Exclude(reset);
        var changed = compare.Modified.Union(compare.Added);
        foreach (var (m, vs) in managed.Fields.ToList())
        {
            var set = vs.Set.Difference(changed);
            if (!compare.Removed.IsEmpty) set = set.Difference(compare.Removed);
            if (set.IsEmpty) managed.Fields.Remove(m);
            else managed.Fields[m] = vs with { Set = set };
        }

        var current = changed.Difference(compare.Removed).RecursiveDifference(reset).Difference(StripSet);
        if (current.IsEmpty) return;
        if (managed.Fields.TryGetValue(id, out var previous)) current = current.Union(previous.Set);
        managed.Fields[id] = new VersionedSet(current, version, false);
        managed.Times[id] = now;
    }

    /// <summary>Keeps at most <paramref name="max"/> Update entries by merging the oldest into "ancient-changes".</summary>
    internal static void CapUpdateManagers(ManagedSets managed, int max)
    {
        var updaters = managed.Fields.Where(kv => !kv.Value.Applied).Select(kv => kv.Key).ToList();
        if (updaters.Count <= max) return;
        updaters.Sort((a, b) =>
        {
            var c = ManagedFieldsCodec.Seconds(managed.Times.GetValueOrDefault(a)).CompareTo(ManagedFieldsCodec.Seconds(managed.Times.GetValueOrDefault(b)));
            return c != 0 ? c : string.CompareOrdinal(a.Identifier, b.Identifier);
        });
        var firstOfVersion = new Dictionary<string, ManagerId>();
        var length = updaters.Count;
        for (var i = 0; i < updaters.Count && length > max; i++)
        {
            var m = updaters[i];
            if (!managed.Fields.TryGetValue(m, out var vs)) continue;
            var time = managed.Times.GetValueOrDefault(m);
            var bucket = new ManagerId("ancient-changes", "Update", vs.ApiVersion, "");
            if (firstOfVersion.TryGetValue(vs.ApiVersion, out var first))
            {
                if (!managed.Fields.ContainsKey(bucket))
                {
                    managed.Fields[bucket] = managed.Fields[first];
                    managed.Fields.Remove(first);
                }
                managed.Fields[bucket] = new VersionedSet(vs.Set.Union(managed.Fields[bucket].Set), vs.ApiVersion, vs.Applied);
                managed.Fields.Remove(m);
                length--;
                managed.Times[bucket] = time;
            }
            else firstOfVersion[vs.ApiVersion] = m;
        }
    }

    /// <summary>
    /// Upstream's IgnoreManagedFieldsTimestampsTransformer: when an update changes nothing but
    /// managedFields timestamps, the stored timestamps are put back so that the write is a no-op.
    /// Returns whether it reverted anything.
    /// </summary>
    public static bool RevertTimestampOnlyChanges(JsonObject newObj, JsonObject oldObj)
    {
        if (newObj["metadata"] is not JsonObject nm || oldObj["metadata"] is not JsonObject om) return false;
        if (nm["managedFields"] is not JsonArray na || om["managedFields"] is not JsonArray oa || na.Count != oa.Count) return false;
        var timesDiffer = false;
        for (var i = 0; i < na.Count; i++)
        {
            if (na[i] is not JsonObject a || oa[i] is not JsonObject b) return false;
            if (!JsonNode.DeepEquals(WithoutKey(a, "time"), WithoutKey(b, "time"))) return false;
            timesDiffer |= !JsonNode.DeepEquals(a["time"], b["time"]);
        }
        if (!timesDiffer) return false;
        if (!JsonNode.DeepEquals(WithoutKey(newObj, "metadata"), WithoutKey(oldObj, "metadata"))
            || !JsonNode.DeepEquals(WithoutKey(nm, "managedFields"), WithoutKey(om, "managedFields"))) return false;
        nm["managedFields"] = oa.DeepClone();
        return true;
    }

    private static JsonObject WithoutKey(JsonObject o, string key)
    {
        var copy = new JsonObject();
        foreach (var (k, v) in o)
            if (k != key) copy[k] = v?.DeepClone();
        return copy;
    }

    private static void Write(JsonObject obj, JsonArray? entries)
    {
        if (obj["metadata"] is not JsonObject meta)
        {
            if (entries is null) return;
            meta = Registry.Meta.Of(obj);
        }
        if (entries is null) meta.Remove("managedFields");
        else Registry.Meta.Set(obj, "managedFields", entries);
    }
}
