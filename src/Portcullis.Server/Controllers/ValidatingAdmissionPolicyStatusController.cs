using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Policies;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers;

/// <summary>
/// kube-controller-manager's validatingadmissionpolicy-status-controller (pkg/controller/validatingadmissionpolicystatus):
/// each policy whose <c>status.observedGeneration</c> is behind its generation is type checked
/// (<see cref="PolicyTypeChecker"/>) and gets <c>status.typeChecking.expressionWarnings</c> (empty when all is well)
/// and <c>status.observedGeneration</c>, written through the status subresource. A policy that fails is left for the
/// next change; the others go on.
/// </summary>
public sealed class ValidatingAdmissionPolicyStatusController(SystemClient client, ResourceRegistry resources,
    Microsoft.Extensions.Logging.ILogger? log = null) : IController
{
    public const string ControllerName = "validatingadmissionpolicy-status-controller";
    public string Name => ControllerName;

    private readonly PolicyTypeChecker _checker = new(resources, new KindSchemas(resources).For);

    public Task RunAsync(CancellationToken ct)
    {
        var store = client.Store("admissionregistration.k8s.io", "validatingadmissionpolicies");
        return client.WatchPrefixAsync(store.Prefix(""), SyncAllAsync, ct);
    }

    public async Task SyncAllAsync(CancellationToken ct)
    {
        var store = client.Store("admissionregistration.k8s.io", "validatingadmissionpolicies");
        foreach (var policy in await client.ListAsync(store, "", ct))
        {
            var generation = (policy["metadata"] as JsonObject)?["generation"]?.GetValue<long>() ?? 0;
            var observed = (policy["status"] as JsonObject)?["observedGeneration"] is JsonValue og && og.TryGetValue(out long o) ? o : 0;
            if (observed >= generation && generation != 0) continue;
            var name = Meta.Name(policy);
            await PerObject.TryAsync(log, Name, "validatingadmissionpolicy " + name, async () =>
            {
                var warnings = _checker.Check(policy);
                try
                {
                    await store.UpdateAsync("", name, "status", current =>
                    {
                        // only the generation that was checked (a newer spec is checked on its own event)
                        var currentGeneration = (current["metadata"] as JsonObject)?["generation"]?.GetValue<long>() ?? 0;
                        if (currentGeneration != generation) return current;
                        var status = current["status"] as JsonObject ?? new JsonObject();
                        status["observedGeneration"] = generation;
                        status["typeChecking"] = new JsonObject { ["expressionWarnings"] = new JsonArray([.. warnings.Select(w => (JsonNode)w)]) };
                        current["status"] = status;
                        Meta.Remove(current, "resourceVersion");
                        return current;
                    }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);
                }
                catch (ApiException e) when (e.Code is 404 or 409) { }
            }, ct);
        }
    }
}
