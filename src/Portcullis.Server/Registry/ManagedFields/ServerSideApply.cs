using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>What an apply is about: the kind, where the request goes and who applies.</summary>
public sealed record ApplyRequest(
    string Manager, string Group, string Version, string Kind, string Subresource, bool Force,
    StructSchema Schema, bool ResourceHasStatusSubresource)
{
    public string ApiVersion => Group.Length == 0 ? Version : Group + "/" + Version;

    /// <summary>Go's GroupVersionKind.String(): "apps/v1, Kind=Deployment", "/v1, Kind=ConfigMap".</summary>
    public string GvkText => $"{Group}/{Version}, Kind={Kind}";

    /// <summary>The shape of the kind's values; custom kinds give theirs from the CRD's schema.</summary>
    internal TypeShape? Shape { get; init; }
}

/// <summary>
/// Server-side apply as kube-apiserver 1.33 runs it (apimachinery pkg/util/managedfields/internal: the field
/// manager chain of version check, last-applied updater and manager, skip-non-applied, cap-managers,
/// build-manager-info, managed-fields updater, strip-meta; structured-merge-diff v4.6.0 merge.Updater.Apply):
/// the configuration is merged into the live object, fields the applier stopped applying are removed unless
/// someone else owns them, and fields other managers own that the merge changes are conflicts unless forced.
/// </summary>
public static class ServerSideApply
{
    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";
    private const string BeforeFirstApply = "before-first-apply";

    /// <summary>
    /// Applies <paramref name="config"/> to <paramref name="live"/> (the stored object, or an empty object of the
    /// kind on create) and returns the object to store with its managedFields. Throws the 409 of a conflict, the
    /// 400s upstream answers for a configuration of another kind or with managedFields, and a 500 where
    /// upstream's typed conversion fails.
    /// </summary>
    public static JsonObject Apply(JsonObject live, JsonObject config, ApplyRequest req, DateTimeOffset now)
    {
        // versionCheckManager
        var configGvk = GvkOf(config);
        if (configGvk != req.GvkText) throw ApiErrors.BadRequest($"invalid object type: {configGvk}");
        // structuredMergeManager: the configuration may not carry managedFields (an explicit null is fine).
        if (config["metadata"] is JsonObject cm && cm.TryGetPropertyValue("managedFields", out var mf) && mf is not null)
            throw ApiErrors.BadRequest("metadata.managedFields must be nil");

        ManagedSets managed;
        try { managed = ManagedFieldsCodec.Decode((live["metadata"] as JsonObject)?["managedFields"]); }
        catch (ManagedFieldsException e) { throw Internal($"failed to decode managed fields: {e.Message}"); }

        var shape = req.Shape ?? TypeShape.Root(req.Schema);
        var reset = ResetFields.For(req.Schema, req.Subresource, req.ResourceHasStatusSubresource);
        var liveBody = WithoutManagedFields(live);

        // skipNonAppliedManager: an object nobody tracks yet gets its fields attributed to "before-first-apply".
        if (managed.Fields.Count == 0)
        {
            var empty = new JsonObject();
            if (live["apiVersion"] is { } av) empty["apiVersion"] = av.DeepClone();
            if (live["kind"] is { } k) empty["kind"] = k.DeepClone();
            var before = ManagerId.ForUpdate(BeforeFirstApply, req.ApiVersion, req.Subresource);
            UpdateTracking(managed, empty, liveBody, before, req.ApiVersion, now, shape, reset);
            ManagedFieldsUpdater.CapUpdateManagers(managed, 10);
        }

        var id = new ManagerId(req.Manager, "Apply", "", req.Subresource);
        var result = ApplyWithLastApplied(liveBody, config, managed, id, req, shape, reset, now);
        return result;
    }

    /// <summary>lastAppliedUpdater over lastAppliedManager over the rest of the chain.</summary>
    private static JsonObject ApplyWithLastApplied(JsonObject live, JsonObject config, ManagedSets managed, ManagerId id,
        ApplyRequest req, TypeShape shape, FieldSet reset, DateTimeOffset now)
    {
        var snapshot = Copy(managed);
        JsonObject result;
        try
        {
            result = ApplyOnce(live, config, managed, id, req, shape, reset, now, req.Force);
        }
        catch (ConflictsException conflicts) when (req.Manager == "kubectl")
        {
            // lastAppliedManager: conflicts with what client-side apply last applied (and is still live) are no
            // conflicts for kubectl taking an object over from client-side apply.
            var allowed = AllowedFromLastApplied(live, req, shape);
            if (allowed is null) throw conflicts.ToApiException();
            var remaining = conflicts.Conflicts.Where(c => !allowed.Has(c.Path)).ToList();
            if (remaining.Count > 0) throw new ConflictsException(remaining).ToApiException();
            managed.Fields.Clear();
            foreach (var (k, v) in snapshot.Fields) managed.Fields[k] = v;
            managed.Times.Clear();
            foreach (var (k, v) in snapshot.Times) managed.Times[k] = v;
            result = ApplyOnce(live, config, managed, id, req, shape, reset, now, force: true);
        }
        catch (ConflictsException conflicts)
        {
            throw conflicts.ToApiException();
        }

        // lastAppliedUpdater: kubectl's apply keeps a client-side apply annotation in step, so the object can go
        // back to client-side apply.
        if (req.Manager == "kubectl" && LastApplied(result) is { Length: > 0 })
        {
            var lastApplied = (JsonObject)config.DeepClone();
            if (lastApplied["metadata"] is JsonObject m && m["annotations"] is JsonObject a)
            {
                a.Remove(LastAppliedAnnotation);
                if (a.Count == 0) m.Remove("annotations");
            }
            // LastApplied(result) found the annotation, so the map is there
            var annotations = (JsonObject)Meta.Of(result)["annotations"]!;
            annotations[LastAppliedAnnotation] = GoJsonWriter.ToString(Sorted(lastApplied)) + "\n";
        }
        return result;
    }

    /// <summary>capManagers, buildManagerInfo, managedFieldsUpdater, stripMeta and structuredMerge's Apply.</summary>
    private static JsonObject ApplyOnce(JsonObject live, JsonObject config, ManagedSets managed, ManagerId id,
        ApplyRequest req, TypeShape shape, FieldSet reset, DateTimeOffset now, bool force)
    {
        var newObj = UpdaterApply(live, config, managed, id, req.ApiVersion, shape, reset, force, () => ObjectText(config, req));
        // stripMetaManager
        if (managed.Fields.TryGetValue(id, out var vs))
        {
            var stripped = vs.Set.Difference(ManagedFieldsUpdater.StripSet);
            if (stripped.IsEmpty) managed.Fields.Remove(id);
            else managed.Fields[id] = vs with { Set = stripped };
        }
        // managedFieldsUpdater: the applier's time moves only when the object changes.
        JsonObject result;
        if (newObj is not null)
        {
            managed.Times[id] = now;
            result = newObj;
        }
        else result = (JsonObject)live.DeepClone();
        ManagedFieldsUpdater.CapUpdateManagers(managed, 10);
        Write(result, ManagedFieldsCodec.Encode(managed));
        return result;
    }

    /// <summary>merge.Updater.Apply: null when the result equals the live object. <paramref name="objectText"/> names
    /// the object in a typing error.</summary>
    internal static JsonObject? UpdaterApply(JsonObject live, JsonObject config, ManagedSets managed, ManagerId id,
        string version, TypeShape shape, FieldSet reset, bool force, Func<string> objectText)
    {
        Reconcile(managed, shape);
        JsonObject merged;
        FieldSet set;
        // the configuration is typed first (structured-merge-diff's validation: its errors win), then merged
        var errors = new List<string>();
        set = ObjectFields.ToFieldSet(config, shape, errors);
        if (errors.Count > 0)
            throw Internal($"failed to create typed patch object ({objectText()}): "
                + (errors.Count == 1 ? errors[0] : "errors:\n" + string.Join("\n", errors.Select(e => "  " + e))));
        try
        {
            merged = ApplyMerge.Merge(live, config, shape) as JsonObject ?? new JsonObject();
        }
        catch (ManagedFieldsException e)
        {
            throw Internal($"failed to merge config: {e.Message}");
        }
        managed.Fields.TryGetValue(id, out var lastSet);
        set = set.RecursiveDifference(reset);
        managed.Fields[id] = new VersionedSet(set, version, true);
        merged = Prune(merged, managed, lastSet, shape);
        Update(live, merged, managed, id, shape, reset, force);
        return JsonValues.Equal(live, merged) ? null : merged;
    }

    /// <summary>Updater.prune: what the applier applied last time and applies no more goes, unless another
    /// manager (or this applier's new configuration) owns it.</summary>
    private static JsonObject Prune(JsonObject merged, ManagedSets managed, VersionedSet? lastSet, TypeShape shape)
    {
        if (lastSet is null || lastSet.Set.IsEmpty) return merged;
        FieldSet E(FieldSet s) => ApplyMerge.EnsureNamedFieldsAreMembers(s, shape);
        FieldSet SetOf(JsonNode? v) => E(ObjectFields.ToFieldSet(v, shape));
        var last = E(lastSet.Set);
        var pruned = ApplyMerge.RemoveItems(merged, last, shape);
        // addBackOwnedItems
        var owned = new FieldSet();
        foreach (var (_, vs) in managed.Fields) owned = owned.Union(vs.Set);
        var mergedSet = SetOf(merged);
        pruned = ApplyMerge.RemoveItems(merged, mergedSet.Difference(SetOf(pruned).Union(E(owned))), shape);
        // addBackDanglingItems
        var final = ApplyMerge.RemoveItems(merged, mergedSet.Difference(SetOf(pruned)).Intersection(last), shape);
        return final as JsonObject ?? new JsonObject();
    }

    /// <summary>merge.Updater.Update (no strip, no timestamps): the manager gets what changed, others lose it.</summary>
    internal static void UpdaterUpdate(JsonObject live, JsonObject newObj, ManagedSets managed, ManagerId id, string version, TypeShape shape, FieldSet reset)
    {
        Reconcile(managed, shape);
        var compare = ObjectFields.Compare(live, newObj, shape);
        Update(live, newObj, managed, id, shape, reset, force: true);
        var previous = managed.Fields.TryGetValue(id, out var vs) ? vs.Set : new FieldSet();
        var set = previous.Difference(compare.Removed).Union(compare.Modified).Union(compare.Added).RecursiveDifference(reset);
        if (set.IsEmpty) managed.Fields.Remove(id);
        else managed.Fields[id] = new VersionedSet(set, version, false);
    }

    /// <summary>Updater.update: other managers lose what changed under them (a conflict without force) and what
    /// was removed.</summary>
    private static void Update(JsonObject oldObj, JsonObject newObj, ManagedSets managed, ManagerId workflow, TypeShape shape, FieldSet reset, bool force)
    {
        var compare = ObjectFields.Compare(oldObj, newObj, shape).Exclude(reset);
        var changed = compare.Modified.Union(compare.Added);
        var conflicts = new List<(ManagerId Manager, FieldSet Set)>();
        foreach (var (m, vs) in managed.Fields)
        {
            if (m == workflow) continue;
            var c = vs.Set.Intersection(changed);
            if (!c.IsEmpty) conflicts.Add((m, c));
        }
        if (!force && conflicts.Count > 0)
            throw new ConflictsException([.. conflicts.OrderBy(c => c.Manager.Identifier, StringComparer.Ordinal)
                .SelectMany(c => c.Set.Paths().Select(p => new ApplyConflict(c.Manager, p)))]);
        foreach (var (m, c) in conflicts) managed.Fields[m] = managed.Fields[m] with { Set = managed.Fields[m].Set.Difference(c) };
        if (!compare.Removed.IsEmpty)
            foreach (var m in managed.Fields.Keys.Where(k => k != workflow).ToList())
                managed.Fields[m] = managed.Fields[m] with { Set = managed.Fields[m].Set.Difference(compare.Removed) };
        foreach (var m in managed.Fields.Where(kv => kv.Value.Set.IsEmpty).Select(kv => kv.Key).ToList()) managed.Fields.Remove(m);
    }

    /// <summary>The Update path of the chain for skipNonApplied's "before-first-apply" manager.</summary>
    private static void UpdateTracking(ManagedSets managed, JsonObject oldObj, JsonObject newObj, ManagerId id, string version,
        DateTimeOffset now, TypeShape shape, FieldSet reset)
    {
        var compare = ObjectFields.Compare(oldObj, newObj, shape).Exclude(reset);
        var set = compare.Modified.Union(compare.Added).Difference(compare.Removed).RecursiveDifference(reset).Difference(ManagedFieldsUpdater.StripSet);
        if (set.IsEmpty) return;
        managed.Fields[id] = new VersionedSet(set, version, false);
        managed.Times[id] = now;
    }

    private static void Reconcile(ManagedSets managed, TypeShape shape)
    {
        foreach (var (m, vs) in managed.Fields.ToList())
            if (ObjectFields.Reconcile(vs.Set, shape) is { } fixedSet) managed.Fields[m] = vs with { Set = fixedSet };
    }

    /// <summary>lastAppliedManager.allowedConflictsFromLastApplied: what the annotation holds and the live object
    /// still has as it says; null when there is no usable annotation.</summary>
    private static FieldSet? AllowedFromLastApplied(JsonObject live, ApplyRequest req, TypeShape shape)
    {
        if (LastApplied(live) is not { Length: > 0 } text) return null;
        JsonObject? lastApplied;
        try { lastApplied = JsonNode.Parse(text) as JsonObject; }
        catch (System.Text.Json.JsonException) { return null; }
        if (lastApplied is null || JsonRead.StrOrEmpty(lastApplied, "apiVersion") != req.ApiVersion) return null;
        try
        {
            var set = ObjectFields.ToFieldSet(lastApplied, shape);
            var compare = ObjectFields.Compare(lastApplied, live, shape);
            return set.Difference(compare.Modified).Difference(compare.Added).Difference(compare.Removed);
        }
        catch (ManagedFieldsException) { return null; }
    }

    private static string? LastApplied(JsonObject obj) =>
        (obj["metadata"] as JsonObject)?["annotations"] is JsonObject a ? JsonRead.StrOrEmpty(a, LastAppliedAnnotation) : null;

    private static JsonObject WithoutManagedFields(JsonObject obj)
    {
        var copy = (JsonObject)obj.DeepClone();
        (copy["metadata"] as JsonObject)?.Remove("managedFields");
        return copy;
    }

    private static void Write(JsonObject obj, JsonArray? entries)
    {
        var meta = Meta.Of(obj);
        if (entries is null) meta.Remove("managedFields");
        else Meta.Set(obj, "managedFields", entries);
    }

    private static ManagedSets Copy(ManagedSets m)
    {
        var c = new ManagedSets();
        foreach (var (k, v) in m.Fields) c.Fields[k] = v;
        foreach (var (k, v) in m.Times) c.Times[k] = v;
        return c;
    }

    /// <summary>JSON with every object's keys sorted, as Go marshals a map.</summary>
    private static JsonNode? Sorted(JsonNode? n) => n switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Sorted)]),
        _ => n?.DeepClone(),
    };

    private static string GvkOf(JsonObject obj)
    {
        var apiVersion = JsonRead.StrOrEmpty(obj, "apiVersion");
        var kind = JsonRead.StrOrEmpty(obj, "kind");
        var slash = apiVersion.LastIndexOf('/');
        var (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        return $"{group}/{version}, Kind={kind}";
    }

    /// <summary>objectGVKNN: "namespace/name; group/version, Kind=Kind".</summary>
    private static string ObjectText(JsonObject obj, ApplyRequest req)
    {
        var meta = obj["metadata"] as JsonObject;
        return $"{JsonRead.StrOrEmpty(meta, "namespace")}/{JsonRead.StrOrEmpty(meta, "name")}; {req.GvkText}";
    }

    /// <summary>An error upstream returns unwrapped: a 500 with no reason.</summary>
    private static ApiException Internal(string message) => new(500, "", message) { HasDetails = false };
}

/// <summary>One conflict: a manager owns a path the apply would change.</summary>
internal sealed record ApplyConflict(ManagerId Manager, IReadOnlyList<PathElement> Path);

/// <summary>merge.Conflicts, turned into upstream's 409 (conflict.go NewConflictError).</summary>
internal sealed class ConflictsException(IReadOnlyList<ApplyConflict> conflicts) : Exception("apply conflicts")
{
    public IReadOnlyList<ApplyConflict> Conflicts { get; } = conflicts;

    public ApiException ToApiException()
    {
        var causes = Conflicts.Select(c => new StatusCause("FieldManagerConflict", "conflict with " + PrintManager(c.Manager), ApplyMerge.PathText(c.Path))).ToList();
        string message;
        if (Conflicts.Count == 1)
            message = $"Apply failed with 1 conflict: conflict with {PrintManager(Conflicts[0].Manager)}: {ApplyMerge.PathText(Conflicts[0].Path)}";
        else
        {
            var lines = new List<string>();
            foreach (var group in Conflicts.GroupBy(c => c.Manager.Identifier).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                lines.Add($"conflicts with {PrintManager(group.First().Manager)}:");
                lines.AddRange(group.Select(c => "- " + ApplyMerge.PathText(c.Path)));
            }
            message = $"Apply failed with {Conflicts.Count} conflicts: {string.Join("\n", lines)}";
        }
        return new ApiException(409, "Conflict", message) { Causes = causes };
    }

    /// <summary>printManager: "name", with its subresource, and "using VERSION" for an Update manager.</summary>
    private static string PrintManager(ManagerId m)
    {
        var s = GoText.Quote(m.Manager);
        if (m.Subresource.Length > 0) s += $" with subresource {GoText.Quote(m.Subresource)}";
        if (m.Operation == "Update") s += $" using {m.ApiVersion}";
        return s;
    }
}
