using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Events;
using Portcullis.Server.Controllers.LeaderElection;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;
using Portcullis.Server.Tests.Controllers.Node.Runtime;

namespace Portcullis.Server.Tests.Controllers.LeaderElection;

/// <summary>
/// One SQLite-backed store shared by several electors (as replicas share etcd), a clock the test moves, and helpers
/// to read the lease and its events.
/// </summary>
public sealed class LeaseWorld : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-lease-").FullName;
    public IKeyValueBackend Kv { get; }
    public SystemClient Client { get; }
    public SteppedClock Clock { get; } = new(Start);
    public EventRecorder Events { get; }
    public GenericStore Leases => Client.Store("coordination.k8s.io", "leases");

    public LeaseWorld()
    {
        Kv = SqliteBackend.Open(Path.Combine(_dir, "state.db"));
        var resources = new ResourceRegistry(BuiltinResources.All);
        var stores = resources.All.Where(d => !d.Virtual).ToDictionary(d => d, d => new GenericStore(d, Kv, Clock, AdmissionChain.Empty));
        Client = new SystemClient(stores, resources, Kv);
        Events = new EventRecorder(Client, Clock);
    }

    public LeaseLock Lock(string identity, string lease = "kube-controller-manager") =>
        new(Client, "kube-system", lease, identity, "kube-controller-manager", Events);

    public LeaderElector Elector(ILeaderLock lk, bool takeOverAtStart = false) =>
        new(lk, LeaderElectionTimings.Default, Clock, NullLogger.Instance, releaseOnCancel: true, takeOverAtStart: takeOverAtStart);

    public async Task<JsonObject> LeaseAsync(string name = "kube-controller-manager") => await Leases.GetAsync("kube-system", name);

    public async Task<List<JsonObject>> EventsAsync() => await Client.ListAsync(Client.Store("", "events"), "kube-system", default);

    public async ValueTask DisposeAsync()
    {
        await Kv.DisposeAsync();
        Directory.Delete(_dir, true);
    }
}

/// <summary>A lock whose store can be made to fail, as an unreachable etcd does: every call throws while <see cref="Failing"/>.</summary>
public sealed class FlakyLock(ILeaderLock inner) : ILeaderLock
{
    public volatile bool Failing;
    public string Identity => inner.Identity;
    public string Describe => inner.Describe;
    private void Check() { if (Failing) throw new IOException("connection refused"); }
    public Task<(LeaderElectionRecord Record, string Raw)> GetAsync(CancellationToken ct) { Check(); return inner.GetAsync(ct); }
    public Task CreateAsync(LeaderElectionRecord record, CancellationToken ct) { Check(); return inner.CreateAsync(record, ct); }
    public Task UpdateAsync(LeaderElectionRecord record, CancellationToken ct) { Check(); return inner.UpdateAsync(record, ct); }
    public Task RecordEventAsync(string what, CancellationToken ct) => Failing ? Task.CompletedTask : inner.RecordEventAsync(what, ct);
}
