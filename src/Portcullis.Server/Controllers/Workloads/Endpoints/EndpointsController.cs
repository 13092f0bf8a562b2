using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.Core;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using F = Portcullis.Server.Controllers.Workloads.Endpoints.ServiceEndpointFacts;

namespace Portcullis.Server.Controllers.Workloads.Endpoints;

/// <summary>
/// kube-controller-manager's endpoints controller (pkg/controller/endpoint/endpoints_controller.go): for each
/// Service with a selector (not ExternalName), an Endpoints object of the same name whose subsets are the
/// selected pods (<see cref="EndpointsBuilder"/>), labelled as the Service (plus
/// <c>service.kubernetes.io/headless</c> without a cluster IP), with the
/// <c>endpoints.kubernetes.io/last-change-trigger-time</c> and, past 1000 addresses,
/// <c>endpoints.kubernetes.io/over-capacity: truncated</c> annotations. A Service's Endpoints go with it.
/// Services without a selector keep whatever Endpoints their writer gives them (the <c>kubernetes</c> Service's
/// are the API server's own: <see cref="KubernetesServiceController"/>).
/// </summary>
public sealed class EndpointsController : QueueController
{
    private readonly Informer _pods;
    private readonly Informer _endpoints;
    private readonly TriggerTimeTracker _triggers = new();

    public EndpointsController(ControllerContext ctx, int workers = 2)
        : base(ctx, "endpoint-controller", ctx.Informers.For("", "services"), workers)
    {
        _pods = ctx.Informers.For("", "pods");
        _endpoints = ctx.Informers.For("", "endpoints");
    }

    private GenericStore EndpointsStore => Client.Store("", "endpoints");

    protected override void OnChange(InformerEvent e)
    {
        if (e.Source == _pods)
        {
            // getPodServiceMemberships, for the pod's labels before and after the change.
            foreach (var pod in new[] { e.OldObject, e.Object })
                if (pod is not null)
                    foreach (var svc in Primary.List(e.Namespace))
                        if (F.Selector(svc) is { } sel && F.Selects(sel, pod)) Enqueue(e.Namespace, Meta.Name(svc));
        }
        // onEndpointsDelete: a Service's deleted Endpoints are brought back. (Endpoints of no Service are not
        // deleted on a change: upstream sweeps those only when the controller starts, checkLeftoverEndpoints.)
        else if (e.Source == _endpoints && e.Type == Storage.KeyEventType.Delete) Enqueue(e.Namespace, e.Name);
    }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        var service = Primary.Get(ns, name);
        if (service is null)
        {
            // The Service is gone: so are its Endpoints.
            _triggers.Delete(ns, name);
            if (_endpoints.Get(ns, name) is null) return;
            try { await EndpointsStore.DeleteAsync(ns, name, new DeleteOptions(User), ct); }
            catch (ApiException e) when (e.Code == 404) { }
            return;
        }
        if (!F.Managed(service)) return;
        var selector = F.Selector(service)!;
        var pods = _pods.List(ns).Where(p => F.Selects(selector, p)).ToList();
        var subsets = EndpointsBuilder.Subsets(service, pods);

        var current = _endpoints.Get(ns, name);
        var serviceLabels = Meta.Labels(service);
        if (current is not null)
        {
            var currentLabels = Meta.Labels(current);
            currentLabels.Remove(F.HeadlessLabel);
            var annotations = Meta.StringMap(Meta.Of(current)["annotations"]);
            var capacityOk = EndpointsBuilder.Count(subsets) <= EndpointsBuilder.MaxCapacity && !annotations.ContainsKey(EndpointsBuilder.OverCapacityAnnotation);
            if (F.Same(current["subsets"] ?? new JsonArray(), subsets) && SameMap(currentLabels, serviceLabels) && capacityOk) return;
        }

        var desired = current is null
            ? new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Endpoints", ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns } }
            : (JsonObject)current.DeepClone();
        // The informer's objects carry no kind or apiVersion: a full replacement must.
        desired["apiVersion"] = "v1";
        desired["kind"] = "Endpoints";
        var meta = Meta.Of(desired);
        var ann = meta["annotations"] as JsonObject ?? new JsonObject();
        if (_triggers.Compute(service, pods) is { } trigger) ann[F.TriggerTimeAnnotation] = F.Rfc3339Nano(trigger);
        else ann.Remove(F.TriggerTimeAnnotation);
        if (EndpointsBuilder.Truncate(subsets)) ann[EndpointsBuilder.OverCapacityAnnotation] = "truncated";
        else ann.Remove(EndpointsBuilder.OverCapacityAnnotation);
        if (ann.Count > 0) meta["annotations"] = ann; else meta.Remove("annotations");
        var labels = new JsonObject();
        foreach (var (k, v) in serviceLabels) if (k != F.HeadlessLabel) labels[k] = v;
        if (!F.HasClusterIp(service)) labels[F.HeadlessLabel] = "";
        if (labels.Count > 0) meta["labels"] = labels; else meta.Remove("labels");
        if (subsets.Count > 0) desired["subsets"] = subsets; else desired.Remove("subsets");

        try
        {
            if (current is null) await EndpointsStore.CreateAsync(ns, desired, Writes, ct);
            else await EndpointsStore.UpdateAsync(ns, name, "", _ => desired, Writes, ct);
        }
        catch (ApiException e) when (current is null && e.Code == 403 && e.Message.Contains("because it is being terminated", StringComparison.Ordinal))
        {
            // A namespace being deleted refuses new objects: nothing to do (upstream checks NamespaceTerminatingCause).
        }
        catch (ApiException e) when (e.Code != 409)
        {
            if (current is null)
                await EventAsync(EndpointsKind.V1, desired, "Warning", "FailedToCreateEndpoint", $"Failed to create endpoint for service {ns}/{name}: {e.Message}", ct);
            else
                await EventAsync(EndpointsKind.V1, desired, "Warning", "FailedToUpdateEndpoint", $"Failed to update endpoint {ns}/{name}: {e.Message}", ct);
            throw;
        }
    }

    private static bool SameMap(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
