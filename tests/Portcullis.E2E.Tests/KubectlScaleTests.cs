using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The scale subresource: kubectl scale (1.32, 1.27, 1.33) with and without --current-replicas,
/// the autoscaling/v1 Scale on the wire, its errors, its discovery entries and its authorization.
/// </summary>
public sealed class KubectlScaleTests(NoWorkloadControllersFixture f) : IClassFixture<NoWorkloadControllersFixture>
{
    private ServerProcess S => f.Server;

    private async Task<CommandResult> Ok(string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(S, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private static string Deployment(string ns, string name) => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{{name}}}, namespace: {{{ns}}}}
        spec:
          replicas: 1
          selector: {matchLabels: {app: {{{name}}}}}
          template:
            metadata: {labels: {app: {{{name}}}}}
            spec: {containers: [{name: c, image: nginx}]}
        """;

    private async Task NamespaceWithDeployment(string ns, string name)
    {
        await Tools.Kubectl(S, Tools.Kubectl132, "create", "namespace", ns);
        var r = await Tools.KubectlIn(S, Tools.Kubectl132, Deployment(ns, name), "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    public static IEnumerable<object[]> Kubectls() =>
    [
        [Tools.Kubectl132], [Tools.KubectlVersion("1.27")], [Tools.KubectlVersion("1.33")],
    ];

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task Scale_Deployment_ChangesReplicas(string kubectl)
    {
        var ns = "scale-" + Path.GetFileName(kubectl).Replace(".", "-");
        await NamespaceWithDeployment(ns, "web");
        var r = await Ok(kubectl, "-n", ns, "scale", "deployment", "web", "--replicas=3");
        Assert.Equal("deployment.apps/web scaled\n", r.Stdout);
        // No deployment controller runs: the desired count changes, nothing is ready.
        r = await Ok(kubectl, "-n", ns, "get", "deployment", "web");
        Assert.Matches(@"(?m)^web\s+0/3\s+0\s+0\s+\S+$", r.Stdout);

        r = await Ok(kubectl, "-n", ns, "scale", "deployment", "web", "--current-replicas=3", "--replicas=5");
        Assert.Equal("deployment.apps/web scaled\n", r.Stdout);
        r = await Tools.Kubectl(S, kubectl, "-n", ns, "scale", "deployment", "web", "--current-replicas=3", "--replicas=1");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Expected replicas to be 3, was 5", r.Stderr);
        r = await Ok(kubectl, "-n", ns, "get", "deployment", "web", "-o", "jsonpath={.spec.replicas}");
        Assert.Equal("5", r.Stdout);
        // The Scale's own table.
        r = await Ok(kubectl, "-n", ns, "get", "deployment", "web", "--subresource=scale");
        Assert.Matches(@"^NAME\s+DESIRED\s+AVAILABLE\s+AGE\nweb\s+5\s+0\s+\S+\n$", r.Stdout);
    }

    [Fact]
    public async Task Scale_OtherWorkloads()
    {
        const string manifests = """
            apiVersion: v1
            kind: ReplicationController
            metadata: {name: rc, namespace: scale-others}
            spec:
              replicas: 1
              template:
                metadata: {labels: {app: rc}}
                spec: {containers: [{name: c, image: nginx}]}
            ---
            apiVersion: apps/v1
            kind: ReplicaSet
            metadata: {name: rs, namespace: scale-others}
            spec:
              replicas: 1
              selector: {matchLabels: {app: rs}}
              template:
                metadata: {labels: {app: rs}}
                spec: {containers: [{name: c, image: nginx}]}
            ---
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: sts, namespace: scale-others}
            spec:
              serviceName: sts
              replicas: 1
              selector: {matchLabels: {app: sts}}
              template:
                metadata: {labels: {app: sts}}
                spec: {containers: [{name: c, image: nginx}]}
            """;
        await Tools.Kubectl(S, Tools.Kubectl132, "create", "namespace", "scale-others");
        var r = await Tools.KubectlIn(S, Tools.Kubectl132, manifests, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        r = await Ok(Tools.Kubectl132, "-n", "scale-others", "scale", "rc/rc", "rs/rs", "sts/sts", "--replicas=4");
        Assert.Equal("replicationcontroller/rc scaled\nreplicaset.apps/rs scaled\nstatefulset.apps/sts scaled\n", r.Stdout);
        r = await Ok(Tools.Kubectl132, "-n", "scale-others", "get", "rc,rs,sts", "-o", "jsonpath={range .items[*]}{.spec.replicas}{\" \"}{end}");
        Assert.Equal("4 4 4 ", r.Stdout);
        r = await Ok(Tools.Kubectl132, "-n", "scale-others", "get", "rc", "rc");
        Assert.Matches(@"(?m)^rc\s+4\s+0\s+0\s+\S+$", r.Stdout);

        // A replication controller's map selector is the Scale's selector string.
        var (status, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/scale-others/replicationcontrollers/rc/scale");
        Assert.Equal(200, status);
        var scale = JsonNode.Parse(body)!;
        Assert.Equal("app=rc", (string?)scale["status"]!["selector"]);
        Assert.Equal(4, (int?)scale["spec"]!["replicas"]);
    }

    [Fact]
    public async Task ScaleSubresource_OnTheWire()
    {
        await NamespaceWithDeployment("scale-wire", "api");
        const string path = "/apis/apps/v1/namespaces/scale-wire/deployments/api/scale";
        var (status, body) = await Tools.Curl(S, "GET", path);
        Assert.Equal(200, status);
        var scale = JsonNode.Parse(body)!.AsObject();
        var deployment = JsonNode.Parse((await Ok(Tools.Kubectl132, "-n", "scale-wire", "get", "deployment", "api", "-o", "json")).Stdout)!;
        Assert.Equal(["kind", "apiVersion", "metadata", "spec", "status"], scale.Select(p => p.Key).ToArray());
        Assert.Equal("Scale", (string?)scale["kind"]);
        Assert.Equal("autoscaling/v1", (string?)scale["apiVersion"]);
        Assert.Equal((string?)deployment["metadata"]!["uid"], (string?)scale["metadata"]!["uid"]);
        Assert.Equal((string?)deployment["metadata"]!["resourceVersion"], (string?)scale["metadata"]!["resourceVersion"]);
        Assert.Equal(1, (int?)scale["spec"]!["replicas"]);
        Assert.Equal("""{"replicas":0,"selector":"app=api"}""", scale["status"]!.ToJsonString());

        // PUT with the current resourceVersion, then again with the stale one.
        var rv = (string)scale["metadata"]!["resourceVersion"]!;
        var put = $$$"""{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"api","namespace":"scale-wire","resourceVersion":"{{{rv}}}"},"spec":{"replicas":2}}""";
        (status, body) = await Tools.Curl(S, "PUT", path, put);
        Assert.Equal(200, status);
        Assert.Equal(2, (int?)JsonNode.Parse(body)!["spec"]!["replicas"]);
        Assert.NotEqual(rv, (string?)JsonNode.Parse(body)!["metadata"]!["resourceVersion"]);
        (status, body) = await Tools.Curl(S, "PUT", path, put);
        Assert.Equal(409, status);
        Assert.Equal("Operation cannot be fulfilled on deployments.apps \"api\": the object has been modified; please apply your changes to the latest version and try again",
            (string?)JsonNode.Parse(body)!["message"]);

        // Negative replicas: autoscaling's validation.
        (status, body) = await Tools.Curl(S, "PATCH", path, """{"spec":{"replicas":-1}}""", "application/merge-patch+json");
        Assert.Equal(422, status);
        Assert.Equal("Scale.autoscaling \"api\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            (string?)JsonNode.Parse(body)!["message"]);

        // A missing parent: GET names the subresource, writes name the parent, as upstream.
        (status, body) = await Tools.Curl(S, "GET", "/apis/apps/v1/namespaces/scale-wire/deployments/nope/scale");
        Assert.Equal(404, status);
        Assert.Equal("deployments/scale.apps \"nope\" not found", (string?)JsonNode.Parse(body)!["message"]);
        (status, body) = await Tools.Curl(S, "PATCH", "/apis/apps/v1/namespaces/scale-wire/deployments/nope/scale", """{"spec":{"replicas":1}}""", "application/merge-patch+json");
        Assert.Equal(404, status);
        Assert.Equal("deployments.apps \"nope\" not found", (string?)JsonNode.Parse(body)!["message"]);
    }

    [Fact]
    public async Task Discovery_NamesTheScaleKind()
    {
        var (_, body) = await Tools.Curl(S, "GET", "/apis/apps/v1");
        var scale = JsonNode.Parse(body)!["resources"]!.AsArray().First(r => (string?)r!["name"] == "deployments/scale")!;
        Assert.Equal("""{"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get","patch","update"]}""",
            scale.ToJsonString());

        (_, body) = await Tools.Curl(S, "GET", "/apis", extra: ["-H", "Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"]);
        var apps = JsonNode.Parse(body)!["items"]!.AsArray().First(g => (string?)g!["metadata"]!["name"] == "apps")!;
        var deployments = apps["versions"]![0]!["resources"]!.AsArray().First(r => (string?)r!["resource"] == "deployments")!;
        Assert.Equal("""[{"subresource":"scale","responseKind":{"group":"autoscaling","version":"v1","kind":"Scale"},"verbs":["get","patch","update"]},{"subresource":"status","responseKind":{"group":"apps","version":"v1","kind":"Deployment"},"verbs":["get","patch","update"]}]""",
            deployments["subresources"]!.ToJsonString());

        var r = await Ok(Tools.Kubectl132, "api-resources");
        Assert.Matches(@"(?m)^replicationcontrollers\s+rc\s+v1\s+true\s+ReplicationController$", r.Stdout);
    }

    [Fact]
    public async Task Scale_IsAuthorizedAsItsOwnSubresource()
    {
        await NamespaceWithDeployment("scale-rbac", "app");
        const string rbac = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: scaler, namespace: scale-rbac}
            rules:
            - {apiGroups: [apps], resources: [deployments], verbs: [get]}
            - {apiGroups: [apps], resources: [deployments/scale], verbs: [get, patch]}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: scaler, namespace: scale-rbac}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: scaler}
            subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: scaler}]
            """;
        var r = await Tools.KubectlIn(S, Tools.Kubectl132, rbac, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        r = await Ok(Tools.Kubectl132, "-n", "scale-rbac", "auth", "can-i", "patch", "deployments", "--subresource=scale", "--as=scaler");
        Assert.Equal("yes\n", r.Stdout);
        r = await Ok(Tools.Kubectl132, "-n", "scale-rbac", "--as=scaler", "scale", "deployment", "app", "--replicas=2");
        Assert.Equal("deployment.apps/app scaled\n", r.Stdout);
        r = await Tools.Kubectl(S, Tools.Kubectl132, "-n", "scale-rbac", "--as=scaler", "patch", "deployment", "app", "-p", """{"spec":{"replicas":3}}""");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("User \"scaler\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"scale-rbac\"", r.Stderr);
    }
}
