using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Controllers;

/// <summary>Creates what a fresh cluster has before the server reports ready: the system namespaces.</summary>
public sealed class BootstrapController(IReadOnlyDictionary<ResourceDefinition, GenericStore> stores, ResourceRegistry resources) : IController
{
    public static readonly string[] SystemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];
    private static readonly UserInfo Self = new("system:apiserver", "", ["system:masters"], UserInfo.NoExtra);

    public string Name => "bootstrap";

    public async Task InitializeAsync(CancellationToken ct)
    {
        var ns = stores[resources.Find("", "v1", "namespaces")!];
        foreach (var name in SystemNamespaces)
        {
            try
            {
                await ns.CreateAsync("", new JsonObject
                {
                    ["kind"] = "Namespace",
                    ["apiVersion"] = "v1",
                    ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["kubernetes.io/metadata.name"] = name } },
                }, new WriteOptions(Self) { FieldManager = "kube-apiserver" }, ct);
            }
            catch (ApiException e) when (e.Code == 409) { }
        }
    }

    public Task RunAsync(CancellationToken ct) => Task.Delay(Timeout.Infinite, ct);
}
