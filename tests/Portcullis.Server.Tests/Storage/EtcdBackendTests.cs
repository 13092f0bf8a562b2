using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Etcd;

namespace Portcullis.Server.Tests.Storage;

/// <summary>One etcd member for a test class (Debian's etcd-server on free loopback ports).</summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    public EtcdCluster Cluster { get; private set; } = null!;
    public async Task InitializeAsync() => Cluster = await EtcdCluster.StartAsync();
    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>A backend whose keys live under a prefix of their own, so tests sharing the member never see each other's keys.</summary>
    public static EtcdOptions Isolated(EtcdCluster cluster, string id) => new()
    {
        Servers = cluster.MemberUrls, LogicalRoot = "", Prefix = "/t" + id, CompactRevisionKey = "compact_rev_key-" + id,
    };
}

/// <summary>
/// Runs the conformance suite against <see cref="EtcdBackend"/> on a real etcd: every test gets a fresh key prefix (and
/// compaction key) on the class's member; reopening connects a new backend (and watch cache) to the same keys.
/// </summary>
public sealed class EtcdBackendTests(EtcdFixture etcd) : KeyValueBackendConformanceTests, IClassFixture<EtcdFixture>
{
    private readonly string _id = Guid.NewGuid().ToString("N");

    protected override async Task<IKeyValueBackend> CreateBackendAsync() =>
        await EtcdBackend.OpenAsync(EtcdFixture.Isolated(etcd.Cluster, _id));

    protected override async Task<IKeyValueBackend> ReopenAsync(IKeyValueBackend backend)
    {
        await backend.DisposeAsync();
        return await CreateBackendAsync();
    }
}
