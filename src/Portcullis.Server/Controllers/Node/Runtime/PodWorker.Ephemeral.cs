using System.Text.Json.Nodes;
using Portcullis.Server.Api.Views;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>
/// Ephemeral containers (<c>kubectl debug</c>), as the kubelet runs them: each one added to
/// <c>spec.ephemeralContainers</c> is started once the pod's sandbox is up, is never restarted (whatever
/// the pod's restartPolicy), takes no part in the pod's phase or readiness, and is reported in
/// <c>status.ephemeralContainerStatuses</c>. With <c>targetContainerName</c> it joins that container's PID
/// namespace (while the target runs), so <c>ps</c> shows the target's processes, as with containerd's
/// namespace targeting; otherwise it gets a PID namespace of its own like every container here.
/// </summary>
internal sealed partial class PodWorker
{
    /// <summary>The ephemeral containers started so far, in the order they were added; guarded by <c>_gate</c>.</summary>
    public List<ContainerState> Ephemeral { get; } = [];

    /// <summary>Starts the ephemeral containers of the current spec not started yet (once the sandbox is ready).</summary>
    private void StartNewEphemeralContainers()
    {
        var added = new List<ContainerState>();
        lock (_gate)
        {
            // The kubelet starts no container in a pod that has finished (or is going away).
            if (!_sandboxReady || Terminating || ProcessPodStatus.Phase(RestartPolicy, Init, App) is "Succeeded" or "Failed") return;
            foreach (var c in new PodView(_pod).EphemeralContainers)
            {
                var name = JsonRead.StrOrEmpty(c, "name");
                if (name.Length == 0 || Ephemeral.Any(e => e.Name == name)) continue;
                var st = new ContainerState(name, false) { Ephemeral = true };
                Ephemeral.Add(st);
                added.Add(st);
            }
        }
        if (added.Count == 0) return;
        Publish();
        foreach (var st in added) _ = Task.Run(() => RunEphemeralAsync(st, _stop.Token));
    }

    /// <summary>One instance, never restarted; a configuration error is retried, as the kubelet retries starting it on its next sync.</summary>
    private async Task RunEphemeralAsync(ContainerState st, CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (await RunOnceAsync(st, ct) is not null) break;
                await Task.Delay(TimeSpan.FromSeconds(5), _rt.Time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                LogWorkerFailed(_rt.Log, e, Namespace, Name);
                await FailAsync(st, "CreateContainerError", e.Message);
                try { await Task.Delay(Backoff(failures++), _rt.Time, ct); }
                catch (OperationCanceledException) { return; }
            }
        }
        st.Done = true;
        Publish();
    }

    /// <summary>The host PID whose PID namespace an ephemeral container joins: its running target's, else none.</summary>
    private int? TargetPid(JsonObject spec)
    {
        if (JsonRead.Str(spec, "targetContainerName") is not { Length: > 0 } target) return null;
        lock (_gate)
            return _processes.TryGetValue(target, out var p) && !p.Exited.IsCompleted && p.NamespacePid > 0 ? p.NamespacePid : null;
    }
}
