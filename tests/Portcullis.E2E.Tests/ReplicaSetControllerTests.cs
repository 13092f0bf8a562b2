using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The ReplicaSet and ReplicationController controllers with real kubectl: pods made to match replicas, replaced
/// when deleted, removed when scaled down, orphans adopted and relabelled pods released, a cascading delete, and
/// pods refused by Pod Security reported on the owner (FailedCreate event, ReplicaFailure condition).
/// </summary>
public sealed class ReplicaSetControllerTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private static readonly string Kubectl133 = Tools.KubectlVersion("1.33");
    private static readonly string Kubectl130 = Tools.KubectlVersion("1.30");

    private async Task<CommandResult> Ok(string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(S, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task Apply(string kubectl, string manifest)
    {
        var r = await Tools.KubectlIn(S, kubectl, manifest, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private async Task<JsonObject> Get(string ns, params string[] what) =>
        (JsonObject)JsonNode.Parse((await Ok(Kubectl133, ["-n", ns, "get", .. what, "-o", "json"])).Stdout)!;

    /// <summary>The namespace's pods that are not being deleted, with the given label.</summary>
    private async Task<List<JsonObject>> Pods(string ns, string selector) =>
        ((JsonArray)(await Get(ns, "pods", "-l", selector))["items"]!).OfType<JsonObject>()
            .Where(p => p["metadata"]?["deletionTimestamp"] is null).ToList();

    /// <summary>Polls until the condition holds; false if it never does within the allowance (a wait, not a speed check).</summary>
    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 150; i++)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }

    private static string ReplicaSet(string ns, string name, int replicas, string labels = "app: web") => $$$"""
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: {{{name}}}, namespace: {{{ns}}}}
        spec:
          replicas: {{{replicas}}}
          selector:
            matchLabels: { {{{labels}}} }
          template:
            metadata:
              labels: { {{{labels}}} }
            spec: {containers: [{name: c, image: nginx}]}
        """;

    private async Task<bool> ReadyReplicas(string ns, string what, int n)
    {
        var status = (await Get(ns, what))["status"];
        return (status?["readyReplicas"]?.GetValue<int>() ?? 0) == n && (status?["replicas"]?.GetValue<int>() ?? 0) == n
            && (status?["availableReplicas"]?.GetValue<int>() ?? 0) == n;
    }

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.30")]
    public async Task ReplicaSet_MakesReplacesScalesAndCascades(string version)
    {
        var kubectl = Tools.KubectlVersion(version);
        var ns = "rs-" + version.Replace(".", "");
        await Ok(kubectl, "create", "namespace", ns);
        await Apply(kubectl, ReplicaSet(ns, "web", 3));
        Assert.True(await Eventually(() => ReadyReplicas(ns, "rs/web", 3)), S.Log);
        var pods = await Pods(ns, "app=web");
        Assert.Equal(3, pods.Count);
        foreach (var p in pods)
        {
            Assert.StartsWith("web-", p["metadata"]!["name"]!.GetValue<string>());
            var owner = p["metadata"]!["ownerReferences"]![0]!;
            Assert.Equal("ReplicaSet", owner["kind"]!.GetValue<string>());
            Assert.True(owner["controller"]!.GetValue<bool>());
            Assert.True(owner["blockOwnerDeletion"]!.GetValue<bool>());
            Assert.Equal("Running", p["status"]!["phase"]!.GetValue<string>());
        }
        var table = (await Ok(kubectl, "-n", ns, "get", "rs", "web")).Stdout;
        Assert.Matches(@"web\s+3\s+3\s+3\s", table);

        // A deleted pod is replaced.
        var victim = pods[0]["metadata"]!["name"]!.GetValue<string>();
        await Ok(kubectl, "-n", ns, "delete", "pod", victim, "--wait=false");
        Assert.True(await Eventually(async () =>
        {
            var now = await Pods(ns, "app=web");
            return now.Count == 3 && now.All(p => p["metadata"]!["name"]!.GetValue<string>() != victim);
        }), S.Log);

        // Scaling down removes pods, and the events say which.
        await Ok(kubectl, "-n", ns, "scale", "rs", "web", "--replicas=1");
        Assert.True(await Eventually(async () => (await Pods(ns, "app=web")).Count == 1 && await ReadyReplicas(ns, "rs/web", 1)), S.Log);
        var events = (await Ok(kubectl, "-n", ns, "get", "events", "--field-selector", "involvedObject.name=web", "-o", "json")).Stdout;
        Assert.Contains("\"reason\": \"SuccessfulCreate\"", events);
        Assert.Contains("\"reason\": \"SuccessfulDelete\"", events);
        Assert.Contains("\"component\": \"replicaset-controller\"", events);
        Assert.Matches("\"message\": \"Deleted pod: web-[a-z0-9]{5}\"", events);

        // Deleting the ReplicaSet deletes its pods (the garbage collector, through the owner references).
        await Ok(kubectl, "-n", ns, "delete", "rs", "web");
        Assert.True(await Eventually(async () => (await Pods(ns, "app=web")).Count == 0), S.Log);
    }

    [Fact]
    public async Task ReplicaSet_AdoptsOrphansAndReleasesRelabelledPods()
    {
        const string ns = "rs-adopt";
        await Ok(Kubectl133, "create", "namespace", ns);
        await Ok(Kubectl133, "-n", ns, "run", "orphan", "--image=nginx", "--labels=app=adopt");
        await Apply(Kubectl133, ReplicaSet(ns, "adopter", 1, "app: adopt"));
        Assert.True(await Eventually(async () =>
            (await Get(ns, "pod/orphan"))["metadata"]?["ownerReferences"]?[0]?["name"]?.GetValue<string>() == "adopter"), S.Log);
        Assert.True(await Eventually(() => ReadyReplicas(ns, "rs/adopter", 1)), S.Log);
        Assert.Single(await Pods(ns, "app=adopt"));

        // A pod relabelled out of the selector is released (its owner reference removed) and replaced.
        await Ok(Kubectl133, "-n", ns, "label", "pod", "orphan", "app=gone", "--overwrite");
        Assert.True(await Eventually(async () => (await Get(ns, "pod/orphan"))["metadata"]?["ownerReferences"] is null), S.Log);
        Assert.True(await Eventually(async () => (await Pods(ns, "app=adopt")).Count == 1), S.Log);
        Assert.NotEqual("orphan", (await Pods(ns, "app=adopt"))[0]["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReplicationController_MakesPodsFromItsTemplateLabels()
    {
        const string ns = "rc-basic";
        await Ok(Kubectl130, "create", "namespace", ns);
        await Apply(Kubectl130, $$$"""
            apiVersion: v1
            kind: ReplicationController
            metadata: {name: legacy, namespace: {{{ns}}}}
            spec:
              replicas: 2
              template:
                metadata: {labels: {app: legacy}}
                spec: {containers: [{name: c, image: nginx}]}
            """);
        Assert.True(await Eventually(() => ReadyReplicas(ns, "rc/legacy", 2)), S.Log);
        var pods = await Pods(ns, "app=legacy");
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p => Assert.Equal("ReplicationController", p["metadata"]!["ownerReferences"]![0]!["kind"]!.GetValue<string>()));
        await Ok(Kubectl130, "-n", ns, "scale", "rc", "legacy", "--replicas=0");
        Assert.True(await Eventually(async () => (await Pods(ns, "app=legacy")).Count == 0), S.Log);
        var events = (await Ok(Kubectl130, "-n", ns, "get", "events", "-o", "json")).Stdout;
        Assert.Contains("\"component\": \"replication-controller\"", events);
    }

    [Fact]
    public async Task PodsRefusedByPodSecurity_FailedCreateEventAndReplicaFailureCondition()
    {
        const string ns = "rs-restricted";
        await Ok(Kubectl133, "create", "namespace", ns);
        await Ok(Kubectl133, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted");
        await Apply(Kubectl133, ReplicaSet(ns, "bad", 1, "app: bad"));
        Assert.True(await Eventually(async () =>
            ((await Get(ns, "rs/bad"))["status"]?["conditions"] as JsonArray)?.Any(c => c?["type"]?.GetValue<string>() == "ReplicaFailure") == true), S.Log);
        var condition = ((JsonArray)(await Get(ns, "rs/bad"))["status"]!["conditions"]!).First(c => c!["type"]!.GetValue<string>() == "ReplicaFailure")!;
        Assert.Equal("True", condition["status"]!.GetValue<string>());
        Assert.Equal("FailedCreate", condition["reason"]!.GetValue<string>());
        Assert.StartsWith("pods \"bad-", condition["message"]!.GetValue<string>());
        Assert.Contains("is forbidden: violates PodSecurity \"restricted:latest\"", condition["message"]!.GetValue<string>());
        var describe = (await Ok(Kubectl133, "-n", ns, "describe", "rs", "bad")).Stdout;
        Assert.Contains("ReplicaFailure", describe);
        Assert.Matches(@"Warning\s+FailedCreate\s+.*replicaset-controller\s+Error creating: pods ""bad-[a-z0-9]{5}"" is forbidden: violates PodSecurity", describe);
        Assert.Empty(await Pods(ns, "app=bad"));
    }
}
