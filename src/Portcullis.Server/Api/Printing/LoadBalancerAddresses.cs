using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>The addresses of a load balancer status, as the Service and Ingress printers show them.</summary>
internal static class LoadBalancerAddresses
{
    /// <summary>The distinct ingress IPs (or hostnames where no IP), sorted.</summary>
    public static SortedSet<string> Of(JsonNode? ingress)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var i in Objects(ingress))
        {
            if (Str(i["ip"]) is { Length: > 0 } ip) set.Add(ip);
            else if (Str(i["hostname"]) is { Length: > 0 } host) set.Add(host);
        }
        return set;
    }
}
