using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Controllers.Node;

/// <summary>Pod status as a kubelet writes it once the containers run (the simulated runtime).</summary>
public static class PodStatusWriter
{
    public const string ExitCodeAnnotation = "portcullis.io/simulated-exit-code";

    /// <summary>upstream's image name normalization: docker.io/library/nginx:latest.</summary>
    public static string NormalizeImage(string image)
    {
        var name = image;
        var digest = "";
        var at = name.IndexOf('@');
        if (at >= 0) { digest = name[at..]; name = name[..at]; }
        var slash = name.IndexOf('/');
        var first = slash < 0 ? "" : name[..slash];
        var hasRegistry = slash >= 0 && (first.Contains('.') || first.Contains(':') || first == "localhost");
        if (!hasRegistry) name = "docker.io/" + (slash < 0 ? "library/" + name : name);
        var lastSlash = name.LastIndexOf('/');
        if (digest.Length == 0 && name.IndexOf(':', lastSlash + 1) < 0) name += ":latest";
        return name + digest;
    }

    private static string Hex(string seed, int bytes) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(seed))).ToLowerInvariant()[..(bytes * 2)];

    /// <summary>The stand-in digest of an image that is never pulled (stable per normalized name).</summary>
    public static string ImageDigest(string normalized) => Hex("image:" + normalized, 32);

    /// <summary>A containerd-style container ID, stable per seed.</summary>
    public static string ContainerId(string seed) => "containerd://" + Hex(seed, 32);

    public static void WriteRunning(JsonObject pod, string hostIp, string podIp, DateTimeOffset now)
    {
        var t = ObjectShaper.FormatTime(now);
        var status = pod["status"] as JsonObject ?? new JsonObject();
        var spec = pod["spec"] as JsonObject ?? new JsonObject();
        var exitCode = pod["metadata"]?["annotations"]?[ExitCodeAnnotation]?.GetValue<string>() is { } code && int.TryParse(code, out var c) ? c : (int?)null;
        var restartPolicy = new PodView(pod).RestartPolicy ?? "Always";
        var finished = exitCode is not null && restartPolicy != "Always";
        var scheduledAt = ((status["conditions"] as JsonArray) ?? []).FirstOrDefault(x => x?["type"]?.GetValue<string>() == "PodScheduled")?["lastTransitionTime"]?.GetValue<string>() ?? t;
        JsonObject Condition(string type, string st, string? reason = null) => Cond(type, st, type == "PodScheduled" ? scheduledAt : type == "Initialized" ? scheduledAt : t, reason);
        var ready = finished ? "False" : "True";
        status["phase"] = finished ? (exitCode == 0 ? "Succeeded" : "Failed") : "Running";
        status["conditions"] = new JsonArray(
            Condition("PodReadyToStartContainers", finished ? "False" : "True"),
            Condition("Initialized", "True", finished ? "PodCompleted" : null),
            Condition("Ready", ready, finished ? "PodCompleted" : null),
            Condition("ContainersReady", ready, finished ? "PodCompleted" : null),
            Condition("PodScheduled", "True"));
        status["hostIP"] = hostIp;
        status["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = hostIp });
        if (!finished)
        {
            status["podIP"] = podIp;
            status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = podIp });
        }
        status["startTime"] ??= scheduledAt;
        var statuses = new JsonArray();
        foreach (var container in spec["containers"] as JsonArray ?? [])
        {
            var name = container?["name"]?.GetValue<string>() ?? "";
            var image = container?["image"]?.GetValue<string>() ?? "";
            var normalized = NormalizeImage(image);
            var repo = normalized.Contains('@') ? normalized[..normalized.IndexOf('@')] : normalized[..normalized.LastIndexOf(':')];
            var uid = pod["metadata"]?["uid"]?.GetValue<string>() ?? "";
            JsonObject state = finished
                ? new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = exitCode, ["reason"] = exitCode == 0 ? "Completed" : "Error", ["startedAt"] = t, ["finishedAt"] = t, ["containerID"] = "containerd://" + Hex(uid + name, 32) } }
                : new JsonObject { ["running"] = new JsonObject { ["startedAt"] = t } };
            var cs = new JsonObject
            {
                ["name"] = name,
                ["state"] = state,
                ["lastState"] = new JsonObject(),
                ["ready"] = !finished,
                ["restartCount"] = 0,
                ["image"] = normalized,
                ["imageID"] = repo + "@sha256:" + Hex("image:" + normalized, 32),
                ["containerID"] = "containerd://" + Hex(uid + name, 32),
                ["started"] = !finished,
            };
            if (container?["volumeMounts"] is JsonArray mounts && mounts.Count > 0)
                cs["volumeMounts"] = new JsonArray(mounts.Select(m => (JsonNode)new JsonObject
                {
                    ["name"] = m?["name"]?.DeepClone(),
                    ["mountPath"] = m?["mountPath"]?.DeepClone(),
                    ["readOnly"] = m?["readOnly"]?.DeepClone(),
                    ["recursiveReadOnly"] = m?["readOnly"]?.GetValue<bool>() == true ? "Disabled" : null,
                }).ToArray());
            statuses.Add((JsonNode)cs);
        }
        status["containerStatuses"] = statuses;
        pod["status"] = status;
    }

    public static JsonObject Cond(string type, string status, string time, string? reason = null, string? message = null)
    {
        var c = new JsonObject { ["type"] = type, ["status"] = status, ["lastProbeTime"] = null, ["lastTransitionTime"] = time };
        if (reason is not null) c["reason"] = reason;
        if (message is not null) c["message"] = message;
        return c;
    }
}
