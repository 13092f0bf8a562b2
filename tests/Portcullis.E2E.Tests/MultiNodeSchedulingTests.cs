using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// A server with <c>--nodes 3</c> and a <c>--node-manifests</c> file that labels the second node and taints the third
/// (with a GPU in its allocatable), driven by kubectl 1.33 (and 1.30 for cordon): three Ready nodes with their
/// leases, pods spread over the nodes they may use, and kube-scheduler's FailedScheduling messages for node
/// selectors, taints, resources and anti-affinity.
/// </summary>
public sealed class MultiNodeSchedulingTests : IAsyncLifetime
{
    private readonly ServerProcess _s = new();
    private static readonly string Kubectl133 = Tools.KubectlVersion("1.33");
    private static readonly string Kubectl130 = Tools.KubectlVersion("1.30");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_s.DataDir);
        var manifests = Path.Combine(_s.DataDir, "nodes.yaml");
        await File.WriteAllTextAsync(manifests, """
            apiVersion: v1
            kind: Node
            metadata:
              name: e2e-2
              labels: {disk: ssd, topology.kubernetes.io/zone: z2}
            ---
            apiVersion: v1
            kind: Node
            metadata:
              name: e2e-3
              labels: {accelerator: gpu}
            spec:
              taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
            status:
              allocatable: {cpu: "4", memory: 8Gi, pods: "50", nvidia.com/gpu: "1"}
            """);
        await _s.StartAsync("--node-name", "e2e", "--nodes", "3", "--node-manifests", manifests);
    }

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    private async Task<CommandResult> Ok(string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(_s, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}\nserver log:\n{_s.Log}");
        return r;
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }

    private async Task CreatePod(string name, string spec = "{}", string labels = "{}")
    {
        var s = JsonNode.Parse(spec)!.AsObject();
        s["containers"] ??= new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" });
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "sched", ["labels"] = JsonNode.Parse(labels) },
            ["spec"] = s,
        };
        var r = await Tools.KubectlIn(_s, Kubectl133, pod.ToJsonString(), "create", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private async Task<JsonNode> Pod(string name) => JsonNode.Parse((await Ok(Kubectl133, "-n", "sched", "get", "pod", name, "-o", "json")).Stdout)!;

    private static string? ScheduledMessage(JsonNode pod) =>
        (pod["status"]?["conditions"] as JsonArray ?? []).FirstOrDefault(c => c?["type"]?.GetValue<string>() == "PodScheduled"
            && c["status"]?.GetValue<string>() == "False")?["message"]?.GetValue<string>();

    private async Task<string> NodeOf(string name) => (await Pod(name))["spec"]?["nodeName"]?.GetValue<string>() ?? "";

    private async Task ExpectUnschedulable(string name, string message)
    {
        Assert.True(await Eventually(async () => ScheduledMessage(await Pod(name)) == message),
            $"{name}: expected {message}, got {ScheduledMessage(await Pod(name))}");
        var events = (await Ok(Kubectl133, "-n", "sched", "get", "events", "--field-selector", $"reason=FailedScheduling,involvedObject.name={name}",
            "-o", "jsonpath={.items[*].message}")).Stdout;
        Assert.Contains(message, events);
    }

    [Fact]
    public async Task ThreeReadyNodes_WithLeases_PodsSpread_AndUpstreamsMessages()
    {
        // kubectl get nodes: three Ready nodes; the manifests' labels and taint are on them.
        var nodes = JsonNode.Parse((await Ok(Kubectl133, "get", "nodes", "-o", "json")).Stdout)!["items"]!.AsArray();
        Assert.Equal(["e2e", "e2e-2", "e2e-3"], nodes.Select(n => n!["metadata"]!["name"]!.GetValue<string>()).Order());
        Assert.All(nodes, n => Assert.Contains(n!["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "Ready" && c["status"]!.GetValue<string>() == "True"));
        var table = (await Ok(Kubectl133, "get", "nodes", "--no-headers")).Stdout;
        Assert.Equal(3, table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains(" Ready ")));
        var gpuNode = nodes.Single(n => n!["metadata"]!["name"]!.GetValue<string>() == "e2e-3")!;
        Assert.Equal("1", gpuNode["status"]!["allocatable"]!["nvidia.com/gpu"]!.GetValue<string>());
        Assert.Equal("dedicated", gpuNode["spec"]!["taints"]![0]!["key"]!.GetValue<string>());
        var leases = (await Ok(Kubectl133, "-n", "kube-node-lease", "get", "leases", "-o", "jsonpath={.items[*].metadata.name}")).Stdout.Split(' ');
        Assert.Equal(["e2e", "e2e-2", "e2e-3"], leases.Order());

        await Ok(Kubectl133, "create", "namespace", "sched");
        // Six pods: spread over the two nodes they may use (the third is tainted), each Running.
        for (var i = 0; i < 6; i++) await CreatePod($"web-{i}");
        Assert.True(await Eventually(async () =>
        {
            var pods = JsonNode.Parse((await Ok(Kubectl133, "-n", "sched", "get", "pods", "-o", "json")).Stdout)!["items"]!.AsArray();
            return pods.Count(p => p!["status"]?["phase"]?.GetValue<string>() == "Running") == 6;
        }), "six pods running");
        var placed = new List<string>();
        for (var i = 0; i < 6; i++) placed.Add(await NodeOf($"web-{i}"));
        Assert.Equal(["e2e", "e2e-2"], placed.Distinct().Order());
        Assert.All(placed.GroupBy(n => n), g => Assert.True(g.Count() >= 2, string.Join(",", placed)));

        // nodeSelector: the tainted node fails on its taint first, the others on the selector.
        await CreatePod("hdd", """{"nodeSelector":{"disk":"hdd"}}""");
        await ExpectUnschedulable("hdd", "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. " +
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..");
        await CreatePod("ssd", """{"nodeSelector":{"disk":"ssd"}}""");
        Assert.True(await Eventually(async () => await NodeOf("ssd") == "e2e-2"), "ssd pod on e2e-2");

        // Extended resources and tolerations: one GPU pod fits on the tainted node, a second finds none left.
        const string gpu = """{"tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}],"containers":[{"name":"c","image":"busybox","resources":{"requests":{"nvidia.com/gpu":"1"},"limits":{"nvidia.com/gpu":"1"}}}]}""";
        await CreatePod("gpu-1", gpu);
        Assert.True(await Eventually(async () => await NodeOf("gpu-1") == "e2e-3"), "gpu pod on e2e-3");
        await CreatePod("gpu-2", gpu);
        await ExpectUnschedulable("gpu-2", "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. " +
            "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..");

        // Requests over allocatable.
        await CreatePod("huge", """{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"1000"}}}]}""");
        await ExpectUnschedulable("huge", "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. " +
            "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..");

        // Required anti-affinity on the hostname: one per node (tolerating the taint), the fourth nowhere.
        const string solo = """{"tolerations":[{"operator":"Exists"}],"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"solo"}},"topologyKey":"kubernetes.io/hostname"}]}}}""";
        for (var i = 0; i < 4; i++) await CreatePod($"solo-{i}", solo, """{"app":"solo"}""");
        await ExpectUnschedulable("solo-3", "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. " +
            "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..");
        var soloNodes = new List<string>();
        for (var i = 0; i < 3; i++) soloNodes.Add(await NodeOf($"solo-{i}"));
        Assert.Equal(["e2e", "e2e-2", "e2e-3"], soloNodes.Order());
    }

    [Fact]
    public async Task Kubectl130_CordonOneNode_PodWaitsWithTheReasons_UncordonedItIsBound()
    {
        await Ok(Kubectl130, "create", "namespace", "sched");
        await Ok(Kubectl130, "cordon", "e2e-2");
        await CreatePod("pinned", """{"nodeSelector":{"kubernetes.io/hostname":"e2e-2"}}""");
        await ExpectUnschedulable("pinned", "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable. " +
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..");
        // Other pods avoid the cordoned node.
        for (var i = 0; i < 3; i++) await CreatePod($"free-{i}");
        Assert.True(await Eventually(async () => await NodeOf("free-2") != ""), "free pods bound");
        for (var i = 0; i < 3; i++) Assert.Equal("e2e", await NodeOf($"free-{i}"));
        await Ok(Kubectl130, "uncordon", "e2e-2");
        Assert.True(await Eventually(async () => (await Pod("pinned"))["status"]?["phase"]?.GetValue<string>() == "Running"), "pinned pod running once uncordoned");
        Assert.Equal("e2e-2", await NodeOf("pinned"));
        var scheduled = (await Ok(Kubectl130, "-n", "sched", "get", "events", "--field-selector", "reason=Scheduled,involvedObject.name=pinned", "-o", "jsonpath={.items[*].message}")).Stdout;
        Assert.Contains("Successfully assigned sched/pinned to e2e-2", scheduled);
    }
}
