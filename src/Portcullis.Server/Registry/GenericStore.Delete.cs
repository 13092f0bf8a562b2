using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Registry;

/// <summary>metav1.DeleteOptions as far as the store uses them.</summary>
public sealed record DeleteOptions(
    Authentication.UserInfo User,
    string? PreconditionUid = null,
    string? PreconditionResourceVersion = null,
    string? PropagationPolicy = null,
    long? GracePeriodSeconds = null,
    bool DryRun = false)
{
    /// <summary>Admission's warnings, audit annotations and refusals, when the caller collects them (as <see cref="WriteOptions"/>).</summary>
    public List<string>? Warnings { get; init; }
    public Dictionary<string, string>? AuditAnnotations { get; init; }
    public List<string>? Violations { get; init; }
}

/// <summary>The outcome of a delete: the object, and whether it is gone or only marked.</summary>
public readonly record struct DeleteResult(JsonObject Object, bool Deleted);

public sealed partial class GenericStore
{
    public async Task<DeleteResult> DeleteAsync(string ns, string name, DeleteOptions opts, CancellationToken ct = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var currentKv = await kv.GetAsync(Key(ns, name), ct);
            if (currentKv is null) throw ApiErrors.NotFound(def.Plural, def.Group, name);
            var current = Decode(currentKv);
            CheckPreconditions(current, opts);

            if (opts.PropagationPolicy is { } p && p is not ("Orphan" or "Background" or "Foreground"))
                throw ApiErrors.Invalid("DeleteOptions", "meta.k8s.io", "", [FieldError.NotSupported("propagationPolicy", p, ["Foreground", "Background", "Orphan", "nil"])]);

            // rest.AdmissionToValidateObjectDeleteFunc: the mutating plugins, then the validating ones, see the delete.
            var deleteRequest = Request(Operation.Delete, "", ns, current, current, new WriteOptions(opts.User, opts.DryRun) { Warnings = opts.Warnings, AuditAnnotations = opts.AuditAnnotations, Violations = opts.Violations }, DeleteOptionsObject(opts));
            await admission.MutateAsync(deleteRequest, ct);
            await admission.ValidateAsync(deleteRequest, ct);
            var finalizers = Meta.Finalizers(current);
            if (opts.PropagationPolicy == "Orphan" && !finalizers.Contains("orphan")) finalizers.Add("orphan");
            if (opts.PropagationPolicy == "Foreground" && !finalizers.Contains("foregroundDeletion")) finalizers.Add("foregroundDeletion");
            if (!Meta.IsDeleting(current))
                foreach (var f in def.Strategy.DeletionFinalizers(current))
                    if (!finalizers.Contains(f)) finalizers.Add(f);
            // Graceful deletion (pods on a node): the object stays, marked, for its grace period;
            // whoever runs it (the node) deletes it for good with a grace period of 0.
            var grace = def.Strategy.GracePeriod(current, opts.GracePeriodSeconds);
            if (grace > 0)
            {
                var curGrace = Meta.Of(current)["deletionGracePeriodSeconds"] is JsonValue gv && ObjectShaper.TryInt(gv, out var g) ? g : (long?)null;
                if (Meta.IsDeleting(current) && curGrace is not null && curGrace <= grace) return new DeleteResult(current, false);
                var graceful = (JsonObject)current.DeepClone();
                // rest.BeforeDelete: now + time.Duration(grace)*time.Second, in Go's wrapping int64
                // arithmetic (a period of 9223372036854775807 s lands one second in the past).
                var now = time.GetUtcNow();
                var at = GoTime.AddSeconds(now, grace);
                if (Meta.IsDeleting(current) && curGrace is > 0 && DeletionTimestamp(current) is { } was)
                {
                    // Shortening a pending graceful deletion moves the old deadline back by the old period,
                    // then forward by the new one; never into the past (then 1 s, still graceful).
                    at = GoTime.Add(GoTime.Add(was, -GoTime.Seconds(curGrace.Value)), GoTime.Seconds(grace));
                    if (at < now) { at = now; grace = 1; }
                }
                Meta.Set(graceful, "deletionTimestamp", ObjectShaper.FormatTime(at));
                Meta.Set(graceful, "deletionGracePeriodSeconds", grace);
                if (finalizers.Count > 0) Meta.Set(graceful, "finalizers", new JsonArray(finalizers.Select(f => (JsonNode)f!).ToArray()));
                if (opts.DryRun) return new DeleteResult(graceful, false);
                var gup = await kv.UpdateAsync(Key(ns, name), Encode(def.Shape(graceful)), currentKv.ModRevision, ct);
                if (gup.Succeeded) return new DeleteResult(Decode(gup.Current!), false);
                continue;
            }
            var held = finalizers.Count > 0 || (def.HasSpecFinalizers && Api.Resources.Core.NamespaceKind.SpecFinalizers(current).Count > 0);
            if (held)
            {
                // Finalizers hold the object: mark it, and whoever owns each finalizer removes it.
                if (Meta.IsDeleting(current) && finalizers.SequenceEqual(Meta.Finalizers(current)))
                    return new DeleteResult(current, false);
                var marked = (JsonObject)current.DeepClone();
                def.Strategy.OnDeletionMarked(marked);
                if (!Meta.IsDeleting(marked))
                {
                    Meta.Set(marked, "deletionTimestamp", ObjectShaper.FormatTime(time.GetUtcNow()));
                    Meta.Set(marked, "deletionGracePeriodSeconds", 0);
                }
                if (finalizers.Count > 0) Meta.Set(marked, "finalizers", new JsonArray(finalizers.Select(f => (JsonNode)f!).ToArray()));
                if (opts.DryRun) return new DeleteResult(marked, false);
                var upd = await kv.UpdateAsync(Key(ns, name), Encode(def.Shape(marked)), currentKv.ModRevision, ct);
                if (upd.Succeeded) return new DeleteResult(Decode(upd.Current!), false);
            }
            else
            {
                if (opts.DryRun) return new DeleteResult(current, true);
                var del = await kv.DeleteAsync(Key(ns, name), currentKv.ModRevision, ct);
                if (del.Succeeded)
                {
                    Forget(Key(ns, name));
                    // Upstream's service REST releases the cluster IP and node ports once the delete is stored.
                    if (allocator is not null) await allocator.ReleaseAsync(current, CancellationToken.None);
                    return new DeleteResult(Decode(del.Current!), true);
                }
            }
            if (opts.PreconditionResourceVersion is not null || attempt > 20)
                throw ApiErrors.Conflict(def.Plural, def.Group, name, ApiErrors.OptimisticLockMessage);
        }
    }

    private static DateTimeOffset? DeletionTimestamp(JsonObject obj) =>
        Meta.Of(obj)["deletionTimestamp"] is JsonValue v && v.TryGetValue<string>(out var s)
        && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private void CheckPreconditions(JsonObject current, DeleteOptions opts)
    {
        var name = Meta.Name(current);
        if (opts.PreconditionUid is { Length: > 0 } uid && uid != Meta.Uid(current))
            throw ApiErrors.Conflict(def.Plural, def.Group, name,
                $"Precondition failed: UID in precondition: {uid}, UID in object meta: {Meta.Uid(current)}");
        if (opts.PreconditionResourceVersion is { Length: > 0 } rv && rv != Meta.ResourceVersion(current))
            throw ApiErrors.Conflict(def.Plural, def.Group, name,
                $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {Meta.ResourceVersion(current)}");
    }

    /// <summary>The DeleteOptions admission sees (meta.k8s.io/v1), with what the request set.</summary>
    private static JsonObject DeleteOptionsObject(DeleteOptions opts)
    {
        var o = new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "meta.k8s.io/v1" };
        if (opts.GracePeriodSeconds is { } grace) o["gracePeriodSeconds"] = grace;
        if (opts.PreconditionUid is not null || opts.PreconditionResourceVersion is not null)
        {
            var pre = new JsonObject();
            if (opts.PreconditionUid is { } uid) pre["uid"] = uid;
            if (opts.PreconditionResourceVersion is { } rv) pre["resourceVersion"] = rv;
            o["preconditions"] = pre;
        }
        if (opts.PropagationPolicy is { } p) o["propagationPolicy"] = p;
        if (opts.DryRun) o["dryRun"] = new JsonArray("All");
        return o;
    }
}
