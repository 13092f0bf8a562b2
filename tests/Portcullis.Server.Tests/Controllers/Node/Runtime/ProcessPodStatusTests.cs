using Portcullis.Server.Controllers.Node.Runtime;

namespace Portcullis.Server.Tests.Controllers.Node.Runtime;

public sealed class ProcessPodStatusTests
{
    private static readonly DateTimeOffset T = DateTimeOffset.UnixEpoch;

    private static ContainerState Running() => new("c", false) { WaitingReason = null, RunningSince = T };
    private static ContainerState Exited(int code, bool done) =>
        new("c", false) { WaitingReason = null, RunningSince = T, Terminated = new Termination(code, Termination.ReasonFor(code), T, T, "id"), Done = done };
    private static ContainerState BackingOff() =>
        new("c", false) { WaitingReason = "CrashLoopBackOff", RunningSince = T, Terminated = new Termination(1, "Error", T, T, "id") };

    [Fact]
    public void Phase_FollowsTheKubelet()
    {
        Assert.Equal("Pending", ProcessPodStatus.Phase("Always", [], [new ContainerState("c", false)]));
        Assert.Equal("Running", ProcessPodStatus.Phase("Always", [], [Running()]));
        Assert.Equal("Succeeded", ProcessPodStatus.Phase("Never", [], [Exited(0, true)]));
        Assert.Equal("Failed", ProcessPodStatus.Phase("Never", [], [Exited(2, true)]));
        Assert.Equal("Succeeded", ProcessPodStatus.Phase("OnFailure", [], [Exited(0, true)]));
        Assert.Equal("Running", ProcessPodStatus.Phase("OnFailure", [], [BackingOff()]));
        Assert.Equal("Running", ProcessPodStatus.Phase("Always", [], [BackingOff()]));
        var init = new ContainerState("i", true) { WaitingReason = null, RunningSince = T };
        Assert.Equal("Pending", ProcessPodStatus.Phase("Always", [init], [new ContainerState("c", false)]));
        var failedInit = new ContainerState("i", true) { WaitingReason = null, Terminated = new Termination(1, "Error", T, T, "id"), Done = true };
        Assert.Equal("Failed", ProcessPodStatus.Phase("Never", [failedInit], [new ContainerState("c", false)]));
    }

    [Fact]
    public void States_ReportWaitingWithTheLastTermination()
    {
        var c = BackingOff();
        Assert.Equal("CrashLoopBackOff", c.StateJson()["waiting"]!["reason"]!.GetValue<string>());
        Assert.Equal(1, c.LastStateJson()["terminated"]!["exitCode"]!.GetValue<int>());
        Assert.Equal("Completed", Exited(0, true).StateJson()["terminated"]!["reason"]!.GetValue<string>());
    }
}
