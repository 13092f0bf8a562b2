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

    [Theory]
    [InlineData(1, 0, new[] { "10.244.0.0/14" })]
    [InlineData(2, 0, new[] { "10.244.0.0/15", "10.246.0.0/15" })]
    [InlineData(3, 0, new[] { "10.244.0.0/16", "10.245.0.0/16", "10.246.0.0/16" })]
    [InlineData(3, 24, new[] { "10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24" })]
    public void SeveralNodes_TakeTheNextSubnets_NamedAfterTheFirst(int count, int mask, string[] cidrs)
    {
        var nodes = NodeIdentity.CreateAll("Node-A", "192.0.2.10", "10.244.0.0/14", mask, 110, count, []);
        Assert.Equal(cidrs, nodes.Select(n => n.PodCidr));
        Assert.Equal(new[] { "node-a", "node-a-2", "node-a-3" }.Take(count), nodes.Select(n => n.Name));
    }

    [Fact]
    public void TooManyNodesForTheRange_OrNoNode_AreErrors()
    {
        Assert.Throws<ArgumentException>(() => NodeIdentity.CreateAll("n", "192.0.2.10", "10.244.0.0/24", 0, 110, 100, []));
        Assert.Throws<ArgumentException>(() => NodeIdentity.CreateAll("n", "192.0.2.10", "10.244.0.0/16", 24, 110, 0, []));
        Assert.Throws<ArgumentException>(() => NodeIdentity.CreateAll("n", "192.0.2.10", "10.244.0.0/16", 17, 110, 3, []));
    }

    [Fact]
    public void NodeManifests_AddNodes_OrLayOverAGeneratedOne()
    {
        var manifests = NodeManifests.Parse("""
            apiVersion: v1
            kind: Node
            metadata:
              name: gpu-1
              labels: {accelerator: nvidia, topology.kubernetes.io/zone: z2}
              annotations: {kwok.x-k8s.io/node: fake}
            spec:
              taints: [{key: nvidia.com/gpu, value: "true", effect: NoSchedule}]
            status:
              allocatable: {cpu: "8", memory: 32Gi, pods: "20", nvidia.com/gpu: "4"}
            ---
            {"apiVersion":"v1","kind":"List","items":[{"kind":"Node","metadata":{"name":"n","labels":{"topology.kubernetes.io/zone":"z1"}},"spec":{"podCIDR":"10.99.0.0/24"}}]}
            """, "nodes.yaml");
        var nodes = NodeIdentity.CreateAll("n", "192.0.2.10", "10.244.0.0/16", 0, 110, 2, manifests);
        Assert.Equal(["n", "n-2", "gpu-1"], nodes.Select(x => x.Name));
        Assert.Equal(["10.99.0.0/24", "10.244.64.0/18", "10.244.128.0/18"], nodes.Select(x => x.PodCidr));
        Assert.Equal("z1", nodes[0].Labels()["topology.kubernetes.io/zone"]!.GetValue<string>());
        var gpu = nodes[2].ToNode(DateTimeOffset.UnixEpoch, "v1.33.0");
        Assert.Equal(20, nodes[2].MaxPods);
        Assert.Equal("nvidia", gpu["metadata"]!["labels"]!["accelerator"]!.GetValue<string>());
        Assert.Equal("gpu-1", gpu["metadata"]!["labels"]!["kubernetes.io/hostname"]!.GetValue<string>());
        Assert.Equal("fake", gpu["metadata"]!["annotations"]!["kwok.x-k8s.io/node"]!.GetValue<string>());
        Assert.Equal("nvidia.com/gpu", gpu["spec"]!["taints"]![0]!["key"]!.GetValue<string>());
        foreach (var list in new[] { "allocatable", "capacity" })
        {
            Assert.Equal("8", gpu["status"]![list]!["cpu"]!.GetValue<string>());
            Assert.Equal("4", gpu["status"]![list]!["nvidia.com/gpu"]!.GetValue<string>());
            Assert.Equal("20", gpu["status"]![list]!["pods"]!.GetValue<string>());
        }
        Assert.Throws<ArgumentException>(() => NodeManifests.Parse("kind: Pod\nmetadata: {name: x}\n", "f"));
        Assert.Throws<ArgumentException>(() => NodeManifests.Parse("kind: Node\nmetadata: {}\n", "f"));
    }
}
