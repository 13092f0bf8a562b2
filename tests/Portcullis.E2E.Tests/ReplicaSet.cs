using Portcullis.Server.Tests.Storage;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Several real `portcullis serve` replicas on one real etcd (or a three-member cluster): each replica has its own data
/// dir and port, and all share the first replica's cluster CA and service-account key (copied before they start, as an
/// operator gives each replica the same files), so a client certificate or token from one is good on all.
/// </summary>
public sealed class ReplicaSet : IAsyncDisposable
{
    private static readonly string[] SharedFiles = ["ca.crt", "ca.key", "sa.key", "sa.pub"];
    private readonly string[] _extraArgs;

    private ReplicaSet(EtcdCluster etcd, string[] extraArgs)
    {
        Etcd = etcd;
        _extraArgs = extraArgs;
    }

    public EtcdCluster Etcd { get; }
    public List<ServerProcess> Replicas { get; } = [];
    public ServerProcess this[int i] => Replicas[i];

    /// <summary>Starts etcd (<paramref name="etcdMembers"/> members) and <paramref name="replicas"/> replicas, one after another.</summary>
    public static async Task<ReplicaSet> StartAsync(int replicas, int etcdMembers = 1, params string[] extraArgs) =>
        await StartAsync(await EtcdCluster.StartAsync(etcdMembers), replicas, extraArgs);

    /// <summary>Starts <paramref name="replicas"/> replicas on <paramref name="etcd"/> (the set disposes it).</summary>
    public static async Task<ReplicaSet> StartAsync(EtcdCluster etcd, int replicas, params string[] extraArgs)
    {
        var set = new ReplicaSet(etcd, extraArgs);
        try
        {
            for (var i = 0; i < replicas; i++) await set.AddReplicaAsync();
            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>The flags that put a replica on this set's etcd.</summary>
    public string[] StorageArgs => Etcd.Tls
        ? ["--etcd-servers", Etcd.ClientUrls, "--etcd-cafile", Etcd.CaFile, "--etcd-certfile", Etcd.ClientCertFile, "--etcd-keyfile", Etcd.ClientKeyFile]
        : ["--etcd-servers", Etcd.ClientUrls];

    /// <summary>Starts one more replica (with the first replica's CA and service-account key).</summary>
    public async Task<ServerProcess> AddReplicaAsync(params string[] extraArgs)
    {
        var server = new ServerProcess();
        if (Replicas.Count > 0) CopyShared(Replicas[0].DataDir, server.DataDir);
        Replicas.Add(server);
        await server.StartAsync([.. StorageArgs, .. _extraArgs, .. extraArgs]);
        return server;
    }

    /// <summary>kill -9 of replica <paramref name="index"/> (its data dir stays for <see cref="RestartAsync"/>).</summary>
    public void Kill(int index) => Replicas[index].Kill();

    /// <summary>Starts replica <paramref name="index"/> again on its data dir and port.</summary>
    public async Task RestartAsync(int index)
    {
        var old = Replicas[index];
        var again = new ServerProcess(old.DataDir, old.Port);
        Replicas[index] = again;
        await again.StartAsync([.. StorageArgs, .. _extraArgs]);
    }

    private static void CopyShared(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in SharedFiles)
        {
            var src = Path.Combine(from, f);
            if (File.Exists(src)) File.Copy(src, Path.Combine(to, f), overwrite: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var r in Replicas)
        {
            try { await r.DisposeAsync(); } catch (Exception) { /* best effort: the process is killed below with etcd */ }
        }
        await Etcd.DisposeAsync();
    }
}
