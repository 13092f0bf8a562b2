using System.Text.Json.Nodes;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers.Workloads.Endpoints;

/// <summary>
/// pkg/controller/util/endpoint/trigger_time_tracker.go: the <c>endpoints.kubernetes.io/last-change-trigger-time</c>
/// of a Service's endpoints is the earliest of the changes seen since its last sync: a pod's Ready condition
/// transition newer than the one last seen for that pod, or the Service's creation when first seen.
/// Zero (null) when nothing changed.
/// </summary>
public sealed class TriggerTimeTracker
{
    private sealed record State(Dictionary<string, DateTimeOffset> PodTriggerTimes, DateTimeOffset? ServiceTriggerTime);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, State> _services = new(StringComparer.Ordinal);

    public DateTimeOffset? Compute(JsonObject service, IEnumerable<JsonObject> pods)
    {
        var key = Meta.Namespace(service) + "/" + Meta.Name(service);
        State? state;
        lock (_gate) _services.TryGetValue(key, out state);
        var next = new State(new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal), null);
        DateTimeOffset? min = null;
        foreach (var pod in pods)
        {
            // getPodTriggerTime: the Ready condition's lastTransitionTime.
            if (PodFacts.Condition(pod, "Ready") is not { } ready || PodFacts.Time(ready["lastTransitionTime"]) is not { } t) continue;
            next.PodTriggerTimes[Meta.Name(pod)] = t;
            if (state is null || !state.PodTriggerTimes.TryGetValue(Meta.Name(pod), out var before) || t > before)
                min = min is null || t < min ? t : min;
        }
        var created = PodFacts.Time(Meta.Of(service)["creationTimestamp"]);
        if (created is { } c && (state?.ServiceTriggerTime is not { } seen || c > seen))
            min = min is null || c < min ? c : min;
        lock (_gate) _services[key] = next with { ServiceTriggerTime = created };
        return min;
    }

    /// <summary>Forgets a deleted Service.</summary>
    public void Delete(string ns, string name) { lock (_gate) _services.Remove(ns + "/" + name); }
}
