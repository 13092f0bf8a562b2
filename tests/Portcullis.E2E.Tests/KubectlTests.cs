using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Real kubectl binaries against the real server.</summary>
public sealed class KubectlTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private static readonly string Kubectl130 = Tools.KubectlVersion("1.30");

    [Fact]
    public async Task Create_GetJson_Delete_WithKubectl130()
    {
        await Tools.KubectlIn(S, Kubectl130, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: demo-sa\n", "apply", "-f", "-");
        var create = await Tools.KubectlIn(S, Kubectl130, SeedManifests.Pod, "create", "-f", "-", "--validate=false");
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal("pod/test-pod created\n", create.Stdout);

        var get = await Tools.Kubectl(S, Kubectl130, "get", "pod", "test-pod", "-o", "json");
        Assert.True(get.ExitCode == 0, get.ToString());
        var pod = JsonNode.Parse(get.Stdout)!;
        Assert.Equal("curlimages/curl", (string?)pod["spec"]!["containers"]![0]!["image"]);
        Assert.Equal("demo-sa", (string?)pod["spec"]!["serviceAccountName"]);

        var del = await Tools.Kubectl(S, Kubectl130, "delete", "pod", "test-pod");
        Assert.True(del.ExitCode == 0, del.ToString());
        Assert.Equal("pod \"test-pod\" deleted\n", del.Stdout);
        var gone = await Tools.Kubectl(S, Kubectl130, "get", "pod", "test-pod");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("Error from server (NotFound): pods \"test-pod\" not found", gone.Stderr);
    }

    [Fact]
    public async Task GetWatch_PrintsChanges()
    {
        var cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\n";
        var watch = Tools.RunAsync(Kubectl130, ["get", "configmaps", "-w", "--request-timeout=8s", "-o", "name"],
            env: new Dictionary<string, string> { ["KUBECONFIG"] = S.Kubeconfig, ["HOME"] = Path.Combine(S.DataDir, "home") },
            timeout: TimeSpan.FromSeconds(30));
        await Task.Delay(1500);
        var create = await Tools.KubectlIn(S, Kubectl130, cm, "create", "-f", "-", "--validate=false");
        Assert.True(create.ExitCode == 0, create.ToString());
        var result = await watch;
        Assert.Contains("configmap/watched", result.Stdout);
    }

    [Fact]
    public async Task GetNamespaces_ShowsSystemNamespaces()
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, "get", "namespaces", "-o", "name");
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
            Assert.Contains($"namespace/{ns}\n", r.Stdout);
    }
}
