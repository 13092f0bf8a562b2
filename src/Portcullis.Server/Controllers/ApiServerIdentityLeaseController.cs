using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers;

/// <summary>
/// The <c>start-kube-apiserver-identity-lease-controller</c> post-start hook: this replica's Lease in kube-system
/// (component-helpers apimachinery/lease's controller), created with holderIdentity and leaseDurationSeconds 3600 and
/// renewed every 10 s (renewTime), labelled on every write. As upstream's, a lease found at start (an earlier run of
/// this replica) is renewed as it is: its holderIdentity stays the earlier run's. Runs on every replica.
/// <para>
/// At a clean shutdown the replica deletes its lease, so the others drop it from the <c>kubernetes</c> Service's
/// endpoints at once; upstream leaves it to expire, and deletes its <c>/masterleases/</c> key instead (the lease
/// endpoint reconciler's RemoveEndpoints), a role this lease plays here.
/// </para>
/// </summary>
public sealed partial class ApiServerIdentityLeaseController(SystemClient client, ApiServerIdentity identity, TimeProvider time, ILogger? log = null) : IController
{
    /// <summary>maxUpdateRetries of the lease controller.</summary>
    private const int MaxUpdateRetries = 5;
    private JsonObject? _latest;
    private GenericStore Leases => client.Store("coordination.k8s.io", "leases");
    private static WriteOptions Write => new(SystemClient.Controller) { FieldManager = "kube-apiserver" };

    public string Name => "apiserver-identity-lease";
    public ApiServerIdentity Identity => identity;

    /// <summary>The first sync before readiness, so the kubernetes endpoints list this replica when it is ready.</summary>
    public Task InitializeAsync(CancellationToken ct) => PerObject.TryAsync(log, Name, identity.LeaseName, () => SyncAsync(ct), ct);

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // wait.JitterUntil(sync, renewInterval, 0.04, sliding)
            await Task.Delay(ApiServerIdentity.RenewInterval * (1 + Random.Shared.NextDouble() * 0.04), time, ct);
            await PerObject.TryAsync(log, Name, identity.LeaseName, () => SyncAsync(ct), ct);
        }
    }

    /// <summary>One heartbeat: update the lease last written; failing that, get or create it and update it.</summary>
    public async Task SyncAsync(CancellationToken ct)
    {
        if (_latest is not null)
        {
            try { await UpdateAsync(_latest, ct); return; }
            catch (ApiException e) when (e.Code is 404 or 409) { }
        }
        var (lease, created) = await EnsureAsync(ct);
        _latest = lease;
        if (created) return;
        for (var i = 0; i < MaxUpdateRetries; i++)
        {
            try { await UpdateAsync(_latest, ct); return; }
            catch (ApiException e) when (e.Code == 409) { (_latest, _) = await EnsureAsync(ct); }
        }
        throw new InvalidOperationException($"failed {MaxUpdateRetries} attempts to update lease");
    }

    private async Task<(JsonObject Lease, bool Created)> EnsureAsync(CancellationToken ct)
    {
        if (await client.TryGetAsync(Leases, "kube-system", identity.LeaseName, ct) is { } existing) return (existing, false);
        var lease = NewLease(null);
        try { return (await Leases.CreateAsync("kube-system", lease, Write, ct), true); }
        catch (ApiException e) when (e.Code == 409) { return (await Leases.GetAsync("kube-system", identity.LeaseName, ct), false); }
    }

    private async Task UpdateAsync(JsonObject baseLease, CancellationToken ct)
    {
        var desired = NewLease(baseLease);
        var rv = Meta.ResourceVersion(baseLease);
        _latest = await Leases.UpdateAsync("kube-system", identity.LeaseName, "", _ =>
        {
            var d = (JsonObject)desired.DeepClone();
            Meta.Set(d, "resourceVersion", rv);
            return d;
        }, Write, ct);
    }

    /// <summary>newLease: a copy of the base (or a new lease) with renewTime now, labelled.</summary>
    private JsonObject NewLease(JsonObject? baseLease)
    {
        var lease = baseLease is not null ? (JsonObject)baseLease.DeepClone() : new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = identity.LeaseName, ["namespace"] = "kube-system" },
            ["spec"] = new JsonObject { ["holderIdentity"] = identity.HolderIdentity, ["leaseDurationSeconds"] = ApiServerIdentity.LeaseDurationSeconds },
        };
        var spec = (JsonObject)(lease["spec"] ??= new JsonObject());
        spec["renewTime"] = ObjectShaper.FormatMicroTime(time.GetUtcNow());
        identity.Label(lease);
        return lease;
    }

    /// <summary>At a clean shutdown: delete this replica's lease (see the type's remarks).</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        try { await Leases.DeleteAsync("kube-system", identity.LeaseName, new DeleteOptions(SystemClient.Controller), ct); }
        catch (ApiException e) when (e.Code == 404) { }
    }
}

/// <summary>
/// The <c>start-kube-apiserver-identity-lease-garbage-collector</c> post-start hook (apiserverleasegc): every hour,
/// deletes the identity leases (label <c>apiserver.kubernetes.io/identity=kube-apiserver</c>) whose renewTime plus
/// duration has passed, re-reading each before deleting it; a lease another replica already deleted is no error.
/// Runs on every replica.
/// </summary>
public sealed class ApiServerIdentityLeaseGC(SystemClient client, TimeProvider time, ILogger? log = null, TimeSpan? period = null) : IController
{
    public string Name => "apiserver-identity-lease-gc";

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(period ?? ApiServerIdentity.GcPeriod, time);
        while (await timer.WaitForNextTickAsync(ct)) await PerObject.TryAsync(log, Name, "gc", () => CollectAsync(ct), ct);
    }

    /// <summary>One pass: deletes the expired identity leases and returns their names.</summary>
    public async Task<List<string>> CollectAsync(CancellationToken ct)
    {
        var leases = client.Store("coordination.k8s.io", "leases");
        var list = await leases.ListAsync("kube-system", new ListOptions
        {
            Labels = Selectors.LabelSelector.Parse($"{ApiServerIdentity.ComponentLabel}={ApiServerIdentity.Component}"),
        }, ct);
        var deleted = new List<string>();
        foreach (var item in list["items"]!.AsArray().OfType<JsonObject>())
        {
            if (!ApiServerIdentity.IsExpired(item, time.GetUtcNow())) continue;
            var name = Meta.Name(item);
            // Evaluate the lease from the store, not the list: it may have been renewed since.
            if (await client.TryGetAsync(leases, "kube-system", name, ct) is not { } current || !ApiServerIdentity.IsExpired(current, time.GetUtcNow())) continue;
            try
            {
                await leases.DeleteAsync("kube-system", name, new DeleteOptions(SystemClient.Controller), ct);
                deleted.Add(name);
            }
            catch (ApiException e) when (e.Code == 404) { }
        }
        return deleted;
    }
}
