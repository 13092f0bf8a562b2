using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>
/// Upstream's pod printer: READY, the aggregate STATUS (init progress, waiting and terminated
/// reasons, sidecar init containers, Terminating), RESTARTS with the last restart's age, and the
/// wide IP / NODE / NOMINATED NODE / READINESS GATES columns.
/// </summary>
internal static class PodPrinter
{
    public static readonly TablePrinter Printer = new(
    [
        NameColumn,
        Col("Ready", "How many of the pod's containers report ready, out of how many it runs."),
        Col("Status", "A one-word summary of where the pod and its containers are in their lifecycle."),
        Col("Restarts", "How often the pod's containers have restarted, and how long ago the latest restart was."),
        AgeColumn,
        Col("IP", "The pod's primary IP address.", 1),
        Col("Node", "The node the pod is bound to.", 1),
        Col("Nominated Node", "The node the scheduler chose for the pod while it waits for preemption there.", 1),
        Col("Readiness Gates", "How many of the pod's extra readiness conditions are met, out of how many it declares.", 1),
    ], Cells);

    private const string NodeUnreachablePodReason = "NodeLost";

    private static IReadOnlyList<JsonNode?> Cells(JsonObject pod, DateTimeOffset now)
    {
        var spec = pod["spec"] as JsonObject;
        var status = pod["status"] as JsonObject;

        int restarts = 0, sidecarRestarts = 0, readyContainers = 0;
        int totalContainers = Count(spec?["containers"]);
        DateTimeOffset? lastRestart = null, lastSidecarRestart = null;

        var phase = Str(status?["phase"]);
        var statusReason = Str(status?["reason"]);
        var reason = statusReason.Length > 0 ? statusReason : phase;

        var conditions = Objects(status?["conditions"]);
        foreach (var c in conditions)
            if (Str(c["type"]) == "PodScheduled" && Str(c["reason"]) == "SchedulingGated")
                reason = "SchedulingGated";

        var initSpecs = Objects(spec?["initContainers"]);
        var initByName = new Dictionary<string, JsonObject>();
        foreach (var ic in initSpecs)
        {
            initByName[Str(ic["name"])] = ic;
            if (IsRestartable(ic)) totalContainers++;
        }

        bool initializing = false;
        var initStatuses = Objects(status?["initContainerStatuses"]);
        for (int i = 0; i < initStatuses.Count; i++)
        {
            var cs = initStatuses[i];
            restarts += (int)Int(cs["restartCount"]);
            lastRestart = Later(lastRestart, cs);
            bool restartable = initByName.TryGetValue(Str(cs["name"]), out var icSpec) && IsRestartable(icSpec);
            if (restartable)
            {
                sidecarRestarts += (int)Int(cs["restartCount"]);
                lastSidecarRestart = Later(lastSidecarRestart, cs);
            }

            var terminated = At(cs, "state", "terminated") as JsonObject;
            var waiting = At(cs, "state", "waiting") as JsonObject;
            if (terminated is not null && Int(terminated["exitCode"]) == 0) continue;
            if (restartable && Bool(cs["started"]))
            {
                if (Bool(cs["ready"])) readyContainers++;
                continue;
            }

            if (terminated is not null)
            {
                var tr = Str(terminated["reason"]);
                if (tr.Length > 0) reason = "Init:" + tr;
                else if (Int(terminated["signal"]) != 0) reason = "Init:Signal:" + I(Int(terminated["signal"]));
                else reason = "Init:ExitCode:" + I(Int(terminated["exitCode"]));
            }
            else if (waiting is not null && Str(waiting["reason"]) is { Length: > 0 } wr && wr != "PodInitializing")
            {
                reason = "Init:" + wr;
            }
            else
            {
                reason = "Init:" + I(i) + "/" + I(initSpecs.Count);
            }
            initializing = true;
            break;
        }

        if (!initializing || FirstConditionTrue(conditions, "Initialized"))
        {
            restarts = sidecarRestarts;
            lastRestart = lastSidecarRestart;
            bool hasRunning = false;
            var statuses = Objects(status?["containerStatuses"]);
            for (int i = statuses.Count - 1; i >= 0; i--)
            {
                var cs = statuses[i];
                restarts += (int)Int(cs["restartCount"]);
                lastRestart = Later(lastRestart, cs);

                var terminated = At(cs, "state", "terminated") as JsonObject;
                var waiting = At(cs, "state", "waiting") as JsonObject;
                if (waiting is not null && Str(waiting["reason"]).Length > 0)
                    reason = Str(waiting["reason"]);
                else if (terminated is not null && Str(terminated["reason"]).Length > 0)
                    reason = Str(terminated["reason"]);
                else if (terminated is not null)
                    reason = Int(terminated["signal"]) != 0
                        ? "Signal:" + I(Int(terminated["signal"]))
                        : "ExitCode:" + I(Int(terminated["exitCode"]));
                else if (Bool(cs["ready"]) && At(cs, "state", "running") is JsonObject)
                {
                    hasRunning = true;
                    readyContainers++;
                }
            }

            // A pod whose last-listed container completed while another still runs is not "Completed".
            if (reason == "Completed" && hasRunning)
                reason = AnyConditionTrue(conditions, "Ready") ? "Running" : "NotReady";
        }

        if (Deleting(pod) && statusReason == NodeUnreachablePodReason)
            reason = "Unknown";
        else if (Deleting(pod) && phase is not ("Succeeded" or "Failed"))
            reason = "Terminating";

        var restartsText = I(restarts);
        if (restarts != 0 && lastRestart is { } lr)
            restartsText = I(restarts) + " (" + HumanDuration.Since(lr, now) + " ago)";

        var podIP = Str(status?["podIP"]);
        if (podIP.Length == 0) podIP = Objects(status?["podIPs"]).Select(p => Str(p["ip"])).FirstOrDefault() ?? "";
        var nodeName = Str(spec?["nodeName"]);
        var nominated = Str(status?["nominatedNodeName"]);

        var readinessGates = "<none>";
        var gates = Objects(spec?["readinessGates"]);
        if (gates.Count > 0)
        {
            int met = gates.Count(g => FirstConditionTrue(conditions, Str(g["conditionType"])));
            readinessGates = I(met) + "/" + I(gates.Count);
        }

        return
        [
            Cell(Name(pod)),
            Cell(I(readyContainers) + "/" + I(totalContainers)),
            Cell(reason),
            Cell(restartsText),
            Cell(Age(pod, now)),
            Cell(podIP.Length > 0 ? podIP : "<none>"),
            Cell(nodeName.Length > 0 ? nodeName : "<none>"),
            Cell(nominated.Length > 0 ? nominated : "<none>"),
            Cell(readinessGates),
        ];
    }

    /// <summary>An init container with restartPolicy Always (a sidecar).</summary>
    private static bool IsRestartable(JsonObject container) => Str(container["restartPolicy"]) == "Always";

    /// <summary>The later of a running maximum and the status's last termination time.</summary>
    private static DateTimeOffset? Later(DateTimeOffset? current, JsonObject containerStatus)
    {
        if (At(containerStatus, "lastState", "terminated") is not JsonObject t) return current;
        var finished = Time(t["finishedAt"]);
        return finished is { } f && (current is null || current.Value < f) ? f : current;
    }

    /// <summary>Whether the first condition of the type has status True (false when there is none).</summary>
    private static bool FirstConditionTrue(List<JsonObject> conditions, string type)
    {
        foreach (var c in conditions)
            if (Str(c["type"]) == type) return Str(c["status"]) == "True";
        return false;
    }

    private static bool AnyConditionTrue(List<JsonObject> conditions, string type) =>
        conditions.Any(c => Str(c["type"]) == type && Str(c["status"]) == "True");
}
