using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.Apps;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// kube-controller-manager's StatefulSet controller (pkg/controller/statefulset/stateful_set.go): claims the pods
/// and ControllerRevisions the set's selector matches (pods only when their name says they are the set's), keeps
/// the revision history, and hands the set to <see cref="StatefulSetControl"/>, which creates, deletes and updates
/// pods by ordinal. The status is written when it changed, then history beyond revisionHistoryLimit is deleted.
/// </summary>
internal sealed class StatefulSetController : QueueController
{
    private readonly Informer _pods;
    private readonly Informer _revisions;

    public StatefulSetController(ControllerContext ctx) : base(ctx, "statefulset-controller", ctx.Informers.For("apps", "statefulsets"))
    {
        _pods = Informers.For("", "pods");
        _revisions = Informers.For("apps", "controllerrevisions");
        Claims = Informers.For("", "persistentvolumeclaims");
    }

    internal Informer Claims { get; }
    internal GenericStore PodStore => Client.Store("", "pods");
    internal GenericStore ClaimStore => Client.Store("", "persistentvolumeclaims");
    internal GenericStore RevisionStore => Client.Store("apps", "controllerrevisions");
    internal WriteOptions WriteOptions => Writes;
    internal new TimeProvider Time => base.Time;

    /// <summary>Pods and revisions go to their controlling set; an orphan pod to every set of its namespace (adoption).</summary>
    protected override void OnChange(InformerEvent e)
    {
        if (e.Source != _pods && e.Source != _revisions) return;
        foreach (var obj in new[] { e.Object, e.OldObject })
        {
            if (obj is null) continue;
            if (ControllerRef.Of(obj) is { } r)
            {
                if (JsonRead.Str(r, "kind") == "StatefulSet" && JsonRead.StrOrEmpty(r, "apiVersion").StartsWith("apps/", StringComparison.Ordinal))
                    Enqueue(e.Namespace, JsonRead.StrOrEmpty(r, "name"));
            }
            else if (e.Source == _pods && StatefulSetPods.ParentAndOrdinal(Meta.Name(obj)).Parent is { Length: > 0 } parent && Primary.Get(e.Namespace, parent) is not null)
                Enqueue(e.Namespace, parent);
        }
    }

    protected override async Task SyncAsync(string ns, string name, CancellationToken ct)
    {
        if (Primary.Get(ns, name) is not { } set || Meta.IsDeleting(set)) return;
        if (set["spec"]?["selector"] is not JsonObject selectorJson || MetaLabelSelector.AsSelector(selectorJson) is not { } selector)
            return; // a non-transient error upstream too: the selector cannot change, so there is nothing to retry.
        var setUid = Meta.Uid(set);
        async Task<JsonObject?> Recheck(CancellationToken c) => await Client.TryGetAsync(Client.Store("apps", "statefulsets"), ns, name, c);

        var pods = await ControllerRef.ClaimAsync(PodStore, set, "apps/v1", "StatefulSet", _pods.List(ns),
            p => selector.Matches(Meta.Labels(p)) && StatefulSetPods.IsMemberOf(set, p), Recheck, Writes, ct);
        var revisions = await ControllerRef.ClaimAsync(RevisionStore, set, "apps/v1", "StatefulSet", _revisions.List(ns),
            r => selector.Matches(Meta.Labels(r)), Recheck, Writes, ct);

        var control = new StatefulSetControl(this, set, pods, ControllerHistory.Sort(revisions));
        Exception? failure = null;
        JsonObject? status = null;
        try { status = await control.UpdateAsync(ct); }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            failure = e;
            status = control.Status;
        }
        if (status is not null) await WriteStatusAsync(set, setUid, status, ct);
        if (control.Current is not null && control.Update is not null)
        {
            var live = new HashSet<string>(StringComparer.Ordinal) { Meta.Name(control.Current), Meta.Name(control.Update) };
            foreach (var p in pods) live.Add(StatefulSetPods.Revision(p));
            await ControllerHistory.TruncateAsync(RevisionStore, control.Revisions, live,
                JsonRead.Long(set["spec"] as JsonObject, "revisionHistoryLimit") ?? 10, User, ct);
        }
        if (failure is not null) throw failure;
        if (control.RequeueAfter is { } after) Queue.AddAfter(Key(ns, name), after, ct);
    }

    /// <summary>updateStatefulSetStatus: written through /status only when something changed.</summary>
    private async Task WriteStatusAsync(JsonObject set, string uid, JsonObject status, CancellationToken ct)
    {
        if (JsonNode.DeepEquals(Normalize(set["status"] as JsonObject), Normalize(status))) return;
        try
        {
            await Primary.Store.UpdateAsync(Meta.Namespace(set), Meta.Name(set), "status", cur =>
            {
                if (Meta.Uid(cur) != uid) throw ApiErrors.NotFound("statefulsets", "apps", Meta.Name(set));
                var merged = (JsonObject)status.DeepClone();
                // Conditions are not the controller's to drop.
                if (cur["status"]?["conditions"] is JsonArray conditions) merged["conditions"] = conditions.DeepClone();
                cur["status"] = merged;
                return cur;
            }, Writes, ct);
        }
        catch (ApiException e) when (e.Code == 404) { }
    }

    private static JsonObject Normalize(JsonObject? status)
    {
        var n = new JsonObject();
        if (status is null) return n;
        foreach (var (k, v) in status)
            if (k != "conditions" && v is not null && !(v is JsonValue val && val.ToJsonString() is "0" or "\"\"")) n[k] = v.DeepClone();
        return n;
    }

    internal Task RecordAsync(JsonObject set, string type, string reason, string message, CancellationToken ct) =>
        EventAsync(StatefulSetKind.V1, set, type, reason, message, ct);
}
