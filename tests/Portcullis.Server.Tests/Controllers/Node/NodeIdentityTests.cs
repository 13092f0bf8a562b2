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
}
