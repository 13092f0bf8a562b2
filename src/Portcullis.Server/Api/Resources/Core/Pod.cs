using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Pod: its definition and behaviour (upstream pkg/registry/core/pod).</summary>
internal sealed class PodKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "pods", Singular = "pod", Kind = "Pod", Namespaced = true,
        ShortNames = ["po"], Categories = ["all"], Subresources = ["attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward", "status"], ReturnDeletedObject = true,
        SubresourceVerbs = new Dictionary<string, string[]> { ["attach"] = ["create", "get"], ["binding"] = ["create"], ["eviction"] = ["create"], ["exec"] = ["create", "get"], ["log"] = ["get"], ["portforward"] = ["create", "get"] },
        SubresourceKinds = new Dictionary<string, (string, string, string)> { ["attach"] = ("", "v1", "PodAttachOptions"), ["binding"] = ("", "v1", "Binding"), ["eviction"] = ("policy", "v1", "Eviction"), ["exec"] = ("", "v1", "PodExecOptions"), ["portforward"] = ("", "v1", "PodPortForwardOptions") },
        Strategy = new PodKind(),
    };

    private static readonly string[] StatusLists = ["initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"];

    /// <summary>SetObjectDefaults_Pod, plus the conversion round trip's effects.</summary>
    public override void Default(JsonObject obj)
    {
        Conversions.DropInitContainerAnnotations(J.Obj(obj, "metadata"));
        if (J.Ensure(obj, "spec") is { } spec)
        {
            PodOnly(spec);
            PodDefaults.Spec(spec);
        }
        if (J.Obj(obj, "status") is { } status)
        {
            foreach (var list in StatusLists)
                foreach (var cs in J.Items(status, list))
                {
                    J.RoundResourceList(cs, "allocatedResources");
                    var resources = J.Obj(cs, "resources");
                    J.RoundResourceList(resources, "limits");
                    J.RoundResourceList(resources, "requests");
                }
            Conversions.PodStatusIPs(status);
        }
    }

    /// <summary>SetDefaults_Pod: what only pods get, never templates.</summary>
    private static void PodOnly(JsonObject spec)
    {
        // Requests default to limits, for regular and init containers.
        foreach (var list in (string[])["containers", "initContainers"])
            foreach (var c in J.Items(spec, list))
            {
                if (J.Obj(c, "resources") is not { } resources) continue;
                J.CopyMissing(resources, J.Obj(resources, "limits"), "requests");
            }

        J.DefaultPointer(spec, "enableServiceLinks", true);

        // With host networking every container port is also a host port.
        if (J.IsTrue(spec, "hostNetwork"))
            foreach (var list in (string[])["containers", "initContainers"])
                foreach (var c in J.Items(spec, list))
                    foreach (var port in J.Items(c, "ports"))
                        if (J.IsZeroNumber(port, "hostPort") && J.Int(port, "containerPort") is { } cp and not 0)
                            port["hostPort"] = J.Num(cp);
    }

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => Create(obj, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => PodValidation.Validate(obj, old);

    /// <summary>pods/ephemeralcontainers has its own rules (podEphemeralContainersStrategy.ValidateUpdate).</summary>
    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        subresource == EphemeralContainers ? PodEphemeralContainersValidation.Update(obj, old) : Validate(obj, old);

    private const string EphemeralContainers = "ephemeralcontainers";

    /// <summary>
    /// podEphemeralContainersStrategy.PrepareForUpdate (dropNonEphemeralContainerUpdates): a write through
    /// pods/ephemeralcontainers changes spec.ephemeralContainers only; the rest is the stored pod's, but for
    /// the name, namespace, uid and resourceVersion the request gave (and the managed fields just computed).
    /// </summary>
    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx)
    {
        if (ctx.Subresource != EphemeralContainers) return;
        var ephemeral = obj["spec"]?["ephemeralContainers"]?.DeepClone();
        var meta = obj["metadata"] as JsonObject ?? new JsonObject();
        var keptMeta = (JsonObject)(old["metadata"]?.DeepClone() ?? new JsonObject());
        foreach (var key in new[] { "name", "namespace", "uid", "resourceVersion", "managedFields" })
        {
            if (meta[key] is { } v) keptMeta[key] = v.DeepClone();
            else keptMeta.Remove(key);
        }
        foreach (var key in obj.Select(kv => kv.Key).ToList()) obj.Remove(key);
        foreach (var (key, value) in old) obj[key] = value?.DeepClone();
        obj["metadata"] = keptMeta;
        var spec = obj["spec"] as JsonObject ?? new JsonObject();
        if (ephemeral is null) spec.Remove("ephemeralContainers");
        else spec["ephemeralContainers"] = ephemeral;
        obj["spec"] = spec;
    }

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("spec.nodeName", FieldLabel.At("spec", "nodeName")),
        ("spec.restartPolicy", FieldLabel.At("spec", "restartPolicy")),
        ("spec.schedulerName", FieldLabel.At("spec", "schedulerName")),
        ("spec.serviceAccountName", FieldLabel.At("spec", "serviceAccountName")),
        ("spec.hostNetwork", FieldLabel.AtOr("false", "spec", "hostNetwork")),
        ("status.phase", FieldLabel.At("status", "phase")),
        ("status.podIP", FieldLabel.At("status", "podIP")),
        ("status.nominatedNodeName", FieldLabel.At("status", "nominatedNodeName")));

    /// <summary>Upstream's pod registry indexes spec.nodeName (NodeNameIndexFunc): what each kubelet lists its pods by.</summary>
    public override IReadOnlyList<string> IndexedFields { get; } = ["spec.nodeName"];

    public override long GracePeriod(JsonObject obj, long? requested) => GracefulPeriod(obj, requested);

    /// <summary>
    /// Upstream's pod printer: READY, the aggregate STATUS (init progress, waiting and terminated
    /// reasons, sidecar init containers, Terminating), RESTARTS with the last restart's age, and the
    /// wide IP / NODE / NOMINATED NODE / READINESS GATES columns.
    /// </summary>
    public override TablePrinter Printer { get; } = new(
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

    /// <summary>A new pod is Pending with its QoS class; the rest of status is the node's to write.</summary>
    private static void Create(JsonObject pod, StrategyContext _)
    {
        pod["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = QosClass(pod) };
    }

    /// <summary>
    /// upstream's pod CheckGracefulDelete: an unscheduled or finished pod goes at once; otherwise
    /// the requested period, else spec.terminationGracePeriodSeconds, else 30.
    /// </summary>
    private static long GracefulPeriod(JsonObject pod, long? requested)
    {
        if (string.IsNullOrEmpty(pod["spec"]?["nodeName"]?.GetValue<string>())) return 0;
        if (pod["status"]?["phase"]?.GetValue<string>() is "Succeeded" or "Failed") return 0;
        var period = requested ?? (pod["spec"]?["terminationGracePeriodSeconds"] is JsonValue v && ObjectShaper.TryInt(v, out var t) ? t : 30);
        // A negative period (from the request or the spec) means 1 s on the delete path.
        return period < 0 ? 1 : period;
    }

    /// <summary>upstream's qos.GetPodQOS.</summary>
    public static string QosClass(JsonObject pod)
    {
        var requests = new Dictionary<string, Quantity>();
        var limits = new Dictionary<string, Quantity>();
        var isGuaranteed = true;
        var containers = (pod["spec"]?["containers"] as JsonArray ?? []).Concat(pod["spec"]?["initContainers"] as JsonArray ?? []);
        foreach (var c in containers)
        {
            var res = c?["resources"];
            var req = Quantities(res?["requests"]);
            var lim = Quantities(res?["limits"]);
            foreach (var (k, q) in req)
                if (k is "cpu" or "memory" && q.Nanos > 0) requests[k] = q;
            var qualified = 0;
            foreach (var (k, q) in lim)
                if (k is "cpu" or "memory" && q.Nanos > 0) { limits[k] = q; qualified++; }
            if (qualified != 2) isGuaranteed = false;
        }
        if (requests.Count == 0 && limits.Count == 0) return "BestEffort";
        if (isGuaranteed)
        {
            foreach (var c in containers)
            {
                var req = Quantities(c?["resources"]?["requests"]);
                var lim = Quantities(c?["resources"]?["limits"]);
                foreach (var k in new[] { "cpu", "memory" })
                    if (req.TryGetValue(k, out var r) && lim.TryGetValue(k, out var l) && r.Nanos != l.Nanos) isGuaranteed = false;
            }
        }
        return isGuaranteed ? "Guaranteed" : "Burstable";
    }

    private static Dictionary<string, Quantity> Quantities(JsonNode? n)
    {
        var d = new Dictionary<string, Quantity>();
        if (n is JsonObject o)
            foreach (var (k, v) in o)
                if (v is JsonValue jv && Quantity.TryParse(jv.ToString(), out var q)) d[k] = q;
        return d;
    }

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
