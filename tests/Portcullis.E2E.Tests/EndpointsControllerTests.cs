using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The endpoints and EndpointSlice controllers with real kubectl (1.33 and 1.30): a Service's Endpoints and
/// EndpointSlice list its pods, follow a pod's readiness (written through pods/status, as a kubelet would),
/// show in <c>kubectl describe service</c>, and go with the Service.
/// </summary>
public sealed class EndpointsControllerTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    internal static async Task<CommandResult> Ok(ServerProcess s, string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(s, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    internal static async Task<CommandResult> Apply(ServerProcess s, string kubectl, string manifest)
    {
        var r = await Tools.KubectlIn(s, kubectl, manifest, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    /// <summary>Polls until the condition holds; false if it never does within the allowance (a wait, not a speed check).</summary>
    internal static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }

    internal static async Task<JsonObject?> Json(ServerProcess s, string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(s, kubectl, [.. args, "-o", "json"]);
        return r.ExitCode == 0 ? JsonNode.Parse(r.Stdout)!.AsObject() : null;
    }

    internal static string Pod(string ns, string name, string app, string? ownerUid = null, string ownerName = "",
        string ownerKind = "ReplicaSet", string ownerApiVersion = "apps/v1") => $$$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{{name}}}
          namespace: {{{ns}}}
          labels: {app: {{{app}}}}
        {{{(ownerUid is null ? "" : $"  ownerReferences: [{{apiVersion: {ownerApiVersion}, kind: {ownerKind}, name: {ownerName}, uid: {ownerUid}, controller: true}}]")}}}
        spec:
          containers:
          - name: c
            image: nginx
            ports: [{name: http, containerPort: 8080}]
        """;

    public static IEnumerable<object[]> Kubectls() => [[Tools.KubectlVersion("1.33")], [Tools.KubectlVersion("1.30")]];

    private static List<string> Ips(JsonNode? subsets, string field) =>
        (subsets as JsonArray ?? []).SelectMany(s => s?[field] as JsonArray ?? []).Select(a => a!["ip"]!.GetValue<string>()).OrderBy(x => x).ToList();

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task ServiceEndpoints_FollowPodReadiness_AndGoWithTheService(string kubectl)
    {
        var ns = "ep-" + Path.GetFileName(kubectl).Replace(".", "-");
        await Ok(S, kubectl, "create", "namespace", ns);
        await Apply(S, kubectl, Pod(ns, "web-a", "web") + "\n---\n" + Pod(ns, "web-b", "web"));
        await Ok(S, kubectl, "-n", ns, "create", "service", "clusterip", "web", "--tcp=80:8080");

        JsonObject? ep = null;
        Assert.True(await Eventually(async () => (ep = await Json(S, kubectl, "-n", ns, "get", "endpoints", "web")) is not null
            && Ips(ep["subsets"], "addresses").Count == 2), $"the endpoints never listed both pods: {ep}");
        var subset = ep!["subsets"]![0]!;
        Assert.Equal("""[{"name":"80-8080","port":8080,"protocol":"TCP"}]""", subset["ports"]!.ToJsonString());
        var address = subset["addresses"]!.AsArray().First(a => a!["targetRef"]!["name"]!.GetValue<string>() == "web-a")!;
        Assert.Equal("Pod", address["targetRef"]!["kind"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(address["nodeName"]?.GetValue<string>()));
        Assert.Equal("web", ep["metadata"]!["labels"]!["app"]!.GetValue<string>());
        Assert.NotNull(ep["metadata"]!["annotations"]?["endpoints.kubernetes.io/last-change-trigger-time"]);
        var ips = Ips(ep["subsets"], "addresses");

        var get = await Ok(S, kubectl, "-n", ns, "get", "endpoints", "web");
        Assert.Contains($"{ips[0]}:8080,{ips[1]}:8080", get.Stdout);

        var describe = await Ok(S, kubectl, "-n", ns, "describe", "service", "web");
        var endpointsLine = describe.Stdout.Split('\n').Single(l => l.StartsWith("Endpoints:", StringComparison.Ordinal));
        Assert.Contains($"{ips[0]}:8080", endpointsLine);
        Assert.Contains($"{ips[1]}:8080", endpointsLine);

        JsonObject? slices = null;
        Assert.True(await Eventually(async () => (slices = await Json(S, kubectl, "-n", ns, "get", "endpointslices", "-l", "kubernetes.io/service-name=web")) is not null
            && slices["items"]!.AsArray().Count == 1 && slices["items"]![0]!["endpoints"]?.AsArray().Count == 2), $"no slice with both pods: {slices}");
        var slice = slices!["items"]![0]!;
        Assert.StartsWith("web-", slice["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("endpointslice-controller.k8s.io", slice["metadata"]!["labels"]!["endpointslice.kubernetes.io/managed-by"]!.GetValue<string>());
        Assert.Equal("IPv4", slice["addressType"]!.GetValue<string>());
        Assert.Equal("Service", slice["metadata"]!["ownerReferences"]![0]!["kind"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"name":"80-8080","protocol":"TCP","port":8080}]"""), slice["ports"]), slice["ports"]!.ToJsonString());
        Assert.All(slice["endpoints"]!.AsArray(), e => Assert.Equal("""{"ready":true,"serving":true,"terminating":false}""", e!["conditions"]!.ToJsonString()));
        var slicesTable = await Ok(S, kubectl, "-n", ns, "get", "endpointslices");
        Assert.Matches(@"(?m)^web-\S+\s+IPv4\s+8080\s+", slicesTable.Stdout);

        // web-b stops being ready (as a kubelet would report it): it moves to notReadyAddresses.
        await Ok(S, kubectl, "-n", ns, "patch", "pod", "web-b", "--subresource=status", "--type=strategic",
            "-p", """{"status":{"conditions":[{"type":"Ready","status":"False"}]}}""");
        Assert.True(await Eventually(async () => (ep = await Json(S, kubectl, "-n", ns, "get", "endpoints", "web")) is not null
            && Ips(ep["subsets"], "addresses").Count == 1 && Ips(ep["subsets"], "notReadyAddresses").Count == 1), $"readiness not followed: {ep}");
        Assert.Equal("web-b", ep!["subsets"]![0]!["notReadyAddresses"]![0]!["targetRef"]!["name"]!.GetValue<string>());
        Assert.True(await Eventually(async () => (slices = await Json(S, kubectl, "-n", ns, "get", "endpointslices", "-l", "kubernetes.io/service-name=web")) is not null
            && slices["items"]![0]!["endpoints"]!.AsArray().Any(e => e!["targetRef"]!["name"]!.GetValue<string>() == "web-b"
                && e["conditions"]!.ToJsonString() == """{"ready":false,"serving":false,"terminating":false}""")), $"slice readiness not followed: {slices}");

        // Back to ready.
        await Ok(S, kubectl, "-n", ns, "patch", "pod", "web-b", "--subresource=status", "--type=strategic",
            "-p", """{"status":{"conditions":[{"type":"Ready","status":"True"}]}}""");
        Assert.True(await Eventually(async () => (ep = await Json(S, kubectl, "-n", ns, "get", "endpoints", "web")) is not null
            && Ips(ep["subsets"], "addresses").Count == 2), $"readiness not followed back: {ep}");

        // A deleted pod leaves both.
        await Ok(S, kubectl, "-n", ns, "delete", "pod", "web-a", "--wait=true");
        Assert.True(await Eventually(async () => (ep = await Json(S, kubectl, "-n", ns, "get", "endpoints", "web")) is not null
            && Ips(ep["subsets"], "addresses").Count == 1), $"deleted pod still listed: {ep}");

        // The Service's deletion takes its Endpoints and (through the garbage collector) its slices.
        await Ok(S, kubectl, "-n", ns, "delete", "service", "web");
        Assert.True(await Eventually(async () => await Json(S, kubectl, "-n", ns, "get", "endpoints", "web") is null), "endpoints left behind");
        Assert.True(await Eventually(async () => (await Json(S, kubectl, "-n", ns, "get", "endpointslices"))?["items"]!.AsArray().Count == 0), "slices left behind");
    }

    [Fact]
    public async Task ServiceWithoutSelector_KeepsItsOwnEndpoints_AndTheKubernetesServiceKeepsTheServers()
    {
        const string kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
        await Ok(S, kubectl, "create", "namespace", "ep-manual");
        await Apply(S, kubectl, """
            apiVersion: v1
            kind: Service
            metadata: {name: ext, namespace: ep-manual}
            spec: {ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: ext, namespace: ep-manual}
            subsets: [{addresses: [{ip: 192.0.2.10}], ports: [{port: 80}]}]
            """);
        // A headless Service with a selector gets the label, and no slice for the selector-less one.
        await Apply(S, kubectl, Pod("ep-manual", "db-0", "db") + """

            ---
            apiVersion: v1
            kind: Service
            metadata: {name: db, namespace: ep-manual}
            spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432, targetPort: 8080}]}
            """);
        JsonObject? db = null;
        Assert.True(await Eventually(async () => (db = await Json(S, kubectl, "-n", "ep-manual", "get", "endpoints", "db")) is not null
            && Ips(db["subsets"], "addresses").Count == 1), $"headless service endpoints: {db}");
        Assert.Equal("", db!["metadata"]!["labels"]!["service.kubernetes.io/headless"]!.GetValue<string>());
        var ext = await Json(S, kubectl, "-n", "ep-manual", "get", "endpoints", "ext");
        Assert.Equal(["192.0.2.10"], Ips(ext!["subsets"], "addresses"));
        var slices = await Json(S, kubectl, "-n", "ep-manual", "get", "endpointslices", "-l", "kubernetes.io/service-name=ext");
        Assert.Empty(slices!["items"]!.AsArray());
        var kubernetes = await Json(S, kubectl, "-n", "default", "get", "endpoints", "kubernetes");
        Assert.Single(Ips(kubernetes!["subsets"], "addresses"));
    }
}
