using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>A server whose node runs pods as host processes (--pod-runtime=process).</summary>
public sealed class ProcessRuntimeFixture : IAsyncLifetime
{
    public ServerProcess Server { get; } = new();
    public Task InitializeAsync() => Server.StartAsync("--pod-runtime=process");
    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>
/// The process runtime with the real kubectl: logs, exec (exit codes, authorization), restarts,
/// and deletion that ends the processes and the pod's token.
/// </summary>
public sealed partial class ProcessRuntimeTests(ProcessRuntimeFixture f) : IClassFixture<ProcessRuntimeFixture>
{
    private ServerProcess S => f.Server;
    private Task<CommandResult> K(params string[] args) => Tools.Kubectl(S, Tools.Kubectl132, args);
    private Task<CommandResult> Apply(string yaml) => Tools.KubectlIn(S, Tools.Kubectl132, yaml, "apply", "-f", "-");

    private static string Pod(string name, string command, string restartPolicy = "Always") => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
        spec:
          restartPolicy: {{restartPolicy}}
          terminationGracePeriodSeconds: 30
          containers:
          - name: main
            image: busybox
            command: ["sh", "-c", "{{command}}"]
        """;

    /// <summary>Polls a jsonpath of the pod until it satisfies <paramref name="ok"/> (fails after a generous timeout).</summary>
    private async Task<string> WaitFor(string pod, string jsonpath, Func<string, bool> ok)
    {
        var last = "";
        for (var i = 0; i < 600; i++)
        {
            var r = await K("get", "pod", pod, "-o", "jsonpath={" + jsonpath + "}");
            last = r.Stdout;
            if (r.ExitCode == 0 && ok(last)) return last;
            await Task.Delay(100);
        }
        throw new TimeoutException($"pod {pod} {jsonpath} never satisfied the condition; last: {last}\n{S.Log}");
    }

    [Fact]
    public async Task ExecNonZeroExit_PrintsCommandTerminated_AndExitsWithTheCode()
    {
        Assert.Equal(0, (await Apply(Pod("exec-target", "sleep 3600"))).ExitCode);
        await WaitFor("exec-target", ".status.containerStatuses[0].started", s => s == "true");
        var r = await K("exec", "exec-target", "--", "sh", "-c", "echo out; echo err >&2; exit 7");
        Assert.Equal(7, r.ExitCode);
        Assert.Equal("out\n", r.Stdout);
        Assert.Contains("err\n", r.Stderr);
        Assert.Contains("command terminated with exit code 7", r.Stderr);
        var ok = await K("exec", "exec-target", "--", "printenv", "HOSTNAME", "KUBERNETES_SERVICE_HOST");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal("exec-target\n127.0.0.1\n", ok.Stdout);
        var stdin = await Tools.KubectlIn(S, Tools.Kubectl132, "hello from stdin\n", "exec", "-i", "exec-target", "--", "cat");
        Assert.Equal("hello from stdin\n", stdin.Stdout);
    }

    [Fact]
    public async Task Exec_NeedsCreateOnPodsExec_AsUpstreamForWebSockets()
    {
        Assert.Equal(0, (await Apply(Pod("guarded", "sleep 3600"))).ExitCode);
        await WaitFor("guarded", ".status.containerStatuses[0].started", s => s == "true");
        Assert.Equal(0, (await K("create", "role", "exec-get-only", "--verb=get", "--resource=pods,pods/exec")).ExitCode);
        Assert.Equal(0, (await K("create", "rolebinding", "exec-get-only", "--role=exec-get-only", "--user=mallory")).ExitCode);
        var r = await K("exec", "guarded", "--as=mallory", "--", "true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Error from server (Forbidden): pods \"guarded\" is forbidden: User \"mallory\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"default\"", r.Stderr);
    }

    [Fact]
    public async Task LogsFollow_StreamsUntilTheContainerEnds()
    {
        Assert.Equal(0, (await Apply(Pod("talker", "for i in 1 2 3; do echo line $i; sleep 1; done", "Never"))).ExitCode);
        await WaitFor("talker", ".status.containerStatuses[0].state", s => s.Length > 0 && !s.Contains("waiting"));
        var follow = await K("logs", "-f", "talker");
        Assert.True(follow.ExitCode == 0, follow.ToString());
        Assert.Equal("line 1\nline 2\nline 3\n", follow.Stdout);
        await WaitFor("talker", ".status.phase", s => s == "Succeeded");
        Assert.Equal("line 3\n", (await K("logs", "talker", "--tail=1")).Stdout);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 3\n$", (await K("logs", "talker", "--tail=1", "--timestamps")).Stdout);
        var state = JsonNode.Parse((await K("get", "pod", "talker", "-o", "jsonpath={.status.containerStatuses[0].state}")).Stdout)!;
        Assert.Equal(0, (int)state["terminated"]!["exitCode"]!);
        Assert.Equal("Completed", (string?)state["terminated"]!["reason"]);
    }

    [Fact]
    public async Task OnFailure_RestartsTheContainer_AndCountsRestarts()
    {
        Assert.Equal(0, (await Apply(Pod("crasher", "echo attempt; exit 3", "OnFailure"))).ExitCode);
        await WaitFor("crasher", ".status.containerStatuses[0].restartCount", s => int.TryParse(s, out var n) && n >= 2);
        var cs = JsonNode.Parse((await K("get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0]}")).Stdout)!;
        Assert.Equal(3, (int)cs["lastState"]!["terminated"]!["exitCode"]!);
        Assert.Equal("Error", (string?)cs["lastState"]!["terminated"]!["reason"]);
        Assert.Equal("Running", (await K("get", "pod", "crasher", "-o", "jsonpath={.status.phase}")).Stdout);
        var previous = await K("logs", "crasher", "--previous");
        Assert.Equal("attempt\n", previous.Stdout);
    }

    [Fact]
    public async Task DeletingThePod_EndsItsProcesses_AndItsTokenStopsAuthenticating()
    {
        var marker = Random.Shared.Next(100_000, 999_999).ToString();
        Assert.Equal(0, (await Apply(Pod("doomed", $"exec sleep {marker}"))).ExitCode);
        await WaitFor("doomed", ".status.containerStatuses[0].started", s => s == "true");
        Assert.NotEmpty(await Pgrep($"^sleep {marker}$"));
        var uid = (await K("get", "pod", "doomed", "-o", "jsonpath={.metadata.uid}")).Stdout;
        // The projected token as the node wrote it for the pod (the same file the container sees at its mountPath).
        var tokenFile = Directory.GetFiles(Path.Combine(S.DataDir, "pods", uid, "volumes"), "token", SearchOption.AllDirectories).First();
        var token = (await File.ReadAllTextAsync(tokenFile)).Trim();
        var before = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/pods", admin: false, extra: ["-H", "Authorization: Bearer " + token]);
        Assert.Equal(403, before.Status); // authenticated as the default service account, which may not list pods

        var del = await K("delete", "pod", "doomed", "--grace-period=1");
        Assert.True(del.ExitCode == 0, del.ToString());
        Assert.Empty(await Pgrep($"^sleep {marker}$"));
        var after = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/pods", admin: false, extra: ["-H", "Authorization: Bearer " + token]);
        Assert.Equal(401, after.Status);
        Assert.True(await WaitGone(tokenFile), "the pod's directory (its volumes) is removed once the pod is gone");
    }

    private static async Task<bool> WaitGone(string path)
    {
        for (var i = 0; i < 50 && File.Exists(path); i++) await Task.Delay(100);
        return !File.Exists(path);
    }

    private static async Task<string> Pgrep(string pattern)
    {
        var r = await Tools.RunAsync("pgrep", ["-f", pattern]);
        return r.Stdout.Trim();
    }

    [Fact]
    public async Task Discovery_ListsTheStreamingSubresources_WithUpstreamVerbs()
    {
        var list = JsonNode.Parse((await K("get", "--raw", "/api/v1")).Stdout)!["resources"]!.AsArray()
            .ToDictionary(r => (string)r!["name"]!, r => r!);
        Assert.Equal("""["create","get"]""", list["pods/exec"]["verbs"]!.ToJsonString());
        Assert.Equal("PodExecOptions", (string?)list["pods/exec"]["kind"]);
        Assert.Equal("""["create","get"]""", list["pods/attach"]["verbs"]!.ToJsonString());
        Assert.Equal("""["get"]""", list["pods/log"]["verbs"]!.ToJsonString());
        Assert.Equal("""["create","get"]""", list["pods/portforward"]["verbs"]!.ToJsonString());
        Assert.Equal("PodPortForwardOptions", (string?)list["pods/portforward"]["kind"]);
        Assert.Equal("""["get","patch","update"]""", list["pods/ephemeralcontainers"]["verbs"]!.ToJsonString());
        Assert.Equal("Pod", (string?)list["pods/ephemeralcontainers"]["kind"]);
        Assert.DoesNotContain("pods/proxy", list.Keys);
    }
}

/// <summary>The default (simulated) runtime refuses the streaming subresources, naming the flag.</summary>
public sealed class SimulatedRuntimeStreamingTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task ExecAndLogs_OnTheSimulatedRuntime_SayWhichFlagRunsContainers()
    {
        var s = f.Server;
        var r = await Tools.KubectlIn(s, Tools.Kubectl132, """
            apiVersion: v1
            kind: Pod
            metadata:
              name: simulated-only
            spec:
              containers:
              - name: c
                image: busybox
                command: ["sleep", "3600"]
            """, "apply", "-f", "-");
        Assert.Equal(0, r.ExitCode);
        for (var i = 0; i < 100; i++)
        {
            if ((await Tools.Kubectl(s, Tools.Kubectl132, "get", "pod", "simulated-only", "-o", "jsonpath={.status.phase}")).Stdout == "Running") break;
            await Task.Delay(100);
        }
        var exec = await Tools.Kubectl(s, Tools.Kubectl132, "exec", "simulated-only", "--", "true");
        Assert.NotEqual(0, exec.ExitCode);
        Assert.Contains("Error from server (BadRequest): pods/exec is not available: the simulated pod runtime runs no containers. Start Portcullis with --pod-runtime=process", exec.Stderr);
        var logs = await Tools.Kubectl(s, Tools.Kubectl132, "logs", "simulated-only");
        Assert.Contains("Error from server (BadRequest): pods/log is not available", logs.Stderr);
        Assert.Contains("--pod-runtime=process", logs.Stderr);
        foreach (var version in new[] { "1.33", "1.30" })
        {
            var pf = await Tools.Kubectl(s, Tools.KubectlVersion(version), "port-forward", "simulated-only", "0:80");
            Assert.NotEqual(0, pf.ExitCode);
            Assert.Contains("pods/portforward is not available: the simulated pod runtime runs no containers. Start Portcullis with --pod-runtime=process", pf.Stderr);
        }
    }
}

/// <summary>scripts/seed-walkthrough.sh: the seed, verbatim, with /usr/bin/kubectl and curl on the process runtime.</summary>
public sealed class SeedWalkthroughScriptTests
{
    private static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scripts", "seed-walkthrough.sh");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("scripts/seed-walkthrough.sh not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task SeedWalkthrough_RunsVerbatim_OnTheProcessRuntime()
    {
        var r = await Tools.RunAsync("bash", [Script()], env: new Dictionary<string, string>
        {
            ["PORTCULLIS_DLL"] = ServerProcess.ServerExecutable ?? ServerProcess.ServerDll,
            ["KUBECTL"] = Tools.Kubectl132,
        }, timeout: TimeSpan.FromMinutes(3));
        Assert.True(r.ExitCode == 0, r.ToString());
        if (Environment.UserName == "root")
            Assert.Contains("OK: the seed walkthrough ran verbatim", r.Stdout);
        else
            // Without root there are no per-pod mounts: the script checks in-cluster access and says so.
            Assert.Contains("OK (in-cluster variant: not root)", r.Stdout);
    }
}
