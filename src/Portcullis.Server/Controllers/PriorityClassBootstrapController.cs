using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Plugins;

namespace Portcullis.Server.Controllers;

/// <summary>
/// Creates the system PriorityClasses (system-node-critical, system-cluster-critical) before the
/// server reports ready, as upstream's scheduling post-start hook does; existing ones are left alone.
/// </summary>
public sealed class PriorityClassBootstrapController(SystemClient client) : IController
{
    public string Name => "priorityclass-bootstrap";

    public async Task InitializeAsync(CancellationToken ct)
    {
        var store = client.Store("scheduling.k8s.io", "priorityclasses");
        foreach (var pc in PriorityAdmission.SystemPriorityClasses())
            await client.EnsureAsync(store, "", (JsonObject)pc.DeepClone(), ct, "kube-apiserver");
    }

    public Task RunAsync(CancellationToken ct) => Task.Delay(Timeout.Infinite, ct);
}
