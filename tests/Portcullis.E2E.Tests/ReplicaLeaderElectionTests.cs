using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Replicas on one etcd: one holder of each leader election lease; after kill -9 of the holder another takes over
/// once the lease has expired, and its controllers act; a clean stop hands over at once; the identity leases and the
/// <c>kubernetes</c> Service's endpoints follow the replicas that come and go.
/// </summary>
public sealed class ReplicaLeaderElectionTests
{
    private static readonly string Kubectl = Tools.KubectlVersion("1.33");

    private static async Task<JsonObject> Get(ServerProcess s, string path)
    {
        var (code, body) = await Tools.Curl(s, "GET", path);
        Assert.True(code == 200, $"{path}: {code} {body}");
        return (JsonObject)JsonNode.Parse(body)!;
    }

    private static async Task<JsonObject> Lease(ServerProcess s, string name) =>
        (JsonObject)(await Get(s, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/" + name))["spec"]!;

    /// <summary>The replicas whose log says they acquired <paramref name="lease"/> (the holder names a uuid, not a replica).</summary>
    private static List<int> Acquired(ReplicaSet set, string lease) =>
        Enumerable.Range(0, set.Replicas.Count).Where(i => set[i].Log.Contains("successfully acquired lease kube-system/" + lease)).ToList();

    /// <summary>The ports the kubernetes Endpoints list, ascending.</summary>
    private static async Task<List<int>> EndpointPorts(ServerProcess s) =>
        (await Get(s, "/api/v1/namespaces/default/endpoints/kubernetes"))["subsets"]!.AsArray()
            .SelectMany(x => x!["ports"]!.AsArray().Select(p => (int)p!["port"]!)).Order().ToList();

    private static async Task<List<string>> IdentityLeases(ServerProcess s) =>
        (await Get(s, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?labelSelector=apiserver.kubernetes.io%2Fidentity%3Dkube-apiserver"))["items"]!
            .AsArray().Select(l => (string)l!["metadata"]!["name"]!).Order().ToList();

    private static async Task WaitFor(Func<Task<bool>> condition, string what, int seconds = 90)
    {
        for (var i = 0; i < seconds * 5; i++)
        {
            if (await condition()) return;
            await Task.Delay(200);
        }
        Assert.Fail("timed out waiting for " + what);
    }

    [Fact]
    public async Task ThreeReplicas_OneHolder_KillTheHolder_AnotherTakesOverAfterExpiry_EndpointsFollow()
    {
        await using var set = await ReplicaSet.StartAsync(3);
        var ports = set.Replicas.Select(r => r.Port).Order().ToList();
        await WaitFor(async () => (await EndpointPorts(set[0])).SequenceEqual(ports), "the kubernetes endpoints to list the three replicas");
        Assert.Equal(3, (await IdentityLeases(set[1])).Count);
        var r = await Tools.Kubectl(set[2], Kubectl, "get", "lease", "-n", "kube-system");
        Assert.Matches(@"(?m)^kube-controller-manager\s+\S+_[0-9a-f-]{36}\s", r.Stdout);
        Assert.Matches(@"(?m)^kube-scheduler\s+\S+_[0-9a-f-]{36}\s", r.Stdout);

        var holders = Acquired(set, "kube-controller-manager");
        var holder = Assert.Single(holders);
        Assert.Single(Acquired(set, "kube-scheduler"));
        var before = await Lease(set[holder], "kube-controller-manager");
        var survivor = set[(holder + 1) % 3];

        set.Kill(holder);
        var lastRenew = DateTimeOffset.Parse((string)(await Lease(survivor, "kube-controller-manager"))["renewTime"]!);
        await WaitFor(async () => (string)(await Lease(survivor, "kube-controller-manager"))["holderIdentity"]! != (string)before["holderIdentity"]!,
            "another replica to take the kube-controller-manager lease");
        var after = await Lease(survivor, "kube-controller-manager");
        Assert.Equal(1, (int)after["leaseTransitions"]!);
        // The others waited out the lease duration from the dead holder's last renewal (one clock: one host).
        Assert.True(DateTimeOffset.Parse((string)after["acquireTime"]!) >= lastRenew.AddSeconds(15),
            $"taken over at {after["acquireTime"]}, last renewal {lastRenew:O}");
        Assert.Single(Acquired(set, "kube-controller-manager").Where(i => i != holder));

        // The new holder's controllers act: a ReplicaSet gets its pods, scheduled.
        Assert.Equal(0, (await Tools.KubectlIn(survivor, Kubectl, """
            apiVersion: apps/v1
            kind: ReplicaSet
            metadata: {name: after-failover, namespace: default}
            spec:
              replicas: 2
              selector: {matchLabels: {app: after-failover}}
              template:
                metadata: {labels: {app: after-failover}}
                spec: {containers: [{name: c, image: busybox}]}
            """, "apply", "-f", "-")).ExitCode);
        await WaitFor(async () =>
        {
            var pods = (await Get(survivor, "/api/v1/namespaces/default/pods?labelSelector=app%3Dafter-failover"))["items"]!.AsArray();
            return pods.Count == 2 && pods.All(p => p!["spec"]!["nodeName"] is not null);
        }, "the ReplicaSet's pods after the failover");

        // The events show one leader after the other, as kubectl lists them.
        var events = await Tools.Kubectl(survivor, Kubectl, "get", "events", "-n", "kube-system", "--field-selector", "reason=LeaderElection,involvedObject.name=kube-controller-manager");
        Assert.Contains($"{before["holderIdentity"]} became leader", events.Stdout);
        Assert.Contains($"{after["holderIdentity"]} became leader", events.Stdout);

        // The killed replica leaves the endpoints once it has missed its renewals; its identity lease stays until it
        // expires (an hour), as upstream's.
        var killedPort = set[holder].Port;
        await WaitFor(async () => !(await EndpointPorts(survivor)).Contains(killedPort), "the killed replica to leave the kubernetes endpoints");
        Assert.Equal(3, (await IdentityLeases(survivor)).Count);
        var slices = (await Get(survivor, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes"))["items"]!.AsArray();
        Assert.Equal(2, slices.Count);

        // Restarted, it comes back under the same identity lease; it does not take the lease back.
        await set.RestartAsync(holder);
        await WaitFor(async () => (await EndpointPorts(survivor)).SequenceEqual(ports), "the restarted replica in the endpoints");
        Assert.Equal(3, (await IdentityLeases(survivor)).Count);
        Assert.Equal((string)after["holderIdentity"]!, (string)(await Lease(survivor, "kube-controller-manager"))["holderIdentity"]!);

        // A fourth replica joins, then stops cleanly: its identity lease and its endpoint go with it.
        var fourth = await set.AddReplicaAsync();
        await WaitFor(async () => (await EndpointPorts(survivor)).Contains(fourth.Port), "the fourth replica in the endpoints");
        Assert.Equal(4, (await IdentityLeases(survivor)).Count);
        Assert.Equal(0, await fourth.StopAsync());
        Assert.Equal(3, (await IdentityLeases(survivor)).Count);
        await WaitFor(async () => (await EndpointPorts(survivor)).SequenceEqual(ports), "the stopped replica to leave the endpoints");
    }

    [Fact]
    public async Task TwoReplicas_CleanStopOfTheHolder_HandsOverWithoutWaiting()
    {
        await using var set = await ReplicaSet.StartAsync(2);
        var holder = Assert.Single(Acquired(set, "kube-scheduler"));
        var other = set[1 - holder];
        var before = await Lease(other, "kube-scheduler");

        Assert.Equal(0, await set[holder].StopAsync());

        await WaitFor(async () => (string)(await Lease(other, "kube-scheduler"))["holderIdentity"]! is var h && h.Length > 0 && h != (string)before["holderIdentity"]!,
            "the other replica to take the released lease");
        var after = await Lease(other, "kube-scheduler");
        var events = (await Get(other, "/api/v1/namespaces/kube-system/events?fieldSelector=involvedObject.name%3Dkube-scheduler"))["items"]!.AsArray();
        var released = events.Select(e => (string)e!["message"]!).ToList();
        Assert.Contains($"{before["holderIdentity"]} stopped leading", released);
        Assert.Contains($"{after["holderIdentity"]} became leader", released);
        Assert.All(events, e => Assert.Equal("default-scheduler", (string)e!["source"]!["component"]!));
        Assert.Equal(1, (int)after["leaseTransitions"]!);
    }
}
