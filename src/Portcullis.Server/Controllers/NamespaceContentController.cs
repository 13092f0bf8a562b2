using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers;

/// <summary>
/// What every active namespace holds, kept there as upstream's controllers keep it: the
/// <c>default</c> ServiceAccount (serviceaccounts controller) and the <c>kube-root-ca.crt</c>
/// ConfigMap with the cluster CA (root-ca-cert-publisher), recreated or repaired when changed.
/// </summary>
public sealed class NamespaceContentController(SystemClient client, string caPem, ILogger? log = null) : IController
{
    public const string RootCaConfigMap = "kube-root-ca.crt";
    private const string RootCaDescription =
        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

    public string Name => "namespace-content";

    public Task InitializeAsync(CancellationToken ct) => ReconcileAllAsync(ct);

    public async Task RunAsync(CancellationToken ct)
    {
        var from = client.Backend.CurrentRevision;
        await ReconcileAllAsync(ct);
        // Only three kinds of change matter: a namespace, its default ServiceAccount, its CA ConfigMap.
        await foreach (var ev in client.Backend.WatchAsync("/registry/", from, ct))
        {
            var key = ev.Kv.Key;
            string? ns = null;
            if (key.StartsWith("/registry/namespaces/", StringComparison.Ordinal)) ns = key["/registry/namespaces/".Length..];
            else if (key.StartsWith("/registry/serviceaccounts/", StringComparison.Ordinal) && key.EndsWith("/default", StringComparison.Ordinal))
                ns = key["/registry/serviceaccounts/".Length..^"/default".Length];
            else if (key.StartsWith("/registry/configmaps/", StringComparison.Ordinal) && key.EndsWith("/" + RootCaConfigMap, StringComparison.Ordinal))
                ns = key["/registry/configmaps/".Length..^(RootCaConfigMap.Length + 1)];
            if (ns is not null) await PerObject.TryAsync(log, Name, "namespace " + ns, () => ReconcileAsync(ns, ct), ct);
        }
    }

    private async Task ReconcileAllAsync(CancellationToken ct)
    {
        foreach (var ns in await client.ListAsync(client.Store("", "namespaces"), "", ct))
            await PerObject.TryAsync(log, Name, "namespace " + Meta.Name(ns), () => ReconcileAsync(Meta.Name(ns), ct), ct);
    }

    private async Task ReconcileAsync(string name, CancellationToken ct)
    {
        var sas = client.Store("", "serviceaccounts");
        var cms = client.Store("", "configmaps");
        {
            var ns = await client.TryGetAsync(client.Store("", "namespaces"), "", name, ct);
            if (ns is null || Meta.IsDeleting(ns)) return;
            if (await client.TryGetAsync(sas, name, "default", ct) is null)
                await client.EnsureAsync(sas, name, new JsonObject
                {
                    ["apiVersion"] = "v1", ["kind"] = "ServiceAccount",
                    ["metadata"] = new JsonObject { ["name"] = "default" },
                }, ct);
            var cm = await client.TryGetAsync(cms, name, RootCaConfigMap, ct);
            if (cm is null)
                await client.EnsureAsync(cms, name, RootCa(), ct);
            else if (cm["data"]?["ca.crt"]?.GetValue<string>() != caPem)
            {
                await cms.UpdateAsync(name, RootCaConfigMap, "", cur =>
                {
                    cur["data"] = new JsonObject { ["ca.crt"] = caPem };
                    Meta.Of(cur).Remove("resourceVersion");
                    return cur;
                }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);
            }
        }
    }

    private JsonObject RootCa() => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ConfigMap",
        ["metadata"] = new JsonObject
        {
            ["name"] = RootCaConfigMap,
            ["annotations"] = new JsonObject { ["kubernetes.io/description"] = RootCaDescription },
        },
        ["data"] = new JsonObject { ["ca.crt"] = caPem },
    };
}
