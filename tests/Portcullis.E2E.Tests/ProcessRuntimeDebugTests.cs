namespace Portcullis.E2E.Tests;

/// <summary>
/// <c>kubectl debug</c> on the process runtime, with the real kubectl: an ephemeral container added through
/// pods/ephemeralcontainers, started in the target container's PID namespace, reported in
/// <c>status.ephemeralContainerStatuses</c> and attached to; upstream's validation of that subresource;
/// <c>--copy-to</c>.
/// </summary>
public sealed partial class ProcessRuntimeTests
{
    [Theory]
    [InlineData("1.33")]
    [InlineData("1.31")]
    public async Task Debug_AddsAnEphemeralContainer_InTheTargetsPidNamespace(string version)
    {
        var kubectl = Tools.KubectlVersion(version);
        var pod = "debug-target-" + version.Replace(".", "");
        Assert.Equal(0, (await Apply(Pod(pod, "exec sleep 3600"))).ExitCode);
        await WaitFor(pod, ".status.containerStatuses[0].started", s => s == "true");
        var r = await Tools.Kubectl(S, kubectl, "debug", pod, "--image=busybox", "--target=main", "--container=dbg", "--",
            "sh", "-c", "ps -e -o pid=,args=; echo debug-done; exec sleep 3600");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Targeting container \"main\". If you don't see processes from this container it may be because the container runtime doesn't support this feature.", r.Stdout + r.Stderr);
        Assert.Equal("dbg", await WaitFor(pod, ".spec.ephemeralContainers[0].name", s => s.Length > 0));
        Assert.Equal("main", (await K("get", "pod", pod, "-o", "jsonpath={.spec.ephemeralContainers[0].targetContainerName}")).Stdout);
        await WaitFor(pod, ".status.ephemeralContainerStatuses[0].state.running.startedAt", s => s.Length > 0);
        Assert.Equal("false", (await K("get", "pod", pod, "-o", "jsonpath={.status.ephemeralContainerStatuses[0].ready}")).Stdout);
        // The target's process is PID 1 of the namespace the debug container joined.
        string logs = "";
        for (var i = 0; i < 300 && !logs.Contains("debug-done"); i++, await Task.Delay(100)) logs = (await K("logs", pod, "-c", "dbg")).Stdout;
        Assert.Contains("debug-done", logs);
        Assert.Contains(logs.Split('\n'), l => l.Trim() == "1 sleep 3600");
        // The pod is still what it was: running, ready, its container untouched.
        Assert.Equal("Running", (await K("get", "pod", pod, "-o", "jsonpath={.status.phase}")).Stdout);
        Assert.Equal("true", (await K("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].ready}")).Stdout);
        // exec reaches the ephemeral container too.
        var exec = await K("exec", pod, "-c", "dbg", "--", "sh", "-c", "echo in-dbg");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("in-dbg\n", exec.Stdout);
    }

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.31")]
    public async Task DebugInteractive_AttachesToTheNewContainer(string version)
    {
        var pod = "debug-attach-" + version.Replace(".", "");
        Assert.Equal(0, (await Apply(Pod(pod, "exec sleep 3600"))).ExitCode);
        await WaitFor(pod, ".status.containerStatuses[0].started", s => s == "true");
        // kubectl debug sets stdin but not stdinOnce: the session lasts while the client's stdin is open.
        await using (var session = Interactive.Start(S, Tools.KubectlVersion(version), "debug", "-i", pod, "--image=busybox", "--target=main", "--container=shell", "--", "sh"))
        {
            session.Write("echo hello-from-debug\n");
            await session.WaitForLine(l => l == "hello-from-debug");
            session.Write("ps -e -o pid=,args=\n");
            await session.WaitForLine(l => l.Trim() == "1 sleep 3600");
            // The shell exits: the container ends, and the session with it, successfully.
            session.Write("exit 0\n");
            Assert.True(await session.WaitForExit() == 0, session.ToString());
            Assert.Contains("If you don't see a command prompt, try pressing enter.", session.ToString());
        }
        await WaitFor(pod, ".status.ephemeralContainerStatuses[0].state.terminated.reason", s => s == "Completed");
        // Never restarted, whatever the pod's restartPolicy (Always here).
        Assert.Equal("0", (await K("get", "pod", pod, "-o", "jsonpath={.status.ephemeralContainerStatuses[0].restartCount}")).Stdout);
        Assert.Equal("Running", (await K("get", "pod", pod, "-o", "jsonpath={.status.phase}")).Stdout);
    }

    [Fact]
    public async Task EphemeralContainers_ValidatedAsUpstream()
    {
        Assert.Equal(0, (await Apply(Pod("debug-rules", "exec sleep 3600"))).ExitCode);
        await WaitFor("debug-rules", ".status.containerStatuses[0].started", s => s == "true");
        async Task<CommandResult> Patch(string json) =>
            await K("patch", "pod", "debug-rules", "--subresource=ephemeralcontainers", "--type=strategic", "-p", json);
        // Ports are not allowed on an ephemeral container.
        var ports = await Patch("""{"spec":{"ephemeralContainers":[{"name":"p","image":"busybox","command":["true"],"ports":[{"containerPort":80}]}]}}""");
        Assert.NotEqual(0, ports.ExitCode);
        Assert.Contains("].ports: Forbidden: cannot be set for an Ephemeral Container", ports.Stderr);
        // A name already taken by a container.
        var dup = await Patch("""{"spec":{"ephemeralContainers":[{"name":"main","image":"busybox","command":["true"]}]}}""");
        Assert.NotEqual(0, dup.ExitCode);
        Assert.Contains("].name: Duplicate value: \"main\"", dup.Stderr);
        // An unknown target.
        var target = await Patch("""{"spec":{"ephemeralContainers":[{"name":"t","image":"busybox","command":["true"],"targetContainerName":"nope"}]}}""");
        Assert.NotEqual(0, target.ExitCode);
        Assert.Contains("].targetContainerName: Not found: \"nope\"", target.Stderr);
        // Added once; then it may be neither changed nor removed.
        Assert.Equal(0, (await Patch("""{"spec":{"ephemeralContainers":[{"name":"ok","image":"busybox","command":["sleep","3600"]}]}}""")).ExitCode);
        var changed = await K("patch", "pod", "debug-rules", "--subresource=ephemeralcontainers", "--type=json",
            "-p", """[{"op":"replace","path":"/spec/ephemeralContainers/0/image","value":"alpine"}]""");
        Assert.NotEqual(0, changed.ExitCode);
        Assert.Contains("The Pod \"debug-rules\" is invalid: spec.ephemeralContainers.ok: Forbidden: existing ephemeral containers \"ok\" may not be changed", changed.Stderr);
        var removed = await K("patch", "pod", "debug-rules", "--subresource=ephemeralcontainers", "--type=json",
            "-p", """[{"op":"remove","path":"/spec/ephemeralContainers/0"}]""");
        Assert.NotEqual(0, removed.ExitCode);
        Assert.Contains("spec.ephemeralContainers: Forbidden: existing ephemeral containers \"ok\" may not be removed", removed.Stderr);
        // Through the subresource nothing else changes; through the pod itself ephemeral containers cannot be added.
        Assert.Equal(0, (await K("patch", "pod", "debug-rules", "--subresource=ephemeralcontainers", "--type=merge", "-p", """{"metadata":{"labels":{"x":"y"}}}""")).ExitCode);
        Assert.Equal("", (await K("get", "pod", "debug-rules", "-o", "jsonpath={.metadata.labels.x}")).Stdout);
        await WaitFor("debug-rules", ".status.ephemeralContainerStatuses[0].state.running.startedAt", s => s.Length > 0);
    }

    [Fact]
    public async Task DebugCopyTo_CreatesACopyWithTheDebugContainer()
    {
        Assert.Equal(0, (await Apply(Pod("debug-orig", "exec sleep 3600"))).ExitCode);
        await WaitFor("debug-orig", ".status.containerStatuses[0].started", s => s == "true");
        var r = await K("debug", "debug-orig", "--copy-to=debug-copy", "--image=busybox", "--container=dbg", "--", "sh", "-c", "echo copied; exec sleep 3600");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("main dbg", (await K("get", "pod", "debug-copy", "-o", "jsonpath={.spec.containers[*].name}")).Stdout);
        await WaitFor("debug-copy", ".status.containerStatuses[1].started", s => s == "true");
        string logs = "";
        for (var i = 0; i < 300 && logs != "copied\n"; i++, await Task.Delay(100)) logs = (await K("logs", "debug-copy", "-c", "dbg")).Stdout;
        Assert.Equal("copied\n", logs);
    }
}
