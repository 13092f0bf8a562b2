using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers;

/// <summary>
/// Finishes namespace deletion as kube-controller-manager's namespace controller does: once a
/// namespace is Terminating, delete everything in it (objects with finalizers wait for their
/// owners), then remove the <c>kubernetes</c> finalizer through /finalize, which lets it go.
/// </summary>
public sealed class NamespaceController(SystemClient client, TimeProvider time) : IController
{
    public string Name => "namespace";

    public async Task RunAsync(CancellationToken ct)
    {
        var namespaces = client.Store("", "namespaces");
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500), time);
        do
        {
            foreach (var ns in await client.ListAsync(namespaces, "", ct))
                if (Meta.IsDeleting(ns)) await FinalizeAsync(namespaces, Meta.Name(ns), ct);
        } while (await timer.WaitForNextTickAsync(ct));
    }

    private async Task FinalizeAsync(GenericStore namespaces, string ns, CancellationToken ct)
    {
        var remaining = 0;
        foreach (var store in client.All.Where(s => s.Definition.Namespaced))
        {
            foreach (var obj in await client.ListAsync(store, ns, ct))
            {
                remaining++;
                if (Meta.IsDeleting(obj)) continue;
                try
                {
                    await store.DeleteAsync(ns, Meta.Name(obj), new DeleteOptions(SystemClient.Controller, PropagationPolicy: "Background"), ct);
                }
                catch (ApiException e) when (e.Code is 404 or 409) { }
            }
        }
        if (remaining > 0) return;
        try
        {
            await namespaces.UpdateAsync("", ns, "finalize", current =>
            {
                var spec = current["spec"] as JsonObject ?? new JsonObject();
                spec["finalizers"] = new JsonArray(Strategies.SpecFinalizers(current).Where(f => f != "kubernetes").Select(f => (JsonNode)f!).ToArray());
                current["spec"] = spec;
                Meta.Of(current).Remove("resourceVersion");
                return current;
            }, new WriteOptions(SystemClient.Controller), ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }
}
