using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The StatefulSet controller and the PersistentVolume binder driven by real kubectl (1.33 and 1.30): ordered
/// creation of web-0..2 with their claims bound to provisioned volumes, scale down and up (claims kept and reused),
/// a partitioned rolling update, rollout status|history|undo, OnDelete, and deletion cascading to pods but not claims.
/// </summary>
public sealed class StatefulSetTests(ServerFixture f) : IClassFixture<ServerFixture>
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

    private async Task<List<JsonObject>> List(string kubectl, string ns, string kind, params string[] extra) =>
        (JsonNode.Parse((await Ok(kubectl, ["-n", ns, "get", kind, "-o", "json", .. extra])).Stdout)!["items"]!.AsArray())
            .Select(i => i!.AsObject()).ToList();

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

    private static string Manifest(string ns, string strategy = "") => $$$"""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: web, namespace: {{{ns}}}}
        spec:
          serviceName: web
          replicas: 3
          selector: {matchLabels: {app: web}}
          {{{strategy}}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: nginx, image: nginx:1.25}]}
          volumeClaimTemplates:
          - metadata: {name: www}
            spec:
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 1Gi}}
        """;

    private async Task Create(string kubectl, string ns, string strategy = "")
    {
        await Ok(kubectl, "create", "namespace", ns);
        var r = await Tools.KubectlIn(S, kubectl, Manifest(ns, strategy), "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private async Task<bool> AllRunning(string kubectl, string ns, int count)
    {
        var pods = await List(kubectl, ns, "pods", "-l", "app=web");
        return pods.Count == count && pods.All(p => p["status"]?["phase"]?.GetValue<string>() == "Running" && p["metadata"]?["deletionTimestamp"] is null);
    }

    private static string Str(JsonNode? n) => n?.GetValue<string>() ?? "";

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task Create_PodsInOrder_ClaimsBoundToProvisionedVolumes(string kubectl)
    {
        var ns = "sts-create-" + Path.GetExtension(kubectl).TrimStart('.');
        await Create(kubectl, ns);
        var r = await Ok(kubectl, "-n", ns, "rollout", "status", "statefulset/web", "--timeout=120s");
        Assert.Contains("partitioned roll out complete: 3 new pods have been updated...", r.Stdout);
        Assert.True(await Eventually(() => AllRunning(kubectl, ns, 3)), "web-0..2 are not all running");

        var set = await Get(kubectl, ns, "statefulset", "web");
        var status = set["status"]!;
        Assert.Equal(3, (int)status["replicas"]!);
        Assert.Equal(3, (int)status["readyReplicas"]!);
        Assert.Equal(3, (int)status["availableReplicas"]!);
        Assert.Equal(3, (int)status["updatedReplicas"]!);
        Assert.Equal(3, (int)status["currentReplicas"]!);
        var revision = Str(status["updateRevision"]);
        Assert.Equal(revision, Str(status["currentRevision"]));
        Assert.Matches("^web-[bcdfghjklmnpqrstvwxz2456789]+$", revision);
        Assert.Equal(set["metadata"]!["generation"]!.GetValue<long>(), status["observedGeneration"]!.GetValue<long>());

        for (var i = 0; i < 3; i++)
        {
            var pod = await Get(kubectl, ns, "pod", $"web-{i}");
            var labels = pod["metadata"]!["labels"]!;
            Assert.Equal($"web-{i}", Str(labels["statefulset.kubernetes.io/pod-name"]));
            Assert.Equal($"{i}", Str(labels["apps.kubernetes.io/pod-index"]));
            Assert.Equal(revision, Str(labels["controller-revision-hash"]));
            Assert.Equal($"web-{i}", Str(pod["spec"]!["hostname"]));
            Assert.Equal("web", Str(pod["spec"]!["subdomain"]));
            Assert.Equal($"www-web-{i}", Str(pod["spec"]!["volumes"]![0]!["persistentVolumeClaim"]!["claimName"]));

            var claim = await Get(kubectl, ns, "pvc", $"www-web-{i}");
            Assert.Equal("Bound", Str(claim["status"]!["phase"]));
            Assert.Equal("pvc-" + Str(claim["metadata"]!["uid"]), Str(claim["spec"]!["volumeName"]));
            Assert.Equal("1Gi", Str(claim["status"]!["capacity"]!["storage"]));
            Assert.Equal("yes", Str(claim["metadata"]!["annotations"]!["pv.kubernetes.io/bind-completed"]));
            Assert.Equal("web", Str(claim["metadata"]!["labels"]!["app"]));
            Assert.Contains("kubernetes.io/pvc-protection", claim["metadata"]!["finalizers"]!.AsArray().Select(Str));
            var pv = JsonNode.Parse((await Ok(kubectl, "get", "pv", Str(claim["spec"]!["volumeName"]), "-o", "json")).Stdout)!;
            Assert.Equal("Bound", Str(pv["status"]!["phase"]));
            Assert.Equal($"www-web-{i}", Str(pv["spec"]!["claimRef"]!["name"]));
            Assert.Equal("kubernetes.io/host-path", Str(pv["metadata"]!["annotations"]!["pv.kubernetes.io/provisioned-by"]));
            Assert.Equal("Delete", Str(pv["spec"]!["persistentVolumeReclaimPolicy"]));
        }

        // Ordered creation: the controller's events name web-0, web-1, web-2 in that order.
        var events = (await List(kubectl, ns, "events", "--field-selector", "involvedObject.kind=StatefulSet,reason=SuccessfulCreate"))
            .OrderBy(e => long.Parse(Str(e["metadata"]!["resourceVersion"]), System.Globalization.CultureInfo.InvariantCulture))
            .Select(e => Str(e["message"])).Where(m => m.StartsWith("create Pod", StringComparison.Ordinal)).ToList();
        Assert.Equal(["create Pod web-0 in StatefulSet web successful", "create Pod web-1 in StatefulSet web successful",
            "create Pod web-2 in StatefulSet web successful"], events);

        // kubectl get's columns for the new kinds.
        r = await Ok(kubectl, "-n", ns, "get", "pvc", "www-web-0");
        Assert.Matches(@"(?m)^www-web-0\s+Bound\s+pvc-[0-9a-f-]+\s+1Gi\s+RWO\s+<unset>\s+\S+$", r.Stdout);
        r = await Ok(kubectl, "-n", ns, "get", "controllerrevisions");
        Assert.Matches($@"(?m)^{revision}\s+statefulset.apps/web\s+1\s+\S+$", r.Stdout);
        r = await Ok(kubectl, "-n", ns, "describe", "pvc", "www-web-0");
        Assert.Contains("ProvisioningSucceeded", r.Stdout);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task Scale_DownAndUp_KeepsAndReusesClaims(string kubectl)
    {
        var ns = "sts-scale-" + Path.GetExtension(kubectl).TrimStart('.');
        await Create(kubectl, ns);
        Assert.True(await Eventually(() => AllRunning(kubectl, ns, 3)), "web-0..2 are not all running");
        var claimUid = Str((await Get(kubectl, ns, "pvc", "www-web-2"))["metadata"]!["uid"]);

        await Ok(kubectl, "-n", ns, "scale", "statefulset", "web", "--replicas=1");
        Assert.True(await Eventually(() => AllRunning(kubectl, ns, 1)), "web-1 and web-2 were not removed");
        Assert.Equal("web-0", Str((await List(kubectl, ns, "pods", "-l", "app=web"))[0]["metadata"]!["name"]));
        // whenScaled: Retain (the default) keeps the claims.
        Assert.Equal(3, (await List(kubectl, ns, "pvc")).Count);
        var deletions = (await List(kubectl, ns, "events", "--field-selector", "reason=SuccessfulDelete"))
            .OrderBy(e => long.Parse(Str(e["metadata"]!["resourceVersion"]), System.Globalization.CultureInfo.InvariantCulture))
            .Select(e => Str(e["message"])).ToList();
        Assert.Equal(["delete Pod web-2 in StatefulSet web successful", "delete Pod web-1 in StatefulSet web successful"], deletions);

        await Ok(kubectl, "-n", ns, "scale", "statefulset", "web", "--replicas=3");
        Assert.True(await Eventually(() => AllRunning(kubectl, ns, 3)), "web-1 and web-2 did not come back");
        Assert.Equal(claimUid, Str((await Get(kubectl, ns, "pvc", "www-web-2"))["metadata"]!["uid"]));
        Assert.Equal(3, (await List(kubectl, ns, "pvc")).Count);
    }

    private async Task<Dictionary<string, string>> PodRevisions(string kubectl, string ns) =>
        (await List(kubectl, ns, "pods", "-l", "app=web")).Where(p => p["metadata"]?["deletionTimestamp"] is null)
            .ToDictionary(p => Str(p["metadata"]!["name"]), p => Str(p["metadata"]!["labels"]!["controller-revision-hash"]));

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task RollingUpdate_Partition_ThenAll_HistoryAndUndo(string kubectl)
    {
        var ns = "sts-roll-" + Path.GetExtension(kubectl).TrimStart('.');
        await Create(kubectl, ns, "updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}");
        Assert.True(await Eventually(() => AllRunning(kubectl, ns, 3)), "web-0..2 are not all running");
        var first = Str((await Get(kubectl, ns, "statefulset", "web"))["status"]!["currentRevision"]);

        await Ok(kubectl, "-n", ns, "set", "image", "statefulset/web", "nginx=nginx:1.27");
        string second = "";
        Assert.True(await Eventually(async () =>
        {
            var st = (await Get(kubectl, ns, "statefulset", "web"))["status"]!;
            second = Str(st["updateRevision"]);
            var revs = await PodRevisions(kubectl, ns);
            return second != first && revs.Count == 3 && revs["web-2"] == second && (int?)st["updatedReplicas"] == 1 && (int?)st["readyReplicas"] == 3;
        }), "web-2 was not updated");
        var revisions = await PodRevisions(kubectl, ns);
        Assert.Equal(first, revisions["web-0"]);
        Assert.Equal(first, revisions["web-1"]);
        var r = await Ok(kubectl, "-n", ns, "rollout", "status", "statefulset/web", "--timeout=60s");
        Assert.Contains("partitioned roll out complete: 1 new pods have been updated...", r.Stdout);

        await Ok(kubectl, "-n", ns, "patch", "statefulset", "web", "-p", """{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}""");
        Assert.True(await Eventually(async () =>
        {
            var st = (await Get(kubectl, ns, "statefulset", "web"))["status"]!;
            return Str(st["currentRevision"]) == second && (int?)st["updatedReplicas"] == 3 && (int?)st["readyReplicas"] == 3;
        }), "the update did not reach every pod");
        Assert.All((await PodRevisions(kubectl, ns)).Values, v => Assert.Equal(second, v));
        Assert.Equal("nginx:1.27", Str((await Get(kubectl, ns, "pod", "web-0"))["spec"]!["containers"]![0]!["image"]));

        r = await Ok(kubectl, "-n", ns, "rollout", "history", "statefulset/web");
        Assert.Matches(@"(?m)^1\s+<none>$", r.Stdout);
        Assert.Matches(@"(?m)^2\s+<none>$", r.Stdout);

        r = await Ok(kubectl, "-n", ns, "rollout", "undo", "statefulset/web");
        Assert.Contains("statefulset.apps/web rolled back", r.Stdout);
        Assert.True(await Eventually(async () =>
        {
            var st = (await Get(kubectl, ns, "statefulset", "web"))["status"]!;
            return Str(st["currentRevision"]) == first && Str(st["updateRevision"]) == first && (int?)st["updatedReplicas"] == 3 && (int?)st["readyReplicas"] == 3;
        }), "the rollback did not reach every pod");
        Assert.Equal("nginx:1.25", Str((await Get(kubectl, ns, "pod", "web-2"))["spec"]!["containers"]![0]!["image"]));
        // The first revision is renumbered rather than copied.
        Assert.Equal(3, (await Get(kubectl, ns, "controllerrevision", first))["revision"]!.GetValue<int>());
        Assert.Equal(2, (await List(kubectl, ns, "controllerrevisions")).Count);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task OnDelete_UpdatesOnlyDeletedPods_DeleteCascadesButKeepsClaims(string kubectl)
    {
        var ns = "sts-ondelete-" + Path.GetExtension(kubectl).TrimStart('.');
        await Create(kubectl, ns, "updateStrategy: {type: OnDelete}");
        Assert.True(await Eventually(() => AllRunning(kubectl, ns, 3)), "web-0..2 are not all running");
        var first = Str((await Get(kubectl, ns, "statefulset", "web"))["status"]!["currentRevision"]);
        var r = await Tools.Kubectl(S, kubectl, "-n", ns, "rollout", "status", "statefulset/web");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("rollout status is only available for RollingUpdate strategy type", r.Stderr);

        await Ok(kubectl, "-n", ns, "set", "image", "statefulset/web", "nginx=nginx:1.27");
        string second = "";
        Assert.True(await Eventually(async () =>
        {
            second = Str((await Get(kubectl, ns, "statefulset", "web"))["status"]!["updateRevision"]);
            return second != first;
        }), "no update revision");
        Assert.All((await PodRevisions(kubectl, ns)).Values, v => Assert.Equal(first, v));

        await Ok(kubectl, "-n", ns, "delete", "pod", "web-1", "--wait=false");
        Assert.True(await Eventually(async () =>
        {
            var revs = await PodRevisions(kubectl, ns);
            return revs.Count == 3 && revs["web-1"] == second && await AllRunning(kubectl, ns, 3);
        }), "web-1 was not made again at the update revision");
        var revisions = await PodRevisions(kubectl, ns);
        Assert.Equal(first, revisions["web-0"]);
        Assert.Equal(first, revisions["web-2"]);

        await Ok(kubectl, "-n", ns, "delete", "statefulset", "web");
        Assert.True(await Eventually(async () => (await List(kubectl, ns, "pods")).Count == 0), "the pods were not deleted with the set");
        // persistentVolumeClaimRetentionPolicy whenDeleted: Retain (the default).
        var claims = await List(kubectl, ns, "pvc");
        Assert.Equal(3, claims.Count);
        Assert.All(claims, c => Assert.Equal("Bound", Str(c["status"]!["phase"])));
    }
}
