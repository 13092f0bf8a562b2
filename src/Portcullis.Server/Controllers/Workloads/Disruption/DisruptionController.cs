using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.Policy;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads.Disruption;

/// <summary>
/// kube-controller-manager's disruption controller (pkg/controller/disruption/disruption.go): each
/// PodDisruptionBudget's status — expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed,
/// disruptedPods, observedGeneration and the DisruptionAllowed condition (SufficientPods / InsufficientPods,
/// SyncFailed with the error when the status cannot be computed) — from the pods its selector matches and, for
/// maxUnavailable or a percentage minAvailable, the scale of the pods' controllers (<see cref="ControllerScale"/>).
/// </summary>
/// <remarks>Not done: the stale DisruptionTarget pod condition clean-up (upstream's stalePodDisruption queue).</remarks>
public sealed class DisruptionController : QueueController
{
    private readonly Informer _pods;
    private readonly ControllerScale _scales;

    public DisruptionController(ControllerContext ctx, int workers = 2)
        : base(ctx, "disruption-controller", ctx.Informers.For("policy", "poddisruptionbudgets"), workers)
    {
        _pods = ctx.Informers.For("", "pods");
        _scales = new ControllerScale(ctx);
    }

    private GenericStore Budgets => Client.Store("policy", "poddisruptionbudgets");

    protected override void OnChange(InformerEvent e)
    {
        if (e.Source != _pods) return;
        foreach (var pod in new[] { e.OldObject, e.Object })
            if (pod is not null)
                foreach (var pdb in Primary.List(e.Namespace))
                    if (Selector(pdb) is { } sel && sel.Matches(Meta.Labels(pod))) Enqueue(e.Namespace, Meta.Name(pdb));
    }

    /// <summary>The budget's selector (policy/v1: an empty one selects every pod, a missing one none); null if invalid.</summary>
    internal static MetaLabelSelector.Matcher? Selector(JsonObject pdb) => MetaLabelSelector.Convert(pdb["spec"]?["selector"] as JsonObject);

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        var pdb = Primary.Get(ns, name);
        if (pdb is null) return;
        try { await TrySyncAsync(pdb, ct); }
        catch (Exception e) when (e is not OperationCanceledException && !(e is ApiException { Code: 409 }))
        {
            // failSafe: no disruption is allowed while the budget cannot be computed, and the condition says why.
            var message = e is ApiException api ? api.Message : e.Message;
            await WriteStatusAsync(pdb, status =>
            {
                status["disruptionsAllowed"] = 0;
                PdbMath.SetCondition(status, "False", "SyncFailed", message, JsonRead.Long(status, "observedGeneration") ?? 0, Time.GetUtcNow());
            }, ct);
            throw;
        }
    }

    private async Task TrySyncAsync(JsonObject pdb, CancellationToken ct)
    {
        var ns = Meta.Namespace(pdb);
        var selector = Selector(pdb) ?? throw new InvalidOperationException("invalid label selector");
        var pods = _pods.List(ns).Where(p => selector.Matches(Meta.Labels(p))).ToList();
        if (pods.Count == 0) await EventAsync(PodDisruptionBudgetKind.V1, pdb, "Normal", "NoPods", "No matching pods found", ct);

        var unmanaged = new List<string>();
        var spec = pdb["spec"] as JsonObject ?? new JsonObject();
        int expected, desired;
        try
        {
            var scale = 0;
            if (PdbMath.NeedsScale(spec)) (scale, unmanaged) = await _scales.ExpectedScaleAsync(pods, ct);
            (expected, desired) = PdbMath.Expected(spec, pods.Count, scale);
        }
        catch (Exception e) when (e is InvalidOperationException or ApiException)
        {
            await EventAsync(PodDisruptionBudgetKind.V1, pdb, "Warning", "CalculateExpectedPodCountFailed",
                "Failed to calculate the number of expected pods: " + e.Message, ct);
            throw;
        }
        if (unmanaged.Count > 0)
            await EventAsync(PodDisruptionBudgetKind.V1, pdb, "Warning", "UnmanagedPods",
                $"Pods selected by this PodDisruptionBudget (selector: {GoSelector(spec["selector"] as JsonObject)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.", ct);

        var now = Time.GetUtcNow();
        var (disrupted, recheck) = PdbMath.Disrupted(pdb["status"]?["disruptedPods"] as JsonObject, pods, now);
        var healthy = PdbMath.CurrentHealthy(pods, disrupted, now);
        var allowed = PdbMath.DisruptionsAllowed(healthy, desired, expected);
        var status = pdb["status"] as JsonObject;
        var generation = JsonRead.Long(Meta.Of(pdb), "generation") ?? 0;
        var disruptedJson = new JsonObject();
        foreach (var (pod, t) in disrupted.OrderBy(kv => kv.Key, StringComparer.Ordinal)) disruptedJson[pod] = Api.Schema.ObjectShaper.FormatTime(t);
        var unchanged = JsonRead.Long(status, "currentHealthy") == healthy && JsonRead.Long(status, "desiredHealthy") == desired
            && JsonRead.Long(status, "expectedPods") == expected && (JsonRead.Long(status, "disruptionsAllowed") ?? 0) == allowed
            && SameJson(status?["disruptedPods"] as JsonObject ?? new JsonObject(), disruptedJson)
            && (JsonRead.Long(status, "observedGeneration") ?? 0) == generation && PdbMath.ConditionUpToDate(pdb);
        if (!unchanged)
            await WriteStatusAsync(pdb, s =>
            {
                s["disruptedPods"] = disruptedJson.Count > 0 ? disruptedJson.DeepClone() : null;
                s["disruptionsAllowed"] = allowed;
                s["currentHealthy"] = healthy;
                s["desiredHealthy"] = desired;
                s["expectedPods"] = expected;
                s["observedGeneration"] = generation;
                if (s["disruptedPods"] is null) s.Remove("disruptedPods");
                PdbMath.SetCondition(s, allowed > 0 ? "True" : "False", allowed > 0 ? "SufficientPods" : "InsufficientPods", "", generation, now);
            }, ct);
        // enqueuePdbForRecheck: a disruption recorded but not followed by the pod's deletion expires.
        if (recheck is { } at) Queue.AddAfter(QueueController.Key(ns, Meta.Name(pdb)), at - now + TimeSpan.FromMilliseconds(100), ct);
    }

    private static bool SameJson(JsonNode a, JsonNode b) => JsonNode.DeepEquals(a, b);

    /// <summary>Writes the status through the status subresource, with the read object's resourceVersion as precondition.</summary>
    private Task WriteStatusAsync(JsonObject pdb, Action<JsonObject> change, CancellationToken ct) =>
        Budgets.UpdateAsync(Meta.Namespace(pdb), Meta.Name(pdb), "status", cur =>
        {
            if (Meta.ResourceVersion(cur) != Meta.ResourceVersion(pdb))
                throw ApiErrors.Conflict("poddisruptionbudgets", "policy", Meta.Name(pdb), ApiErrors.OptimisticLockMessage);
            var status = cur["status"] as JsonObject ?? new JsonObject();
            change(status);
            cur["status"] = status;
            return cur;
        }, Writes, ct);

    /// <summary>The selector as Go's %v prints a *metav1.LabelSelector (close enough for the event's text).</summary>
    private static string GoSelector(JsonObject? s)
    {
        if (s is null) return "nil";
        var ml = s["matchLabels"] is JsonObject m ? "map[" + string.Join(" ", m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ":" + JsonRead.Str(kv.Value))) + "]" : "map[]";
        return "&LabelSelector{MatchLabels:" + ml + ",MatchExpressions:[]LabelSelectorRequirement{},}";
    }
}
