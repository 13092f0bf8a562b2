using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Events;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers.LeaderElection;

/// <summary>
/// The lock an elector takes (client-go resourcelock.Interface). Get, Create and Update fail with the store's
/// <see cref="ApiException"/> (404 on Get when there is no lock; 409 on Create when someone else created it, on Update
/// when the lock changed since this lock last read or wrote it).
/// </summary>
public interface ILeaderLock
{
    /// <summary>The holder identity this lock writes.</summary>
    string Identity { get; }
    /// <summary>namespace/name, for logs.</summary>
    string Describe { get; }
    /// <summary>The current record and its raw form (compared to notice any change, as upstream compares the JSON).</summary>
    Task<(LeaderElectionRecord Record, string Raw)> GetAsync(CancellationToken ct);
    Task CreateAsync(LeaderElectionRecord record, CancellationToken ct);
    /// <summary>Writes the record over the lease last read or written (optimistic concurrency on its resourceVersion).</summary>
    Task UpdateAsync(LeaderElectionRecord record, CancellationToken ct);
    /// <summary>Records "&lt;identity&gt; &lt;what&gt;" on the lease (best effort, never throws).</summary>
    Task RecordEventAsync(string what, CancellationToken ct);
}

/// <summary>
/// resourcelock.LeaseLock: a coordination.k8s.io/v1 Lease. Updates carry the resourceVersion of the lease last read or
/// written, so a lost race is a 409 and the elector re-reads; the Event goes on the Lease as upstream's RecordEvent:
/// Normal, reason <c>LeaderElection</c>, from <paramref name="eventSource"/> (kube-controller-manager, default-scheduler).
/// </summary>
public sealed class LeaseLock(SystemClient client, string ns, string name, string identity, string eventSource, EventRecorder? events) : ILeaderLock
{
    private JsonObject? _lease;
    private GenericStore Leases => client.Store("coordination.k8s.io", "leases");
    /// <summary>The field manager upstream's lock client records: its component's name, which is the lease's.</summary>
    private WriteOptions Write => new(SystemClient.Controller) { FieldManager = name };

    public string Identity => identity;
    public string Describe => $"{ns}/{name}";

    public async Task<(LeaderElectionRecord Record, string Raw)> GetAsync(CancellationToken ct)
    {
        var lease = await Leases.GetAsync(ns, name, ct);
        _lease = lease;
        var record = LeaderElectionRecord.FromLease(lease);
        return (record, record.ToLeaseSpec().ToJsonString());
    }

    public async Task CreateAsync(LeaderElectionRecord record, CancellationToken ct)
    {
        _lease = await Leases.CreateAsync(ns, new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = record.ToLeaseSpec(),
        }, Write, ct);
    }

    public async Task UpdateAsync(LeaderElectionRecord record, CancellationToken ct)
    {
        if (_lease is null) throw new InvalidOperationException("lease not initialized, call get or create first");
        var desired = (JsonObject)_lease.DeepClone();
        desired["spec"] = record.ToLeaseSpec();
        var rv = Meta.ResourceVersion(_lease);
        // The update's transform sees the stored lease; carrying the resourceVersion read makes a concurrent write a 409.
        _lease = await Leases.UpdateAsync(ns, name, "", _ =>
        {
            var d = (JsonObject)desired.DeepClone();
            Meta.Set(d, "resourceVersion", rv);
            return d;
        }, Write, ct);
    }

    public async Task RecordEventAsync(string what, CancellationToken ct)
    {
        if (events is null || _lease is null) return;
        try
        {
            await events.LegacyEventAsync(EventRecorder.Reference(_lease, "coordination.k8s.io/v1", "Lease"), "Normal", "LeaderElection",
                $"{identity} {what}", eventSource, "", SystemClient.Controller, ct);
        }
        catch (OperationCanceledException) { }
    }
}
