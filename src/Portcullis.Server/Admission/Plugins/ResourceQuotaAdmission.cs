using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Upstream's ResourceQuota admission: a create (or a charged update) is measured by the kind's quota
/// evaluator, checked against every quota of the namespace that tracks it, and charged to their
/// <c>status.used</c> before it is admitted. Charges are written through the status subresource
/// with the quota's resourceVersion; on a conflict the failed quotas are re-read and re-checked
/// (three retries, as upstream), so replicas sharing one store never admit past a limit between
/// them. Within one server a lock per namespace serializes the check and the charge. Quotas whose
/// status the controller has not populated are not enforced (they match on <c>status.hard</c>), and
/// a quota that tracks a resource without a <c>status.used</c> entry for it refuses ("status unknown").
/// </summary>
/// <param name="listQuotas">The ResourceQuotas of a namespace, as stored (with resourceVersion).</param>
/// <param name="updateQuotaStatus">
/// Writes the given quota's status through the status subresource, failing with a 409
/// <see cref="ApiException"/> when its metadata.resourceVersion is no longer current.
/// </param>
/// <param name="coordinator">Shared with the quota controller; a private one when null.</param>
/// <param name="time">For pods past their deletion grace period (not charged).</param>
public sealed class ResourceQuotaAdmission(
    Func<string, CancellationToken, Task<IReadOnlyList<JsonObject>>> listQuotas,
    Func<JsonObject, CancellationToken, Task> updateQuotaStatus,
    QuotaCoordinator? coordinator = null,
    TimeProvider? time = null) : IValidatingAdmission
{
    private const int Retries = 3;

    /// <summary>How the API server's own quota writes are attributed.</summary>
    public static readonly UserInfo Loopback = new("system:apiserver", "", [UserInfo.SystemMasters, UserInfo.AllAuthenticated], UserInfo.NoExtra);

    private readonly QuotaCoordinator _coordinator = coordinator ?? new QuotaCoordinator();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>
    /// The plugin over the resourcequotas store (resolved on first use, so the store may be built
    /// after the admission chain that it is given).
    /// </summary>
    public static ResourceQuotaAdmission ForStore(Func<GenericStore> quotas, QuotaCoordinator? coordinator = null, TimeProvider? time = null)
    {
        var shared = coordinator ?? new QuotaCoordinator();
        var clock = time ?? TimeProvider.System;
        return new(async (ns, ct) =>
            {
                // Most namespaces have no quota: one key read answers that without a listing.
                if (!await quotas().AnyAsync(ns, ct)) return [];
                var list = await quotas().ListAsync(ns, new ListOptions(), ct);
                return list["items"]!.AsArray().Select(i => (JsonObject)i!).ToList();
            },
            async (quota, ct) =>
            {
                var written = await quotas().UpdateAsync(Meta.Namespace(quota), Meta.Name(quota), "status", current =>
                {
                    current["status"] = quota["status"]?.DeepClone();
                    Meta.Of(current)["resourceVersion"] = Meta.ResourceVersion(quota);
                    return current;
                }, new WriteOptions(Loopback), ct);
                // The controller tells this server's charges from other replicas' by their revision.
                if (long.TryParse(Meta.ResourceVersion(written), out var revision)) shared.LocalWrite(revision, clock.GetUtcNow());
            },
            shared, clock);
    }

    public string Name => "ResourceQuota";

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update;

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        var def = r.Resource;
        // Not namespaced, or a namespace itself: nothing to charge.
        if (r.Namespace.Length == 0 || !def.Namespaced) return;
        if (QuotaEvaluators.IsIgnored(def.Group, def.Plural)) return;
        var evaluator = QuotaEvaluators.For(def.Group, def.Plural);
        if (r.Subresource.Length > 0 && !(evaluator is PodEvaluator && r.Subresource == "resize")
            && !(evaluator is PersistentVolumeClaimEvaluator && r.Subresource == "status")) return;
        if (!evaluator.Handles(r)) return;

        // A namespace without quotas charges nothing and takes no lock (most writes); with quotas,
        // charges are made one at a time per namespace, from a listing read under the lock.
        if ((await listQuotas(r.Namespace, ct)).Count == 0) return;
        using var held = await _coordinator.LockAsync(r.Namespace, ct);
        var quotas = await listQuotas(r.Namespace, ct);
        if (quotas.Count == 0) return;
        await ChargeAsync(quotas, r, evaluator, ct);
    }

    private async Task ChargeAsync(IReadOnlyList<JsonObject> quotas, AdmissionRequest r, QuotaEvaluator evaluator, CancellationToken ct)
    {
        var working = quotas;
        for (var remaining = Retries; ; remaining--)
        {
            var charges = CheckRequest(working, r, evaluator, _time.GetUtcNow());
            if (r.DryRun) return;
            var changed = charges.Where(c => !ResourceLists.Equal(ResourceLists.Read(working[c.Index]["status"]?["used"]), c.Used)).ToList();
            if (changed.Count == 0) return;

            var failed = new HashSet<string>(StringComparer.Ordinal);
            ApiException? last = null;
            foreach (var (index, used) in changed)
            {
                var quota = (JsonObject)working[index].DeepClone();
                var status = quota["status"] as JsonObject ?? new JsonObject();
                status["used"] = ResourceLists.ToJson(used);
                quota["status"] = status;
                try { await updateQuotaStatus(quota, ct); }
                catch (ApiException e) when (e.Code is 409 or 404)
                {
                    failed.Add(Meta.Name(quota));
                    last = e;
                }
            }
            if (failed.Count == 0)
            {
                if (r.Operation == Operation.Create)
                    _coordinator.AddPending(r.Namespace, r.Resource.Group, r.Resource.Plural, r.Name, r.Object, _time.GetUtcNow());
                return;
            }
            if (remaining <= 0) throw last!;
            // Re-read: only the quotas whose update failed are checked again (the rest are charged).
            var fresh = await listQuotas(r.Namespace, ct);
            working = fresh.Where(q => failed.Contains(Meta.Name(q))).ToList();
        }
    }

    /// <summary>
    /// CheckRequest: the new usage of each quota the object counts against, or a Forbidden refusal.
    /// </summary>
    internal static List<(int Index, Dictionary<string, Qty> Used)> CheckRequest(
        IReadOnlyList<JsonObject> quotas, AdmissionRequest r, QuotaEvaluator evaluator, DateTimeOffset now)
    {
        var obj = r.Object;
        var interesting = new List<int>();
        for (var i = 0; i < quotas.Count; i++)
        {
            var quota = quotas[i];
            if (!evaluator.Matches(quota, obj)) continue;
            var name = Meta.Name(quota);
            var restricted = evaluator.MatchingResources(ResourceLists.Read(quota["status"]?["hard"]).Keys);
            if (evaluator.Constraints(restricted, obj) is { } missing)
                throw Forbidden(r, $"failed quota: {name}: {missing}");
            if (!HasUsageStats(quota, restricted))
                throw Forbidden(r, $"status unknown for quota: {name}, resources: {ResourceLists.PrettyNames(restricted)}");
            interesting.Add(i);
        }

        var delta = evaluator.Usage(obj, now);
        if (ResourceLists.Negative(delta) is { Count: > 0 } negative)
            throw Forbidden(r, $"quota usage is negative for resource(s): {ResourceLists.PrettyNames(negative)}");
        if (r.Operation == Operation.Update)
        {
            if (r.OldObject is null) throw Forbidden(r, "unable to get previous usage since prior version of object was not found");
            // Charge the difference unless this may be a create-on-update.
            if (Meta.ResourceVersion(r.OldObject).Length > 0)
                delta = ResourceLists.SubtractNonNegative(delta, evaluator.Usage(r.OldObject, now));
        }
        if (ResourceLists.IsZero(delta) || interesting.Count == 0) return [];

        var result = new List<(int, Dictionary<string, Qty>)>();
        foreach (var i in interesting)
        {
            var quota = quotas[i];
            var hard = ResourceLists.Read(quota["status"]?["hard"]);
            var used = ResourceLists.Read(quota["status"]?["used"]);
            var requested = ResourceLists.Mask(delta, hard.Keys);
            var newUsage = ResourceLists.Add(used, requested);
            var (ok, exceeded) = ResourceLists.LessThanOrEqual(ResourceLists.Mask(newUsage, requested.Keys), hard);
            if (!ok)
            {
                throw Forbidden(r, $"exceeded quota: {Meta.Name(quota)}, requested: {ResourceLists.Pretty(ResourceLists.Mask(requested, exceeded))}, " +
                    $"used: {ResourceLists.Pretty(ResourceLists.Mask(used, exceeded))}, limited: {ResourceLists.Pretty(ResourceLists.Mask(hard, exceeded))}");
            }
            result.Add((i, newUsage));
        }
        return result;
    }

    /// <summary>Every tracked resource the quota limits has a recorded usage.</summary>
    private static bool HasUsageStats(JsonObject quota, IReadOnlyCollection<string> tracked)
    {
        var used = quota["status"]?["used"] as JsonObject;
        foreach (var (k, _) in (quota["status"]?["hard"] as JsonObject) ?? [])
            if (tracked.Contains(k) && used?.ContainsKey(k) != true) return false;
        return true;
    }

    /// <summary>admission.NewForbidden: the request's name, else the object's name or generateName, else "Unknown".</summary>
    internal static ApiException Forbidden(AdmissionRequest r, string reason)
    {
        var name = r.Name;
        if (name.Length == 0)
        {
            var m = r.Object["metadata"];
            name = JsonRead.StrOrEmpty(m?["name"]);
            if (name.Length == 0) name = JsonRead.StrOrEmpty(m?["generateName"]);
            if (name.Length == 0) name = "Unknown";
        }
        return ApiErrors.Forbidden(r.Resource.Plural, r.Resource.Group, name, reason);
    }
}
