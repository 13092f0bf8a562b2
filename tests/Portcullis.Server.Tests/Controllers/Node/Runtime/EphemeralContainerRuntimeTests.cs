using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Node.Runtime;

namespace Portcullis.Server.Tests.Controllers.Node.Runtime;

/// <summary>What the process runtime does differently for ephemeral containers: the launch that joins a PID namespace, and their status.</summary>
public sealed class EphemeralContainerRuntimeTests
{
    private static LaunchSpec Spec(int? join) =>
        new(["sh", "-c", "ps"], [], "/", "pod", null, [], false, false, true) { JoinPidNamespaceOf = join };

    [Fact]
    public void Launch_WithATarget_EntersItsPidNamespace_AndMountsItsProc()
    {
        var argv = ContainerProcess.Argv(Spec(4242));
        Assert.Equal(["nsenter", "--target", "4242", "--pid", "--", "unshare", "--mount", "--uts", "--", "/bin/sh", "-c"], argv.Take(11));
        var script = argv[11];
        Assert.DoesNotContain("unshare --pid", script); // no PID namespace of its own
        Assert.EndsWith("exec /bin/sh -c \"$s3\" sh \"$@\"", script);
        Assert.Equal(["sh", "-c", "ps"], argv.TakeLast(3));
    }

    [Fact]
    public void Launch_WithoutATarget_GetsItsOwnPidNamespace()
    {
        var argv = ContainerProcess.Argv(Spec(null));
        Assert.Equal("unshare", argv[0]);
        Assert.Contains("exec unshare --pid", argv[6]);
    }

    [Fact]
    public void Status_IsNeverReady_AndHasNoStartedFlag()
    {
        var pod = JsonNode.Parse("""
            {"metadata":{"name":"p","uid":"u"},"spec":{"containers":[{"name":"c","image":"busybox"}],
             "ephemeralContainers":[{"name":"dbg","image":"busybox","targetContainerName":"c"}]},"status":{"phase":"Running"}}
            """)!.AsObject();
        var st = new ContainerState("dbg", false) { Ephemeral = true, WaitingReason = null, RunningSince = DateTimeOffset.UnixEpoch, ContainerId = "containerd://x" };
        ProcessPodStatus.WriteEphemeral(pod, [st]);
        var cs = pod["status"]!["ephemeralContainerStatuses"]![0]!.AsObject();
        Assert.Equal("dbg", (string?)cs["name"]);
        Assert.False((bool)cs["ready"]!);
        Assert.False(cs.ContainsKey("started"));
        Assert.NotNull(cs["state"]!["running"]);
        Assert.Equal("docker.io/library/busybox:latest", (string?)cs["image"]);
    }
}
