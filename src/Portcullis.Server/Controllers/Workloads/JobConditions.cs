using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// Job conditions as the Job and CronJob controllers read and write them (job_controller.go's newCondition and
/// ensureJobConditionStatus, pkg/controller/job/util's IsJobFinished / FinishedCondition).
/// </summary>
public static class JobConditions
{
    /// <summary>newCondition: status True unless given, probe and transition time now.</summary>
    public static JsonObject New(string type, string reason, string message, DateTimeOffset now, string status = "True")
    {
        var t = ObjectShaper.FormatTime(now);
        var c = new JsonObject { ["type"] = type, ["status"] = status, ["lastProbeTime"] = t, ["lastTransitionTime"] = t };
        if (reason.Length > 0) c["reason"] = reason;
        if (message.Length > 0) c["message"] = message;
        return c;
    }

    public static JsonObject? Find(JsonObject? status, string type) =>
        (status?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => JsonRead.Str(c, "type") == type);

    /// <summary>
    /// ensureJobConditionStatus: sets the condition (a new one when its status, reason or message change; none
    /// is added with status False). Returns whether the list changed.
    /// </summary>
    public static bool Ensure(JsonObject status, string type, string value, string reason, string message, DateTimeOffset now)
    {
        var list = status["conditions"] as JsonArray;
        if (Find(status, type) is { } existing)
        {
            if (JsonRead.Str(existing, "status") == value && JsonRead.StrOrEmpty(existing, "reason") == reason && JsonRead.StrOrEmpty(existing, "message") == message)
                return false;
            var i = list!.IndexOf(existing);
            list[i] = New(type, reason, message, now, value);
            return true;
        }
        if (value == "False") return false;
        Append(status, New(type, reason, message, now, value));
        return true;
    }

    public static void Append(JsonObject status, JsonObject condition)
    {
        var list = status["conditions"] as JsonArray ?? (JsonArray)(status["conditions"] = new JsonArray());
        list.Add((JsonNode)condition.DeepClone());
    }

    /// <summary>FinishedCondition: the Complete or Failed condition that is True ("" when unfinished).</summary>
    public static string FinishedType(JsonObject job)
    {
        foreach (var c in (job["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>())
            if (JsonRead.Str(c, "type") is "Complete" or "Failed" && JsonRead.Str(c, "status") == "True")
                return JsonRead.StrOrEmpty(c, "type");
        return "";
    }

    /// <summary>IsJobFinished: Complete or Failed is True.</summary>
    public static bool IsFinished(JsonObject job) => FinishedType(job).Length > 0;

    /// <summary>IsJobSucceeded: Complete is True.</summary>
    public static bool IsSucceeded(JsonObject job) => FinishedType(job) == "Complete";

    /// <summary>The finishing condition's lastTransitionTime (ttlafterfinished's jobFinishTime), or null.</summary>
    public static DateTimeOffset? FinishTime(JsonObject job)
    {
        foreach (var c in (job["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>())
            if (JsonRead.Str(c, "type") is "Complete" or "Failed" && JsonRead.Str(c, "status") == "True")
                return PodFacts.Time(c["lastTransitionTime"]);
        return null;
    }
}
