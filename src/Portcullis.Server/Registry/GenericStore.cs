using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Registry.ManagedFields;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Serialization;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Registry;

/// <summary>Options common to writes (create, update): who writes, and whether for real.</summary>
public sealed record WriteOptions(UserInfo User, bool DryRun = false)
{
    /// <summary>The managedFields manager of this write (the fieldManager parameter or the user agent's name).</summary>
    public string FieldManager { get; init; } = "unknown";
    /// <summary>Admission warnings for the client (Warning: 299 headers), when the caller collects them.</summary>
    public List<string>? Warnings { get; init; }
    /// <summary>Audit annotations admission adds (webhooks, policies), when the caller collects them.</summary>
    public Dictionary<string, string>? AuditAnnotations { get; init; }
    /// <summary>Every refusal validating admission found (not only the one returned), when the caller collects them.</summary>
    public List<string>? Violations { get; init; }
    /// <summary>Internal writers (binding) that must change spec through the status path.</summary>
    internal bool AllowSpec { get; init; }
    /// <summary>The request already set managedFields (server-side apply): the store does not track this write.</summary>
    internal bool ManagedFieldsDone { get; init; }
}

/// <summary>
/// Generic CRUD for every resource: metadata rules, preconditions, optimistic concurrency,
/// finalizers and status/spec separation live here once; per-kind behaviour comes from the
/// <see cref="ResourceDefinition"/>'s strategy hooks.
/// </summary>
public sealed partial class GenericStore(ResourceDefinition def, IKeyValueBackend kv, TimeProvider time, AdmissionChain admission,
    IObjectAllocator? allocator = null)
{
    private const string GenerateNameChars = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>Objects as lists serve them, kept per stored revision.</summary>
    private readonly ServedItems _served = new();

    /// <summary>How many objects' served forms are kept (tests).</summary>
    internal int ServedCount => _served.Count;

    public ResourceDefinition Definition => def;

    /// <summary>The admission chain this store's writes run (handlers of subresources the store does not write run it too).</summary>
    public AdmissionChain Admission => admission;

    public string Key(string ns, string name) => def.Namespaced ? $"{def.KeyPrefix}{ns}/{name}" : $"{def.KeyPrefix}{name}";

    public string Prefix(string ns) => def.Namespaced && ns.Length > 0 ? $"{def.KeyPrefix}{ns}/" : def.KeyPrefix;

    /// <summary>Served in its storage version: a stored value's served bytes are its own with the revision spliced in (<see cref="ServedItem.FromStored"/>).</summary>
    private bool Spliceable => def.FromStorage is null;

    /// <summary>Decodes a stored value and stamps its resourceVersion.</summary>
    public JsonObject Decode(KeyValue kv)
    {
        var obj = (JsonObject)JsonParser.Parse(kv.Value)!;
        if (def.FromStorage is { } fromStorage) obj = fromStorage(obj);
        Meta.Of(obj)["resourceVersion"] = kv.ModRevision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return obj;
    }

    /// <summary>
    /// What a successful write returns: the object as written, with the revision it got. When the
    /// storage form is the served form, that is the encoded object itself, and it is not parsed again.
    /// </summary>
    private JsonObject Written(JsonObject written, KeyValue stored)
    {
        if (def.ToStorage is not null || def.FromStorage is not null) return Decode(stored);
        Meta.Of(written)["resourceVersion"] = stored.ModRevision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return written;
    }

    /// <summary>
    /// An object not written (dry run, no-op update) as a write would have returned it: through the
    /// storage version and back when that is another version (autoscaling/v1 HPAs get their default
    /// cpu target and round-trip annotations there).
    /// </summary>
    private JsonObject RoundTripped(JsonObject obj)
    {
        if (def.ToStorage is not { } toStorage || def.FromStorage is not { } fromStorage) return obj;
        var rv = Meta.ResourceVersion(obj);
        var result = fromStorage(toStorage(obj));
        if (rv.Length > 0) Meta.Set(result, "resourceVersion", rv);
        return result;
    }

    /// <summary>Whether any object is stored under the namespace (all namespaces: ""); one key read.</summary>
    public async ValueTask<bool> AnyAsync(string ns, CancellationToken ct = default) =>
        (await kv.RangeAsync(Prefix(ns), null, 1, 0, ct)).Items.Count > 0;

    /// <summary>Encodes for storage (in the storage version), with a placeholder resourceVersion that keeps its position.</summary>
    private byte[] Encode(JsonObject obj)
    {
        Meta.Set(obj, "resourceVersion", "0");
        return GoJsonWriter.ToBytes(def.ToStorage is { } toStorage ? toStorage(obj) : obj);
    }

    public async Task<JsonObject> GetAsync(string ns, string name, CancellationToken ct = default)
    {
        var current = await kv.GetAsync(Key(ns, name), ct);
        if (current is null) throw ApiErrors.NotFound(def.Plural, def.Group, name);
        return Decode(current);
    }

    /// <summary>The object as <see cref="GetAsync"/> returns it, already encoded as compact JSON (made once per revision).</summary>
    internal async Task<ServedItem> GetServedAsync(string ns, string name, CancellationToken ct = default)
    {
        var current = await kv.GetAsync(Key(ns, name), ct);
        if (current is null) throw ApiErrors.NotFound(def.Plural, def.Group, name);
        return _served.Get(current, Decode, Spliceable);
    }

    /// <summary>The view caches read through this store, told when it deletes an object (copy on write).</summary>
    private ViewCache[] _views = [];
    private readonly Lock _viewsLock = new();

    /// <summary>
    /// A typed, read-only view of the object (<paramref name="cache"/>'s maker applied to it as
    /// <see cref="GetAsync"/> returns it), made once per stored revision; null when the object does
    /// not exist, and then a kept view of it is dropped. Each call reads the current revision, so a
    /// view is never older than the storage.
    /// </summary>
    public async ValueTask<T?> GetViewAsync<T>(string ns, string name, ViewCache<T> cache, CancellationToken ct = default) where T : class
    {
        var key = Key(ns, name);
        var current = await kv.GetAsync(key, ct);
        if (current is null)
        {
            cache.Forget(key);
            return null;
        }
        Attach(cache);
        return cache.Get(current, Decode);
    }

    private void Attach(ViewCache cache)
    {
        foreach (var v in Volatile.Read(ref _views))
            if (ReferenceEquals(v, cache)) return;
        lock (_viewsLock)
        {
            if (Array.IndexOf(_views, cache) < 0) Volatile.Write(ref _views, [.. _views, cache]);
        }
    }

    /// <summary>Drops what is kept of an object this store deleted: its served form and its views.</summary>
    private void Forget(string key)
    {
        _served.Forget(key);
        foreach (var v in Volatile.Read(ref _views)) v.Forget(key);
    }

    /// <summary>Runs of an update after lost races before it is refused with a 409 (32 writers on one object lost 20 in a row).</summary>
    public const int MaxUpdateAttempts = 1000;

    /// <summary>Upstream's maxNameGenerationCreateAttempts: tries of a create whose name the server generates.</summary>
    public const int MaxNameGenerationCreateAttempts = 8;

    /// <summary>Hook for tests: replaces the random suffix of generated names.</summary>
    internal Func<int, string>? NameSuffix { get; init; }

    /// <summary>
    /// Creates an object. When the server generates its name (generateName and no name), a name
    /// that is already taken is generated again and the whole create re-run, up to
    /// <see cref="MaxNameGenerationCreateAttempts"/> times, as upstream's RetryGenerateName (GA in
    /// 1.32); the last refusal is upstream's "not able to generate a unique name" 409. The store
    /// takes <paramref name="obj"/> over: it is defaulted, mutated and shaped in place.
    /// </summary>
    /// <param name="authorizeCreate">
    /// A write that turns into a create (apply, PUT) asks for the create verb here, once the object is
    /// valid and before validating admission (upstream's createValidation wrapped in withAuthorization).
    /// </param>
    public async Task<JsonObject> CreateAsync(string ns, JsonObject obj, WriteOptions opts, CancellationToken ct = default,
        Func<Task>? authorizeCreate = null)
    {
        if (Meta.Name(obj).Length > 0 || JsonRead.StrOrEmpty(Meta.Of(obj), "generateName").Length == 0)
            return await CreateOnceAsync(ns, obj, opts, ct, authorizeCreate);
        for (var attempt = 1; ; attempt++)
        {
            var candidate = (JsonObject)obj.DeepClone();
            try { return await CreateOnceAsync(ns, candidate, opts, ct, authorizeCreate); }
            catch (ApiException e) when (e.Code == 409 && e.Reason == "AlreadyExists")
            {
                if (attempt >= MaxNameGenerationCreateAttempts)
                    throw ApiErrors.GenerateNameConflict(def.Plural, def.Group, Meta.Name(candidate));
            }
        }
    }

    private async Task<JsonObject> CreateOnceAsync(string ns, JsonObject obj, WriteOptions opts, CancellationToken ct, Func<Task>? authorizeCreate)
    {
        var now = time.GetUtcNow();
        var m = Meta.Of(obj);
        if (def.Namespaced) Meta.Set(obj, "namespace", ns);
        else Meta.Remove(obj, "namespace");
        if (Meta.Name(obj).Length == 0 && JsonRead.StrOrEmpty(Meta.Of(obj), "generateName") is { Length: > 0 } gen)
            Meta.Set(obj, "name", gen + (NameSuffix?.Invoke(5) ?? RandomSuffix(5)));
        Meta.Set(obj, "uid", Guid.NewGuid().ToString());
        Meta.Set(obj, "creationTimestamp", ObjectShaper.FormatTime(now));
        Meta.Remove(obj, "deletionTimestamp");
        Meta.Remove(obj, "deletionGracePeriodSeconds");
        Meta.Remove(obj, "selfLink");
        Meta.Remove(obj, "resourceVersion");
        if (def.TracksGeneration) Meta.Set(obj, "generation", 1);
        else Meta.Remove(obj, "generation");
        def.Strategy.Default(obj);
        // managedFields record what the client set (with defaults), before admission adds its part.
        obj = def.Reshape(obj);
        if (!opts.ManagedFieldsDone)
            ManagedFieldsUpdater.Update(obj, null, opts.FieldManager, def.GroupVersion, "", time.GetUtcNow(), def.Schema, def.HasStatus, def.ManagedFieldsOptions);
        await admission.MutateAsync(Request(Operation.Create, "", ns, obj, null, opts), ct);
        def.Strategy.PrepareForCreate(obj, new StrategyContext(time) { User = opts.User });
        var errs = MetadataValidation.ValidateCreate(def, obj);
        errs.AddRange(def.Strategy.Validate(obj, null));
        if (errs.Count > 0) throw ApiErrors.Invalid(def.Kind, def.Group, Meta.Name(obj), errs);
        if (authorizeCreate is not null) await authorizeCreate();
        await admission.ValidateAsync(Request(Operation.Create, "", ns, obj, null, opts), ct);
        // The store's key function (NamespaceKeyFunc / NoNamespaceKeyFunc): a name that is no path
        // segment is a 400, for kinds whose validation lets any name through (CSRs).
        if (NameValidation.IsValidPathSegmentName(Meta.Name(obj)) is { Count: > 0 } badName)
            throw ApiErrors.BadRequest($"Name parameter invalid: {Serialization.GoText.Quote(Meta.Name(obj))}: {string.Join(";", badName)}");

        if (allocator is not null) await allocator.AllocateAsync(obj, opts.DryRun, ct);
        var name = Meta.Name(obj);
        var shaped = def.Reshape(obj);
        if (opts.DryRun)
        {
            if (await kv.GetAsync(Key(ns, name), ct) is not null) throw ApiErrors.AlreadyExists(def.Plural, def.Group, name);
            return RoundTripped(shaped);
        }
        WriteResult result;
        try { result = await kv.CreateAsync(Key(ns, name), Encode(shaped), ct); }
        catch when (allocator is not null)
        {
            await allocator.ReleaseAsync(obj, CancellationToken.None);
            throw;
        }
        if (!result.Succeeded)
        {
            // What this create allocated goes back (upstream's service REST releases on a failed create).
            if (allocator is not null) await allocator.ReleaseAsync(obj, CancellationToken.None);
            throw ApiErrors.AlreadyExists(def.Plural, def.Group, name);
        }
        return Written(shaped, result.Current!);
    }

    /// <summary>
    /// Replaces an object (PUT) or its status. <paramref name="transform"/> turns the current
    /// object into the desired one; it is re-run on a lost race when the caller set no
    /// resourceVersion precondition (as upstream's GuaranteedUpdate).
    /// </summary>
    public async Task<JsonObject> UpdateAsync(string ns, string name, string subresource,
        Func<JsonObject, JsonObject> transform, WriteOptions opts, CancellationToken ct = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var currentKv = await kv.GetAsync(Key(ns, name), ct);
            if (currentKv is null) throw ApiErrors.NotFound(def.Plural, def.Group, name);
            var old = Decode(currentKv);
            var desired = transform((JsonObject)old.DeepClone());
            var desiredRv = Meta.ResourceVersion(desired);
            // resourceVersion "0" parses to 0 upstream: no precondition, an unconditional update, when the
            // kind's strategy allows one (AllowUnconditionalUpdate). Otherwise store.go's Update refuses it,
            // naming the resource (not the kind) in the error, as upstream's qualifiedKind does.
            if (desiredRv == "0") desiredRv = "";
            if (desiredRv.Length == 0 && !def.AllowUnconditionalUpdate)
                throw ApiErrors.Invalid(def.Plural, def.Group, name,
                    [FieldError.Invalid("metadata.resourceVersion", "0x0", "must be specified for an update", quoted: false)]);
            if (desiredRv.Length > 0 && desiredRv != Meta.ResourceVersion(old))
                throw ApiErrors.Conflict(def.Plural, def.Group, name, ApiErrors.OptimisticLockMessage);

            def.Strategy.Default(desired);
            if (!opts.AllowSpec)
            {
                // An explicit empty managedFields list resets tracking (isResetManagedFields); reshaping drops empty lists.
                var reset = Meta.Of(desired)["managedFields"] is JsonArray { Count: 0 };
                desired = def.Reshape(desired);
                if (reset) Meta.Set(desired, "managedFields", new JsonArray());
                if (!opts.ManagedFieldsDone)
                    ManagedFieldsUpdater.Update(desired, old, opts.FieldManager, def.GroupVersion, subresource is "status" ? "status" : subresource, time.GetUtcNow(), def.Schema, def.HasStatus, def.ManagedFieldsOptions);
            }
            await admission.MutateAsync(Request(Operation.Update, subresource, ns, desired, old, opts), ct);
            var obj = opts.AllowSpec ? desired : PrepareForUpdate(desired, old, subresource);
            def.Strategy.PrepareForUpdate(obj, old, new StrategyContext(time) { User = opts.User, Subresource = subresource });
            var errs = MetadataValidation.ValidateUpdate(def, obj, old);
            // Internal spec writes through the status path (binding) bypass the kind's update rules, as upstream's.
            if (!opts.AllowSpec) errs.AddRange(def.Strategy.ValidateUpdate(obj, old, subresource));
            if (errs.Count > 0) throw ApiErrors.Invalid(def.Kind, def.Group, name, errs);
            if (!opts.AllowSpec)
            {
                // store.go's Update: an unconditional update carries the stored resourceVersion (Versioner.UpdateObject),
                // and a write that changes nothing but managedFields timestamps keeps the stored ones
                // (IgnoreManagedFieldsTimestampsTransformer), so that it writes nothing.
                if (Meta.ResourceVersion(obj) is "" or "0") Meta.Set(obj, "resourceVersion", Meta.ResourceVersion(old));
                ManagedFieldsUpdater.RevertTimestampOnlyChanges(obj, old);
            }
            await admission.ValidateAsync(Request(Operation.Update, subresource, ns, obj, old, opts), ct);

            var shaped = def.Reshape(obj);
            if (def.TracksGeneration && SpecChanged(shaped, old))
                Meta.Set(shaped, "generation", (Meta.Of(old)["generation"]?.GetValue<long>() ?? 0) + 1);

            // The last finalizer removed from an object being deleted: it goes now.
            if (Meta.IsDeleting(shaped) && Meta.Finalizers(shaped).Count == 0
                && (!def.HasSpecFinalizers || Api.Resources.Core.NamespaceKind.SpecFinalizers(shaped).Count == 0))
            {
                if (opts.DryRun) return shaped;
                var del = await kv.DeleteAsync(Key(ns, name), currentKv.ModRevision, ct);
                if (del.Succeeded)
                {
                    Forget(Key(ns, name));
                    if (allocator is not null) await allocator.ReleaseAsync(old, CancellationToken.None);
                    return Decode(del.Current!);
                }
                continue; // lost a race: the precondition, if any, is checked again on the new object
            }
            var bytes = Encode(shaped);
            // A no-op update writes nothing and keeps the resourceVersion, as upstream; unless the stored value is stale
            // (encrypted with an older key or provider), which is rewritten with the current one (store.go's GuaranteedUpdate).
            if ((bytes.AsSpan().SequenceEqual(currentKv.Value) && !currentKv.Stale) || opts.DryRun)
            {
                shaped = RoundTripped(shaped);
                Meta.Of(shaped)["resourceVersion"] = Meta.ResourceVersion(old);
                return shaped;
            }
            var result = await kv.UpdateAsync(Key(ns, name), bytes, currentKv.ModRevision, ct);
            if (result.Succeeded) return Written(shaped, result.Current!);
            // Lost a race: run again on the new current object, as upstream's GuaranteedUpdate does. A
            // caller's resourceVersion precondition is checked again at the top (a PUT with a stale one is
            // a 409); a patch without one is re-applied to the new object, so it is not refused.
            // Upstream retries without a bound; a bound this high is only a guard against a livelock.
            if (attempt >= MaxUpdateAttempts)
                throw ApiErrors.Conflict(def.Plural, def.Group, name, ApiErrors.OptimisticLockMessage);
        }
    }

    private JsonObject PrepareForUpdate(JsonObject desired, JsonObject old, string subresource)
    {
        var obj = PrepareSubresource(desired, old, subresource);
        // Subresource writes start from the stored object; managedFields are the ones just computed.
        if (subresource.Length > 0 && Meta.Of(desired)["managedFields"] is { } mf) Meta.Set(obj, "managedFields", mf.DeepClone());
        return obj;
    }

    private JsonObject PrepareSubresource(JsonObject desired, JsonObject old, string subresource)
    {
        JsonObject obj;
        if (subresource == "finalize")
        {
            // /finalize changes spec.finalizers only.
            obj = (JsonObject)old.DeepClone();
            var spec = obj["spec"] as JsonObject ?? new JsonObject();
            spec["finalizers"] = desired["spec"]?["finalizers"]?.DeepClone();
            obj["spec"] = spec;
            Meta.Of(obj)["resourceVersion"] = Meta.ResourceVersion(desired);
        }
        else if (subresource == "approval")
        {
            // CSR approval changes the Approved/Denied conditions only.
            obj = (JsonObject)old.DeepClone();
            var status = obj["status"] as JsonObject ?? new JsonObject();
            status["conditions"] = desired["status"]?["conditions"]?.DeepClone();
            obj["status"] = status;
            Meta.Of(obj)["resourceVersion"] = Meta.ResourceVersion(desired);
        }
        else if (subresource == "status" && def.CustomShape is not null)
        {
            // A custom object's status subresource changes status only (apiextensions' statusStrategy).
            obj = (JsonObject)old.DeepClone();
            obj["status"] = desired["status"]?.DeepClone();
            Meta.Of(obj)["resourceVersion"] = Meta.ResourceVersion(desired);
        }
        else if (subresource == "status")
        {
            // The built-in status strategies: the request's metadata and status over the stored spec (and
            // whatever else the kind holds), less the metadata a kind's status strategy restores (pods:
            // ownerReferences; deployments: labels; ResetFields.StatusMetadata).
            obj = desired;
            foreach (var key in obj.Select(kv => kv.Key).Where(k => k is not ("metadata" or "status" or "apiVersion" or "kind") && !old.ContainsKey(k)).ToList())
                obj.Remove(key);
            foreach (var (key, value) in old)
                if (key is not ("metadata" or "status" or "apiVersion" or "kind")) obj[key] = value?.DeepClone();
            foreach (var path in ManagedFields.ResetFields.StatusMetadata(def.Schema))
            {
                if (Meta.Of(old)[path] is { } kept) Meta.Set(obj, path, kept.DeepClone());
                else Meta.Remove(obj, path);
            }
        }
        else
        {
            obj = desired;
            // The main resource ignores status changes when status is a subresource.
            if (def.HasStatus) obj["status"] = old["status"]?.DeepClone();
            if (def.HasSpecFinalizers && obj["spec"] is JsonObject spec) spec["finalizers"] = old["spec"]?["finalizers"]?.DeepClone();
        }
        var m = Meta.Of(obj);
        var om = Meta.Of(old);
        if (JsonRead.StrOrEmpty(m, "uid").Length == 0) Meta.Set(obj, "uid", JsonRead.StrOrEmpty(om, "uid"));
        if (def.Namespaced && JsonRead.StrOrEmpty(m, "namespace").Length == 0) Meta.Set(obj, "namespace", JsonRead.StrOrEmpty(om, "namespace"));
        Meta.Set(obj, "creationTimestamp", om["creationTimestamp"]?.DeepClone());
        Meta.Set(obj, "deletionTimestamp", om["deletionTimestamp"]?.DeepClone());
        Meta.Set(obj, "deletionGracePeriodSeconds", om["deletionGracePeriodSeconds"]?.DeepClone());
        Meta.Set(obj, "generation", om["generation"]?.DeepClone());
        Meta.Remove(obj, "selfLink");
        return obj;
    }

    private static bool SpecChanged(JsonObject a, JsonObject b)
    {
        foreach (var (k, v) in a)
        {
            if (k is "metadata" or "status" or "kind" or "apiVersion") continue;
            if (!JsonNode.DeepEquals(v, b[k])) return true;
        }
        foreach (var (k, _) in b)
            if (k is not ("metadata" or "status" or "kind" or "apiVersion") && !a.ContainsKey(k)) return true;
        return false;
    }

    private AdmissionRequest Request(Operation op, string sub, string ns, JsonObject obj, JsonObject? old, WriteOptions opts, JsonObject? options = null) =>
        new(op, def, sub, def.Namespaced ? ns : "", Meta.Name(obj), obj, old, opts.User, opts.DryRun)
        {
            Warnings = opts.Warnings,
            AuditAnnotations = opts.AuditAnnotations,
            Violations = opts.Violations,
            Options = options ?? WriteOptionsObject(op == Operation.Create ? "CreateOptions" : "UpdateOptions", opts),
        };

    /// <summary>The CreateOptions/UpdateOptions admission sees (dryRun and fieldManager as the request gave them).</summary>
    private static JsonObject WriteOptionsObject(string kind, WriteOptions opts)
    {
        var o = new JsonObject { ["kind"] = kind, ["apiVersion"] = "meta.k8s.io/v1" };
        if (opts.DryRun) o["dryRun"] = new JsonArray("All");
        if (opts.FieldManager != "unknown") o["fieldManager"] = opts.FieldManager;
        return o;
    }

    private static string RandomSuffix(int n)
    {
        Span<char> c = stackalloc char[n];
        for (var i = 0; i < n; i++) c[i] = GenerateNameChars[Random.Shared.Next(GenerateNameChars.Length)];
        return new string(c);
    }
}
