namespace Portcullis.Testing.Tests;

/// <summary>One cluster per test class (xUnit runs classes in parallel, so several clusters run at once).</summary>
public class ClusterFixture : IAsyncLifetime
{
    public PortcullisCluster Cluster { get; private set; } = null!;

    protected virtual PortcullisClusterOptions Options => new();

    public async Task InitializeAsync() => Cluster = await PortcullisCluster.StartAsync(Options);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>A cluster that records every allowed request, for the least-privilege tests.</summary>
public sealed class RecordingClusterFixture : ClusterFixture
{
    protected override PortcullisClusterOptions Options => new() { RecordAccess = true };
}
