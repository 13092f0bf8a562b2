using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers;

/// <summary>
/// Keeps the <c>default/kubernetes</c> Service (cluster IP 10.96.0.1, port 443 → the secure port)
/// and its Endpoints and EndpointSlice pointing at this server, as kube-apiserver's own
/// controller does, recreating them if someone deletes them.
/// </summary>
public sealed class KubernetesServiceController(SystemClient client, string advertiseAddress, int securePort, TimeProvider time,
    Microsoft.Extensions.Logging.ILogger? log = null) : IController
{
    public const string ServiceIp = "10.96.0.1";
    public string Name => "kubernetes-service";

    public Task InitializeAsync(CancellationToken ct) => ReconcileAsync(ct);

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10), time);
        while (await timer.WaitForNextTickAsync(ct)) await PerObject.TryAsync(log, Name, "reconcile", () => ReconcileAsync(ct), ct);
    }

    private async Task ReconcileAsync(CancellationToken ct)
    {
        var labels = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" };
        await client.EnsureAsync(client.Store("", "services"), "default", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Service",
            ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["labels"] = labels },
            ["spec"] = new JsonObject
            {
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["protocol"] = "TCP", ["port"] = 443, ["targetPort"] = securePort }),
                ["clusterIP"] = ServiceIp,
                ["type"] = "ClusterIP",
                ["sessionAffinity"] = "None",
            },
        }, ct, "kube-apiserver");
        var endpoints = client.Store("", "endpoints");
        var desired = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Endpoints",
            ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["labels"] = new JsonObject { ["endpointslice.kubernetes.io/skip-mirror"] = "true" } },
            ["subsets"] = new JsonArray(new JsonObject
            {
                ["addresses"] = new JsonArray(new JsonObject { ["ip"] = advertiseAddress }),
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = securePort, ["protocol"] = "TCP" }),
            }),
        };
        await EnsureMatchingAsync(endpoints, desired, "subsets", ct);
        var slice = new JsonObject
        {
            ["apiVersion"] = "discovery.k8s.io/v1",
            ["kind"] = "EndpointSlice",
            ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = "kubernetes" } },
            ["addressType"] = "IPv4",
            ["endpoints"] = new JsonArray(new JsonObject
            {
                ["addresses"] = new JsonArray(advertiseAddress),
                ["conditions"] = new JsonObject { ["ready"] = true },
            }),
            ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["protocol"] = "TCP", ["port"] = securePort }),
        };
        await EnsureMatchingAsync(client.Store("discovery.k8s.io", "endpointslices"), slice, "ports", ct);
    }

    /// <summary>Creates the object, or rewrites it when the server's address or port changed since.</summary>
    private async Task EnsureMatchingAsync(GenericStore store, JsonObject desired, string field, CancellationToken ct)
    {
        if (await client.EnsureAsync(store, "default", (JsonObject)desired.DeepClone(), ct, "kube-apiserver")) return;
        var current = await client.TryGetAsync(store, "default", "kubernetes", ct);
        if (current is null) return;
        var changed = current[field]?.ToJsonString() is var cur && !cur!.Contains($"{securePort}") || !current.ToJsonString().Contains(advertiseAddress);
        if (!changed) return;
        try
        {
            await store.UpdateAsync("default", "kubernetes", "", c =>
            {
                foreach (var (k, v) in desired) if (k is not ("metadata" or "kind" or "apiVersion")) c[k] = v?.DeepClone();
                Meta.Of(c).Remove("resourceVersion");
                return c;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-apiserver" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }
}
