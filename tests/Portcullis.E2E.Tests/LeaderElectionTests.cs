using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Leader election and the apiserver identity lease on one replica (the SQLite store): the kube-system Leases with
/// upstream's holders and events as kubectl shows them; after kill -9 the restarted process takes the leases over at
/// once (one process per database file) and its controllers act; a clean stop releases them.
/// </summary>
public sealed class LeaderElectionTests
{
    private static readonly string Kubectl = Tools.KubectlVersion("1.33");

    private static async Task<JsonObject> Lease(ServerProcess s, string name)
    {
        var (code, body) = await Tools.Curl(s, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/" + name);
        Assert.True(code == 200, body);
        return (JsonObject)JsonNode.Parse(body)!;
    }

    private static async Task<List<JsonObject>> LeaderEvents(ServerProcess s)
    {
        var (_, body) = await Tools.Curl(s, "GET", "/api/v1/namespaces/kube-system/events?fieldSelector=reason%3DLeaderElection");
        return JsonNode.Parse(body)!["items"]!.AsArray().Select(e => (JsonObject)e!).ToList();
    }

    private static async Task WaitFor(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 600; i++)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        Assert.Fail("timed out waiting for " + what);
    }

    [Fact]
    public async Task OneReplica_HoldsBothLeases_RestartAfterKillTakesOverAtOnce_CleanStopReleases()
    {
        var s = new ServerProcess();
        await s.StartAsync();
        try
        {
            var r = await Tools.Kubectl(s, Kubectl, "get", "lease", "-n", "kube-system");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Matches(@"(?m)^kube-controller-manager\s+\S+_[0-9a-f-]{36}\s", r.Stdout);
            Assert.Matches(@"(?m)^kube-scheduler\s+\S+_[0-9a-f-]{36}\s", r.Stdout);
            Assert.Matches(@"(?m)^apiserver-[a-z2-7]{26}\s+apiserver-[a-z2-7]{26}_[0-9a-f-]{36}\s", r.Stdout);

            var kcm = await Lease(s, "kube-controller-manager");
            var first = (string)kcm["spec"]!["holderIdentity"]!;
            Assert.Equal(15, (int)kcm["spec"]!["leaseDurationSeconds"]!);
            Assert.Equal(0, (int)kcm["spec"]!["leaseTransitions"]!);
            var events = await Tools.Kubectl(s, Kubectl, "get", "events", "-n", "kube-system", "--field-selector", "reason=LeaderElection");
            Assert.Contains($"lease/kube-controller-manager   {first} became leader", events.Stdout);
            Assert.Contains("lease/kube-scheduler", events.Stdout);
            var ev = (await LeaderEvents(s)).First(e => (string)e["involvedObject"]!["name"]! == "kube-scheduler");
            Assert.Equal("default-scheduler", (string)ev["source"]!["component"]!);
            Assert.Equal("Normal", (string)ev["type"]!);

            // kill -9: the lease still names the dead process; the restarted one takes it over without waiting it out.
            var renewed = DateTimeOffset.Parse((string)(await Lease(s, "kube-controller-manager"))["spec"]!["renewTime"]!);
            s.Kill();
            await s.StartAsync();
            kcm = await Lease(s, "kube-controller-manager");
            var second = (string)kcm["spec"]!["holderIdentity"]!;
            Assert.NotEqual(first, second);
            Assert.Equal(1, (int)kcm["spec"]!["leaseTransitions"]!);
            Assert.True(DateTimeOffset.Parse((string)kcm["spec"]!["acquireTime"]!) < renewed.AddSeconds(15),
                "the restart waited for the dead holder's lease to expire");

            // The controllers act again: a ReplicaSet gets its pods (scheduled, so the scheduler leads too).
            Assert.Equal(0, (await Tools.KubectlIn(s, Kubectl, """
                apiVersion: apps/v1
                kind: ReplicaSet
                metadata: {name: after-restart, namespace: default}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: after-restart}}
                  template:
                    metadata: {labels: {app: after-restart}}
                    spec: {containers: [{name: c, image: busybox}]}
                """, "apply", "-f", "-")).ExitCode);
            await WaitFor(async () =>
            {
                var (_, body) = await Tools.Curl(s, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dafter-restart");
                var pods = JsonNode.Parse(body)!["items"]!.AsArray();
                return pods.Count == 2 && pods.All(p => p!["spec"]!["nodeName"] is not null);
            }, "the ReplicaSet's pods, scheduled");

            // A clean stop releases both leases and says so; the identity lease goes with the replica.
            var identity = (await Tools.Kubectl(s, Kubectl, "get", "lease", "-n", "kube-system", "-l", "apiserver.kubernetes.io/identity=kube-apiserver",
                "-o", "jsonpath={.items[*].metadata.name}")).Stdout.Trim();
            Assert.Matches("^apiserver-[a-z2-7]{26}$", identity);
            Assert.Equal(0, await s.StopAsync());
            await s.StartAsync("--leader-elect=false");
            kcm = await Lease(s, "kube-controller-manager");
            Assert.Equal("", (string)kcm["spec"]!["holderIdentity"]!);
            Assert.Equal(1, (int)kcm["spec"]!["leaseDurationSeconds"]!);
            var messages = (await LeaderEvents(s)).Select(e => (string)e["message"]!).ToList();
            Assert.Contains($"{second} stopped leading", messages);
            // The replica restarted on the same port has the same identity lease name, created anew.
            var (code, _) = await Tools.Curl(s, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/" + identity);
            Assert.Equal(200, code);

            // Without leader election the controllers still run here, and the released lease stays untouched.
            var rs = await Tools.KubectlIn(s, Kubectl, """
                apiVersion: apps/v1
                kind: ReplicaSet
                metadata: {name: no-election, namespace: default}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: no-election}}
                  template:
                    metadata: {labels: {app: no-election}}
                    spec: {containers: [{name: c, image: busybox}]}
                """, "apply", "-f", "-");
            Assert.Equal(0, rs.ExitCode);
            await WaitFor(async () =>
            {
                var (_, body) = await Tools.Curl(s, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dno-election");
                return JsonNode.Parse(body)!["items"]!.AsArray().Count == 1;
            }, "the pod of a ReplicaSet without leader election");
            Assert.Equal("", (string)(await Lease(s, "kube-controller-manager"))["spec"]!["holderIdentity"]!);
        }
        finally { await s.DisposeAsync(); }
    }

    [Fact]
    public async Task KubernetesEndpoints_ListThisReplica()
    {
        var s = new ServerProcess();
        await s.StartAsync();
        try
        {
            var (_, body) = await Tools.Curl(s, "GET", "/api/v1/namespaces/default/endpoints/kubernetes");
            var subsets = JsonNode.Parse(body)!["subsets"]!.AsArray();
            var subset = Assert.Single(subsets);
            Assert.Equal(s.Port, (int)subset!["ports"]![0]!["port"]!);
            (_, body) = await Tools.Curl(s, "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes");
            Assert.Equal(s.Port, (int)JsonNode.Parse(body)!["ports"]![0]!["port"]!);
            var ip = (string)subset["addresses"]![0]!["ip"]!;
            (_, body) = await Tools.Curl(s, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?labelSelector=apiserver.kubernetes.io%2Fidentity%3Dkube-apiserver");
            var lease = Assert.Single(JsonNode.Parse(body)!["items"]!.AsArray())!;
            Assert.Equal($"{ip}:{s.Port}", (string)lease["metadata"]!["annotations"]!["kubernetes.io/peer-advertise-address"]!);
            Assert.Equal(3600, (int)lease["spec"]!["leaseDurationSeconds"]!);
        }
        finally { await s.DisposeAsync(); }
    }

    [Theory]
    [InlineData("--leader-elect-lease-duration=10s", "leaseDuration must be greater than renewDeadline")]
    [InlineData("--leader-elect-retry-period=9s", "renewDeadline must be greater than retryPeriod*JitterFactor")]
    [InlineData("--leader-elect-renew-deadline=5d", "invalid argument \"5d\" for \"--leader-elect-renew-deadline\" flag: time: unknown unit \"d\" in duration \"5d\"")]
    public async Task BadTimings_AreRefusedAtStart(string flag, string message)
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var args = (ServerProcess.ServerExecutable is null ? new[] { ServerProcess.ServerDll } : []).Concat(["serve", "--data-dir", dir, "--secure-port", "0", flag]);
            var r = await Tools.RunAsync(ServerProcess.ServerExecutable ?? "dotnet", args);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains(message, r.Stderr + r.Stdout);
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }
}
