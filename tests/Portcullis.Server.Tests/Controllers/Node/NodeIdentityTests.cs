using Portcullis.Server.Controllers.Node;

namespace Portcullis.Server.Tests.Controllers.Node;

public sealed class NodeIdentityTests
{
    [Fact]
    public void ContainerRuntimeVersion_NamesTheRuntime_InTheKubeletsNameSlashSlashVersionForm()
    {
        var node = NodeIdentity.Create("n1", "192.0.2.10", "10.244.0.0/16");
        var simulated = node.ToNode(DateTimeOffset.UnixEpoch, "v1.33.0")["status"]!["nodeInfo"]!["containerRuntimeVersion"]!.GetValue<string>();
        Assert.Matches(@"^portcullis-simulated://\d+\.\d+\.\d+", simulated);
        var process = (node with { ContainerRuntimeVersion = NodeIdentity.RuntimeVersion("process") })
            .ToNode(DateTimeOffset.UnixEpoch, "v1.33.0")["status"]!["nodeInfo"]!["containerRuntimeVersion"]!.GetValue<string>();
        Assert.Equal(simulated.Replace("portcullis-simulated://", "portcullis-process://"), process);
    }

    [Theory]
    [InlineData("10.244.0.0/16", 0, "10.244.0.0/16")]  // no mask size: the node takes the whole cluster range
    [InlineData("10.244.0.0/14", 0, "10.244.0.0/14")]
    [InlineData("10.244.0.0/16", 24, "10.244.0.0/24")] // upstream's per-node shape
    public void PodCidr_IsTheFirstSubnetOfTheMaskSize(string cluster, int mask, string expected) =>
        Assert.Equal(expected, NodeIdentity.Create("n1", "192.0.2.10", cluster, mask).PodCidr);
}
