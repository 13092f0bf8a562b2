using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Webhooks;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Tests.Admission.Webhooks;

/// <summary>A webhook Service resolved to an address to dial: its Endpoints' ready addresses, pods' on the loopback.</summary>
public class ServiceEndpointResolverTests
{
    private static JsonObject J(string s) => (JsonObject)JsonNode.Parse(s)!;

    private static ServiceEndpointResolver Resolver(string endpointIp) => new(
        (plural, ns, name, _) => Task.FromResult<JsonObject?>(plural switch
        {
            "services" when name == "hook" => J("""{"spec":{"type":"ClusterIP","ports":[{"name":"https","port":443,"targetPort":8443}]}}"""),
            "endpoints" when name == "hook" => J($$"""{"subsets":[{"addresses":[{"ip":"{{endpointIp}}"}],"ports":[{"name":"https","port":8443}]}]}"""),
            _ => null,
        }),
        (_, _, _) => Task.FromResult<IReadOnlyList<JsonObject>>([]),
        Ipv4Cidr.Parse("10.244.0.0/14"));

    [Fact]
    public async Task APodsAddressIsDialledOnTheLoopback() =>
        Assert.Equal(("127.0.0.1", 8443), await Resolver("10.244.0.7").ResolveAsync("default", "hook", 443, default));

    [Fact]
    public async Task OtherAddressesAreDialledAsTheyAre() =>
        Assert.Equal(("192.168.5.20", 8443), await Resolver("192.168.5.20").ResolveAsync("default", "hook", 443, default));

    [Fact]
    public async Task AMissingServiceOrPortIsUpstreamsError()
    {
        var missing = await Assert.ThrowsAsync<ApiException>(() => Resolver("10.244.0.7").ResolveAsync("default", "other", 443, default));
        Assert.Equal(404, missing.Code);
        var port = await Assert.ThrowsAsync<ApiException>(() => Resolver("10.244.0.7").ResolveAsync("default", "hook", 444, default));
        Assert.Equal("no service port 444 found for service \"hook\"", port.Message);
    }
}
