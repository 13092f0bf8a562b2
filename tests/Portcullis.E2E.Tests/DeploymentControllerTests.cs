using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The deployment controller driven by real kubectl (1.33 and 1.30): create → pods Running → scale → set image
/// (a new ReplicaSet, the old one scaled to zero) → rollout status → history → undo → pause/resume → restart →
/// delete cascading to ReplicaSets and pods; Recreate; the progress deadline; pods refused by Pod Security.
/// </summary>
public sealed class DeploymentControllerTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    public static IEnumerable<object[]> Kubectls() => [[Tools.KubectlVersion("1.33")], [Tools.KubectlVersion("1.30")]];

    private async Task<CommandResult> Ok(string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(S, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task<JsonObject> Json(string kubectl, params string[] args) =>
        JsonNode.Parse((await Ok(kubectl, [.. args, "-o", "json"])).Stdout)!.AsObject();

    private async Task<List<JsonObject>> Items(string kubectl, string ns, string resource, string? selector = null)
    {
        var args = new List<string> { "-n", ns, "get", resource };
        if (selector is not null) args.AddRange(["-l", selector]);
        return (await Json(kubectl, [.. args]))["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
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

    private async Task RolloutStatus(string kubectl, string ns, string name)
    {
        var r = await Ok(kubectl, "-n", ns, "rollout", "status", "deployment/" + name, "--timeout=60s");
        Assert.Contains($"deployment \"{name}\" successfully rolled out", r.Stdout);
    }

    private static string Annotation(JsonObject obj, string key) => (string?)obj["metadata"]?["annotations"]?[key] ?? "";
    private static string Name(JsonObject obj) => (string)obj["metadata"]!["name"]!;
    private static int Replicas(JsonObject obj) => (int?)obj["spec"]?["replicas"] ?? 0;

    private async Task<List<JsonObject>> RunningPods(string kubectl, string ns, string selector) =>
        (await Items(kubectl, ns, "pods", selector)).Where(p => (string?)p["status"]?["phase"] == "Running" && p["metadata"]?["deletionTimestamp"] is null).ToList();

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task Deployment_FullLifecycle(string kubectl)
    {
        var ns = "deploy-" + Path.GetFileName(kubectl).Replace(".", "-");
        await Ok(kubectl, "create", "namespace", ns);
        await Ok(kubectl, "-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=3");
        await RolloutStatus(kubectl, ns, "web");

        // One ReplicaSet named by the template's hash, labelled, selected and annotated as upstream's.
        var rss = await Items(kubectl, ns, "replicasets");
        var rs1 = Assert.Single(rss);
        var hash1 = (string)rs1["metadata"]!["labels"]!["pod-template-hash"]!;
        Assert.Matches("^[456789bcdf]{1,10}$", hash1);
        Assert.Equal("web-" + hash1, Name(rs1));
        Assert.Equal(hash1, (string?)rs1["spec"]!["selector"]!["matchLabels"]!["pod-template-hash"]);
        Assert.Equal(hash1, (string?)rs1["spec"]!["template"]!["metadata"]!["labels"]!["pod-template-hash"]);
        Assert.Equal(("1", "3", "4"), (Annotation(rs1, "deployment.kubernetes.io/revision"),
            Annotation(rs1, "deployment.kubernetes.io/desired-replicas"), Annotation(rs1, "deployment.kubernetes.io/max-replicas")));
        var owner = rs1["metadata"]!["ownerReferences"]![0]!;
        Assert.Equal(("Deployment", "web", true), ((string?)owner["kind"], (string?)owner["name"], (bool?)owner["controller"]));
        Assert.Equal(3, (await RunningPods(kubectl, ns, "app=web,pod-template-hash=" + hash1)).Count);

        var d = await Json(kubectl, "-n", ns, "get", "deployment", "web");
        Assert.Equal("1", Annotation(d, "deployment.kubernetes.io/revision"));
        var status = d["status"]!;
        Assert.Equal((3, 3, 3, 3), ((int?)status["replicas"], (int?)status["updatedReplicas"], (int?)status["readyReplicas"], (int?)status["availableReplicas"]));
        Assert.Equal((long?)d["metadata"]!["generation"], (long?)status["observedGeneration"]);
        var conditions = status["conditions"]!.AsArray().ToDictionary(c => (string)c!["type"]!, c => c!);
        Assert.Equal(("True", "MinimumReplicasAvailable"), ((string?)conditions["Available"]["status"], (string?)conditions["Available"]["reason"]));
        Assert.Equal(("True", "NewReplicaSetAvailable", $"ReplicaSet \"web-{hash1}\" has successfully progressed."),
            ((string?)conditions["Progressing"]["status"], (string?)conditions["Progressing"]["reason"], (string?)conditions["Progressing"]["message"]));

        // Scale: the one ReplicaSet follows, its desired-replicas annotation too.
        await Ok(kubectl, "-n", ns, "scale", "deployment", "web", "--replicas=5");
        await RolloutStatus(kubectl, ns, "web");
        rs1 = await Json(kubectl, "-n", ns, "get", "rs", "web-" + hash1);
        Assert.Equal((5, "5", "7"), (Replicas(rs1), Annotation(rs1, "deployment.kubernetes.io/desired-replicas"), Annotation(rs1, "deployment.kubernetes.io/max-replicas")));

        // set image: a second ReplicaSet takes over, the first is scaled to zero and kept as history.
        await Ok(kubectl, "-n", ns, "set", "image", "deployment/web", "nginx=nginx:1.27");
        await RolloutStatus(kubectl, ns, "web");
        rss = await Items(kubectl, ns, "replicasets");
        Assert.Equal(2, rss.Count);
        var rs2 = rss.Single(r => Name(r) != "web-" + hash1);
        var hash2 = (string)rs2["metadata"]!["labels"]!["pod-template-hash"]!;
        Assert.Equal((5, "2"), (Replicas(rs2), Annotation(rs2, "deployment.kubernetes.io/revision")));
        Assert.Equal(0, Replicas(rss.Single(r => Name(r) == "web-" + hash1)));
        Assert.True(await Eventually(async () => (await RunningPods(kubectl, ns, "app=web")).All(p => (string?)p["metadata"]!["labels"]!["pod-template-hash"] == hash2)
            && (await RunningPods(kubectl, ns, "app=web")).Count == 5), "the old pods did not go");

        var describe = (await Ok(kubectl, "-n", ns, "describe", "deployment", "web")).Stdout;
        Assert.Matches($@"NewReplicaSet:\s+web-{hash2} \(5/5 replicas created\)", describe);
        Assert.Matches($@"OldReplicaSets:\s+web-{hash1} \(0/0 replicas created\)", describe);
        Assert.Contains($"Scaled up replica set web-{hash1} from 0 to 3", describe);
        Assert.Contains($"Scaled up replica set web-{hash1} from 3 to 5", describe);
        Assert.Matches($@"ScalingReplicaSet\s+.*Scaled down replica set web-{hash1} from \d+ to 0", describe);

        // History, then undo: back to revision 1's template, which becomes revision 3.
        var history = (await Ok(kubectl, "-n", ns, "rollout", "history", "deployment/web")).Stdout;
        Assert.Matches(@"(?m)^1\s+<none>\s*$", history);
        Assert.Matches(@"(?m)^2\s+<none>\s*$", history);
        var undo = await Ok(kubectl, "-n", ns, "rollout", "undo", "deployment/web");
        Assert.Contains("deployment.apps/web rolled back", undo.Stdout);
        await RolloutStatus(kubectl, ns, "web");
        rs1 = await Json(kubectl, "-n", ns, "get", "rs", "web-" + hash1);
        Assert.Equal((5, "3", "1"), (Replicas(rs1), Annotation(rs1, "deployment.kubernetes.io/revision"), Annotation(rs1, "deployment.kubernetes.io/revision-history")));
        Assert.Equal(0, Replicas(await Json(kubectl, "-n", ns, "get", "rs", "web-" + hash2)));
        d = await Json(kubectl, "-n", ns, "get", "deployment", "web");
        Assert.Equal(("3", "nginx"), (Annotation(d, "deployment.kubernetes.io/revision"), (string?)d["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]));

        // Paused: a template change makes no ReplicaSet until resumed.
        await Ok(kubectl, "-n", ns, "rollout", "pause", "deployment/web");
        await Ok(kubectl, "-n", ns, "set", "image", "deployment/web", "nginx=nginx:1.28");
        Assert.True(await Eventually(async () =>
        {
            var dep = await Json(kubectl, "-n", ns, "get", "deployment", "web");
            return dep["status"]!["conditions"]!.AsArray().Any(c => (string?)c!["type"] == "Progressing" && (string?)c["reason"] == "DeploymentPaused"
                && (string?)c["status"] == "Unknown" && (string?)c["message"] == "Deployment is paused")
                && (long?)dep["status"]!["observedGeneration"] == (long?)dep["metadata"]!["generation"];
        }), "no DeploymentPaused condition");
        Assert.Equal(2, (await Items(kubectl, ns, "replicasets")).Count);
        await Ok(kubectl, "-n", ns, "rollout", "resume", "deployment/web");
        await RolloutStatus(kubectl, ns, "web");
        Assert.Equal(3, (await Items(kubectl, ns, "replicasets")).Count);

        // Restart: a new template annotation, so a new ReplicaSet, revision 5.
        await Ok(kubectl, "-n", ns, "rollout", "restart", "deployment/web");
        await RolloutStatus(kubectl, ns, "web");
        rss = await Items(kubectl, ns, "replicasets");
        Assert.Equal(4, rss.Count);
        var newest = rss.Single(r => Replicas(r) == 5);
        Assert.Equal("5", Annotation(newest, "deployment.kubernetes.io/revision"));
        Assert.NotEqual("", (string?)newest["spec"]!["template"]!["metadata"]!["annotations"]?["kubectl.kubernetes.io/restartedAt"] ?? "");

        // Delete cascades: the ReplicaSets and the pods go.
        await Ok(kubectl, "-n", ns, "delete", "deployment", "web");
        Assert.True(await Eventually(async () => (await Items(kubectl, ns, "replicasets")).Count == 0
            && (await Items(kubectl, ns, "pods")).Count == 0), "ReplicaSets or pods were left behind");
    }

    /// <summary>The pod-template-hash is upstream's: a 1.33 cluster names this ReplicaSet nginx-5869d7778c too.</summary>
    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task CreateDeployment_ReplicaSetNamedAsUpstream(string kubectl)
    {
        var ns = "deploy-hash-" + Path.GetFileName(kubectl).Replace(".", "-");
        await Ok(kubectl, "create", "namespace", ns);
        await Ok(kubectl, "-n", ns, "create", "deployment", "nginx", "--image=nginx");
        await RolloutStatus(kubectl, ns, "nginx");
        var rs = Assert.Single(await Items(kubectl, ns, "replicasets"));
        Assert.Equal("nginx-5869d7778c", Name(rs));
        Assert.All(await RunningPods(kubectl, ns, "app=nginx"), p => Assert.StartsWith("nginx-5869d7778c-", Name(p)));
    }

    [Fact]
    public async Task RevisionHistoryLimit_DeletesTheOldestReplicaSets()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "deploy-history";
        await Ok(k, "create", "namespace", ns);
        await Ok(k, "-n", ns, "create", "deployment", "web", "--image=nginx:1");
        await Ok(k, "-n", ns, "patch", "deployment", "web", "-p", """{"spec":{"revisionHistoryLimit":1}}""");
        for (var i = 2; i <= 4; i++)
        {
            await Ok(k, "-n", ns, "set", "image", "deployment/web", $"nginx=nginx:{i}");
            await RolloutStatus(k, ns, "web");
        }
        Assert.True(await Eventually(async () =>
        {
            var revisions = (await Items(k, ns, "replicasets")).Select(r => Annotation(r, "deployment.kubernetes.io/revision")).Order().ToList();
            return revisions.SequenceEqual(["3", "4"]);
        }), "old ReplicaSets beyond revisionHistoryLimit were not deleted");
    }

    [Fact]
    public async Task Recreate_ScalesTheOldReplicaSetDownBeforeTheNewOneUp()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "deploy-recreate";
        await Ok(k, "create", "namespace", ns);
        var manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: deploy-recreate}
            spec:
              replicas: 2
              strategy: {type: Recreate}
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: c, image: nginx}]}
            """;
        Assert.Equal(0, (await Tools.KubectlIn(S, k, manifest, "apply", "-f", "-")).ExitCode);
        await RolloutStatus(k, ns, "web");
        await Ok(k, "-n", ns, "set", "image", "deployment/web", "c=nginx:2");
        await RolloutStatus(k, ns, "web");
        var rss = await Items(k, ns, "replicasets");
        Assert.Equal(2, rss.Count);
        Assert.Equal([0, 2], rss.Select(Replicas).Order());
        var events = (await Ok(k, "-n", ns, "get", "events", "--field-selector", "involvedObject.kind=Deployment,reason=ScalingReplicaSet",
            "--sort-by=.metadata.creationTimestamp", "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")).Stdout;
        var lines = events.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var down = Array.FindIndex(lines, l => l.StartsWith("Scaled down replica set", StringComparison.Ordinal) && l.EndsWith("from 2 to 0", StringComparison.Ordinal));
        var up = Array.FindLastIndex(lines, l => l.StartsWith("Scaled up replica set", StringComparison.Ordinal) && l.EndsWith("from 0 to 2", StringComparison.Ordinal));
        Assert.True(down >= 0 && up > down, events);
    }

    [Fact]
    public async Task ProgressDeadline_PodsThatNeverRun_ExceedIt()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "deploy-deadline";
        await Ok(k, "create", "namespace", ns);
        // No node has this label: the pods stay Pending, the rollout makes no progress.
        var manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: stuck, namespace: deploy-deadline}
            spec:
              replicas: 1
              progressDeadlineSeconds: 2
              selector: {matchLabels: {app: stuck}}
              template:
                metadata: {labels: {app: stuck}}
                spec:
                  nodeSelector: {nowhere: "true"}
                  containers: [{name: c, image: nginx}]
            """;
        Assert.Equal(0, (await Tools.KubectlIn(S, k, manifest, "apply", "-f", "-")).ExitCode);
        var r = await Tools.Kubectl(S, k, "-n", ns, "rollout", "status", "deployment/stuck", "--timeout=60s");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("deployment \"stuck\" exceeded its progress deadline", r.Stderr);
        var d = await Json(k, "-n", ns, "get", "deployment", "stuck");
        var p = d["status"]!["conditions"]!.AsArray().Single(c => (string?)c!["type"] == "Progressing")!;
        Assert.Equal(("False", "ProgressDeadlineExceeded"), ((string?)p["status"], (string?)p["reason"]));
        Assert.Matches("^ReplicaSet \"stuck-[456789bcdf]+\" has timed out progressing.$", (string)p["message"]!);
    }

    [Fact]
    public async Task PodSecurity_RefusedPods_ShowAsReplicaFailure()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "deploy-restricted";
        await Ok(k, "create", "namespace", ns);
        await Ok(k, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted");
        await Ok(k, "-n", ns, "create", "deployment", "web", "--image=nginx");
        Assert.True(await Eventually(async () =>
        {
            var d = await Json(k, "-n", ns, "get", "deployment", "web");
            return d["status"]?["conditions"]?.AsArray().Any(c => (string?)c!["type"] == "ReplicaFailure" && (string?)c["reason"] == "FailedCreate") == true;
        }), "no ReplicaFailure condition on the deployment");
        var describe = (await Ok(k, "-n", ns, "describe", "deployment", "web")).Stdout;
        Assert.Matches(@"ReplicaFailure\s+True\s+FailedCreate", describe);
        var rsName = Name(Assert.Single(await Items(k, ns, "replicasets")));
        var rsDescribe = (await Ok(k, "-n", ns, "describe", "rs", rsName)).Stdout;
        Assert.Matches(@"Warning\s+FailedCreate\s+.*Error creating: pods ""web-[a-z0-9-]+"" is forbidden: violates PodSecurity ""restricted:latest""", rsDescribe);
    }
}
