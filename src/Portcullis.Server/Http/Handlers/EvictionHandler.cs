using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Workloads;
using Portcullis.Server.Controllers.Workloads.Disruption;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Http.Handlers;

/// <summary>
/// pods/eviction (POST a policy/v1 Eviction; policy/v1beta1 bodies too, as upstream still decodes them):
/// upstream's EvictionREST (pkg/registry/core/pod/storage/eviction.go). A pod that is not running (Pending,
/// Succeeded, Failed) or already being deleted is deleted at once; otherwise the one PodDisruptionBudget
/// selecting it must allow a disruption, which the eviction takes (disruptionsAllowed decremented, the pod
/// recorded in status.disruptedPods) before the pod gets the DisruptionTarget condition and is deleted.
/// A budget with no disruption left answers 429 TooManyRequests ("Cannot evict pod as it would violate the
/// pod's disruption budget."), which kubectl drain retries; two budgets answer a 500 Status.
/// </summary>
public sealed class EvictionHandler(Func<ResourceDefinition, GenericStore> stores, ResourceRegistry resources, TimeProvider time) : ICustomHandler
{
    /// <summary>MaxDisruptedPodSize: past this many unconfirmed evictions a budget refuses more.</summary>
    public const int MaxDisruptedPodSize = 2000;
    /// <summary>EvictionsRetry: attempts on a conflicting budget update.</summary>
    private const int Attempts = 20;
    private const string ViolationMessage = "Cannot evict pod as it would violate the pod's disruption budget.";

    public IEnumerable<(string Group, string Plural, string Subresource)> Routes => [("", "pods", "eviction")];

    private GenericStore Budgets => stores(resources.Find("policy", "v1", "poddisruptionbudgets")!);

    public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
    {
        if (info.Verb != Verb.Create) throw ApiErrors.MethodNotAllowed();
        var ct = ctx.RequestAborted;
        var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ct);
        var media = BodyDecoder.MediaType(ctx.Request);
        // The v1beta1 Eviction has the v1 shape; upstream decodes either.
        var groupVersion = media != Responses.Protobuf && BodyDecoder.ParseRaw(body, media, null) is JsonObject raw
                           && JsonRead.Str(raw, "apiVersion") == "policy/v1beta1" ? "policy/v1beta1" : "policy/v1";
        var eviction = BodyDecoder.Decode(body, media, SchemaRegistry.Default.Get("policy/v1.Eviction"), groupVersion, "Eviction",
            BodyDecoder.FieldValidation(ctx.Request), []);
        if (Meta.Name(eviction) != info.Name) throw ApiErrors.BadRequest("name in URL does not match name in Eviction object");
        var user = ctx.Features.GetRequiredFeature<RequestContextFeature>().User!;
        var queryDryRun = ctx.Request.Query.TryGetValue("dryRun", out var d) ? d.Select(x => x ?? "").ToList() : [];
        var options = PropagateDryRun(eviction["deleteOptions"] as JsonObject, queryDryRun);
        var manager = Registry.ManagedFields.ManagerName.Resolve(null, ctx.Request.Headers.UserAgent.ToString());
        await SubresourceAdmission.CreateAsync(stores(def), "eviction", info.Namespace, info.Name, eviction, user,
            options.DryRun is { Count: > 0 }, null, ct);
        var result = await EvictAsync(stores(def), info.Namespace, info.Name, options, user, manager, ct);
        await Responses.WriteObjectAsync(ctx, result.Code, result.Status);
    }

    /// <summary>propagateDryRun: the Eviction's deleteOptions, with the request's dryRun when they name none.</summary>
    private static ParsedDeleteOptions PropagateDryRun(JsonObject? deleteOptions, List<string> queryDryRun)
    {
        var parsed = DeleteOptionsDecoder.FromBody(deleteOptions);
        DeleteOptionsDecoder.Validate(parsed);
        if (parsed.DryRun is not { Count: > 0 }) return parsed with { DryRun = queryDryRun.Count > 0 ? queryDryRun : null };
        if (queryDryRun.Count == 0 || queryDryRun.SequenceEqual(parsed.DryRun)) return parsed;
        throw ApiErrors.Internal($"Non-matching dry-run options in request and content: [{string.Join(" ", queryDryRun)}] and [{string.Join(" ", parsed.DryRun)}]");
    }

    private static JsonObject Success => new() { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["code"] = 201 };

    /// <summary>The eviction: the Status to answer and its HTTP code, or an <see cref="ApiException"/>.</summary>
    public async Task<(int Code, JsonObject Status)> EvictAsync(GenericStore pods, string ns, string name, ParsedDeleteOptions options, UserInfo user, string manager, CancellationToken ct)
    {
        var dryRun = options.DryRun is { Count: > 0 };
        var rvUnset = string.IsNullOrEmpty(options.PreconditionResourceVersion);
        JsonObject pod;
        // A pod that needs no budget check is deleted at once (retried on conflicts unless the caller set a resourceVersion).
        for (var attempt = 0; ; attempt++)
        {
            pod = await pods.GetAsync(ns, name, ct);
            if (!CanIgnoreBudget(pod)) break;
            var rv = ShouldEnforceResourceVersion(pod) && rvUnset ? Meta.ResourceVersion(pod) : options.PreconditionResourceVersion;
            try
            {
                await AddConditionAndDeleteAsync(pods, ns, name, options with { PreconditionResourceVersion = rv }, user, manager, ct);
                return (201, Success);
            }
            catch (ApiException e) when (e.Code == 409 && rvUnset && attempt < Attempts) { }
        }

        var budgets = (await Budgets.ListAsync(ns, new ListOptions(), ct))["items"]!.AsArray().OfType<JsonObject>()
            .Where(b => DisruptionController.Selector(b) is { } sel && sel.Matches(Meta.Labels(pod))).ToList();
        if (budgets.Count > 1)
            return (500, new JsonObject
            {
                ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure",
                ["message"] = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                ["code"] = 500,
            });
        var enforceRv = false;
        string? budgetName = null;
        if (budgets.Count == 1)
        {
            var pdb = budgets[0];
            budgetName = Meta.Name(pdb);
            var status = pdb["status"] as JsonObject;
            if (!PodFacts.IsReady(pod)
                && (JsonRead.Str(pdb["spec"], "unhealthyPodEvictionPolicy") == "AlwaysAllow"
                    || (JsonRead.Long(status, "currentHealthy") ?? 0) >= (JsonRead.Long(status, "desiredHealthy") ?? 0) && (JsonRead.Long(status, "desiredHealthy") ?? 0) > 0))
            {
                // An unready pod does not count as healthy: evicting it takes nothing from the budget.
                enforceRv = true;
            }
            else
            {
                for (var attempt = 0; ; attempt++)
                {
                    try { await CheckAndDecrementAsync(pdb, name, dryRun, user, ct); break; }
                    catch (ApiException e) when (e.Code == 409)
                    {
                        if (attempt >= Attempts) throw new ApiException(504, "Timeout", $"Timeout: couldn't update PodDisruptionBudget \"{budgetName}\" due to conflicts") { RetryAfterSeconds = 10 };
                        pdb = await Budgets.GetAsync(ns, budgetName, ct);
                    }
                }
            }
        }
        var deleteOptions = enforceRv ? options with { PreconditionResourceVersion = Meta.ResourceVersion(pod) } : options;
        try { await AddConditionAndDeleteAsync(pods, ns, name, deleteOptions, user, manager, ct); }
        catch (ApiException e) when (e.Code == 409 && enforceRv && rvUnset)
        {
            // The pod changed (became ready, say) since the budget was read: the client retries.
            throw TooManyRequests(budgetName!);
        }
        return (201, Success);
    }

    /// <summary>canIgnorePDB: a pod that is finished, not started, or already being deleted.</summary>
    private static bool CanIgnoreBudget(JsonObject pod) =>
        PodFacts.Phase(pod) is "Succeeded" or "Failed" or "Pending" || Meta.IsDeleting(pod);

    /// <summary>shouldEnforceResourceVersion: not for finished pods or pods being deleted.</summary>
    private static bool ShouldEnforceResourceVersion(JsonObject pod) =>
        PodFacts.Phase(pod) is not ("Succeeded" or "Failed") && !Meta.IsDeleting(pod);

    /// <summary>createTooManyRequestsError: the budget is not up to date yet.</summary>
    private static ApiException TooManyRequests(string budget) =>
        new(429, "TooManyRequests", ViolationMessage)
        {
            Causes = [new StatusCause("DisruptionBudget", $"The disruption budget {budget} is still being processed by the server.", "")],
        };

    /// <summary>checkAndDecrement: the budget allows a disruption, takes it, and records the pod (unless dry run).</summary>
    private async Task CheckAndDecrementAsync(JsonObject pdb, string podName, bool dryRun, UserInfo user, CancellationToken ct)
    {
        var name = Meta.Name(pdb);
        var status = pdb["status"] as JsonObject ?? new JsonObject();
        if ((JsonRead.Long(status, "observedGeneration") ?? 0) < (JsonRead.Long(Meta.Of(pdb), "generation") ?? 0)) throw TooManyRequests(name);
        var allowed = JsonRead.Long(status, "disruptionsAllowed") ?? 0;
        if (allowed < 0) throw ApiErrors.Forbidden("poddisruptionbudget", "policy", name, "pdb disruptions allowed is negative");
        if ((status["disruptedPods"] as JsonObject)?.Count > MaxDisruptedPodSize)
            throw ApiErrors.Forbidden("poddisruptionbudget", "policy", name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
        if (allowed == 0)
            throw new ApiException(429, "TooManyRequests", ViolationMessage)
            {
                    Causes = [new StatusCause("DisruptionBudget",
                    $"The disruption budget {name} needs {JsonRead.Long(status, "desiredHealthy") ?? 0} healthy pods and has {JsonRead.Long(status, "currentHealthy") ?? 0} currently", "")],
            };
        if (dryRun) return;
        var rv = Meta.ResourceVersion(pdb);
        var now = time.GetUtcNow();
        await Budgets.UpdateAsync(Meta.Namespace(pdb), name, "status", cur =>
        {
            if (Meta.ResourceVersion(cur) != rv) throw ApiErrors.Conflict("poddisruptionbudgets", "policy", name, ApiErrors.OptimisticLockMessage);
            var s = cur["status"] as JsonObject ?? new JsonObject();
            s["disruptionsAllowed"] = allowed - 1;
            if (allowed - 1 == 0)
                PdbMath.SetCondition(s, "False", "InsufficientPods", "", JsonRead.Long(s, "observedGeneration") ?? 0, now);
            var disrupted = s["disruptedPods"] as JsonObject ?? new JsonObject();
            disrupted[podName] = ObjectShaper.FormatTime(now);
            s["disruptedPods"] = disrupted;
            cur["status"] = s;
            return cur;
        }, new WriteOptions(user) { FieldManager = "kube-apiserver" }, ct);
    }

    /// <summary>
    /// addConditionAndDeletePod: the pod gets DisruptionTarget=True (EvictionByEvictionAPI, "Eviction API:
    /// evicting") through its status, honouring the preconditions, then is deleted with the caller's options.
    /// </summary>
    private async Task AddConditionAndDeleteAsync(GenericStore pods, string ns, string name, ParsedDeleteOptions options, UserInfo user, string manager, CancellationToken ct)
    {
        var dryRun = options.DryRun is { Count: > 0 };
        var rv = options.PreconditionResourceVersion;
        if (!dryRun)
        {
            var updated = await pods.UpdateAsync(ns, name, "status", cur =>
            {
                if (options.PreconditionUid is { Length: > 0 } uid && uid != Meta.Uid(cur))
                    throw ApiErrors.Conflict("pods", "", name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {Meta.Uid(cur)}");
                if (rv is { Length: > 0 } && rv != Meta.ResourceVersion(cur))
                    throw ApiErrors.Conflict("pods", "", name, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {Meta.ResourceVersion(cur)}");
                SetDisruptionTarget(cur, time.GetUtcNow());
                return cur;
            }, new WriteOptions(user) { FieldManager = manager }, ct);
            // The precondition follows the write the eviction itself made.
            if (rv is { Length: > 0 }) rv = Meta.ResourceVersion(updated);
        }
        var policy = options.PropagationPolicy ?? (options.OrphanDependents == true ? "Orphan" : null);
        await pods.DeleteAsync(ns, name, new DeleteOptions(user, options.PreconditionUid is { Length: > 0 } u ? u : null,
            rv is { Length: > 0 } ? rv : null, policy, options.GracePeriodSeconds, dryRun), ct);
    }

    /// <summary>UpdatePodCondition with the DisruptionTarget condition (the transition time moves only with the status).</summary>
    private static void SetDisruptionTarget(JsonObject pod, DateTimeOffset now)
    {
        var status = pod["status"] as JsonObject ?? new JsonObject();
        var conditions = status["conditions"] as JsonArray ?? new JsonArray();
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => JsonRead.Str(c, "type") == "DisruptionTarget");
        var condition = new JsonObject
        {
            ["type"] = "DisruptionTarget",
            ["status"] = "True",
            ["lastProbeTime"] = null,
            ["lastTransitionTime"] = existing is not null && JsonRead.Str(existing, "status") == "True"
                ? existing["lastTransitionTime"]?.DeepClone() : ObjectShaper.FormatTime(now),
            ["reason"] = "EvictionByEvictionAPI",
            ["message"] = "Eviction API: evicting",
        };
        if (existing is not null) conditions[conditions.IndexOf(existing)] = condition;
        else conditions.Add((JsonNode)condition);
        status["conditions"] = conditions;
        pod["status"] = status;
    }
}
