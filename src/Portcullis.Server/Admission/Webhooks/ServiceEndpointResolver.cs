using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>
/// Where a webhook's Service is served (apiserver pkg/util/proxy ResolveEndpoint, the EndpointServiceResolver): the
/// Service must be ClusterIP, NodePort or LoadBalancer and have the port; a ready address of its Endpoints with the
/// service port's name is picked at random. With no Endpoints object, the Service's EndpointSlices are read
/// (ready endpoints, the same port name) — Portcullis' endpoints controllers write both, a test may write either.
/// An address in the cluster's pod network is a pod's, and pods share the host's network (their IP is reported, not
/// assigned to an interface): it is dialled on the loopback at the same port, as port-forwarding does, so a webhook
/// served by a pod of the process runtime is reached.
/// </summary>
internal sealed class ServiceEndpointResolver(Func<string, string, string, CancellationToken, Task<JsonObject?>> get,
    Func<string, string, CancellationToken, Task<IReadOnlyList<JsonObject>>> slices, Controllers.Node.Ipv4Cidr? podNetwork = null)
{
    public async Task<(string Ip, int Port)> ResolveAsync(string ns, string name, int port, CancellationToken ct)
    {
        var svc = await get("services", ns, name, ct) ?? throw ApiErrors.NotFound("service", "", name);
        var type = (string?)svc["spec"]?["type"] ?? "ClusterIP";
        if (type is not ("ClusterIP" or "NodePort" or "LoadBalancer"))
            throw new ApiException(500, "InternalError", $"unsupported service type \"{type}\"");
        var svcPort = (svc["spec"]?["ports"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(p => Serialization.JsonRead.Long(p["port"]) == port)
            ?? throw ApiErrors.ServiceUnavailable($"no service port {port} found for service \"{name}\"");
        var portName = (string?)svcPort["name"] ?? "";

        var candidates = new List<(string, int)>();
        if (await get("endpoints", ns, name, ct) is { } eps)
        {
            foreach (var ss in (eps["subsets"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var p = (ss["ports"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(x => ((string?)x["name"] ?? "") == portName);
                if (p is null || Serialization.JsonRead.Long(p["port"]) is not { } pl) continue;
                var pn = (int)pl;
                foreach (var a in (ss["addresses"] as JsonArray ?? []).OfType<JsonObject>())
                    if ((string?)a["ip"] is { Length: > 0 } ip) candidates.Add((ip, pn));
            }
        }
        else
        {
            foreach (var slice in await slices(ns, name, ct))
            {
                var p = (slice["ports"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(x => ((string?)x["name"] ?? "") == portName);
                if (p is null || Serialization.JsonRead.Long(p["port"]) is not { } pl) continue;
                var pn = (int)pl;
                foreach (var e in (slice["endpoints"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    if (Serialization.JsonRead.Bool(e["conditions"]?["ready"]) == false) continue;
                    if ((e["addresses"] as JsonArray)?.FirstOrDefault() is JsonValue addr && (string?)addr is { Length: > 0 } ip)
                        candidates.Add((ip, pn));
                }
            }
            if (candidates.Count == 0) throw ApiErrors.ServiceUnavailable($"no endpoints available for service \"{name}\"");
        }
        if (candidates.Count == 0) throw ApiErrors.ServiceUnavailable($"no endpoints available for service \"{name}\"");
        var (address, targetPort) = candidates[Random.Shared.Next(candidates.Count)];
        return (IsPodAddress(address) ? "127.0.0.1" : address, targetPort);
    }

    private bool IsPodAddress(string address)
    {
        if (podNetwork is not { } net || !System.Net.IPAddress.TryParse(address, out var ip)
            || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return false;
        var b = ip.GetAddressBytes();
        var value = (uint)b[0] << 24 | (uint)b[1] << 16 | (uint)b[2] << 8 | b[3];
        var mask = net.Prefix == 0 ? 0u : uint.MaxValue << (32 - net.Prefix);
        return (value & mask) == net.Network;
    }
}
