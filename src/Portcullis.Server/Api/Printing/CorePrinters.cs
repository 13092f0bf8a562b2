using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>Upstream's printers for core/v1 kinds other than pods and events.</summary>
internal static class CorePrinters
{
    public static readonly TablePrinter Namespace = new(
    [
        NameColumn,
        Col("Status", "Whether the namespace is Active or Terminating."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Str(At(o, "status", "phase"))), Cell(Age(o, now))]);

    public static readonly TablePrinter ServiceAccount = new(
    [
        NameColumn,
        Col("Secrets", "How many secrets the service account lists."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Count(o["secrets"])), Cell(Age(o, now))]);

    public static readonly TablePrinter Secret = new(
    [
        NameColumn,
        Col("Type", "The secret's type, which says what its data holds."),
        Col("Data", "How many keys the secret's data holds."),
        AgeColumn,
    ], (o, now) =>
    {
        var type = Str(o["type"]);
        return [Cell(Name(o)), Cell(type.Length > 0 ? type : "Opaque"), Cell(Count(o["data"])), Cell(Age(o, now))];
    });

    public static readonly TablePrinter ConfigMap = new(
    [
        NameColumn,
        Col("Data", "How many keys the config map holds, text and binary together."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Count(o["data"]) + Count(o["binaryData"])), Cell(Age(o, now))]);

    public static readonly TablePrinter Node = new(
    [
        NameColumn,
        Col("Status", "Whether the node is Ready, and whether scheduling onto it is disabled."),
        Col("Roles", "The roles the node's labels give it."),
        AgeColumn,
        Col("Version", "The kubelet version the node runs."),
        Col("Internal-IP", "The node's first internal address.", 1),
        Col("External-IP", "The node's first external address.", 1),
        Col("OS-Image", "The operating system image the node reports.", 1),
        Col("Kernel-Version", "The kernel version the node reports.", 1),
        Col("Container-Runtime", "The container runtime and version the node reports.", 1),
    ], NodeCells);

    public static readonly TablePrinter Service = new(
    [
        NameColumn,
        Col("Type", "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName."),
        Col("Cluster-IP", "The service's primary virtual IP inside the cluster."),
        Col("External-IP", "The addresses the service is reachable on from outside the cluster."),
        Col("Port(s)", "The ports the service exposes, with node ports where allocated."),
        AgeColumn,
        Col("Selector", "The pod labels that pick the service's backends.", 1),
    ], ServiceCells);

    public static readonly TablePrinter Endpoints = new(
    [
        NameColumn,
        Col("Endpoints", "The first few ready addresses with their ports."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(FormatEndpoints(o)), Cell(Age(o, now))]);

    public static readonly TablePrinter ResourceQuota = new(
    [
        NameColumn,
        Col("Request", "Usage against the hard limits on everything but limits.* resources, as used/hard."),
        Col("Limit", "Usage against the hard limits on limits.* resources, as used/hard."),
        AgeColumn,
    ], ResourceQuotaCells);

    private static IReadOnlyList<JsonNode?> NodeCells(JsonObject o, DateTimeOffset now)
    {
        JsonObject? ready = null;
        foreach (var c in Objects(At(o, "status", "conditions")))
            if (Str(c["type"]) == "Ready") ready = c;
        var status = new List<string>();
        if (ready is not null) status.Add(Str(ready["status"]) == "True" ? "Ready" : "NotReady");
        if (status.Count == 0) status.Add("Unknown");
        if (Bool(At(o, "spec", "unschedulable"))) status.Add("SchedulingDisabled");

        var roles = new SortedSet<string>(StringComparer.Ordinal);
        if (At(o, "metadata", "labels") is JsonObject labels)
            foreach (var (k, v) in labels)
            {
                const string prefix = "node-role.kubernetes.io/";
                if (k.StartsWith(prefix, StringComparison.Ordinal))
                {
                    if (k.Length > prefix.Length) roles.Add(k[prefix.Length..]);
                }
                else if (k == "kubernetes.io/role" && Str(v).Length > 0) roles.Add(Str(v));
            }
        var rolesText = string.Join(",", roles);

        var info = At(o, "status", "nodeInfo");
        string OrUnknown(string s) => s.Length > 0 ? s : "<unknown>";
        string Address(string type) =>
            Objects(At(o, "status", "addresses")).Where(a => Str(a["type"]) == type).Select(a => Str(a["address"])).FirstOrDefault() ?? "<none>";

        return
        [
            Cell(Name(o)),
            Cell(string.Join(",", status)),
            Cell(rolesText.Length > 0 ? rolesText : "<none>"),
            Cell(Age(o, now)),
            Cell(Str(At(info, "kubeletVersion"))),
            Cell(Address("InternalIP")),
            Cell(Address("ExternalIP")),
            Cell(OrUnknown(Str(At(info, "osImage")))),
            Cell(OrUnknown(Str(At(info, "kernelVersion")))),
            Cell(OrUnknown(Str(At(info, "containerRuntimeVersion")))),
        ];
    }

    private static IReadOnlyList<JsonNode?> ServiceCells(JsonObject o, DateTimeOffset now)
    {
        var spec = o["spec"] as JsonObject;
        var type = Str(spec?["type"]);
        if (type.Length == 0) type = "ClusterIP";
        // The legacy clusterIP field wins over clusterIPs[0], as in the v1 → internal conversion.
        var clusterIP = Str(spec?["clusterIP"]);
        if (clusterIP.Length == 0) clusterIP = Strings(spec?["clusterIPs"]).FirstOrDefault() ?? "";
        var ports = string.Join(",", Objects(spec?["ports"]).Select(p =>
        {
            var protocol = Str(p["protocol"]);
            if (protocol.Length == 0) protocol = "TCP";
            var nodePort = Int(p["nodePort"]);
            return nodePort > 0
                ? I(Int(p["port"])) + ":" + I(nodePort) + "/" + protocol
                : I(Int(p["port"])) + "/" + protocol;
        }));
        return
        [
            Cell(Name(o)),
            Cell(type),
            Cell(clusterIP.Length > 0 ? clusterIP : "<none>"),
            Cell(ServiceExternalIP(o, type)),
            Cell(ports.Length > 0 ? ports : "<none>"),
            Cell(Age(o, now)),
            Cell(LabelFormatting.FormatLabels(spec?["selector"])),
        ];
    }

    private static string ServiceExternalIP(JsonObject svc, string type)
    {
        var externalIPs = Strings(At(svc, "spec", "externalIPs"));
        switch (type)
        {
            case "ClusterIP":
            case "NodePort":
                return externalIPs.Count > 0 ? string.Join(",", externalIPs) : "<none>";
            case "LoadBalancer":
                // Server-side tables are always wide, so the ingress list is never clipped.
                var lb = string.Join(",", LoadBalancerAddresses(At(svc, "status", "loadBalancer", "ingress")));
                if (externalIPs.Count > 0)
                {
                    var results = new List<string>();
                    if (lb.Length > 0) results.AddRange(lb.Split(','));
                    results.AddRange(externalIPs);
                    return string.Join(",", results);
                }
                return lb.Length > 0 ? lb : "<pending>";
            case "ExternalName":
                return Str(At(svc, "spec", "externalName"));
            default:
                return "<unknown>";
        }
    }

    /// <summary>The distinct ingress IPs (or hostnames where no IP), sorted.</summary>
    public static SortedSet<string> LoadBalancerAddresses(JsonNode? ingress)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var i in Objects(ingress))
        {
            if (Str(i["ip"]) is { Length: > 0 } ip) set.Add(ip);
            else if (Str(i["hostname"]) is { Length: > 0 } host) set.Add(host);
        }
        return set;
    }

    private static string FormatEndpoints(JsonObject o)
    {
        var subsets = Objects(o["subsets"]);
        if (subsets.Count == 0) return "<none>";
        const int max = 3;
        var list = new List<string>();
        bool more = false;
        int count = 0;
        foreach (var ss in subsets)
        {
            var addresses = Objects(ss["addresses"]);
            var ports = Objects(ss["ports"]);
            if (ports.Count == 0)
            {
                // Headless services may have no ports.
                count += addresses.Count;
                foreach (var a in addresses)
                {
                    if (list.Count == max) { more = true; break; }
                    list.Add(Str(a["ip"]));
                }
                continue;
            }
            foreach (var port in ports)
            {
                count += addresses.Count;
                foreach (var a in addresses)
                {
                    if (list.Count == max) { more = true; break; }
                    list.Add(JoinHostPort(Str(a["ip"]), I(Int(port["port"]))));
                }
            }
        }
        var ret = string.Join(",", list);
        return more ? ret + " + " + I(count - max) + " more..." : ret;
    }

    /// <summary>Go's net.JoinHostPort: IPv6 hosts get brackets.</summary>
    private static string JoinHostPort(string host, string port) =>
        host.Contains(':') ? "[" + host + "]:" + port : host + ":" + port;

    private static IReadOnlyList<JsonNode?> ResourceQuotaCells(JsonObject o, DateTimeOffset now)
    {
        var hard = At(o, "status", "hard") as JsonObject;
        var used = At(o, "status", "used") as JsonObject;
        var requests = new List<string>();
        var limits = new List<string>();
        foreach (var resource in (hard?.Select(kv => kv.Key) ?? []).OrderBy(k => k, StringComparer.Ordinal))
        {
            var pieces = resource.Split('.');
            var target = pieces.Length > 1 && pieces[0] == "limits" ? limits : requests;
            target.Add(resource + ": " + QuantityText(used?[resource]) + "/" + QuantityText(hard![resource]));
        }
        return [Cell(Name(o)), Cell(string.Join(", ", requests)), Cell(string.Join(", ", limits)), Cell(Age(o, now))];
    }

    /// <summary>A quantity in canonical form; an absent one is zero.</summary>
    private static string QuantityText(JsonNode? n)
    {
        var s = Str(n);
        if (s.Length == 0) return n is JsonValue ? n.ToJsonString() : "0";
        return Quantity.TryParse(s, out var q) ? q.ToCanonicalString() : s;
    }
}
