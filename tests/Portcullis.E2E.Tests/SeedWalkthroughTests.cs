using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The seed's four kubectl steps, verbatim, with each kubectl the machine has: a fresh server per
/// version so `created` and the column headers are what a new user sees.
/// </summary>
public sealed class SeedWalkthroughTests
{
    public static IEnumerable<object[]> Kubectls() =>
    [
        [Tools.Kubectl132], [Tools.KubectlVersion("1.27")], [Tools.KubectlVersion("1.33")],
    ];

    private static string FirstLine(string s) => s.Split('\n')[0];

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task SeedSteps_ApplyAndGet_PrintWhatAClusterPrints(string kubectl)
    {
        await using var s = new ServerProcess();
        await s.StartAsync();
        async Task<CommandResult> Apply(string manifest) => await Tools.KubectlIn(s, kubectl, manifest, "apply", "-f", "-");

        var r = await Apply(SeedManifests.ServiceAccount);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("serviceaccount/demo-sa created\n", r.Stdout);
        var get = await Tools.Kubectl(s, kubectl, "get", "sa");
        Assert.Matches(@"^NAME\s+SECRETS\s+AGE$", FirstLine(get.Stdout));
        Assert.Matches(@"(?m)^default\s+0\s+\d+s$", get.Stdout);
        Assert.Matches(@"(?m)^demo-sa\s+0\s+\d+s$", get.Stdout);

        r = await Apply(SeedManifests.Role);
        Assert.Equal("role.rbac.authorization.k8s.io/pod-reader created\n", r.Stdout);
        get = await Tools.Kubectl(s, kubectl, "get", "role");
        Assert.Matches(@"^NAME\s+CREATED AT$", FirstLine(get.Stdout));
        Assert.Matches(@"(?m)^pod-reader\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", get.Stdout);

        r = await Apply(SeedManifests.RoleBinding);
        Assert.Equal("rolebinding.rbac.authorization.k8s.io/pod-reader-binding created\n", r.Stdout);
        get = await Tools.Kubectl(s, kubectl, "get", "rolebindings");
        Assert.Matches(@"^NAME\s+ROLE\s+AGE$", FirstLine(get.Stdout));
        Assert.Matches(@"(?m)^pod-reader-binding\s+Role/pod-reader\s+\d+s$", get.Stdout);

        r = await Apply(SeedManifests.Pod);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("pod/test-pod created\n", r.Stdout);
        get = await Tools.Kubectl(s, kubectl, "get", "pods");
        Assert.Matches(@"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$", FirstLine(get.Stdout));
        Assert.Matches(@"(?m)^test-pod\s+\d/1\s+\w+\s+0\s+\d+s$", get.Stdout);

        // Applying again changes nothing.
        r = await Apply(SeedManifests.Pod);
        Assert.Equal("pod/test-pod unchanged\n", r.Stdout);
    }

    [Fact]
    public async Task SeedPod_ReadsBackWithUpstreamDefaults()
    {
        await using var s = new ServerProcess();
        await s.StartAsync();
        await Tools.KubectlIn(s, Tools.Kubectl132, SeedManifests.ServiceAccount, "apply", "-f", "-");
        var r = await Tools.KubectlIn(s, Tools.Kubectl132, SeedManifests.Pod, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        var pod = JsonNode.Parse((await Tools.Kubectl(s, Tools.Kubectl132, "get", "pod", "test-pod", "-o", "json")).Stdout)!;
        var spec = pod["spec"]!;
        Assert.Equal("Always", (string?)spec["restartPolicy"]);
        Assert.Equal(30, (int?)spec["terminationGracePeriodSeconds"]);
        Assert.Equal("ClusterFirst", (string?)spec["dnsPolicy"]);
        Assert.Equal("demo-sa", (string?)spec["serviceAccount"]);
        Assert.Equal("default-scheduler", (string?)spec["schedulerName"]);
        Assert.Equal("{}", spec["securityContext"]!.ToJsonString());
        Assert.True((bool?)spec["enableServiceLinks"]);
        var c = spec["containers"]![0]!;
        Assert.Equal("Always", (string?)c["imagePullPolicy"]);
        Assert.Equal("/dev/termination-log", (string?)c["terminationMessagePath"]);
        Assert.Equal("File", (string?)c["terminationMessagePolicy"]);
        Assert.Equal("{}", c["resources"]!.ToJsonString());
        Assert.Contains("last-applied-configuration", pod["metadata"]!["annotations"]!.ToJsonString());
    }
}
