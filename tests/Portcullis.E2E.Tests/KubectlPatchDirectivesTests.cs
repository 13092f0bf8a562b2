using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Strategic merge patch directives through kubectl patch, as the kubectl patch task page shows
/// them: a list merged by name, $retainKeys on a deployment's strategy, and their errors.
/// </summary>
public sealed class KubectlPatchDirectivesTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private const string K = Tools.Kubectl132;

    private async Task<CommandResult> Ok(params string[] args)
    {
        var r = await Tools.Kubectl(S, K, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task<JsonNode> Get(string ns, string what) => JsonNode.Parse((await Ok("-n", ns, "get", what, "-o", "json")).Stdout)!;

    private async Task CreateDeployment(string ns, string name)
    {
        await Tools.Kubectl(S, K, "create", "namespace", ns);
        var manifest = $$$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: {{{name}}}, namespace: {{{ns}}}}
            spec:
              replicas: 1
              selector: {matchLabels: {app: {{{name}}}}}
              template:
                metadata: {labels: {app: {{{name}}}}}
                spec:
                  containers: [{name: patch-demo-ctr, image: nginx}]
            """;
        var r = await Tools.KubectlIn(S, K, manifest, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public async Task StrategicPatch_AddsAContainer_FirstInTheList()
    {
        await CreateDeployment("patch-list", "patch-demo");
        await Ok("-n", "patch-list", "patch", "deployment", "patch-demo", "-p",
            """{"spec":{"template":{"spec":{"containers":[{"name":"patch-demo-ctr-2","image":"redis"}]}}}}""");
        var containers = (await Get("patch-list", "deployment/patch-demo"))["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(["patch-demo-ctr-2", "patch-demo-ctr"], containers.Select(c => (string)c!["name"]!).ToArray());
        Assert.Equal("redis", (string?)containers[0]!["image"]);
    }

    [Fact]
    public async Task RetainKeys_SwitchesTheStrategy()
    {
        await CreateDeployment("patch-retain", "retainkeys-demo");
        // Without $retainKeys the defaulted rollingUpdate stays and validation refuses the patch.
        var r = await Tools.Kubectl(S, K, "-n", "patch-retain", "patch", "deployment", "retainkeys-demo", "-p", """{"spec":{"strategy":{"type":"Recreate"}}}""");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("The Deployment \"retainkeys-demo\" is invalid: spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'", r.Stderr);

        await Ok("-n", "patch-retain", "patch", "deployment", "retainkeys-demo", "-p", """{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}""");
        var strategy = (await Get("patch-retain", "deployment/retainkeys-demo"))["spec"]!["strategy"]!;
        Assert.Equal("""{"type":"Recreate"}""", strategy.ToJsonString());

        r = await Tools.Kubectl(S, K, "-n", "patch-retain", "patch", "deployment", "retainkeys-demo", "-p",
            """{"spec":{"strategy":{"$retainKeys":["rollingUpdate"],"type":"RollingUpdate"}}}""");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Error from server (BadRequest): invalid patch format of retainKeys", r.Stderr);
    }

    [Fact]
    public async Task DeleteFromPrimitiveList_AndElementDirectives()
    {
        await Tools.Kubectl(S, K, "create", "namespace", "patch-prim");
        await Ok("-n", "patch-prim", "create", "configmap", "c");
        await Ok("-n", "patch-prim", "patch", "configmap", "c", "-p", """{"metadata":{"finalizers":["example.com/a","example.com/b"]}}""");
        await Ok("-n", "patch-prim", "patch", "configmap", "c", "-p", """{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/a"]}}""");
        var cm = await Get("patch-prim", "configmap/c");
        Assert.Equal("""["example.com/b"]""", cm["metadata"]!["finalizers"]!.ToJsonString());
        await Ok("-n", "patch-prim", "patch", "configmap", "c", "-p", """{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/b"]}}""");

        // A list item without its merge key: upstream's text, as a 400 (kube-apiserver's plain 500 is not kept).
        await CreateDeployment("patch-prim", "keyless");
        var r = await Tools.Kubectl(S, K, "-n", "patch-prim", "patch", "deployment", "keyless", "-p", """{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}""");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("map: map[image:x] does not contain declared merge key: name", r.Stderr);
    }
}
