using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.Core;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;
using B = Portcullis.Server.Controllers.Workloads.Endpoints.EndpointSliceBuilder;
using F = Portcullis.Server.Controllers.Workloads.Endpoints.ServiceEndpointFacts;

namespace Portcullis.Server.Controllers.Workloads.Endpoints;

/// <summary>
/// kube-controller-manager's EndpointSlice controller (pkg/controller/endpointslice and the staging
/// k8s.io/endpointslice reconciler): for each Service with a selector (not ExternalName), EndpointSlices named
/// <c>&lt;service&gt;-&lt;random&gt;</c>, owned by the Service, labelled <c>kubernetes.io/service-name</c> and
/// <c>endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io</c>, holding its pods'
/// endpoints (<see cref="EndpointSliceBuilder"/>), at most 100 per slice; a Service without endpoints keeps
/// one empty placeholder slice. The garbage collector removes a deleted Service's slices.
/// </summary>
/// <remarks>
/// Upstream's reconciler packs endpoints to minimise churn (it fills existing slices before making new ones);
/// here each port set's endpoints, in pod-name order, fill that port set's existing slices in name order, and a
/// slice is written only when its content changes. The EndpointSliceMirroring controller (slices for
/// selector-less Services' custom Endpoints) is not implemented.
/// </remarks>
public sealed class EndpointSliceController : QueueController
{
    private readonly Informer _pods;
    private readonly Informer _nodes;
    private readonly Informer _slices;
    private readonly TriggerTimeTracker _triggers = new();
    private readonly int _maxPerSlice;

    public EndpointSliceController(ControllerContext ctx, int workers = 2, int maxEndpointsPerSlice = B.MaxEndpointsPerSlice)
        : base(ctx, "endpointslice-controller", ctx.Informers.For("", "services"), workers)
    {
        _pods = ctx.Informers.For("", "pods");
        _nodes = ctx.Informers.For("", "nodes");
        _slices = ctx.Informers.For("discovery.k8s.io", "endpointslices");
        _maxPerSlice = maxEndpointsPerSlice;
    }

    private GenericStore Slices => Client.Store("discovery.k8s.io", "endpointslices");

    protected override void OnChange(InformerEvent e)
    {
        if (e.Source == _pods)
        {
            foreach (var pod in new[] { e.OldObject, e.Object })
                if (pod is not null)
                    foreach (var svc in Primary.List(e.Namespace))
                        if (F.Selector(svc) is { } sel && F.Selects(sel, pod)) Enqueue(e.Namespace, Meta.Name(svc));
        }
        else if (e.Source == _slices)
        {
            // A managed slice changed or went (by someone else too): its Service is synced again.
            foreach (var slice in new[] { e.OldObject, e.Object })
                if (slice is not null && Meta.Labels(slice) is var l && l.GetValueOrDefault(B.ManagedByLabel) == B.ControllerName
                    && l.TryGetValue(B.ServiceNameLabel, out var svc))
                    Enqueue(e.Namespace, svc);
        }
        else if (e.Source == _nodes && e.OldObject is { } before && e.Object is { } after
                 && Meta.Labels(before).GetValueOrDefault(B.ZoneLabel) != Meta.Labels(after).GetValueOrDefault(B.ZoneLabel))
        {
            // A node's zone changed: every Service with a pod there is synced again.
            foreach (var pod in _pods.List())
                if (JsonRead.Str(pod["spec"], "nodeName") == e.Name)
                    foreach (var svc in Primary.List(Meta.Namespace(pod)))
                        if (F.Selector(svc) is { } sel && F.Selects(sel, pod)) Enqueue(Meta.Namespace(pod), Meta.Name(svc));
        }
    }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        var service = Primary.Get(ns, name);
        if (service is null) { _triggers.Delete(ns, name); return; }
        if (!F.Managed(service)) return;
        var selector = F.Selector(service)!;
        var pods = _pods.List(ns).Where(p => F.Selects(selector, p)).ToList();
        var addressType = F.IpFamily(service);
        var chunks = B.Chunks(service, pods, n => _nodes.Get("", n), _maxPerSlice);
        // placeholderSliceCompare: a Service with no endpoints keeps one empty slice.
        if (chunks.Count == 0) chunks.Add(new B.Chunk("", [], []));
        var labels = B.Labels(service);

        var existing = _slices.List(ns)
            .Where(s => Meta.Labels(s) is var l && l.GetValueOrDefault(B.ServiceNameLabel) == name && l.GetValueOrDefault(B.ManagedByLabel) == B.ControllerName)
            .OrderBy(Meta.Name, StringComparer.Ordinal).ToList();
        var stale = existing.Where(s => JsonRead.Str(s, "addressType") != addressType || ControllerRef.UidOf(s) is var u && u.Length > 0 && u != Meta.Uid(service)).ToList();
        var usable = existing.Except(stale).ToList();

        // Slices already holding a chunk exactly stay as they are; the others are rewritten, made or deleted.
        var pending = new List<B.Chunk>();
        foreach (var chunk in chunks)
        {
            var same = usable.FirstOrDefault(s => B.PortsKeyOf(s) == chunk.PortsKey && Holds(s, chunk, labels));
            if (same is not null) usable.Remove(same);
            else pending.Add(chunk);
        }
        if (pending.Count == 0 && usable.Count == 0 && stale.Count == 0) return;

        var trigger = _triggers.Compute(service, pods);
        foreach (var chunk in pending)
        {
            var reuse = usable.FirstOrDefault(s => B.PortsKeyOf(s) == chunk.PortsKey) ?? usable.FirstOrDefault();
            if (reuse is not null)
            {
                usable.Remove(reuse);
                var updated = (JsonObject)reuse.DeepClone();
                // The informer's objects carry no kind or apiVersion: a full replacement must.
                updated["apiVersion"] = "discovery.k8s.io/v1";
                updated["kind"] = "EndpointSlice";
                Fill(updated, chunk, labels, trigger);
                await WriteAsync(service, () => Slices.UpdateAsync(ns, Meta.Name(reuse), "", _ => updated, Writes, ct), ct);
                continue;
            }
            var slice = new JsonObject
            {
                ["apiVersion"] = "discovery.k8s.io/v1",
                ["kind"] = "EndpointSlice",
                ["metadata"] = new JsonObject
                {
                    ["generateName"] = B.GenerateName(name),
                    ["namespace"] = ns,
                    ["ownerReferences"] = new JsonArray(ControllerRef.New(service, "v1", "Service")),
                },
                ["addressType"] = addressType,
            };
            Fill(slice, chunk, labels, trigger);
            await WriteAsync(service, () => Slices.CreateAsync(ns, slice, Writes, ct), ct);
        }
        foreach (var s in usable.Concat(stale))
            await WriteAsync(service, async () =>
            {
                try { await Slices.DeleteAsync(ns, Meta.Name(s), new DeleteOptions(User, PreconditionUid: Meta.Uid(s)), ct); }
                catch (ApiException e) when (e.Code == 404) { }
                return s;
            }, ct);
    }

    private static bool Holds(JsonObject slice, B.Chunk chunk, JsonObject labels) =>
        F.Same(slice["endpoints"] ?? new JsonArray(), new JsonArray([.. chunk.Endpoints.Select(e => e.DeepClone())]))
        && F.Same(Meta.Of(slice)["labels"], labels);

    private static void Fill(JsonObject slice, B.Chunk chunk, JsonObject labels, DateTimeOffset? trigger)
    {
        var meta = Meta.Of(slice);
        meta["labels"] = labels.DeepClone();
        var ann = meta["annotations"] as JsonObject ?? new JsonObject();
        if (trigger is { } t) ann[F.TriggerTimeAnnotation] = F.Rfc3339Nano(t);
        else ann.Remove(F.TriggerTimeAnnotation);
        if (ann.Count > 0) meta["annotations"] = ann; else meta.Remove("annotations");
        slice["endpoints"] = new JsonArray([.. chunk.Endpoints.Select(e => e.DeepClone())]);
        slice["ports"] = chunk.Ports.DeepClone();
    }

    /// <summary>A failed write is reported on the Service (upstream's FailedToUpdateEndpointSlices) and retried.</summary>
    private async Task WriteAsync(JsonObject service, Func<Task<JsonObject>> write, CancellationToken ct)
    {
        try { await write(); }
        catch (ApiException e) when (e.Code != 409)
        {
            await EventAsync(ServiceKind.V1, service, "Warning", "FailedToUpdateEndpointSlices",
                $"Error updating Endpoint Slices for Service {Meta.Namespace(service)}/{Meta.Name(service)}: {e.Message}", ct);
            throw;
        }
    }
}
