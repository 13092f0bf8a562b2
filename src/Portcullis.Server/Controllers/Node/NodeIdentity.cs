using System.Net;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Node;

/// <summary>
/// A node Portcullis runs: its name, addresses, pod CIDR, pod limit and upstream-shaped Node object, with what a
/// --node-manifests document says of it (<see cref="Manifest"/>: labels, annotations, taints, capacity, allocatable).
/// </summary>
public sealed record NodeIdentity(string Name, string InternalIp, string PodCidr)
{
    /// <summary>The Node manifest this node was declared with (--node-manifests), laid over the defaults; null for none.</summary>
    public JsonObject? Manifest { get; init; }

    /// <summary>
    /// status.nodeInfo.containerRuntimeVersion, in the kubelet's <c>name://version</c> form (what
    /// <c>kubectl get nodes -o wide</c> shows as CONTAINER-RUNTIME): which pod runtime runs the pods.
    /// </summary>
    public string ContainerRuntimeVersion { get; init; } = RuntimeVersion("simulated");

    /// <summary><c>portcullis-&lt;runtime&gt;://&lt;Portcullis version&gt;</c>, e.g. <c>portcullis-process://0.1.0</c>.</summary>
    public static string RuntimeVersion(string runtime) => $"portcullis-{runtime}://{Http.ThisAssembly.Version}";

    /// <summary>Default <c>--max-pods</c>: well above kubelet's 110, so that one node holds a 150,000-pod cluster.</summary>
    public const int DefaultMaxPods = 250_000;
    /// <summary>Default <c>--node-cidr-mask-size</c>: 0, the whole cluster range for the one node (10.244.0.0/14 by default: 262,141 pod IPs).</summary>
    public const int DefaultNodeCidrMaskSize = 0;

    /// <summary>The node's allocatable pods (kubelet's --max-pods).</summary>
    public int MaxPods { get; init; } = 110;

    /// <summary>
    /// The node for a cluster pod range: its pod range is the first subnet of <paramref name="nodeCidrMaskSize"/>
    /// bits, as the node IPAM range allocator gives the first node.
    /// </summary>
    public static NodeIdentity Create(string? name, string advertiseAddress, string clusterPodCidr,
        int nodeCidrMaskSize = DefaultNodeCidrMaskSize, int maxPods = DefaultMaxPods)
    {
        if (maxPods < 1) throw new ArgumentException($"max pods must be positive, not {maxPods}");
        var cluster = Ipv4Cidr.Parse(clusterPodCidr);
        var range = cluster.FirstSubnet(nodeCidrMaskSize <= 0 ? cluster.Prefix : nodeCidrMaskSize);
        return new NodeIdentity((name ?? Dns.GetHostName()).ToLowerInvariant(), advertiseAddress, range.ToString()) { MaxPods = maxPods };
    }

    /// <summary>
    /// Every node of <c>serve --nodes N --node-manifests FILE</c>: the first is named <paramref name="name"/> (the host
    /// name by default), the other generated ones <c>&lt;first&gt;-2</c> … <c>&lt;first&gt;-N</c>, then the manifests'
    /// nodes — a manifest naming a generated node is laid over it instead. Node i takes the i-th subnet of
    /// --cluster-cidr: of <paramref name="nodeCidrMaskSize"/> bits, or with mask 0 the smallest equal split that holds
    /// every node (the whole range for one node, halves for two, quarters for three or four …); a manifest's
    /// spec.podCIDR wins.
    /// </summary>
    public static IReadOnlyList<NodeIdentity> CreateAll(string? name, string advertiseAddress, string clusterPodCidr,
        int nodeCidrMaskSize, int maxPods, int count, IReadOnlyList<JsonObject> manifests)
    {
        if (count < 1) throw new ArgumentException($"--nodes must be at least 1, not {count}");
        if (maxPods < 1) throw new ArgumentException($"max pods must be positive, not {maxPods}");
        var first = (name ?? Dns.GetHostName()).ToLowerInvariant();
        var names = new List<string> { first };
        for (var i = 2; i <= count; i++) names.Add($"{first}-{i}");
        var byName = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var m in manifests)
        {
            var n = JsonRead.StrOrEmpty(m["metadata"], "name");
            if (n.Length == 0) throw new ArgumentException("a node manifest has no metadata.name");
            if (!byName.TryAdd(n, m)) throw new ArgumentException($"node {n} is declared twice in the node manifests");
            if (!names.Contains(n)) names.Add(n);
        }
        var cluster = Ipv4Cidr.Parse(clusterPodCidr);
        var mask = nodeCidrMaskSize > 0 ? nodeCidrMaskSize : cluster.Prefix + (int)Math.Ceiling(Math.Log2(names.Count));
        if (mask > 30) throw new ArgumentException($"the cluster CIDR {cluster} is too small for {names.Count} nodes");
        var result = new List<NodeIdentity>();
        for (var i = 0; i < names.Count; i++)
        {
            byName.TryGetValue(names[i], out var manifest);
            var cidr = JsonRead.Str(manifest?["spec"], "podCIDR") is { } given ? Ipv4Cidr.Parse(given).ToString() : cluster.Subnet(i, mask).ToString();
            var pods = manifest?["status"]?["allocatable"]?["pods"] ?? manifest?["status"]?["capacity"]?["pods"];
            var nodeMaxPods = Admission.Plugins.Qty.TryRead(pods, out var q) ? (q.Units > int.MaxValue ? int.MaxValue : (int)q.Units) : maxPods;
            result.Add(new NodeIdentity(names[i], advertiseAddress, cidr) { MaxPods = nodeMaxPods, Manifest = manifest });
        }
        return result;
    }

    /// <summary>A fresh allocator over the node's pod range.</summary>
    public PodIpAllocator NewIpAllocator() => new(Ipv4Cidr.Parse(PodCidr));

    /// <summary>The node's labels (as on the Node object): the kubelet's, then the manifest's.</summary>
    public JsonObject Labels()
    {
        var labels = new JsonObject
        {
            ["beta.kubernetes.io/arch"] = "amd64", ["beta.kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = "amd64", ["kubernetes.io/hostname"] = Name, ["kubernetes.io/os"] = "linux",
        };
        Overlay(labels, Manifest?["metadata"]?["labels"]);
        return labels;
    }

    private static void Overlay(JsonObject target, JsonNode? source)
    {
        if (source is not JsonObject o) return;
        foreach (var (k, v) in o) target[k] = v?.DeepClone();
    }

    public JsonObject ToNode(DateTimeOffset now, string kubeletVersion)
    {
        var cpu = Environment.ProcessorCount.ToString();
        var memKi = (GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024).ToString() + "Ki";
        var disk = new DriveInfo("/");
        var diskKi = (disk.TotalSize / 1024).ToString() + "Ki";
        var allocatableDisk = (disk.TotalSize / 1024 * 9 / 10 * 1024).ToString();
        var time = ObjectShaper.FormatTime(now);
        JsonObject Condition(string type, string status, string reason, string message) => new()
        {
            ["type"] = type, ["status"] = status, ["lastHeartbeatTime"] = time, ["lastTransitionTime"] = time,
            ["reason"] = reason, ["message"] = message,
        };
        var node = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject
            {
                ["name"] = Name,
                ["labels"] = Labels(),
                ["annotations"] = new JsonObject
                {
                    ["node.alpha.kubernetes.io/ttl"] = "0",
                    ["volumes.kubernetes.io/controller-managed-attach-detach"] = "true",
                },
            },
            ["spec"] = new JsonObject { ["podCIDR"] = PodCidr, ["podCIDRs"] = new JsonArray(PodCidr) },
            ["status"] = new JsonObject
            {
                ["capacity"] = new JsonObject { ["cpu"] = cpu, ["ephemeral-storage"] = diskKi, ["hugepages-1Gi"] = "0", ["hugepages-2Mi"] = "0", ["memory"] = memKi, ["pods"] = MaxPods.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                ["allocatable"] = new JsonObject { ["cpu"] = cpu, ["ephemeral-storage"] = allocatableDisk, ["hugepages-1Gi"] = "0", ["hugepages-2Mi"] = "0", ["memory"] = memKi, ["pods"] = MaxPods.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                ["conditions"] = new JsonArray(
                    Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")),
                ["addresses"] = new JsonArray(
                    new JsonObject { ["type"] = "InternalIP", ["address"] = InternalIp },
                    new JsonObject { ["type"] = "Hostname", ["address"] = Name }),
                ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = 10250 } },
                ["nodeInfo"] = new JsonObject
                {
                    ["machineID"] = MachineId(), ["systemUUID"] = MachineId(), ["bootID"] = BootId(),
                    ["kernelVersion"] = Environment.OSVersion.Version.ToString(),
                    ["osImage"] = OsImage(),
                    ["containerRuntimeVersion"] = ContainerRuntimeVersion,
                    ["kubeletVersion"] = kubeletVersion, ["kubeProxyVersion"] = kubeletVersion,
                    ["operatingSystem"] = "linux", ["architecture"] = "amd64",
                },
            },
        };
        ApplyManifest(node);
        return node;
    }

    /// <summary>
    /// The manifest over the kubelet's Node: annotations, taints and unschedulable; capacity and allocatable per
    /// resource (a resource given in only one of them sets both, as a kwok node that names only allocatable).
    /// </summary>
    private void ApplyManifest(JsonObject node)
    {
        if (Manifest is null) return;
        Overlay((JsonObject)node["metadata"]!["annotations"]!, Manifest["metadata"]?["annotations"]);
        var spec = (JsonObject)node["spec"]!;
        if (Manifest["spec"]?["taints"] is JsonArray taints) spec["taints"] = taints.DeepClone();
        if (Manifest["spec"]?["unschedulable"] is JsonValue u) spec["unschedulable"] = u.DeepClone();
        var status = (JsonObject)node["status"]!;
        var capacity = (JsonObject)status["capacity"]!;
        var allocatable = (JsonObject)status["allocatable"]!;
        var givenCapacity = Manifest["status"]?["capacity"] as JsonObject;
        var givenAllocatable = Manifest["status"]?["allocatable"] as JsonObject;
        Overlay(capacity, givenCapacity);
        Overlay(allocatable, givenAllocatable);
        foreach (var (k, v) in givenAllocatable ?? []) if (givenCapacity?[k] is null) capacity[k] = v?.DeepClone();
        foreach (var (k, v) in givenCapacity ?? []) if (givenAllocatable?[k] is null) allocatable[k] = v?.DeepClone();
        // The pods both report follow the node's max pods.
        capacity["pods"] ??= MaxPods.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string MachineId() => ReadFirstLine("/etc/machine-id") ?? "00000000000000000000000000000000";
    private static string BootId() => ReadFirstLine("/proc/sys/kernel/random/boot_id") ?? "00000000-0000-0000-0000-000000000000";

    private static string OsImage()
    {
        foreach (var line in File.Exists("/etc/os-release") ? File.ReadAllLines("/etc/os-release") : [])
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal)) return line["PRETTY_NAME=".Length..].Trim('"');
        return "Linux";
    }

    private static string? ReadFirstLine(string path)
    {
        try { return File.Exists(path) ? File.ReadLines(path).FirstOrDefault()?.Trim() : null; }
        catch (IOException) { return null; }
    }
}
