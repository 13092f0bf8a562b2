using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// SetDefaults_Service and the endpoint kinds' port defaults. Cluster IPs, IP families and the
/// IP family policy are not defaults upstream: the service registry assigns them.
/// </summary>
internal static class ServiceDefaults
{
    // v1.DefaultClientIPServiceAffinitySeconds: three hours.
    private const int ClientIpAffinitySeconds = 10800;

    public static void Service(JsonObject svc)
    {
        if (J.Ensure(svc, "spec") is not { } spec) return;

        J.DefaultString(spec, "sessionAffinity", "None");
        switch (J.Str(spec, "sessionAffinity"))
        {
            case "None":
                spec.Remove("sessionAffinityConfig");
                break;
            case "ClientIP":
                var clientIp = J.Obj(J.Obj(spec, "sessionAffinityConfig"), "clientIP");
                if (clientIp is null || J.IsNull(clientIp, "timeoutSeconds"))
                    spec["sessionAffinityConfig"] = new JsonObject
                    {
                        ["clientIP"] = new JsonObject { ["timeoutSeconds"] = J.Num(ClientIpAffinitySeconds) },
                    };
                break;
        }

        J.DefaultString(spec, "type", "ClusterIP");
        var type = J.Str(spec, "type");

        foreach (var port in J.Items(spec, "ports"))
        {
            J.DefaultString(port, "protocol", "TCP");
            if (J.IsZeroIntOrString(port, "targetPort"))
                port["targetPort"] = J.Num(J.Int(port, "port") ?? 0);
        }

        var externallyAccessible = type is "LoadBalancer" or "NodePort"
            || (type == "ClusterIP" && !J.IsEmptyCollection(spec, "externalIPs"));
        if (externallyAccessible) J.DefaultString(spec, "externalTrafficPolicy", "Cluster");

        if (type is "NodePort" or "LoadBalancer" or "ClusterIP")
            J.DefaultPointer(spec, "internalTrafficPolicy", "Cluster");

        if (type == "LoadBalancer")
        {
            J.DefaultPointer(spec, "allocateLoadBalancerNodePorts", true);
            // LoadBalancerIPMode is GA in 1.33: an ingress point with an IP is a VIP unless it says otherwise.
            foreach (var ingress in J.Items(J.Obj(J.Obj(svc, "status"), "loadBalancer"), "ingress"))
                if (!string.IsNullOrEmpty(J.Str(ingress, "ip")))
                    J.DefaultPointer(ingress, "ipMode", "VIP");
        }
    }

    /// <summary>SetDefaults_Endpoints: every subset port's protocol is TCP unless set.</summary>
    public static void Endpoints(JsonObject endpoints)
    {
        foreach (var subset in J.Items(endpoints, "subsets"))
            foreach (var port in J.Items(subset, "ports"))
                J.DefaultString(port, "protocol", "TCP");
    }

    /// <summary>discovery/v1 SetDefaults_EndpointPort: name "" and protocol TCP unless set.</summary>
    public static void EndpointSlice(JsonObject slice)
    {
        foreach (var port in J.Items(slice, "ports"))
        {
            J.DefaultPointer(port, "name", "");
            J.DefaultPointer(port, "protocol", "TCP");
        }
    }
}
