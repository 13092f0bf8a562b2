using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>
/// Pod status from the process runtime's container states, as the kubelet computes it
/// (kubelet_pods.go getPhase and generateAPIPodStatus): phase, the five conditions (a condition's
/// lastTransitionTime moves only when its status changes), IPs, start time and container statuses.
/// </summary>
public static class ProcessPodStatus
{
    /// <summary>upstream's getPhase, for the app containers after the init containers.</summary>
    public static string Phase(string restartPolicy, IReadOnlyList<ContainerState> init, IReadOnlyList<ContainerState> app)
    {
        foreach (var c in init)
        {
            if (c.Terminated is { ExitCode: 0 } && c.Done) continue;
            if (c.Terminated is { ExitCode: not 0 } && restartPolicy == "Never") return "Failed";
            return "Pending";
        }
        int running = 0, waiting = 0, stopped = 0, succeeded = 0;
        foreach (var c in app)
        {
            if (c.Running) running++;
            else if (c.Terminated is not null && c.WaitingReason is null)
            {
                stopped++;
                if (c.Terminated.ExitCode == 0) succeeded++;
            }
            else if (c.Terminated is not null || c.LastTerminated is not null) stopped++;
            else waiting++;
        }
        if (waiting > 0) return "Pending";
        if (running > 0) return "Running";
        if (stopped > 0)
        {
            if (restartPolicy == "Always") return "Running";
            if (stopped == succeeded) return "Succeeded";
            if (restartPolicy == "Never") return "Failed";
            return "Running";
        }
        return "Pending";
    }

    public static void Write(JsonObject pod, string phase, bool sandboxReady, IReadOnlyList<ContainerState> init, IReadOnlyList<ContainerState> app,
        string hostIp, string podIp, DateTimeOffset now)
    {
        var t = ObjectShaper.FormatTime(now);
        var status = pod["status"] as JsonObject ?? new JsonObject();
        var previous = ((status["conditions"] as JsonArray) ?? []).OfType<JsonObject>()
            .ToDictionary(c => c["type"]?.GetValue<string>() ?? "", c => c);
        JsonObject Cond(string type, bool ok, string? reason = null, string? message = null)
        {
            var st = ok ? "True" : "False";
            var since = previous.TryGetValue(type, out var p) && p["status"]?.GetValue<string>() == st
                ? p["lastTransitionTime"]?.GetValue<string>() ?? t : t;
            return PodStatusWriter.Cond(type, st, since, reason, message);
        }
        var completed = phase is "Succeeded" or "Failed";
        var initPending = init.Where(c => !(c.Done && c.Terminated is { ExitCode: 0 })).Select(c => c.Name).ToList();
        var unready = app.Where(c => !c.Running).Select(c => c.Name).ToList();
        status["phase"] = phase;
        status["conditions"] = new JsonArray(
            Cond("PodReadyToStartContainers", sandboxReady && !completed),
            completed ? Cond("Initialized", true, "PodCompleted")
                : initPending.Count == 0 ? Cond("Initialized", true)
                : Cond("Initialized", false, "ContainersNotInitialized", $"containers with incomplete status: [{string.Join(" ", initPending)}]"),
            completed ? Cond("Ready", false, "PodCompleted")
                : unready.Count == 0 ? Cond("Ready", true) : Cond("Ready", false, "ContainersNotReady", $"containers with unready status: [{string.Join(" ", unready)}]"),
            completed ? Cond("ContainersReady", false, "PodCompleted")
                : unready.Count == 0 ? Cond("ContainersReady", true) : Cond("ContainersReady", false, "ContainersNotReady", $"containers with unready status: [{string.Join(" ", unready)}]"),
            Cond("PodScheduled", true));
        status["hostIP"] = hostIp;
        status["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = hostIp });
        if (sandboxReady)
        {
            status["podIP"] = podIp;
            status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = podIp });
        }
        status["startTime"] ??= t;
        var view = new PodView(pod);
        var specInit = view.InitContainers.ToList();
        var specApp = view.Containers.ToList();
        if (init.Count > 0) status["initContainerStatuses"] = Statuses(pod, specInit, init);
        status["containerStatuses"] = Statuses(pod, specApp, app);
        pod["status"] = status;
    }

    /// <summary>
    /// status.ephemeralContainerStatuses: like the others, but never ready and without <c>started</c> (the
    /// kubelet's prober sets neither for ephemeral containers).
    /// </summary>
    public static void WriteEphemeral(JsonObject pod, IReadOnlyList<ContainerState> ephemeral)
    {
        var statuses = Statuses(pod, new PodView(pod).EphemeralContainers.ToList(), ephemeral);
        foreach (var cs in statuses.OfType<JsonObject>())
        {
            cs["ready"] = false;
            cs.Remove("started");
        }
        if (pod["status"] is JsonObject status) status["ephemeralContainerStatuses"] = statuses;
    }

    private static JsonArray Statuses(JsonObject pod, List<JsonObject> spec, IReadOnlyList<ContainerState> states)
    {
        var arr = new JsonArray();
        foreach (var s in states)
        {
            var container = spec.FirstOrDefault(c => c["name"]?.GetValue<string>() == s.Name) ?? new JsonObject();
            var image = PodStatusWriter.NormalizeImage(container["image"]?.GetValue<string>() ?? "");
            var repo = image.Contains('@') ? image[..image.IndexOf('@')] : image[..image.LastIndexOf(':')];
            var cs = new JsonObject
            {
                ["name"] = s.Name,
                ["state"] = s.StateJson(),
                ["lastState"] = s.LastStateJson(),
                ["ready"] = s.Running || (s.Init && s.Done && s.Terminated is { ExitCode: 0 }),
                ["restartCount"] = s.RestartCount,
                ["image"] = image,
                ["imageID"] = s.EverRan ? repo + "@sha256:" + PodStatusWriter.ImageDigest(image) : "",
            };
            if (s.ContainerId.Length > 0) cs["containerID"] = s.ContainerId;
            cs["started"] = s.Running;
            if (container["volumeMounts"] is JsonArray mounts && mounts.Count > 0)
                cs["volumeMounts"] = new JsonArray(mounts.Select(m => (JsonNode)new JsonObject
                {
                    ["name"] = m?["name"]?.DeepClone(),
                    ["mountPath"] = m?["mountPath"]?.DeepClone(),
                    ["readOnly"] = m?["readOnly"]?.DeepClone(),
                    ["recursiveReadOnly"] = m?["readOnly"]?.GetValue<bool>() == true ? "Disabled" : null,
                }).ToArray());
            arr.Add((JsonNode)cs);
        }
        return arr;
    }
}
