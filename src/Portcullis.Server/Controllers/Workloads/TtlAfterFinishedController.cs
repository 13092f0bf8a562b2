using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// kube-controller-manager 1.33's TTL-after-finished controller (pkg/controller/ttlafterfinished): a finished
/// Job with <c>spec.ttlSecondsAfterFinished</c> is deleted that many seconds after its Complete or Failed
/// condition's transition, its pods with it (foreground propagation with the Job's uid as precondition, as
/// upstream; the garbage collector deletes the pods first). The Job is read fresh before deleting, so a TTL
/// changed meanwhile is honoured. No events (upstream records none).
/// </summary>
public sealed class TtlAfterFinishedController(ControllerContext context)
    : QueueController(context, "ttl-after-finished-controller", context.Informers.For("batch", "jobs"))
{
    protected override void OnChange(InformerEvent e) { }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        if (Primary.Get(ns, name) is not { } job) return;
        if (ExpiredAt(job, ns, name, ct) is null) return;
        // The TTL may be stale: decide again on the Job as stored now.
        var fresh = await Client.TryGetAsync(Primary.Store, ns, name, ct);
        if (fresh is null || ExpiredAt(fresh, ns, name, ct) is null) return;
        try
        {
            await Primary.Store.DeleteAsync(ns, name, new DeleteOptions(User, PreconditionUid: Meta.Uid(fresh), PropagationPolicy: "Foreground"), ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    /// <summary>processTTL: when the TTL has passed, the expiry time; otherwise null (and a sync when it will have).</summary>
    private DateTimeOffset? ExpiredAt(System.Text.Json.Nodes.JsonObject job, string ns, string name, CancellationToken ct)
    {
        if (Meta.IsDeleting(job) || JsonRead.Long(job["spec"], "ttlSecondsAfterFinished") is not { } ttl || !JobConditions.IsFinished(job)) return null;
        // A finished Job without a finish time cannot expire (upstream: "unable to find the time when the Job finished").
        if (JobConditions.FinishTime(job) is not { } finishedAt) return null;
        var expireAt = finishedAt.AddSeconds(ttl);
        var left = expireAt - Time.GetUtcNow();
        if (left <= TimeSpan.Zero) return expireAt;
        Queue.AddAfter(Key(ns, name), left < TimeSpan.FromDays(1) ? left : TimeSpan.FromDays(1), ct);
        return null;
    }
}
