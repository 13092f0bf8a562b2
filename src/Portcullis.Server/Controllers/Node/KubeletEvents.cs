using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Controllers.Events;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers.Node;

/// <summary>
/// The events the kubelet records about pods and their containers (reasons from
/// pkg/kubelet/events, messages from kuberuntime and the volume manager), shared by the simulated
/// and the process runtime. Recording is best effort: it never fails the caller.
/// </summary>
public sealed class KubeletEvents(EventRecorder recorder, NodeIdentity node)
{
    private readonly UserInfo _kubelet = new($"system:node:{node.Name}", "", ["system:nodes", UserInfo.AllAuthenticated, UserInfo.SystemMasters], UserInfo.NoExtra);

    public Task RecordAsync(JsonObject involved, string type, string reason, string message, CancellationToken ct = default) =>
        recorder.LegacyEventAsync(involved, type, reason, message, "kubelet", node.Name, _kubelet, ct);

    /// <summary>The pod itself (FailedMount, FailedCreatePodSandBox…).</summary>
    public static JsonObject PodRef(JsonObject pod) => EventRecorder.Reference(pod, "v1", "Pod");

    /// <summary>A container of the pod, named by the field path the kubelet's events use (<c>spec.containers{main}</c>).</summary>
    public static JsonObject ContainerRef(JsonObject pod, string container, bool init) =>
        EventRecorder.Reference(pod, "v1", "Pod", $"spec.{(init ? "initContainers" : "containers")}{{{container}}}");

    /// <summary>The image step: nothing is pulled, so Always shows an instant pull and the other policies an image already present.</summary>
    public async Task ImageAsync(JsonObject reference, JsonObject container, CancellationToken ct = default)
    {
        var image = container["image"]?.GetValue<string>() ?? "";
        var policy = container["imagePullPolicy"]?.GetValue<string>() ?? "IfNotPresent";
        if (policy == "Always")
        {
            await RecordAsync(reference, "Normal", "Pulling", $"Pulling image \"{image}\"", ct);
            await RecordAsync(reference, "Normal", "Pulled", $"Successfully pulled image \"{image}\" in 0s (0s including waiting). Image size: 0 bytes.", ct);
        }
        else
            await RecordAsync(reference, "Normal", "Pulled", $"Container image \"{image}\" already present on machine", ct);
    }

    public Task CreatedAsync(JsonObject reference, string container, CancellationToken ct = default) =>
        RecordAsync(reference, "Normal", "Created", $"Created container: {container}", ct);

    public Task StartedAsync(JsonObject reference, string container, CancellationToken ct = default) =>
        RecordAsync(reference, "Normal", "Started", $"Started container {container}", ct);

    public Task KillingAsync(JsonObject reference, string container, CancellationToken ct = default) =>
        RecordAsync(reference, "Normal", "Killing", $"Stopping container {container}", ct);

    /// <summary>A container could not be created or started (FailedToCreateContainer / FailedToStartContainer): <c>Error: …</c>.</summary>
    public Task FailedAsync(JsonObject reference, string message, CancellationToken ct = default) =>
        RecordAsync(reference, "Warning", "Failed", $"Error: {message}", ct);

    /// <summary>A restart held back by the crash-loop back-off.</summary>
    public Task BackOffAsync(JsonObject pod, string container, bool init, CancellationToken ct = default) =>
        RecordAsync(ContainerRef(pod, container, init), "Warning", "BackOff",
            $"Back-off restarting failed container {container} in pod {Meta.Name(pod)}_{Meta.Namespace(pod)}({Meta.Uid(pod)})", ct);

    /// <summary>A volume could not be set up; <paramref name="message"/> is the volume manager's (<c>MountVolume.SetUp failed for volume …</c>).</summary>
    public Task FailedMountAsync(JsonObject pod, string message, CancellationToken ct = default) =>
        RecordAsync(PodRef(pod), "Warning", "FailedMount", message, ct);

    /// <summary>What the kubelet records while it starts a container that starts: the image, then Created and Started.</summary>
    public async Task StartSucceededAsync(JsonObject pod, JsonObject container, bool init, CancellationToken ct = default)
    {
        var name = container["name"]?.GetValue<string>() ?? "";
        var reference = ContainerRef(pod, name, init);
        await ImageAsync(reference, container, ct);
        await CreatedAsync(reference, name, ct);
        await StartedAsync(reference, name, ct);
    }
}
