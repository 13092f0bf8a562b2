using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Models;

namespace Portcullis.Testing.Tests;

/// <summary>Several clusters in one process, and what dispose leaves behind (nothing).</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task TwoClustersAtOnce_AreIsolated()
    {
        var started = await Task.WhenAll(PortcullisCluster.StartAsync(), PortcullisCluster.StartAsync());
        await using var a = started[0];
        await using var b = started[1];
        Assert.NotEqual(a.Port, b.Port);
        Assert.NotEqual(a.DataDir, b.DataDir);

        await Task.WhenAll(
            a.AdminClient.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "only-in-a" } }, "default"),
            b.AdminClient.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "only-in-b" } }, "default"));
        var inA = (await a.AdminClient.CoreV1.ListNamespacedConfigMapAsync("default")).Items.Select(c => c.Name()).ToList();
        var inB = (await b.AdminClient.CoreV1.ListNamespacedConfigMapAsync("default")).Items.Select(c => c.Name()).ToList();
        Assert.Contains("only-in-a", inA);
        Assert.DoesNotContain("only-in-b", inA);
        Assert.Contains("only-in-b", inB);
        Assert.DoesNotContain("only-in-a", inB);

        // Both serve /metrics from the one process-wide Meter without tripping over each other.
        foreach (var c in new[] { a, b })
        {
            var metrics = await Kubectl.RunAsync(c.KubeconfigPath, "get", "--raw", "/metrics");
            Assert.True(metrics.ExitCode == 0, metrics.ToString());
            Assert.Contains("apiserver_request_total", metrics.Stdout);
        }
    }

    [Fact]
    public async Task ClustersWithOwnKeys_DoNotTrustEachOthersClients()
    {
        await using var a = await PortcullisCluster.StartAsync(new PortcullisClusterOptions { ReuseKeys = false });
        await using var b = await PortcullisCluster.StartAsync(new PortcullisClusterOptions { ReuseKeys = false });
        Assert.NotEqual(a.CaCertificatePem, b.CaCertificatePem);
        // a's admin kubeconfig pointed at b: b's serving certificate does not chain to a's CA.
        var kubeconfig = (await File.ReadAllTextAsync(a.KubeconfigPath)).Replace(a.Url.ToString().TrimEnd('/'), b.Url.ToString().TrimEnd('/'));
        var crossed = await Kubectl.RunAsync(a.WriteKubeconfig(kubeconfig), "get", "namespaces");
        Assert.NotEqual(0, crossed.ExitCode);
        Assert.Contains("certificate", crossed.Stderr);
    }

    [Fact]
    public async Task AClusterFromTheBootstrapSnapshot_HasOnlyItsOwnIdentityLease()
    {
        // The first cluster with these options makes the snapshot; the second starts from it.
        var options = new PortcullisClusterOptions { NodeName = "snapshot-node" };
        await using (await PortcullisCluster.StartAsync(options)) { }
        await using var cluster = await PortcullisCluster.StartAsync(options);
        var leases = await cluster.AdminClient.CoordinationV1.ListNamespacedLeaseAsync("kube-system", labelSelector: "apiserver.kubernetes.io/identity=kube-apiserver");
        Assert.Single(leases.Items);
        Assert.Contains((await cluster.AdminClient.CoreV1.ListNodeAsync()).Items, n => n.Name() == "snapshot-node");
        // The default policy is there (read from the snapshot, reconciled at start).
        Assert.NotNull(await cluster.AdminClient.RbacAuthorizationV1.ReadClusterRoleAsync("cluster-admin"));
    }

    [Fact]
    public async Task WithoutTheSnapshot_AClusterBuildsItsStoreFromNothing()
    {
        await using var cluster = await PortcullisCluster.StartAsync(new PortcullisClusterOptions { ReuseBootstrapState = false });
        Assert.NotNull(await cluster.AdminClient.RbacAuthorizationV1.ReadClusterRoleAsync("cluster-admin"));
        Assert.Contains((await cluster.AdminClient.CoreV1.ListNamespaceAsync()).Items, n => n.Name() == "kube-system");
    }

    [Fact]
    public async Task Dispose_DeletesTheDataDirAndFreesThePort()
    {
        var cluster = await PortcullisCluster.StartAsync();
        var dir = cluster.DataDir;
        var port = cluster.Port;
        Assert.True(File.Exists(Path.Combine(dir, "state.db")));
        Assert.True(File.Exists(cluster.KubeconfigPath));
        await cluster.AdminClient.CoreV1.ListNamespaceAsync();
        await cluster.DisposeAsync();

        Assert.False(Directory.Exists(dir));
        using var connect = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => connect.ConnectAsync(IPAddress.Loopback, port));
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start(); // the port is free again
        listener.Stop();
        await cluster.DisposeAsync(); // twice is harmless
    }

    [Fact]
    public async Task KeepDataDir_LeavesItForAPostMortem()
    {
        var cluster = await PortcullisCluster.StartAsync(new PortcullisClusterOptions { KeepDataDir = true });
        await cluster.DisposeAsync();
        try { Assert.True(File.Exists(Path.Combine(cluster.DataDir, "state.db"))); }
        finally { Directory.Delete(cluster.DataDir, true); }
    }

    [Fact]
    public async Task BadOptions_AreRefusedBeforeAnythingStarts()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => PortcullisCluster.StartAsync(new PortcullisClusterOptions { EnableAdmissionPlugins = ["NoSuchPlugin"] }));
        Assert.Contains("NoSuchPlugin", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => PortcullisCluster.StartAsync(new PortcullisClusterOptions { PodRuntime = "docker" }));
    }
}
