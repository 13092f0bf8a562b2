using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// kube-controller-manager's RealPodControl (pkg/controller/controller_utils.go): pods made from a controller's
/// template and owned by it, created and deleted with the controller's events (<c>SuccessfulCreate</c>
/// "Created pod: x", <c>FailedCreate</c> "Error creating: …", <c>SuccessfulDelete</c>, <c>FailedDelete</c>).
/// </summary>
public sealed class PodControl(QueueController controller, ResourceDefinition ownerDefinition)
{
    private GenericStore Pods => controller.Context.Client.Store("", "pods");

    /// <summary>
    /// GetPodFromTemplate: the template's labels, annotations, finalizers and spec, named after the owner
    /// ("&lt;owner&gt;-" as generateName, or <paramref name="name"/>), owned by it through <paramref name="controllerRef"/>.
    /// </summary>
    public static JsonObject PodFromTemplate(JsonObject? template, JsonObject owner, JsonObject controllerRef, string? name = null)
    {
        var tmeta = template?["metadata"] as JsonObject;
        var meta = new JsonObject();
        if (name is not null) meta["name"] = name;
        else meta["generateName"] = Meta.Name(owner) + "-";
        meta["namespace"] = Meta.Namespace(owner);
        foreach (var field in new[] { "labels", "annotations", "finalizers" })
            if (tmeta?[field] is { } v) meta[field] = v.DeepClone();
        meta["ownerReferences"] = new JsonArray(controllerRef.DeepClone());
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = meta,
            ["spec"] = template?["spec"]?.DeepClone() ?? new JsonObject(),
        };
    }

    /// <summary>Creates the pod (through admission, as the controller's service account) and records the event.</summary>
    public async Task<JsonObject> CreateAsync(JsonObject owner, JsonObject pod, CancellationToken ct)
    {
        var ns = Meta.Namespace(owner);
        if (Meta.Labels(pod).Count == 0)
        {
            const string noLabels = "unable to create pods, no labels";
            await Event(owner, "Warning", "FailedCreate", "Error creating: " + noLabels, ct);
            throw new InvalidOperationException(noLabels);
        }
        try
        {
            var created = await Pods.CreateAsync(ns, pod, WriteOptions, ct);
            await Event(owner, "Normal", "SuccessfulCreate", "Created pod: " + Meta.Name(created), ct);
            return created;
        }
        catch (ApiException e)
        {
            await Event(owner, "Warning", "FailedCreate", "Error creating: " + e.Message, ct);
            throw;
        }
    }

    /// <summary>Deletes the pod (a pod already gone is not an error) and records the event.</summary>
    public async Task DeleteAsync(JsonObject owner, JsonObject pod, CancellationToken ct)
    {
        try
        {
            await Pods.DeleteAsync(Meta.Namespace(pod), Meta.Name(pod), new DeleteOptions(User, PreconditionUid: Meta.Uid(pod)), ct);
            await Event(owner, "Normal", "SuccessfulDelete", "Deleted pod: " + Meta.Name(pod), ct);
        }
        catch (ApiException e) when (e.Code == 404) { }
        catch (ApiException e)
        {
            await Event(owner, "Warning", "FailedDelete", "Error deleting: " + e.Message, ct);
            throw;
        }
    }

    private Authentication.UserInfo User => controller.User;

    private WriteOptions WriteOptions => new(User) { FieldManager = "kube-controller-manager" };

    private Task Event(JsonObject owner, string type, string reason, string message, CancellationToken ct) =>
        controller.Context.Events.LegacyEventAsync(Events.EventRecorder.Reference(owner, ownerDefinition.GroupVersion, ownerDefinition.Kind),
            type, reason, message, controller.Component, "", User, ct);
}

/// <summary>Pod facts the workload controllers share (pkg/api/v1/pod and controller_utils.go).</summary>
public static class PodFacts
{
    /// <summary>The pod's condition of the type, or null.</summary>
    public static JsonObject? Condition(JsonObject pod, string type) =>
        (pod["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => JsonRead.Str(c, "type") == type);

    /// <summary>IsPodReady: the Ready condition is True.</summary>
    public static bool IsReady(JsonObject pod) => Condition(pod, "Ready") is { } c && JsonRead.Str(c, "status") == "True";

    /// <summary>IsPodAvailable: ready for at least <paramref name="minReadySeconds"/> (by the Ready condition's lastTransitionTime).</summary>
    public static bool IsAvailable(JsonObject pod, int minReadySeconds, DateTimeOffset now)
    {
        if (Condition(pod, "Ready") is not { } c || JsonRead.Str(c, "status") != "True") return false;
        if (minReadySeconds == 0) return true;
        return Time(c["lastTransitionTime"]) is { } t && t.AddSeconds(minReadySeconds) < now;
    }

    /// <summary>IsPodActive: not Succeeded, not Failed, not being deleted.</summary>
    public static bool IsActive(JsonObject pod) =>
        JsonRead.Str(pod["status"] as JsonObject, "phase") is not ("Succeeded" or "Failed") && !Meta.IsDeleting(pod);

    public static string Phase(JsonObject pod) => JsonRead.Str(pod["status"] as JsonObject, "phase") ?? "";

    /// <summary>An RFC 3339 time field, or null.</summary>
    public static DateTimeOffset? Time(JsonNode? n) =>
        n is JsonValue v && v.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}
