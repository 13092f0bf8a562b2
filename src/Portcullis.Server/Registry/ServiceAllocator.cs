using System.Net;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Registry;

/// <summary>
/// Allocates what a Service gets on create, as upstream's service REST storage does: a cluster IP
/// from the service CIDR (default 10.96.0.0/12; the first address is the kubernetes Service's)
/// and node ports from 30000–32767. Allocation reads the live services under one lock, so two
/// creates cannot take the same address.
/// </summary>
public sealed class ServiceAllocator(Func<CancellationToken, Task<IEnumerable<JsonObject>>> listServices, string serviceCidr = "10.96.0.0/12")
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly (uint Base, uint Size) _cidr = Parse(serviceCidr);

    private static (uint, uint) Parse(string cidr)
    {
        var parts = cidr.Split('/');
        var ip = IPAddress.Parse(parts[0]).GetAddressBytes();
        var bits = int.Parse(parts[1]);
        return (((uint)ip[0] << 24) | ((uint)ip[1] << 16) | ((uint)ip[2] << 8) | ip[3], 1u << (32 - bits));
    }

    private static string Format(uint v) => $"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}";

    public async Task AllocateAsync(JsonObject svc, CancellationToken ct)
    {
        var spec = svc["spec"] as JsonObject ?? new JsonObject();
        svc["spec"] = spec;
        var type = spec["type"]?.GetValue<string>() ?? "ClusterIP";
        await _lock.WaitAsync(ct);
        try
        {
            var existing = (await listServices(ct)).ToList();
            if (type != "ExternalName")
            {
                var requested = spec["clusterIP"]?.GetValue<string>() ?? "";
                if (requested != "None")
                {
                    var used = existing.Select(s => s["spec"]?["clusterIP"]?.GetValue<string>()).Where(s => s is not null).ToHashSet();
                    string ip;
                    if (requested.Length == 0)
                    {
                        // Skip the network address and the first host (reserved for the kubernetes Service unless asked for).
                        ip = "";
                        for (uint i = 2; i < _cidr.Size - 1; i++)
                            if (!used.Contains(Format(_cidr.Base + i))) { ip = Format(_cidr.Base + i); break; }
                        if (ip.Length == 0) throw ApiErrors.Internal("failed to allocate a serviceIP: range is full");
                    }
                    else
                    {
                        if (!IPAddress.TryParse(requested, out var addr) || !InRange(addr))
                            throw ApiErrors.Invalid("Service", "", Meta.Name(svc),
                                [FieldError.Invalid("spec.clusterIPs", requested, $"failed to allocate IP {requested}: the provided IP ({requested}) is not in the valid range. The range of valid IPs is {serviceCidrText}")]);
                        if (used.Contains(requested))
                            throw ApiErrors.Invalid("Service", "", Meta.Name(svc),
                                [FieldError.Invalid("spec.clusterIPs", requested, $"failed to allocate IP {requested}: provided IP is already allocated")]);
                        ip = requested;
                    }
                    spec["clusterIP"] = ip;
                    spec["clusterIPs"] = new JsonArray(ip);
                }
                else spec["clusterIPs"] = new JsonArray("None");
                spec["ipFamilies"] ??= new JsonArray("IPv4");
                spec["ipFamilyPolicy"] ??= "SingleStack";
            }
            // Health-check node ports come from the same range as node ports.
            var usedPorts = existing.SelectMany(s => s["spec"]?["ports"] as JsonArray ?? [])
                .Select(p => p?["nodePort"]?.GetValue<long>() ?? 0)
                .Concat(existing.Select(s => Api.Validation.J.L(s["spec"], "healthCheckNodePort") ?? 0)).ToHashSet();
            if (type is "NodePort" or "LoadBalancer" && spec["ports"] is JsonArray ports)
            {
                foreach (var p in ports.OfType<JsonObject>())
                {
                    if ((p["nodePort"]?.GetValue<long>() ?? 0) != 0) { usedPorts.Add(p["nodePort"]!.GetValue<long>()); continue; }
                    for (long n = 30000; n <= 32767; n++)
                        if (usedPorts.Add(n)) { p["nodePort"] = n; break; }
                }
            }
            // allocHealthCheckNodePort: a LoadBalancer with externalTrafficPolicy Local gets one before validation.
            if (type == "LoadBalancer" && spec["externalTrafficPolicy"]?.GetValue<string>() == "Local"
                && (Api.Validation.J.L(spec, "healthCheckNodePort") ?? 0) == 0)
                for (long n = 30000; n <= 32767; n++)
                    if (usedPorts.Add(n)) { spec["healthCheckNodePort"] = n; break; }
        }
        finally { _lock.Release(); }
    }

    private string serviceCidrText => serviceCidr;

    private bool InRange(IPAddress a)
    {
        if (a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return false;
        var b = a.GetAddressBytes();
        var v = ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
        return v > _cidr.Base && v < _cidr.Base + _cidr.Size - 1;
    }
}
