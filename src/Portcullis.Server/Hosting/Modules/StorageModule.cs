using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// The backend and what is served over it: the SQLite key-value backend in the data directory (or etcd, --storage-backend
/// etcd3), the resource registry
/// (the built-in kinds, PodSecurityPolicy while its admission plugin is enabled, and the extensions' kinds), the store
/// table (empty until <see cref="ResourceStoresModule"/> fills it) and the system client the controllers use.
/// </summary>
internal sealed class StorageModule
{
    public required IKeyValueBackend Backend { get; init; }
    public required ResourceRegistry Resources { get; init; }
    public required StoreTable Stores { get; init; }
    public required SystemClient Client { get; init; }

    public static async Task<StorageModule> OpenAsync(ServerOptions o, CancellationToken ct)
    {
        IKeyValueBackend kv = o.StorageBackend == "etcd3"
            ? await OpenEtcdAsync(o, ct)
            : SqliteBackend.Open(Path.Combine(o.DataDir, "state.db"));
        StartupTrace.Mark("storage open");
        var enabledPlugins = new[] { "PodSecurityPolicy" }.Where(n => AdmissionConfig.IsEnabled(n, o.EnableAdmissionPlugins, o.DisableAdmissionPlugins)).ToList();
        var resources = new ResourceRegistry(OptionalResources.With(BuiltinResources.All, enabledPlugins).Concat(o.Extensions.SelectMany(e => e.Resources)));
        if (o.EncryptionProviderConfig is { } encryptionConfig) kv = await EncryptAsync(o, kv, encryptionConfig, resources, ct);
        var stores = new StoreTable();
        return new StorageModule { Backend = kv, Resources = resources, Stores = stores, Client = new SystemClient(stores, resources, kv) };
    }

    /// <summary>
    /// --encryption-provider-config: values of the configured resources go through their transformers (a decorator over the
    /// backend, absent without the flag). The authenticated data of a value is its etcd key, --etcd-prefix included, so an
    /// etcd written by kube-apiserver with the same keys reads back. A bad file stops the start with upstream's error.
    /// </summary>
    private static async Task<IKeyValueBackend> EncryptAsync(ServerOptions o, IKeyValueBackend kv, string path, ResourceRegistry resources, CancellationToken ct)
    {
        Storage.Encryption.EncryptionAtRest encryption;
        try
        {
            encryption = await Storage.Encryption.EncryptionAtRest.LoadAsync(path, o.EncryptionProviderConfigAutomaticReload, TimeProvider.System, log: null,
                apiServerId: "apiserver-" + Guid.NewGuid().ToString("N"), ct);
        }
        catch
        {
            await kv.DisposeAsync();
            throw;
        }
        const string root = "/registry";
        Func<string, string> storageKey = o.StorageBackend == "etcd3" && o.EtcdPrefix != root
            ? key => key.StartsWith(root, StringComparison.Ordinal) ? o.EtcdPrefix + key[root.Length..] : key
            : key => key;
        StartupTrace.Mark("encryption providers");
        return new Storage.Encryption.TransformingBackend(kv, encryption, resources, storageKey);
    }

    /// <summary>
    /// Connects to etcd and loads this replica's watch cache. An unreachable cluster is a start-up error naming the
    /// members, as kube-apiserver fails when its storage does not answer.
    /// </summary>
    private static async Task<IKeyValueBackend> OpenEtcdAsync(ServerOptions o, CancellationToken ct)
    {
        var options = new Storage.Etcd.EtcdOptions
        {
            Servers = o.EtcdServers, Prefix = o.EtcdPrefix, CaFile = o.EtcdCaFile, CertFile = o.EtcdCertFile, KeyFile = o.EtcdKeyFile,
        };
        try { return await Storage.Etcd.EtcdBackend.OpenAsync(options, ct); }
        catch (StorageException e)
        {
            throw new StorageException($"cannot reach etcd at {string.Join(",", o.EtcdServers)}: {e.Message}", e);
        }
    }
}
