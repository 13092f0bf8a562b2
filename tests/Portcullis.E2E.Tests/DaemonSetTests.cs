using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The DaemonSet controller driven by real kubectl (1.33 and 1.30): one pod per eligible node (today's single
/// built-in node), pinned by required node affinity with the tolerations every daemon pod gets; a node selector no
/// node matches schedules nothing; RollingUpdate replaces the pod; rollout status|history|undo.
/// </summary>
public sealed class DaemonSetTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    public static IEnumerable<object[]> Kubectls() => [[Tools.KubectlVersion("1.33")], [Tools.KubectlVersion("1.30")]];

    private async Task<CommandResult> Ok(string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(S, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task<JsonObject> Get(string kubectl, string ns, string kind, string name) =>
        JsonNode.Parse((await Ok(kubectl, "-n", ns, "get", kind, name, "-o", "json")).Stdout)!.AsObject();

    private async Task<List<JsonObject>> Pods(string kubectl, string ns) =>
        (JsonNode.Parse((await Ok(kubectl, "-n", ns, "get", "pods", "-o", "json")).Stdout)!["items"]!.AsArray())
            .Select(i => i!.AsObject()).Where(p => p["metadata"]?["deletionTimestamp"] is null).ToList();

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }

    private static string Str(JsonNode? n) => n?.GetValue<string>() ?? "";

    private static string Manifest(string ns, string name, string nodeSelector = "") => $$$"""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: {{{name}}}, namespace: {{{ns}}}}
        spec:
          selector: {matchLabels: {app: {{{name}}}}}
          template:
            metadata: {labels: {app: {{{name}}}}}
            spec:
              {{{nodeSelector}}}
              containers: [{name: agent, image: busybox:1.36}]
        """;

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task OnePodPerNode_Pinned_RollingUpdate_HistoryAndUndo(string kubectl)
    {
        var ns = "ds-" + Path.GetExtension(kubectl).TrimStart('.');
        await Ok(kubectl, "create", "namespace", ns);
        var r = await Tools.KubectlIn(S, kubectl, Manifest(ns, "agent"), "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        r = await Ok(kubectl, "-n", ns, "rollout", "status", "daemonset/agent", "--timeout=120s");
        Assert.Contains("daemon set \"agent\" successfully rolled out", r.Stdout);

        var nodes = JsonNode.Parse((await Ok(kubectl, "get", "nodes", "-o", "json")).Stdout)!["items"]!.AsArray();
        var pods = await Pods(kubectl, ns);
        Assert.Equal(nodes.Count, pods.Count);
        var pod = pods[0];
        var nodeName = Str(nodes[0]!["metadata"]!["name"]);
        Assert.Equal(nodeName, Str(pod["spec"]!["nodeName"]));
        var term = pod["spec"]!["affinity"]!["nodeAffinity"]!["requiredDuringSchedulingIgnoredDuringExecution"]!["nodeSelectorTerms"]![0]!;
        Assert.Equal("metadata.name", Str(term["matchFields"]![0]!["key"]));
        Assert.Equal(nodeName, Str(term["matchFields"]![0]!["values"]![0]));
        var tolerated = pod["spec"]!["tolerations"]!.AsArray().Select(t => Str(t!["key"]) + ":" + Str(t!["effect"])).ToList();
        foreach (var t in new[] { "node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
                     "node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
                     "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule" })
            Assert.Contains(t, tolerated);
        Assert.Equal("1", Str(pod["metadata"]!["labels"]!["pod-template-generation"]));
        var firstHash = Str(pod["metadata"]!["labels"]!["controller-revision-hash"]);

        var status = (await Get(kubectl, ns, "daemonset", "agent"))["status"]!;
        Assert.Equal(nodes.Count, (int)status["desiredNumberScheduled"]!);
        Assert.Equal(nodes.Count, (int)status["currentNumberScheduled"]!);
        Assert.Equal(nodes.Count, (int)status["numberReady"]!);
        Assert.Equal(nodes.Count, (int)status["numberAvailable"]!);
        Assert.Equal(nodes.Count, (int)status["updatedNumberScheduled"]!);
        Assert.Equal(0, (int?)status["numberMisscheduled"] ?? 0);
        r = await Ok(kubectl, "-n", ns, "get", "daemonset", "agent");
        Assert.Matches($@"(?m)^agent\s+{nodes.Count}\s+{nodes.Count}\s+{nodes.Count}\s+{nodes.Count}\s+{nodes.Count}\s+<none>\s+\S+$", r.Stdout);

        await Ok(kubectl, "-n", ns, "set", "image", "daemonset/agent", "agent=busybox:1.37");
        r = await Ok(kubectl, "-n", ns, "rollout", "status", "daemonset/agent", "--timeout=120s");
        Assert.Contains("daemon set \"agent\" successfully rolled out", r.Stdout);
        Assert.True(await Eventually(async () =>
        {
            var ps = await Pods(kubectl, ns);
            return ps.Count == nodes.Count && ps.All(p => Str(p["spec"]!["containers"]![0]!["image"]) == "busybox:1.37"
                && Str(p["metadata"]!["labels"]!["controller-revision-hash"]) != firstHash);
        }), "the pod was not replaced");
        var events = JsonNode.Parse((await Ok(kubectl, "-n", ns, "get", "events", "-o", "json", "--field-selector", "involvedObject.kind=DaemonSet")).Stdout)!["items"]!.AsArray();
        Assert.Contains(events, e => Str(e!["reason"]) == "SuccessfulDelete" && Str(e!["message"]).StartsWith("Deleted pod: agent-", StringComparison.Ordinal)
            && Str(e!["source"]!["component"]) == "daemonset-controller");

        r = await Ok(kubectl, "-n", ns, "rollout", "history", "daemonset/agent");
        Assert.Matches(@"(?m)^1\s+<none>$", r.Stdout);
        Assert.Matches(@"(?m)^2\s+<none>$", r.Stdout);
        r = await Ok(kubectl, "-n", ns, "rollout", "undo", "daemonset/agent");
        Assert.Contains("daemonset.apps/agent rolled back", r.Stdout);
        Assert.True(await Eventually(async () =>
        {
            var ps = await Pods(kubectl, ns);
            return ps.Count == nodes.Count && ps.All(p => Str(p["spec"]!["containers"]![0]!["image"]) == "busybox:1.36"
                && Str(p["metadata"]!["labels"]!["controller-revision-hash"]) == firstHash);
        }), "the rollback did not replace the pod");
    }

    [Fact]
    public async Task NodeSelectorNoNodeMatches_SchedulesNothing()
    {
        var kubectl = Tools.KubectlVersion("1.33");
        const string ns = "ds-selector";
        await Ok(kubectl, "create", "namespace", ns);
        var r = await Tools.KubectlIn(S, kubectl, Manifest(ns, "gpu", "nodeSelector: {hardware: gpu}"), "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(await Eventually(async () => (await Get(kubectl, ns, "daemonset", "gpu"))["status"]?["observedGeneration"] is not null),
            "the daemon set was never synced");
        var status = (await Get(kubectl, ns, "daemonset", "gpu"))["status"]!;
        Assert.Equal(0, (int?)status["desiredNumberScheduled"] ?? 0);
        Assert.Empty(await Pods(kubectl, ns));
    }
}
