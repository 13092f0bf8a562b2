using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// The Deployment's conditions and the rollout's progress (upstream deployment_util.go: the reasons,
/// NewDeploymentCondition, SetDeploymentCondition, DeploymentComplete, DeploymentProgressing,
/// DeploymentTimedOut).
/// </summary>
public static class DeploymentConditions
{
    public const string Available = "Available";
    public const string Progressing = "Progressing";
    public const string ReplicaFailure = "ReplicaFailure";

    // Reasons for the Progressing condition.
    public const string ReplicaSetUpdatedReason = "ReplicaSetUpdated";
    public const string FailedRSCreateReason = "ReplicaSetCreateError";
    public const string NewReplicaSetReason = "NewReplicaSetCreated";
    public const string FoundNewRSReason = "FoundNewReplicaSet";
    public const string NewRSAvailableReason = "NewReplicaSetAvailable";
    public const string TimedOutReason = "ProgressDeadlineExceeded";
    public const string PausedDeployReason = "DeploymentPaused";
    public const string ResumedDeployReason = "DeploymentResumed";

    // Reasons for the Available condition.
    public const string MinimumReplicasAvailable = "MinimumReplicasAvailable";
    public const string MinimumReplicasUnavailable = "MinimumReplicasUnavailable";

    // Rollback events.
    public const string RollbackRevisionNotFound = "DeploymentRollbackRevisionNotFound";
    public const string RollbackTemplateUnchanged = "DeploymentRollbackTemplateUnchanged";
    public const string RollbackDone = "DeploymentRollback";

    /// <summary>NewDeploymentCondition: both times now.</summary>
    public static JsonObject New(string type, string status, string reason, string message, DateTimeOffset now)
    {
        var t = ObjectShaper.FormatTime(now);
        return new JsonObject
        {
            ["type"] = type, ["status"] = status,
            ["lastUpdateTime"] = t, ["lastTransitionTime"] = t,
            ["reason"] = reason, ["message"] = message,
        };
    }

    /// <summary>The status's condition of the type, or null.</summary>
    public static JsonObject? Get(JsonObject? status, string type) =>
        (status?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => JsonRead.Str(c, "type") == type);

    /// <summary>
    /// SetDeploymentCondition: nothing when status and reason are unchanged; the transition time kept when only
    /// the reason changes; the condition moves to the end of the list.
    /// </summary>
    public static void Set(JsonObject status, JsonObject condition)
    {
        var current = Get(status, JsonRead.StrOrEmpty(condition, "type"));
        if (current is not null && JsonRead.Str(current, "status") == JsonRead.Str(condition, "status")
            && JsonRead.Str(current, "reason") == JsonRead.Str(condition, "reason")) return;
        if (current is not null && JsonRead.Str(current, "status") == JsonRead.Str(condition, "status"))
            condition["lastTransitionTime"] = current["lastTransitionTime"]?.DeepClone();
        Remove(status, JsonRead.StrOrEmpty(condition, "type"));
        if (status["conditions"] is not JsonArray list) status["conditions"] = list = new JsonArray();
        list.Add((JsonNode)condition);
    }

    /// <summary>RemoveDeploymentCondition.</summary>
    public static void Remove(JsonObject status, string type)
    {
        if (status["conditions"] is not JsonArray list) return;
        var kept = list.OfType<JsonObject>().Where(c => JsonRead.Str(c, "type") != type).Select(c => c.DeepClone()).ToArray();
        if (kept.Length == 0) status.Remove("conditions");
        else status["conditions"] = new JsonArray(kept);
    }

    /// <summary>ReplicaSetToDeploymentCondition: the ReplicaSet's condition, its transition time as update time too.</summary>
    public static JsonObject FromReplicaSet(JsonObject c) => new()
    {
        ["type"] = c["type"]?.DeepClone(),
        ["status"] = c["status"]?.DeepClone(),
        ["lastUpdateTime"] = c["lastTransitionTime"]?.DeepClone(),
        ["lastTransitionTime"] = c["lastTransitionTime"]?.DeepClone(),
        ["reason"] = c["reason"]?.DeepClone(),
        ["message"] = c["message"]?.DeepClone(),
    };

    private static int Int(JsonObject? status, string field) => (int)(JsonRead.Long(status, field) ?? 0);

    /// <summary>DeploymentComplete: every replica updated and available, and the latest generation observed.</summary>
    public static bool Complete(JsonObject d, JsonObject newStatus)
    {
        var replicas = DeploymentUtil.Replicas(d);
        return Int(newStatus, "updatedReplicas") == replicas && Int(newStatus, "replicas") == replicas
            && Int(newStatus, "availableReplicas") == replicas
            && (JsonRead.Long(newStatus, "observedGeneration") ?? 0) >= DeploymentUtil.Generation(d);
    }

    /// <summary>DeploymentProgressing: more updated, fewer old, more ready or more available replicas than before.</summary>
    public static bool IsProgressing(JsonObject d, JsonObject newStatus)
    {
        var old = d["status"] as JsonObject;
        var oldOld = Int(old, "replicas") - Int(old, "updatedReplicas");
        var newOld = Int(newStatus, "replicas") - Int(newStatus, "updatedReplicas");
        return Int(newStatus, "updatedReplicas") > Int(old, "updatedReplicas") || newOld < oldOld
            || Int(newStatus, "readyReplicas") > Int(old, "readyReplicas")
            || Int(newStatus, "availableReplicas") > Int(old, "availableReplicas");
    }

    /// <summary>DeploymentTimedOut: no progress recorded for progressDeadlineSeconds (a completed rollout never times out).</summary>
    public static bool TimedOut(JsonObject d, JsonObject newStatus, DateTimeOffset now)
    {
        if (!DeploymentUtil.HasProgressDeadline(d)) return false;
        if (Get(newStatus, Progressing) is not { } c) return false;
        var reason = JsonRead.Str(c, "reason");
        if (reason == NewRSAvailableReason) return false;
        if (reason == TimedOutReason) return true;
        var from = PodFacts.Time(c["lastUpdateTime"]) ?? now;
        return from.AddSeconds(DeploymentUtil.ProgressDeadlineSeconds(d)) < now;
    }
}
