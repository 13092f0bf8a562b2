using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// With the real server: a pod whose terminationGracePeriodSeconds is int64's maximum can be
/// deleted, and so can its namespace (and namespaces after it); the built-in node takes no more
/// pods than --max-pods, says why as the scheduler does, and schedules waiting pods when room is made.
/// </summary>
public sealed class NodeCapacityAndGraceTests : IAsyncLifetime
{
    private readonly ServerProcess _s = new();

    public Task InitializeAsync() => _s.StartAsync("--max-pods", "3", "--node-cidr-mask-size", "24", "--cluster-cidr", "10.244.0.0/16");
    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    private async Task<CommandResult> Ok(params string[] args)
    {
        var r = await Tools.Kubectl(_s, Tools.Kubectl132, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}\nserver log:\n{_s.Log}");
        return r;
    }

    /// <summary>Polls until the condition holds; false if it never does within the allowance (a wait, not a speed check).</summary>
    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }

    private async Task CreatePod(string ns, string name, long grace = 30)
    {
        var manifest = $$$"""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "{{{name}}}", "namespace": "{{{ns}}}"},
             "spec": {"terminationGracePeriodSeconds": {{{grace}}}, "containers": [{"name": "c", "image": "busybox"}]}}
            """;
        var r = await Tools.KubectlIn(_s, Tools.Kubectl132, manifest, "create", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private async Task<JsonArray> Pods(string ns) =>
        (JsonNode.Parse((await Ok("-n", ns, "get", "pods", "-o", "json")).Stdout)!["items"] as JsonArray)!;

    private async Task<bool> Gone(string kind, string name, string? ns = null)
    {
        var args = ns is null ? new[] { "get", kind, name } : ["-n", ns, "get", kind, name];
        var r = await Tools.Kubectl(_s, Tools.Kubectl132, args);
        return r.ExitCode != 0 && r.Stderr.Contains("NotFound");
    }

    [Fact]
    public async Task MaxInt64GracePeriod_PodAndNamespaceDelete_AndLaterNamespacesToo()
    {
        await Ok("create", "namespace", "huge");
        await CreatePod("huge", "p", long.MaxValue);
        Assert.True(await Eventually(async () => (await Pods("huge")).Any(p => p!["status"]?["phase"]?.GetValue<string>() == "Running")), "pod running");

        // Deleting the pod itself: no 500; the node removes it.
        var (status, body) = await Tools.Curl(_s, "DELETE", "/api/v1/namespaces/huge/pods/p");
        Assert.True(status == 200, body);
        Assert.Equal(long.MaxValue, JsonNode.Parse(body)!["metadata"]!["deletionGracePeriodSeconds"]!.GetValue<long>());
        Assert.True(await Eventually(() => Gone("pod", "p", "huge")), "pod removed by the node");

        // And through the namespace.
        await CreatePod("huge", "q", long.MaxValue);
        Assert.True(await Eventually(async () => (await Pods("huge")).Any(p => p!["status"]?["phase"]?.GetValue<string>() == "Running")), "second pod running");
        await Ok("delete", "namespace", "huge", "--wait=false");
        Assert.True(await Eventually(() => Gone("namespace", "huge")), "namespace huge removed");
        await Ok("create", "namespace", "later");
        await Ok("delete", "namespace", "later", "--wait=false");
        Assert.True(await Eventually(() => Gone("namespace", "later")), "a later namespace removed");
        Assert.DoesNotContain("restarting", _s.Log);
    }

    [Fact]
    public async Task MaxPods_TooManyPods_ThenScheduledWhenRoomIsMade()
    {
        await Ok("create", "namespace", "cap");
        for (var i = 0; i < 5; i++) await CreatePod("cap", $"p{i}");
        const string message = "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..";
        Assert.True(await Eventually(async () =>
        {
            var pods = await Pods("cap");
            return pods.Count(p => p!["status"]?["phase"]?.GetValue<string>() == "Running") == 3
                && pods.Count(p => (p!["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["reason"]?.GetValue<string>() == "Unschedulable"
                    && c["message"]?.GetValue<string>() == message)) == 2;
        }), "3 running, 2 unschedulable");
        var node = JsonNode.Parse((await Ok("get", "nodes", "-o", "json")).Stdout)!["items"]![0]!;
        Assert.Equal("3", node["status"]!["allocatable"]!["pods"]!.GetValue<string>());
        Assert.Equal("10.244.0.0/24", node["spec"]!["podCIDR"]!.GetValue<string>());
        var events = (await Ok("-n", "cap", "get", "events", "--field-selector", "reason=FailedScheduling", "-o", "jsonpath={.items[*].message}")).Stdout;
        Assert.Contains(message, events);

        var running = (await Pods("cap")).First(p => p!["status"]?["phase"]?.GetValue<string>() == "Running")!["metadata"]!["name"]!.GetValue<string>();
        await Ok("-n", "cap", "delete", "pod", running, "--wait=false");
        Assert.True(await Eventually(async () => (await Pods("cap")).Count(p => p!["status"]?["phase"]?.GetValue<string>() == "Running") == 3
            && (await Pods("cap")).Count == 4), "a waiting pod scheduled once room was made");
    }

    private async Task<JsonNode> Pod(string ns, string name) =>
        JsonNode.Parse((await Ok("-n", ns, "get", "pod", name, "-o", "json")).Stdout)!;

    private static string? ScheduledMessage(JsonNode pod) =>
        (pod["status"]?["conditions"] as JsonArray ?? []).FirstOrDefault(c => c?["type"]?.GetValue<string>() == "PodScheduled"
            && c["status"]?.GetValue<string>() == "False")?["message"]?.GetValue<string>();

    [Fact]
    public async Task CordonAndTaint_PodPendingWithTheSchedulerReason_ScheduledOnceLifted()
    {
        var nodeName = (await Ok("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")).Stdout.Trim();
        await Ok("create", "namespace", "cordon");
        await Ok("cordon", nodeName);
        await CreatePod("cordon", "waits");
        const string cordoned = "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..";
        Assert.True(await Eventually(async () => ScheduledMessage(await Pod("cordon", "waits")) == cordoned), "pending on the cordoned node");
        var pending = await Pod("cordon", "waits");
        Assert.Equal("Pending", pending["status"]!["phase"]!.GetValue<string>());
        Assert.Null(pending["spec"]!["nodeName"]);
        Assert.Contains(cordoned, (await Ok("-n", "cordon", "get", "events", "--field-selector", "reason=FailedScheduling,involvedObject.name=waits", "-o", "jsonpath={.items[*].message}")).Stdout);

        // A pod tolerating the unschedulable taint goes on the cordoned node.
        var tolerating = """
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tolerates", "namespace": "cordon"},
             "spec": {"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}],
                      "containers": [{"name": "c", "image": "busybox"}]}}
            """;
        var created = await Tools.KubectlIn(_s, Tools.Kubectl132, tolerating, "create", "-f", "-");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(await Eventually(async () => (await Pod("cordon", "tolerates"))["spec"]?["nodeName"]?.GetValue<string>() == nodeName), "tolerating pod bound");

        await Ok("uncordon", nodeName);
        Assert.True(await Eventually(async () => (await Pod("cordon", "waits"))["status"]?["phase"]?.GetValue<string>() == "Running"), "scheduled once uncordoned");

        // An untolerated NoSchedule taint does the same, with the taint in the message.
        await Ok("taint", "nodes", nodeName, "dedicated=gpu:NoSchedule");
        await CreatePod("cordon", "tainted");
        const string tainted = "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..";
        Assert.True(await Eventually(async () => ScheduledMessage(await Pod("cordon", "tainted")) == tainted), "pending on the tainted node");
        await Ok("taint", "nodes", nodeName, "dedicated-");
        Assert.True(await Eventually(async () => (await Pod("cordon", "tainted"))["status"]?["phase"]?.GetValue<string>() == "Running"), "scheduled once the taint is removed");
    }

    [Fact]
    public async Task ServeHelp_DocumentsTheNodeFlags()
    {
        var r = await Tools.RunAsync(ServerProcess.ServerExecutable ?? "dotnet",
            (ServerProcess.ServerExecutable is null ? new[] { ServerProcess.ServerDll } : []).Concat(["serve", "--help"]));
        Assert.Contains("--max-pods", r.Stdout);
        Assert.Contains("--node-cidr-mask-size", r.Stdout);
        Assert.Contains("--cluster-cidr", r.Stdout);
    }
}
