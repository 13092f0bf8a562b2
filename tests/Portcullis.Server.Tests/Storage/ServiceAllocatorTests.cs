using System.Text.Json.Nodes;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Tests.Storage;

public class ServiceAllocatorTests
{
    private static JsonObject Lb(string etp, long nodePort = 0) => JsonNode.Parse($$$"""
        {"metadata":{"name":"s","namespace":"default"},
         "spec":{"type":"LoadBalancer","externalTrafficPolicy":"{{{etp}}}","ports":[{"protocol":"TCP","port":80,"nodePort":{{{nodePort}}}}]}}
        """)!.AsObject();

    // Audit (issue 13): upstream's service storage allocates a health-check node port (allocHealthCheckNodePort)
    // before validation for a LoadBalancer with externalTrafficPolicy Local; it is never left at 0.
    [Fact]
    public async Task LocalLoadBalancer_GetsAHealthCheckNodePort_OutsideUsedNodePorts()
    {
        var existing = Lb("Local", 30000);
        existing["spec"]!["healthCheckNodePort"] = 30001;
        var allocator = new ServiceAllocator(_ => Task.FromResult<IEnumerable<JsonObject>>([existing]));
        var svc = Lb("Local");
        await allocator.AllocateAsync(svc, CancellationToken.None);
        Assert.Equal(30002, (long)svc["spec"]!["ports"]![0]!["nodePort"]!);
        Assert.Equal(30003, (long)svc["spec"]!["healthCheckNodePort"]!);

        var cluster = Lb("Cluster");
        await allocator.AllocateAsync(cluster, CancellationToken.None);
        Assert.Null(cluster["spec"]!["healthCheckNodePort"]);
    }
}
