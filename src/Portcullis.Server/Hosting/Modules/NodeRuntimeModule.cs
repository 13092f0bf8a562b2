using Microsoft.Extensions.Logging;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Controllers.Node.Runtime;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// The built-in node: its identity (name, addresses, pod range, capacity) and, with --pod-runtime=process, the runtime
/// that runs containers' commands as host processes (null with the simulated runtime). The node controller that
/// registers and heartbeats the node is among the controllers.
/// </summary>
internal sealed class NodeRuntimeModule
{
    public required NodeIdentity Identity { get; init; }
    /// <summary>Every node (--nodes, --node-manifests); the first is <see cref="Identity"/>.</summary>
    public required IReadOnlyList<NodeIdentity> Nodes { get; init; }
    public required ProcessRuntime? ProcessRuntime { get; init; }

    public static NodeRuntimeModule Build(ServerOptions o, ServingModule serving, StorageModule storage, AuthenticationModule authn,
        ILoggerFactory logs, TimeProvider time)
    {
        var podService = serving.PodService;
        var manifests = o.NodeManifests is null ? [] : NodeManifests.Read(o.NodeManifests);
        var all = NodeIdentity.CreateAll(o.NodeName, serving.AdvertiseAddress, o.PodCidr, o.NodeCidrMaskSize, o.MaxPods, o.Nodes, manifests).ToList();
        // The first node says which runtime runs its pods; the others are simulated.
        all[0] = all[0] with { ContainerRuntimeVersion = NodeIdentity.RuntimeVersion(podService is null ? "simulated" : "process") };
        var identity = all[0];
        var runtime = podService is null ? null : new ProcessRuntime(
            storage.Client, identity, authn.TokenRequests, authn.Getters,
            new ProcessRuntimeSettings(Path.Combine(o.DataDir, "pods"), podService.Address, serving.Url.Host, serving.Port),
            time, logs.CreateLogger("Portcullis.ProcessRuntime"));
        return new NodeRuntimeModule { Identity = identity, Nodes = all, ProcessRuntime = runtime };
    }
}
