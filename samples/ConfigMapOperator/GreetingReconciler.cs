using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConfigMapOperator;

/// <summary>
/// Brings one Greeting's world to what it asks for: a ConfigMap of the same name in the same namespace,
/// owned by the Greeting (so deleting the Greeting garbage-collects it), whose <c>data.message</c> is
/// <c>spec.message</c>; then says so in the Greeting's status. The calls it makes are exactly the verbs
/// of deploy/rbac.yaml: configmaps get, create, update; greetings/status patch.
/// </summary>
public sealed class GreetingReconciler(IKubernetes client)
{
    public const string ReadyCondition = "Ready";
    public const string MessageKey = "message";

    /// <summary>Ready=True: the ConfigMap holds spec.message.</summary>
    public const string ReasonSynced = "ConfigMapSynced";

    /// <summary>Ready=False: a ConfigMap of that name exists and is not this Greeting's (its controller owner is another object).</summary>
    public const string ReasonNotOwned = "ConfigMapNotOwned";

    /// <summary>
    /// Ready=False: the API server refused a call. The reason is the API's own Status reason
    /// (<c>Forbidden</c> for a 403, <c>Invalid</c>, <c>Conflict</c> …), the message the API's message.
    /// </summary>
    public const string ReasonApiErrorFallback = "ReconcileFailed";

    /// <summary>
    /// Reconciles <paramref name="greeting"/> (the watch's latest copy). Returns normally when the
    /// Greeting is in sync; throws when it must be retried (the operator requeues it with back-off),
    /// after writing the failure to the Greeting's Ready condition when it can.
    /// </summary>
    public async Task ReconcileAsync(Greeting greeting, CancellationToken ct)
    {
        // Being deleted (a finalizer or foreground deletion holds it): the garbage collector takes the ConfigMap
        // with it; creating or updating it now would only race that.
        if (greeting.Metadata.DeletionTimestamp is not null) return;
        var ns = greeting.Metadata.NamespaceProperty;
        var name = greeting.Metadata.Name;
        try
        {
            var outcome = await SyncConfigMapAsync(greeting, ns, name, ct);
            await WriteStatusAsync(greeting, outcome, ct);
            if (outcome.Status != "True") throw new ReconcileException(outcome.Message);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // The Greeting was deleted while this reconcile ran (its status patch is a 404), or its namespace was:
            // nothing to report it on, and the watch's Deleted event takes it out of the queue.
        }
        catch (HttpOperationException e)
        {
            var (reason, message) = ApiError(e);
            // Best effort: if the status cannot be written either (its own 403), the operator's log and
            // retry are what is left; the first error is the one worth reporting.
            try { await WriteStatusAsync(greeting, new Outcome("False", reason, message), ct); }
            catch (HttpOperationException) { }
            throw new ReconcileException($"{reason}: {message}", e);
        }
    }

    private sealed record Outcome(string Status, string Reason, string Message);

    private async Task<Outcome> SyncConfigMapAsync(Greeting greeting, string ns, string name, CancellationToken ct)
    {
        V1ConfigMap? current = null;
        try { current = await client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: ct); }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound) { }

        if (current is null)
        {
            var cm = new V1ConfigMap
            {
                Metadata = new V1ObjectMeta
                {
                    Name = name,
                    NamespaceProperty = ns,
                    Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "greeting-operator" },
                    // controller: true marks the Greeting as the one owner that manages it. blockOwnerDeletion is
                    // left unset: with the OwnerReferencesPermissionEnforcement admission plugin on (off by default
                    // in kube-apiserver) it would need "update greetings/finalizers" too.
                    OwnerReferences = [new V1OwnerReference { ApiVersion = Greeting.GroupVersion, Kind = Greeting.KindName, Name = name, Uid = greeting.Metadata.Uid, Controller = true }],
                },
                Data = new Dictionary<string, string> { [MessageKey] = greeting.Spec.Message },
            };
            await client.CoreV1.CreateNamespacedConfigMapAsync(cm, ns, cancellationToken: ct);
            return Synced(name);
        }

        var controller = current.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        if (controller is null || controller.Uid != greeting.Metadata.Uid)
            return new Outcome("False", ReasonNotOwned,
                $"ConfigMap \"{name}\" exists and is not controlled by this Greeting; delete it or rename the Greeting");

        if (current.Data is { } data && data.Count == 1 && data.TryGetValue(MessageKey, out var have) && have == greeting.Spec.Message)
            return Synced(name);
        current.Data = new Dictionary<string, string> { [MessageKey] = greeting.Spec.Message };
        // An update with the resourceVersion just read: a concurrent writer makes it a 409, and the retry reads again.
        await client.CoreV1.ReplaceNamespacedConfigMapAsync(current, name, ns, cancellationToken: ct);
        return Synced(name);
    }

    private static Outcome Synced(string name) => new("True", ReasonSynced, $"ConfigMap \"{name}\" holds spec.message");

    /// <summary>
    /// Writes status with a merge patch on the status subresource, and only when it changes: the write
    /// itself is a watch event, so writing an unchanged status would reconcile forever.
    /// lastTransitionTime moves only when the condition's status does (metav1.Condition's rule).
    /// </summary>
    private async Task WriteStatusAsync(Greeting greeting, Outcome outcome, CancellationToken ct)
    {
        var generation = greeting.Metadata.Generation;
        var old = greeting.Status?.Conditions?.FirstOrDefault(c => c.Type == ReadyCondition);
        var configMapName = outcome.Status == "True" ? greeting.Metadata.Name : greeting.Status?.ConfigMapName;
        if (old is not null && old.Status == outcome.Status && old.Reason == outcome.Reason && old.Message == outcome.Message
            && old.ObservedGeneration == generation && greeting.Status?.ObservedGeneration == generation
            && greeting.Status?.ConfigMapName == configMapName)
            return;

        var condition = new V1Condition
        {
            Type = ReadyCondition,
            Status = outcome.Status,
            Reason = outcome.Reason,
            Message = outcome.Message,
            ObservedGeneration = generation,
            // metav1.Time has whole seconds.
            LastTransitionTime = old is not null && old.Status == outcome.Status ? old.LastTransitionTime : WholeSeconds(DateTime.UtcNow),
        };
        var status = new GreetingStatus { ConfigMapName = configMapName, ObservedGeneration = generation, Conditions = [condition] };
        var patch = new V1Patch(new Dictionary<string, object> { ["status"] = status }, V1Patch.PatchType.MergePatch);
        await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(patch, Greeting.Group, Greeting.Version,
            greeting.Metadata.NamespaceProperty, Greeting.Plural, greeting.Metadata.Name, cancellationToken: ct);
    }

    private static DateTime WholeSeconds(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);

    /// <summary>The API's Status reason and message from a failed call (its body), or the HTTP status when there is none.</summary>
    public static (string Reason, string Message) ApiError(HttpOperationException e)
    {
        try
        {
            using var doc = JsonDocument.Parse(e.Response.Content ?? "");
            var root = doc.RootElement;
            var reason = root.TryGetProperty("reason", out var r) && r.GetString() is { Length: > 0 } rs ? rs : ReasonApiErrorFallback;
            var message = root.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 } ms ? ms : e.Message;
            return (reason, message);
        }
        catch (JsonException)
        {
            return (ReasonApiErrorFallback, $"{(int)e.Response.StatusCode} {e.Response.ReasonPhrase}: {e.Message}");
        }
    }
}

/// <summary>A reconcile that must be retried; the Greeting's Ready condition says why when the status could be written.</summary>
public sealed class ReconcileException(string message, Exception? inner = null) : Exception(message, inner);
