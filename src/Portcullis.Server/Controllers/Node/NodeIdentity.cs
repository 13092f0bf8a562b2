using System.Net;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Controllers.Node;

/// <summary>The one node Portcullis runs: its name, addresses, pod CIDR, pod limit and upstream-shaped Node object.</summary>
public sealed record NodeIdentity(string Name, string InternalIp, string PodCidr)
{
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

    /// <summary>A fresh allocator over the node's pod range.</summary>
    public PodIpAllocator NewIpAllocator() => new(Ipv4Cidr.Parse(PodCidr));

    /// <summary>The node's labels (as on the Node object).</summary>
    public JsonObject Labels() => new()
    {
        ["beta.kubernetes.io/arch"] = "amd64", ["beta.kubernetes.io/os"] = "linux",
        ["kubernetes.io/arch"] = "amd64", ["kubernetes.io/hostname"] = Name, ["kubernetes.io/os"] = "linux",
    };

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
        return new JsonObject
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
