using System.Text.Json.Nodes;
using static Portcullis.E2E.Tests.EndpointsControllerTests;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The disruption controller and the pods/eviction subresource: a PodDisruptionBudget's status counts its pods
/// against their controller's scale (a custom resource's scale subresource); an eviction the budget allows deletes the pod (DisruptionTarget condition,
/// disruptedPods recorded), one it does not is refused with upstream's 429; <c>kubectl drain</c> (1.33 and 1.30)
/// cordons the node and evicts, retrying on 429 until the budget allows it.
/// </summary>
public sealed class DisruptionTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private const string K133 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

    private const string FleetCrd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: fleets.example.com}
        spec:
          group: example.com
          scope: Namespaced
          names: {plural: fleets, singular: fleet, kind: Fleet}
          versions:
          - name: v1
            served: true
            storage: true
            subresources:
              status: {}
              scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec: {type: object, properties: {replicas: {type: integer}}}
                  status: {type: object, properties: {replicas: {type: integer}}}
        """;

    /// <summary>
    /// Pods controlled by a custom resource with a scale subresource (what a maxUnavailable budget counts against:
    /// upstream's getScaleController). A custom kind, so that no workload controller of this server touches them.
    /// </summary>
    private async Task<List<string>> ControlledPods(string kubectl, string ns, string app, int replicas)
    {
        await Tools.KubectlIn(S, kubectl, FleetCrd, "apply", "-f", "-");
        await Ok(S, kubectl, "create", "namespace", ns);
        Assert.True(await Eventually(async () => (await Tools.KubectlIn(S, kubectl, $$$"""
            apiVersion: example.com/v1
            kind: Fleet
            metadata: {name: {{{app}}}, namespace: {{{ns}}}}
            spec: {replicas: {{{replicas}}}}
            """, "apply", "-f", "-")).ExitCode == 0), "the Fleet kind was never served");
        var uid = (await Ok(S, kubectl, "-n", ns, "get", "fleet", app, "-o", "jsonpath={.metadata.uid}")).Stdout;
        var names = Enumerable.Range(0, replicas).Select(i => $"{app}-{i}").ToList();
        foreach (var n in names)
        {
            var r = await Tools.KubectlIn(S, kubectl, Pod(ns, n, app, uid, app, "Fleet", "example.com/v1"),
                "create", "-f", "-");
            Assert.True(r.ExitCode == 0, r.ToString());
        }
        Assert.True(await Eventually(async () => (await Json(S, kubectl, "-n", ns, "get", "pods", "-l", "app=" + app))?["items"]!.AsArray()
            .Count(p => p!["status"]?["conditions"]?.AsArray().Any(c => c!["type"]!.GetValue<string>() == "Ready" && c["status"]!.GetValue<string>() == "True") == true) >= replicas),
            "the pods never became ready");
        return names;
    }

    private async Task<JsonObject?> Status(string ns, string pdb) => (await Json(S, K133, "-n", ns, "get", "pdb", pdb))?["status"] as JsonObject;

    private static string Eviction(string ns, string pod, string? deleteOptions = null) =>
        $$"""{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"{{pod}}","namespace":"{{ns}}"}{{(deleteOptions is null ? "" : ",\"deleteOptions\":" + deleteOptions)}}}""";

    [Fact]
    public async Task Budget_CountsAgainstTheScale_AndEvictionsTakeFromIt_UntilRefusedWith429()
    {
        const string ns = "pdb-evict";
        var pods = await ControlledPods(K133, ns, "db", 3);
        await Apply(S, K133, """
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: db, namespace: pdb-evict}
            spec: {maxUnavailable: "34%", selector: {matchLabels: {app: db}}}
            """);
        JsonObject? status = null;
        // 34% of 3, rounded up, is 2 unavailable: 1 desired healthy.
        Assert.True(await Eventually(async () => (status = await Status(ns, "db"))?["disruptionsAllowed"]?.GetValue<int>() == 2), $"status: {status}");
        Assert.Equal(3, status!["expectedPods"]!.GetValue<int>());
        Assert.Equal(3, status["currentHealthy"]!.GetValue<int>());
        Assert.Equal(1, status["desiredHealthy"]!.GetValue<int>());
        Assert.Equal(1, status["observedGeneration"]!.GetValue<int>());
        var condition = status["conditions"]![0]!;
        Assert.Equal(("DisruptionAllowed", "True", "SufficientPods"),
            (condition["type"]!.GetValue<string>(), condition["status"]!.GetValue<string>(), condition["reason"]!.GetValue<string>()));
        var table = await Ok(S, K133, "-n", ns, "get", "pdb", "db");
        Assert.Matches(@"(?m)^db\s+N/A\s+34%\s+2\s+", table.Stdout);

        // A dry run changes nothing.
        var (code, body) = await Tools.Curl(S, "POST", $"/api/v1/namespaces/{ns}/pods/{pods[0]}/eviction?dryRun=All", Eviction(ns, pods[0]));
        Assert.Equal(201, code);
        Assert.Equal(2, (await Status(ns, "db"))!["disruptionsAllowed"]!.GetValue<int>());
        Assert.NotNull(await Json(S, K133, "-n", ns, "get", "pod", pods[0]));

        // Two evictions are allowed; each takes one disruption, and the pod goes.
        foreach (var pod in pods.Take(2))
        {
            (code, body) = await Tools.Curl(S, "POST", $"/api/v1/namespaces/{ns}/pods/{pod}/eviction", Eviction(ns, pod));
            Assert.Equal(201, code);
            Assert.Equal("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}""", JsonNode.Parse(body)!.ToJsonString());
        }
        Assert.True(await Eventually(async () => await Json(S, K133, "-n", ns, "get", "pod", pods[1]) is null), "the evicted pod stayed");
        Assert.True(await Eventually(async () => (status = await Status(ns, "db"))?["currentHealthy"]?.GetValue<int>() == 1
            && status["disruptionsAllowed"]?.GetValue<int>() == 0), $"status after evictions: {status}");
        Assert.Equal("InsufficientPods", status!["conditions"]![0]!["reason"]!.GetValue<string>());

        // The third would break the budget: 429 with upstream's message and cause.
        (code, body) = await Tools.Curl(S, "POST", $"/api/v1/namespaces/{ns}/pods/{pods[2]}/eviction", Eviction(ns, pods[2]));
        Assert.Equal(429, code);
        var refusal = JsonNode.Parse(body)!;
        Assert.Equal("TooManyRequests", refusal["reason"]!.GetValue<string>());
        Assert.Equal("Cannot evict pod as it would violate the pod's disruption budget.", refusal["message"]!.GetValue<string>());
        Assert.Equal("""[{"reason":"DisruptionBudget","message":"The disruption budget db needs 1 healthy pods and has 1 currently"}]""",
            refusal["details"]!["causes"]!.ToJsonString());
        Assert.NotNull(await Json(S, K133, "-n", ns, "get", "pod", pods[2]));

        // A second budget over the same pod: upstream's 500.
        await Apply(S, K133, """
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: db-too, namespace: pdb-evict}
            spec: {minAvailable: 0, selector: {matchLabels: {app: db}}}
            """);
        (code, body) = await Tools.Curl(S, "POST", $"/api/v1/namespaces/{ns}/pods/{pods[2]}/eviction", Eviction(ns, pods[2]));
        Assert.Equal(500, code);
        Assert.Equal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.", JsonNode.Parse(body)!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Eviction_IsAuthorizedAsCreateOnPodsEviction_AndAnUnreadyPodWithAlwaysAllowGoes()
    {
        const string ns = "pdb-unhealthy";
        var pods = await ControlledPods(K133, ns, "api", 2);
        await Apply(S, K133, """
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: api, namespace: pdb-unhealthy}
            spec: {minAvailable: 2, unhealthyPodEvictionPolicy: AlwaysAllow, selector: {matchLabels: {app: api}}}
            """);
        JsonObject? status = null;
        Assert.True(await Eventually(async () => (status = await Status(ns, "api"))?["currentHealthy"]?.GetValue<int>() == 2), $"status: {status}");
        Assert.Equal(0, status!["disruptionsAllowed"]!.GetValue<int>());

        var denied = await Tools.Kubectl(S, K133, "-n", ns, "auth", "can-i", "create", "pods/eviction", "--as", "system:serviceaccount:pdb-unhealthy:default");
        Assert.Equal("no", denied.Stdout.Trim());
        var allowed = await Tools.Kubectl(S, K133, "auth", "can-i", "create", "pods/eviction", "--as", "system:serviceaccount:kube-system:default", "--as-group", "system:masters");
        Assert.Equal("yes", allowed.Stdout.Trim());

        await Ok(S, K133, "-n", ns, "patch", "pod", pods[0], "--subresource=status", "--type=strategic",
            "-p", """{"status":{"conditions":[{"type":"Ready","status":"False"}]}}""");
        var (code, body) = await Tools.Curl(S, "POST", $"/api/v1/namespaces/{ns}/pods/{pods[0]}/eviction", Eviction(ns, pods[0]));
        Assert.True(code == 201, body);
        (code, body) = await Tools.Curl(S, "POST", $"/api/v1/namespaces/{ns}/pods/{pods[1]}/eviction", Eviction(ns, pods[1]));
        Assert.Equal(429, code);
    }

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.30")]
    public async Task Drain_CordonsAndEvicts_RetryingWhileTheBudgetRefuses(string version)
    {
        var kubectl = Tools.KubectlVersion(version);
        var ns = "drain-" + version.Replace(".", "-");
        var app = "app-" + version.Replace(".", "-");
        var pods = await ControlledPods(kubectl, ns, app, 2);
        await Apply(S, kubectl, $$$"""
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: {{{app}}}, namespace: {{{ns}}}}
            spec:
              minAvailable: 1
              selector:
                matchLabels: {app: {{{app}}}}
            """);
        Assert.True(await Eventually(async () => (await Status(ns, app))?["disruptionsAllowed"]?.GetValue<int>() == 1), "the budget never allowed one");
        var node = (await Ok(S, kubectl, "-n", ns, "get", "pod", pods[0], "-o", "jsonpath={.spec.nodeName}")).Stdout;

        var drain = Tools.Kubectl(S, kubectl, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--pod-selector", "app=" + app, "--timeout=120s");
        try
        {
            // One pod goes; the other is refused (429) and retried, until the budget is relaxed.
            Assert.True(await Eventually(async () => (await Json(S, kubectl, "-n", ns, "get", "pods", "-l", "app=" + app))?["items"]!.AsArray().Count == 1),
                "the first eviction never happened");
            await Ok(S, kubectl, "-n", ns, "patch", "pdb", app, "--type=merge", "-p", """{"spec":{"minAvailable":0}}""");
            var r = await drain;
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains($"node/{node} cordoned", r.Stdout);
            Assert.Contains($"pod/{pods[0]} evicted", r.Stdout);
            Assert.Contains($"pod/{pods[1]} evicted", r.Stdout);
            Assert.Contains($"node/{node} drained", r.Stdout);
            Assert.Contains("Cannot evict pod as it would violate the pod's disruption budget.", r.Stderr);
            Assert.Equal("true", (await Ok(S, kubectl, "get", "node", node, "-o", "jsonpath={.spec.unschedulable}")).Stdout);
        }
        finally
        {
            await drain;
            await Tools.Kubectl(S, kubectl, "uncordon", node);
        }
    }
}
