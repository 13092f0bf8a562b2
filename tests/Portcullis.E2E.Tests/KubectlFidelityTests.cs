using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>kubectl's everyday commands: apply merges, edit, label, annotate, patch, -o yaml, chunking, explain, describe.</summary>
public sealed class KubectlFidelityTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private const string K = Tools.Kubectl132;

    private async Task<CommandResult> Ok(params string[] args)
    {
        var r = await Tools.Kubectl(S, K, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task<JsonNode> Json(params string[] args) => JsonNode.Parse((await Ok([.. args, "-o", "json"])).Stdout)!;

    private const string Deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: fidelity
        spec:
          replicas: 1
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: nginx:1.25
                env:
                - {name: A, value: "1"}
              - name: side
                image: busybox
                command: ["sleep", "1d"]
        """;

    [Fact]
    public async Task Apply_EditedFile_MergesContainersByName()
    {
        await Tools.Kubectl(S, K, "create", "namespace", "fidelity");
        var r = await Tools.KubectlIn(S, K, Deployment, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        // Someone else adds an env var to the side container; the file changes the image of web.
        await Ok("-n", "fidelity", "set", "env", "deployment/web", "-c", "side", "B=2");
        r = await Tools.KubectlIn(S, K, Deployment.Replace("nginx:1.25", "nginx:1.26"), "apply", "-f", "-");
        Assert.Equal("deployment.apps/web configured\n", r.Stdout);
        var d = await Json("-n", "fidelity", "get", "deployment", "web");
        var containers = d["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal("nginx:1.26", (string?)containers[0]!["image"]);
        Assert.Equal("B", (string?)containers[1]!["env"]![0]!["name"]);
        Assert.Equal(3, (int?)d["metadata"]!["generation"]); // created 1, set env 2, apply 3
        r = await Tools.KubectlIn(S, K, Deployment.Replace("nginx:1.25", "nginx:1.26"), "apply", "-f", "-");
        Assert.Equal("deployment.apps/web unchanged\n", r.Stdout);
    }

    [Fact]
    public async Task LabelAnnotatePatch_AllThreePatchTypes()
    {
        await Ok("create", "configmap", "patched", "--from-literal=a=1");
        await Ok("label", "configmap", "patched", "team=blue");
        await Ok("annotate", "configmap", "patched", "note=hello");
        await Ok("patch", "configmap", "patched", "--type=merge", "-p", """{"data":{"b":"2"}}""");
        await Ok("patch", "configmap", "patched", "--type=json", "-p", """[{"op":"replace","path":"/data/a","value":"9"}]""");
        await Ok("patch", "configmap", "patched", "--type=strategic", "-p", """{"data":{"c":"3"}}""");
        var cm = await Json("get", "configmap", "patched");
        Assert.Equal("blue", (string?)cm["metadata"]!["labels"]!["team"]);
        Assert.Equal("hello", (string?)cm["metadata"]!["annotations"]!["note"]);
        Assert.Equal("""{"a":"9","b":"2","c":"3"}""", cm["data"]!.ToJsonString());
        await Ok("label", "configmap", "patched", "team-");
        Assert.Null((await Json("get", "configmap", "patched"))["metadata"]!["labels"]);
    }

    [Fact]
    public async Task Edit_WithEditorScript()
    {
        await Ok("create", "configmap", "edited", "--from-literal=k=old");
        var editor = Path.Combine(S.DataDir, "editor.sh");
        await File.WriteAllTextAsync(editor, "#!/bin/sh\nsed -i 's/k: old/k: new/' \"$1\"\n");
        File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var r = await Tools.RunAsync(K, ["edit", "configmap", "edited"], env: new Dictionary<string, string>
        {
            ["KUBECONFIG"] = S.Kubeconfig, ["HOME"] = Path.Combine(S.DataDir, "home"), ["EDITOR"] = editor, ["KUBE_EDITOR"] = editor,
        });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("configmap/edited edited\n", r.Stdout);
        Assert.Equal("new", (string?)(await Json("get", "configmap", "edited"))["data"]!["k"]);
    }

    [Fact]
    public async Task GetYaml_RoundTrips()
    {
        await Ok("create", "configmap", "roundtrip", "--from-literal=x=<y&z>");
        var yaml = (await Ok("get", "configmap", "roundtrip", "-o", "yaml")).Stdout;
        var r = await Tools.KubectlIn(S, K, yaml, "replace", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("configmap/roundtrip replaced\n", r.Stdout);
        Assert.Equal("<y&z>", (string?)(await Json("get", "configmap", "roundtrip"))["data"]!["x"]);
    }

    [Fact]
    public async Task GetChunkSize_ListsEverything()
    {
        await Tools.Kubectl(S, K, "create", "namespace", "chunks");
        for (var i = 0; i < 7; i++) await Ok("-n", "chunks", "create", "secret", "generic", $"s{i}", "--from-literal=a=b");
        var r = await Ok("-n", "chunks", "get", "secrets", "--chunk-size=2", "-o", "name");
        Assert.Equal(string.Concat(Enumerable.Range(0, 7).Select(i => $"secret/s{i}\n")), r.Stdout);
    }

    [Fact]
    public async Task Explain_PodSpecContainers()
    {
        var r = await Ok("explain", "pod.spec.containers");
        Assert.Contains("KIND:       Pod", r.Stdout);
        Assert.Contains("FIELD: containers <[]Container>", r.Stdout);
        Assert.Contains("image\t<string>", r.Stdout);
    }

    [Fact]
    public async Task ApiResources_ListsShortNamesAndKinds()
    {
        var r = await Ok("api-resources");
        Assert.Matches(@"(?m)^serviceaccounts\s+sa\s+v1\s+true\s+ServiceAccount$", r.Stdout);
        Assert.Matches(@"(?m)^rolebindings\s+rbac.authorization.k8s.io/v1\s+true\s+RoleBinding$", r.Stdout);
        Assert.Matches(@"(?m)^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$", r.Stdout);
    }

    [Fact]
    public async Task Describe_ShowsObjects()
    {
        await Ok("create", "serviceaccount", "described");
        var r = await Ok("describe", "serviceaccount", "described");
        Assert.Matches(@"(?m)^Name:\s+described$", r.Stdout);
        Assert.Matches(@"(?m)^Namespace:\s+default$", r.Stdout);
        r = await Ok("describe", "namespace", "default");
        Assert.Matches(@"(?m)^Status:\s+Active$", r.Stdout);
    }

    [Fact]
    public async Task DeleteNamespace_WithContent_GoesAway()
    {
        await Ok("create", "namespace", "doomed");
        await Ok("-n", "doomed", "create", "configmap", "x");
        var r = await Tools.Kubectl(S, K, "delete", "namespace", "doomed", "--timeout=30s");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("namespace \"doomed\" deleted\n", r.Stdout);
        var gone = await Tools.Kubectl(S, K, "get", "namespace", "doomed");
        Assert.Contains("NotFound", gone.Stderr);
    }

    [Fact]
    public async Task DefaultNamespace_CannotBeDeleted()
    {
        var r = await Tools.Kubectl(S, K, "delete", "namespace", "default");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Error from server (Forbidden): namespaces \"default\" is forbidden: this namespace may not be deleted", r.Stderr);
    }

    [Fact]
    public async Task FreshCluster_HasKubernetesServiceAndRootCa()
    {
        var svc = await Json("get", "service", "kubernetes");
        Assert.Equal("10.96.0.1", (string?)svc["spec"]!["clusterIP"]);
        Assert.Equal(443, (int?)svc["spec"]!["ports"]![0]!["port"]);
        var cm = await Json("-n", "kube-public", "get", "configmap", "kube-root-ca.crt");
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", (string)cm["data"]!["ca.crt"]!);
    }
}
