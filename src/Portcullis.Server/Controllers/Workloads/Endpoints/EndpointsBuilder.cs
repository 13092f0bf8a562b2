using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;
using F = Portcullis.Server.Controllers.Workloads.Endpoints.ServiceEndpointFacts;

namespace Portcullis.Server.Controllers.Workloads.Endpoints;

/// <summary>
/// The subsets of a Service's Endpoints (pkg/controller/endpoint/endpoints_controller.go syncService, and
/// pkg/api/v1/endpoints/util.go RepackSubsets): each selected pod with an IP is an address (its IP, nodeName,
/// targetRef, and hostname when its subdomain is the Service), ready or not ready by its Ready condition
/// (always ready with <c>publishNotReadyAddresses</c>), offering each Service port it resolves (named target
/// ports per pod); addresses offering the same ports share a subset.
/// </summary>
public static class EndpointsBuilder
{
    /// <summary>maxCapacity: an Endpoints object keeps at most this many addresses.</summary>
    public const int MaxCapacity = 1000;
    /// <summary>v1.EndpointsOverCapacity, set to "truncated" on an Endpoints object cut down to <see cref="MaxCapacity"/>.</summary>
    public const string OverCapacityAnnotation = "endpoints.kubernetes.io/over-capacity";

    private sealed record Entry(JsonObject Address, bool Ready, List<JsonObject> Ports);

    /// <summary>The repacked, sorted subsets for the Service and the pods its selector matches.</summary>
    public static JsonArray Subsets(JsonObject service, IEnumerable<JsonObject> pods)
    {
        var publishNotReady = JsonRead.Bool(service["spec"], "publishNotReadyAddresses") ?? false;
        var family = F.IpFamily(service);
        var servicePorts = (service["spec"]?["ports"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var headless = JsonRead.Str(service["spec"], "clusterIP") == "None";
        var entries = new List<Entry>();
        foreach (var pod in pods)
        {
            if (!F.ShouldPodBeInEndpoints(pod, publishNotReady)) continue;
            if (F.PodIp(pod, family) is not { } ip) continue; // "failed to find a matching endpoint for service"
            var address = new JsonObject { ["ip"] = ip };
            if (F.ShouldSetHostname(pod, service)) address["hostname"] = JsonRead.Str(pod["spec"], "hostname");
            address["nodeName"] = JsonRead.StrOrEmpty(pod["spec"], "nodeName");
            address["targetRef"] = F.TargetRef(pod);
            var ready = publishNotReady || PodFacts.IsReady(pod);
            if (servicePorts.Count == 0)
            {
                // A headless Service without ports still lists its pods; any other Service without ports gets none.
                if (headless) entries.Add(new Entry(address, ready, []));
                continue;
            }
            var ports = new List<JsonObject>();
            foreach (var sp in servicePorts)
                if (F.FindPort(pod, sp) is { } n) ports.Add(F.EndpointPort(sp, n));
            // A pod resolving none of the ports offers nothing (each port was skipped with "Failed to find port").
            if (ports.Count > 0) entries.Add(new Entry(address, ready, ports));
        }
        return Repack(entries);
    }

    /// <summary>RepackSubsets: addresses grouped by the set of ports they offer; an address ready anywhere is ready.</summary>
    private static JsonArray Repack(List<Entry> entries)
    {
        // port key → (address key → (address, ready)); the empty port key stands for "no ports" (upstream's sentinel).
        var byPort = new Dictionary<string, (JsonObject? Port, Dictionary<string, (JsonObject Address, bool Ready)> Addresses)>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            var ports = e.Ports.Count == 0 ? [null] : e.Ports.Cast<JsonObject?>().ToList();
            foreach (var port in ports)
            {
                var pk = port is null ? "" : PortKey(port);
                if (!byPort.TryGetValue(pk, out var slot)) byPort[pk] = slot = (port, new(StringComparer.Ordinal));
                var ak = AddressKey(e.Address);
                if (e.Ready || !slot.Addresses.ContainsKey(ak)) slot.Addresses[ak] = (e.Address, e.Ready || (slot.Addresses.TryGetValue(ak, out var had) && had.Ready));
            }
        }
        // The same set of addresses (with readiness) offering several ports is one subset.
        var groups = new Dictionary<string, (List<(JsonObject Address, bool Ready)> Addresses, List<JsonObject> Ports)>(StringComparer.Ordinal);
        foreach (var (_, (port, addresses)) in byPort)
        {
            var key = string.Join("|", addresses.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => a.Key + (a.Value.Ready ? "+" : "-")));
            if (!groups.TryGetValue(key, out var g)) groups[key] = g = ([.. addresses.Values], []);
            if (port is not null) g.Ports.Add(port);
        }
        var subsets = new List<(string SortKey, JsonObject Subset)>();
        foreach (var (_, (addresses, ports)) in groups)
        {
            var subset = new JsonObject();
            var ready = addresses.Where(a => a.Ready).Select(a => a.Address).OrderBy(a => a, AddressOrder.Instance).ToList();
            var notReady = addresses.Where(a => !a.Ready).Select(a => a.Address).OrderBy(a => a, AddressOrder.Instance).ToList();
            if (ready.Count > 0) subset["addresses"] = new JsonArray([.. ready.Select(a => a.DeepClone())]);
            if (notReady.Count > 0) subset["notReadyAddresses"] = new JsonArray([.. notReady.Select(a => a.DeepClone())]);
            var sortedPorts = ports.OrderBy(PortKey, StringComparer.Ordinal).ToList();
            if (sortedPorts.Count > 0) subset["ports"] = new JsonArray([.. sortedPorts.Select(p => p.DeepClone())]);
            subsets.Add((string.Join(";", sortedPorts.Select(PortKey)) + "#" + string.Join(",", ready.Concat(notReady).Select(AddressKey)), subset));
        }
        return new JsonArray([.. subsets.OrderBy(s => s.SortKey, StringComparer.Ordinal).Select(s => (JsonNode)s.Subset)]);
    }

    private static string PortKey(JsonObject p) =>
        $"{JsonRead.StrOrEmpty(p, "name")}/{JsonRead.Long(p, "port")}/{JsonRead.StrOrEmpty(p, "protocol")}/{JsonRead.StrOrEmpty(p, "appProtocol")}";

    /// <summary>addressKey: the IP and the target's uid.</summary>
    private static string AddressKey(JsonObject a) => JsonRead.StrOrEmpty(a, "ip") + "/" + JsonRead.StrOrEmpty(a["targetRef"], "uid");

    /// <summary>LessEndpointAddress: by IP (bytewise), then by the target's uid.</summary>
    private sealed class AddressOrder : IComparer<JsonObject>
    {
        public static readonly AddressOrder Instance = new();
        public int Compare(JsonObject? a, JsonObject? b)
        {
            var c = string.CompareOrdinal(JsonRead.StrOrEmpty(a, "ip"), JsonRead.StrOrEmpty(b, "ip"));
            return c != 0 ? c : string.CompareOrdinal(JsonRead.StrOrEmpty(a?["targetRef"], "uid"), JsonRead.StrOrEmpty(b?["targetRef"], "uid"));
        }
    }

    /// <summary>How many addresses (ready and not) the subsets hold.</summary>
    public static int Count(JsonArray subsets) =>
        subsets.OfType<JsonObject>().Sum(s => ((s["addresses"] as JsonArray)?.Count ?? 0) + ((s["notReadyAddresses"] as JsonArray)?.Count ?? 0));

    /// <summary>
    /// truncateEndpoints: past <see cref="MaxCapacity"/>, not-ready addresses are cut first (each subset keeping
    /// its share, rounded up); if the ready ones alone are too many, they are cut the same way and every
    /// not-ready address goes. Returns whether it cut anything.
    /// </summary>
    public static bool Truncate(JsonArray subsets)
    {
        int Len(JsonObject s, string f) => (s[f] as JsonArray)?.Count ?? 0;
        var all = subsets.OfType<JsonObject>().ToList();
        var totalReady = all.Sum(s => Len(s, "addresses"));
        var totalNotReady = all.Sum(s => Len(s, "notReadyAddresses"));
        if (totalReady + totalNotReady <= MaxCapacity) return false;
        var truncateReady = totalReady > MaxCapacity;
        var max = truncateReady ? MaxCapacity : MaxCapacity - totalReady;
        var numTotal = truncateReady ? totalReady : totalNotReady;
        var canBeAdded = max;
        foreach (var s in all)
        {
            var field = truncateReady ? "addresses" : "notReadyAddresses";
            var toBeAdded = (int)Math.Ceiling((double)Len(s, field) / numTotal * max);
            if (toBeAdded > canBeAdded) toBeAdded = canBeAdded;
            if (s[field] is JsonArray arr)
            {
                while (arr.Count > toBeAdded) arr.RemoveAt(arr.Count - 1);
                canBeAdded -= arr.Count;
                if (arr.Count == 0) s.Remove(field);
            }
            if (truncateReady) s.Remove("notReadyAddresses");
        }
        return true;
    }
}
