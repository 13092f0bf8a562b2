namespace Portcullis.E2E.Tests;

/// <summary>
/// A server without the workload controllers (<c>--controllers=*,-deployment-controller,…</c>), as upstream's
/// API server integration tests run without kube-controller-manager: tests of the API's own behaviour on
/// Deployments, ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets, PersistentVolumes and Jobs (status, managedFields, scale, printing) see only their own
/// writes.
/// </summary>
public sealed class NoWorkloadControllersFixture : IAsyncLifetime
{
    /// <summary>The serve arguments that turn the workload controllers off.</summary>
    public static readonly string[] Args = ["--controllers",
        "*,-deployment-controller,-replicaset,-replicationcontroller,-statefulset,-daemonset,-persistentvolume-binder,-job,-cronjob,-endpoint,-endpointslice,-disruption"];

    public ServerProcess Server { get; } = new();
    public Task InitializeAsync() => Server.StartAsync(Args);
    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}
