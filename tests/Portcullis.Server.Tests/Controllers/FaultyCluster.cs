using Microsoft.Data.Sqlite;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Controllers;

/// <summary>
/// Every built-in store over a SQLite file in a temporary folder, with an admission plugin that
/// fails chosen writes with an unexpected (non-API) exception: the fault controllers must survive.
/// </summary>
public sealed class FaultyCluster : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-faulty-").FullName;
    public SqliteBackend Kv { get; }
    public SystemClient Client { get; }
    public static readonly WriteOptions As = new(SystemClient.Controller);

    /// <param name="fails">Which writes fail (operation and request); the others pass.</param>
    public FaultyCluster(TimeProvider clock, Func<AdmissionRequest, bool> fails, params Operation[] operations)
    {
        Kv = SqliteBackend.Open(Path.Combine(_dir, "kv.db"));
        var resources = new ResourceRegistry(BuiltinResources.All);
        var stores = new Dictionary<ResourceDefinition, GenericStore>();
        var chain = new AdmissionChain([new Fault(fails, operations)]);
        foreach (var d in resources.All.Where(d => !d.Virtual)) stores[d] = new GenericStore(d, Kv, clock, chain);
        Client = new SystemClient(stores, resources, Kv);
    }

    private sealed class Fault(Func<AdmissionRequest, bool> fails, Operation[] operations) : IValidatingAdmission
    {
        public string Name => "Fault";
        public bool Handles(Operation operation) => operations.Contains(operation);
        public ValueTask ValidateAsync(AdmissionRequest request, CancellationToken ct = default) =>
            fails(request) ? throw new InvalidOperationException("injected failure") : ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await Kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
