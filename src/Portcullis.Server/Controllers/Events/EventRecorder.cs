using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Events;

/// <summary>
/// Records events for the in-process controllers, as upstream's two recorders do:
/// <list type="bullet">
/// <item><see cref="EventfAsync"/> is k8s.io/client-go/tools/events (the scheduler's): an
/// events.k8s.io/v1 Event with eventTime, reportingController, reportingInstance and action;</item>
/// <item><see cref="LegacyEventAsync"/> is k8s.io/client-go/tools/record (the kubelet's and
/// kube-controller-manager's): a core/v1 Event with source, first/lastTimestamp and count, where a
/// repeat of the same event bumps count and lastTimestamp instead of adding another.</item>
/// </list>
/// Both APIs share one storage, so either is listed by <c>kubectl get events</c> and by the
/// involvedObject field selectors <c>kubectl describe</c> uses. Recording is best effort, as
/// upstream's: a failure is dropped and never fails the caller.
/// </summary>
public sealed class EventRecorder(SystemClient client, TimeProvider time)
{
    private const int MaxRemembered = 4096;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string Namespace, string Name)> _legacy = new(StringComparer.Ordinal);
    private long _lastNanos;

    /// <summary>reference.GetReference: the ObjectReference of a stored object (and a field path, for a container).</summary>
    public static JsonObject Reference(JsonObject obj, string apiVersion, string kind, string? fieldPath = null)
    {
        var r = new JsonObject { ["kind"] = kind };
        if (Meta.Namespace(obj) is { Length: > 0 } ns) r["namespace"] = ns;
        r["name"] = Meta.Name(obj);
        r["uid"] = Meta.Uid(obj);
        r["apiVersion"] = apiVersion;
        if (Meta.ResourceVersion(obj) is { Length: > 0 } rv) r["resourceVersion"] = rv;
        if (fieldPath is not null) r["fieldPath"] = fieldPath;
        return r;
    }

    /// <summary>The new recorder: one events.k8s.io/v1 Event.</summary>
    public async Task EventfAsync(JsonObject regarding, string type, string reason, string action, string note,
        string reportingController, string reportingInstance, UserInfo user, CancellationToken ct)
    {
        var (now, name) = Stamp(regarding);
        var ev = new JsonObject
        {
            ["apiVersion"] = "events.k8s.io/v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["eventTime"] = ObjectShaper.FormatMicroTime(now),
            ["reportingController"] = reportingController,
            ["reportingInstance"] = reportingInstance,
            ["action"] = action,
            ["reason"] = reason,
            ["regarding"] = regarding.DeepClone(),
            ["note"] = note,
            ["type"] = type,
        };
        await TryAsync(() => client.Store("events.k8s.io", "events").CreateAsync(Namespace(regarding), ev, Options(user), ct));
    }

    /// <summary>The legacy recorder: a core/v1 Event from a source, or a repeat counted on the first one.</summary>
    public async Task LegacyEventAsync(JsonObject involved, string type, string reason, string message,
        string component, string host, UserInfo user, CancellationToken ct)
    {
        var events = client.Store("", "events");
        // The event correlator's key: source, involved object, type, reason and message.
        var key = string.Join("\0", component, host, JsonRead.StrOrEmpty(involved, "kind"), JsonRead.StrOrEmpty(involved, "namespace"), JsonRead.StrOrEmpty(involved, "name"),
            JsonRead.StrOrEmpty(involved, "fieldPath"), JsonRead.StrOrEmpty(involved, "uid"), JsonRead.StrOrEmpty(involved, "apiVersion"), type, reason, message);
        (string Namespace, string Name) seen;
        bool repeat;
        lock (_lock) repeat = _legacy.TryGetValue(key, out seen);
        if (repeat)
        {
            var bumped = false;
            await TryAsync(async () =>
            {
                await events.UpdateAsync(seen.Namespace, seen.Name, "", cur =>
                {
                    cur["count"] = (cur["count"]?.GetValue<long>() ?? 1) + 1;
                    cur["lastTimestamp"] = ObjectShaper.FormatTime(time.GetUtcNow());
                    Meta.Remove(cur, "resourceVersion");
                    return cur;
                }, Options(user), ct);
                bumped = true;
            });
            if (bumped) return;
        }
        var (now, name) = Stamp(involved);
        var t = ObjectShaper.FormatTime(now);
        var source = new JsonObject { ["component"] = component };
        if (host.Length > 0) source["host"] = host;
        var ev = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["involvedObject"] = involved.DeepClone(),
            ["reason"] = reason,
            ["message"] = message,
            ["source"] = source,
            ["firstTimestamp"] = t,
            ["lastTimestamp"] = t,
            ["count"] = 1,
            ["type"] = type,
            ["eventTime"] = null,
            ["reportingComponent"] = component,
            ["reportingInstance"] = host,
        };
        var ns = Namespace(involved);
        var created = false;
        await TryAsync(async () =>
        {
            await events.CreateAsync(ns, ev, Options(user), ct);
            created = true;
        });
        if (!created) return;
        lock (_lock)
        {
            if (_legacy.Count >= MaxRemembered) _legacy.Clear();
            _legacy[key] = (ns, name);
        }
    }

    private static WriteOptions Options(UserInfo user) => new(user) { FieldManager = user.Name.StartsWith("system:node:", StringComparison.Ordinal) ? "kubelet" : user.Name.Split(':')[^1] };

    /// <summary>The event's time and its name, "&lt;object name&gt;.&lt;unix nanoseconds in hex&gt;", unique per recorder.</summary>
    private (DateTimeOffset Now, string Name) Stamp(JsonObject regarding)
    {
        var now = time.GetUtcNow();
        var nanos = (now - DateTimeOffset.UnixEpoch).Ticks * 100;
        lock (_lock)
        {
            if (nanos <= _lastNanos) nanos = _lastNanos + 1;
            _lastNanos = nanos;
        }
        return (now, $"{JsonRead.StrOrEmpty(regarding, "name")}.{nanos:x}");
    }

    /// <summary>Events of cluster-scoped objects go to the default namespace, as upstream's recorders put them.</summary>
    private static string Namespace(JsonObject reference) => JsonRead.StrOrEmpty(reference, "namespace") is { Length: > 0 } ns ? ns : "default";


    private static async Task TryAsync(Func<Task> write)
    {
        try { await write(); }
        catch (ApiException) { } // best effort: e.g. the namespace is terminating, or the object changed meanwhile
    }
}
