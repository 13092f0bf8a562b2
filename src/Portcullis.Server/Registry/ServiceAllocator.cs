using System.Net;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Registry;

/// <summary>
/// Allocates what a Service gets on create, as upstream's service REST storage does: a cluster IP
/// from the service CIDR (default 10.96.0.0/12; the first address is the kubernetes Service's) and
/// node ports (and a health-check node port) from 30000–32767. Both are bitmaps kept in storage
/// (<see cref="StoredRange"/>: <c>/registry/ranges/serviceips</c> and
/// <c>/registry/ranges/servicenodeports</c>) and changed by compare-and-swap, so replicas on one
/// store never hand out one address or port twice. Deleting a Service releases what it held; what a
/// crash leaks between the bitmap and the Service is found by <see cref="RepairAsync"/>, upstream's
/// repair loops (pkg/registry/core/service/ipallocator/controller/repair.go and
/// portallocator/controller/repair.go).
/// </summary>
/// <remarks>
/// Upstream 1.33 allocates cluster IPs through IPAddress objects (MultiCIDRServiceAllocator, GA) and,
/// with DisableAllocatorDualWrite off by default, still writes the serviceips bitmap; Portcullis does not
/// serve IPAddress or ServiceCIDR, so the bitmap is its only record (see docs/replicas.md).
/// </remarks>
public sealed class ServiceAllocator : IObjectAllocator
{
    public const string ServiceIpsKey = "/registry/ranges/serviceips";
    public const string NodePortsKey = "/registry/ranges/servicenodeports";
    public const int NodePortBase = 30000;
    public const int NodePortCount = 2768;
    private const string NodePortRangeText = "30000-32767";

    /// <summary>Upstream's numRepairsBeforeLeakCleanup: a leak seen this many times in a row is released.</summary>
    public const int RepairsBeforeLeakCleanup = 3;

    /// <summary>Upstream's repair interval for both loops (the apiserver's --repair-... default: 3 minutes).</summary>
    public static readonly TimeSpan RepairInterval = TimeSpan.FromMinutes(3);

    private readonly Func<CancellationToken, Task<IEnumerable<JsonObject>>> _listServices;
    private readonly string _serviceCidr;
    private readonly uint _first;   // the address at offset 0: the network address + 1
    private readonly StoredRange _ips;
    private readonly StoredRange _ports;
    private readonly Dictionary<(string Key, int Offset), int> _leaks = [];

    /// <param name="kv">The store the bitmaps live in (the one every replica shares).</param>
    /// <param name="listServices">Every Service, read fresh: seeds the bitmaps and drives the repair.</param>
    /// <param name="serviceCidr">The service CIDR (IPv4).</param>
    public ServiceAllocator(IKeyValueBackend kv, Func<CancellationToken, Task<IEnumerable<JsonObject>>> listServices, string serviceCidr = "10.96.0.0/12")
    {
        _listServices = listServices;
        _serviceCidr = serviceCidr;
        var parts = serviceCidr.Split('/');
        var b = IPAddress.Parse(parts[0]).GetAddressBytes();
        var network = ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
        var size = 1L << (32 - int.Parse(parts[1]));
        _first = network + 1;
        // The network and broadcast addresses are never handed out (upstream's RangeSize - 2 for IPv4).
        _ips = new StoredRange(kv, ServiceIpsKey, serviceCidr, (int)Math.Max(0, size - 2), async ct => IpOffsets(await listServices(ct)));
        _ports = new StoredRange(kv, NodePortsKey, NodePortRangeText, NodePortCount, async ct => PortOffsets(await listServices(ct)));
    }

    private static string Format(uint v) => $"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}";

    /// <summary>The address's offset in the range, or -1 when it is outside it (or no IPv4 address).</summary>
    private int IpOffset(string ip)
    {
        if (!IPAddress.TryParse(ip, out var a) || a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return -1;
        var b = a.GetAddressBytes();
        var v = ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
        return v >= _first && v - _first < (uint)_ips.Size ? (int)(v - _first) : -1;
    }

    private IEnumerable<int> IpOffsets(IEnumerable<JsonObject> services) =>
        services.Select(s => IpOffset(s["spec"]?["clusterIP"]?.GetValue<string>() ?? "")).Where(o => o >= 0);

    private static IEnumerable<long> NodePorts(JsonObject svc) =>
        (svc["spec"]?["ports"] as JsonArray ?? []).Select(p => Api.Validation.J.L(p, "nodePort") ?? 0)
            .Append(Api.Validation.J.L(svc["spec"], "healthCheckNodePort") ?? 0)
            .Where(p => p is >= NodePortBase and < NodePortBase + NodePortCount);

    private static IEnumerable<int> PortOffsets(IEnumerable<JsonObject> services) =>
        services.SelectMany(NodePorts).Select(p => (int)(p - NodePortBase));

    /// <inheritdoc />
    public async Task AllocateAsync(JsonObject svc, bool dryRun, CancellationToken ct)
    {
        var spec = svc["spec"] as JsonObject ?? new JsonObject();
        svc["spec"] = spec;
        var type = spec["type"]?.GetValue<string>() ?? "ClusterIP";
        var ipTaken = -1;
        if (type != "ExternalName")
        {
            var requested = spec["clusterIP"]?.GetValue<string>() ?? "";
            if (requested != "None")
            {
                ipTaken = await _ips.MutateAsync(bits => (AllocateIp(bits, svc, requested), !dryRun), ct);
                var ip = Format(_first + (uint)ipTaken);
                spec["clusterIP"] = ip;
                spec["clusterIPs"] = new JsonArray(ip);
            }
            else spec["clusterIPs"] = new JsonArray("None");
            spec["ipFamilies"] ??= new JsonArray("IPv4");
            spec["ipFamilyPolicy"] ??= "SingleStack";
        }
        try
        {
            // The change may run again on a newer bitmap (a lost race), so it fills nothing in until it has won.
            var assigned = await _ports.MutateAsync(bits =>
            {
                var (chosen, marked) = AllocatePorts(bits, svc, spec, type);
                return (chosen, marked && !dryRun);
            }, ct);
            foreach (var (port, value) in assigned)
                if (port is null) spec["healthCheckNodePort"] = value;
                else port["nodePort"] = value;
        }
        catch when (ipTaken >= 0 && !dryRun)
        {
            await _ips.MutateAsync(bits => { bits.Clear(ipTaken); return (0, true); }, CancellationToken.None);
            throw;
        }
    }

    private int AllocateIp(RangeBits bits, JsonObject svc, string requested)
    {
        if (requested.Length == 0)
        {
            // Offset 0 (the range's first host) is the kubernetes Service's unless asked for by address.
            var free = bits.FirstFree(1);
            if (free < 0) throw ApiErrors.Internal("failed to allocate a serviceIP: range is full");
            bits.Set(free);
            return free;
        }
        var offset = IpOffset(requested);
        if (offset < 0)
            throw ApiErrors.Invalid("Service", "", Meta.Name(svc),
                [FieldError.Invalid("spec.clusterIPs", requested, $"failed to allocate IP {requested}: the provided IP ({requested}) is not in the valid range. The range of valid IPs is {_serviceCidr}")]);
        if (!bits.Set(offset))
            throw ApiErrors.Invalid("Service", "", Meta.Name(svc),
                [FieldError.Invalid("spec.clusterIPs", requested, $"failed to allocate IP {requested}: provided IP is already allocated")]);
        return offset;
    }

    /// <summary>
    /// Marks the node ports the Service asks for or needs (each port's, then the health-check port) in
    /// <paramref name="bits"/>: the ports given out, by port entry (null: the health-check port), and
    /// whether any port was marked. Nothing in <paramref name="svc"/> changes.
    /// </summary>
    private static (List<(JsonObject? Port, long Value)> Given, bool Marked) AllocatePorts(RangeBits bits, JsonObject svc, JsonObject spec, string type)
    {
        var mine = new HashSet<long>();
        var given = new List<(JsonObject?, long)>();
        if (type is "NodePort" or "LoadBalancer" && spec["ports"] is JsonArray ports)
        {
            var i = 0;
            foreach (var p in ports.OfType<JsonObject>())
            {
                var requested = Api.Validation.J.L(p, "nodePort") ?? 0;
                if (requested != 0) TakePort(bits, svc, mine, requested, $"spec.ports[{i}].nodePort");
                else given.Add((p, TakeFree(bits, mine)));
                i++;
            }
        }
        // allocHealthCheckNodePort: a LoadBalancer with externalTrafficPolicy Local gets one before validation.
        if (type == "LoadBalancer" && spec["externalTrafficPolicy"]?.GetValue<string>() == "Local")
        {
            var requested = Api.Validation.J.L(spec, "healthCheckNodePort") ?? 0;
            if (requested != 0) TakePort(bits, svc, mine, requested, "spec.healthCheckNodePort");
            else given.Add((null, TakeFree(bits, mine)));
        }
        return (given, mine.Count > 0);
    }

    private static void TakePort(RangeBits bits, JsonObject svc, HashSet<long> mine, long port, string path)
    {
        // One node port may serve two protocols of one Service (upstream's nodePort per port number).
        if (mine.Contains(port)) return;
        if (port is < NodePortBase or >= NodePortBase + NodePortCount)
            throw ApiErrors.Invalid("Service", "", Meta.Name(svc),
                [FieldError.Invalid(path, port.ToString(), $"provided port is not in the valid range. The range of valid ports is {NodePortRangeText}", quoted: false)]);
        if (!bits.Set((int)(port - NodePortBase)))
            throw ApiErrors.Invalid("Service", "", Meta.Name(svc),
                [FieldError.Invalid(path, port.ToString(), "provided port is already allocated", quoted: false)]);
        mine.Add(port);
    }

    private static long TakeFree(RangeBits bits, HashSet<long> mine)
    {
        var free = bits.FirstFree(0);
        if (free < 0) throw ApiErrors.Internal("failed to allocate a nodePort: range is full");
        bits.Set(free);
        mine.Add(NodePortBase + free);
        return NodePortBase + free;
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(JsonObject svc, CancellationToken ct)
    {
        var ip = IpOffset(svc["spec"]?["clusterIP"]?.GetValue<string>() ?? "");
        if (ip >= 0) await _ips.MutateAsync(bits => { var had = bits.Has(ip); bits.Clear(ip); return (0, had); }, ct);
        var ports = NodePorts(svc).Select(p => (int)(p - NodePortBase)).ToList();
        if (ports.Count > 0)
            await _ports.MutateAsync(bits =>
            {
                var had = ports.Any(bits.Has);
                foreach (var p in ports) bits.Clear(p);
                return (0, had);
            }, ct);
    }

    /// <summary>
    /// One pass of upstream's repair loops over both ranges: every address and port a Service holds is
    /// marked; one marked that no Service holds is a leak (a crash between the bitmap write and the
    /// Service write, an update that dropped a node port), kept until it has been seen
    /// <see cref="RepairsBeforeLeakCleanup"/> passes in a row (it may be a create in flight), then
    /// released. The new bitmap is written only if the range did not change since it was read
    /// (another replica's allocation wins; the next pass sees it).
    /// </summary>
    public async Task RepairAsync(CancellationToken ct)
    {
        await RepairRangeAsync(_ips, IpOffsets, ct);
        await RepairRangeAsync(_ports, PortOffsets, ct);
    }

    private async Task RepairRangeAsync(StoredRange range, Func<IEnumerable<JsonObject>, IEnumerable<int>> held, CancellationToken ct)
    {
        // The snapshot first, then the Services: an allocation after the snapshot fails the final compare.
        var (old, revision) = await range.ReadAsync(ct);
        if (revision == 0) return; // never written: the first allocation seeds it from the Services
        var services = (await _listServices(ct)).ToList();
        var fresh = new RangeBits(range.Size);
        foreach (var o in held(services)) fresh.Set(o);
        lock (_leaks)
        {
            foreach (var o in old.Marked())
            {
                if (fresh.Has(o)) { _leaks.Remove((range.Key, o)); continue; }
                var seen = _leaks.GetValueOrDefault((range.Key, o)) + 1;
                if (seen < RepairsBeforeLeakCleanup) { _leaks[(range.Key, o)] = seen; fresh.Set(o); }
                else _leaks.Remove((range.Key, o));
            }
            // Leaks no longer marked (released by a delete) are forgotten.
            foreach (var k in _leaks.Keys.Where(k => k.Key == range.Key && !old.Has(k.Offset)).ToList()) _leaks.Remove(k);
        }
        if (!fresh.ToBigEndian().AsSpan().SequenceEqual(old.ToBigEndian()))
            await range.TryReplaceAsync(fresh, revision, ct);
    }

    /// <summary>Runs <see cref="RepairAsync"/> every <paramref name="interval"/> until cancelled; a failed pass waits for the next.</summary>
    public async Task RunRepairAsync(TimeSpan interval, TimeProvider time, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, ct);
                await RepairAsync(ct);
            }
            catch (Exception) when (ct.IsCancellationRequested) { return; }
            catch (Exception)
            {
                // Storage unavailable or a pass that lost a race: the next pass tries again, as upstream's loop does.
            }
        }
    }
}

/// <summary>
/// What a store allocates for an object on create outside the object itself (a Service's cluster IP
/// and node ports) and releases when the create fails or the object is deleted.
/// </summary>
public interface IObjectAllocator
{
    /// <summary>Fills in the object's allocations; on a dry run nothing is recorded.</summary>
    Task AllocateAsync(JsonObject obj, bool dryRun, CancellationToken ct);

    /// <summary>Releases what the object holds (its create failed, or it was deleted).</summary>
    Task ReleaseAsync(JsonObject obj, CancellationToken ct);
}
