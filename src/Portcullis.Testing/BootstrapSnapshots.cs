using System.Collections.Concurrent;
using k8s;
using Portcullis.Server.Hosting;

namespace Portcullis.Testing;

/// <summary>
/// The store of a cluster that has just finished its first start, kept once per process and per set of options, so
/// that later clusters start from a copy of it instead of writing the same bootstrap objects again (the default RBAC
/// policy, API Priority and Fairness configuration, system namespaces, priority classes, the kubernetes Service, the
/// nodes, the namespaces' ServiceAccounts and kube-root-ca.crt): a start over an existing store only reads and
/// compares them, as `serve` does when it restarts. Only with <see cref="PortcullisClusterOptions.ReuseKeys"/> (the
/// copied objects hold the shared CA) and without <see cref="PortcullisClusterOptions.Configure"/> (a delegate cannot be
/// compared). The snapshot's own apiserver identity Lease is deleted before the copy is taken.
/// </summary>
internal static class BootstrapSnapshots
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<(string Name, byte[] Content)>>>> Snapshots = new(StringComparer.Ordinal);

    /// <summary>Whether clusters with <paramref name="o"/> can start from a snapshot.</summary>
    public static bool Applies(PortcullisClusterOptions o) => o.ReuseKeys && o.ReuseBootstrapState && o.Configure is null && o.DataDir is null;

    /// <summary>Writes the snapshot for <paramref name="o"/> (made now if this process has none yet) into <paramref name="dataDir"/>.</summary>
    public static async Task SeedIntoAsync(PortcullisClusterOptions o, string dataDir, CancellationToken ct)
    {
        var lazy = Snapshots.GetOrAdd(Key(o), _ => new Lazy<Task<IReadOnlyList<(string, byte[])>>>(() => MakeAsync(o)));
        IReadOnlyList<(string Name, byte[] Content)> files;
        try { files = await lazy.Value.WaitAsync(ct); }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            Snapshots.TryRemove(Key(o), out _); // a failed snapshot is not kept: the next start tries again
            throw;
        }
        foreach (var (name, content) in files) await File.WriteAllBytesAsync(Path.Combine(dataDir, name), content, ct);
    }

    /// <summary>Everything in the options that can change what the first start writes.</summary>
    private static string Key(PortcullisClusterOptions o)
    {
        static string L(IEnumerable<string> l) => string.Join(",", l);
        var admissionConfig = o.AdmissionControlConfigFile is { } f && File.Exists(f) ? File.ReadAllText(f) : "";
        return string.Join("\u0000", [
            L(o.EnableAdmissionPlugins), L(o.DisableAdmissionPlugins), o.AdmissionControlConfigFile ?? "", admissionConfig,
            o.PodSecurity?.ToString() ?? "", L(o.AuthorizationModes), o.PodRuntime, o.Nodes.ToString(), o.NodeName, L(o.Controllers),
            o.AnonymousAuth.ToString(), o.ExplainDenials.ToString(), o.ServeMetrics.ToString(),
        ]);
    }

    private static async Task<IReadOnlyList<(string, byte[])>> MakeAsync(PortcullisClusterOptions o)
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-testing-snapshot-").FullName;
        try
        {
            SharedKeys.SeedInto(dir);
            var server = await PortcullisServer.StartAsync(ClusterServerOptions.Build(o with { RecordAccess = false }, dir));
            try
            {
                using var admin = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Pki.KubeconfigPath));
                // What the controllers do right after start: every namespace's default ServiceAccount and kube-root-ca.crt.
                await WaitForAsync(async () =>
                {
                    var namespaces = (await admin.CoreV1.ListNamespaceAsync()).Items.Select(n => n.Metadata.Name).ToHashSet();
                    var accounts = (await admin.CoreV1.ListServiceAccountForAllNamespacesAsync()).Items.Where(s => s.Metadata.Name == "default").Select(s => s.Metadata.NamespaceProperty);
                    var roots = (await admin.CoreV1.ListConfigMapForAllNamespacesAsync()).Items.Where(c => c.Metadata.Name == "kube-root-ca.crt").Select(c => c.Metadata.NamespaceProperty);
                    return namespaces.IsSubsetOf(accounts) && namespaces.IsSubsetOf(roots);
                });
                await admin.CoordinationV1.DeleteCollectionNamespacedLeaseAsync("kube-system", labelSelector: "apiserver.kubernetes.io/identity=kube-apiserver");
            }
            finally { await server.DisposeAsync(); }
            return Directory.EnumerateFiles(dir, "state.db*").Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))).ToList();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        // Not settled in 10 s: the snapshot is taken as it is (the clusters started from it finish the work themselves).
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition() && DateTime.UtcNow < deadline) await Task.Delay(10);
    }
}
