using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>Services and Endpoints (ValidateService, ValidateServiceUpdate, ValidateEndpoints).</summary>
internal static class ServiceValidation
{
    private static readonly string[] Protocols = ["SCTP", "TCP", "UDP"];
    private static readonly string[] Types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    private const long KubeletPort = 10250;

    /// <summary>
    /// The cluster IPs as upstream's strategy leaves them before validating: clusterIPs follows clusterIP
    /// (NormalizeClusterIPs), and an update that leaves clusterIP empty keeps the allocated one.
    /// </summary>
    private static List<string> ClusterIPs(JsonObject spec, JsonObject? oldSpec, out string clusterIP)
    {
        clusterIP = J.S(spec, "clusterIP");
        var ips = J.Strs(spec, "clusterIPs");
        if (oldSpec is not null && NeedsClusterIP(spec) && NeedsClusterIP(oldSpec))
        {
            if (clusterIP.Length == 0) clusterIP = J.S(oldSpec, "clusterIP");
            if (ips.Count == 0) ips = J.Strs(oldSpec, "clusterIPs");
        }
        if (clusterIP.Length > 0 && ips.Count == 0) return [clusterIP];
        if (oldSpec is not null && clusterIP.Length > 0 && ips.Count > 0 && J.S(oldSpec, "clusterIP") != clusterIP
            && ips.SequenceEqual(J.Strs(oldSpec, "clusterIPs")))
            ips[0] = clusterIP;
        return ips;
    }

    private static bool NeedsClusterIP(JsonObject spec) => J.S(spec, "type") != "ExternalName";

    private static bool Headless(List<string> ips) => ips.Count == 1 && ips[0] == "None";

    public static List<FieldError> Service(JsonObject svc, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, svc);
        var spec = J.O(svc, "spec") ?? new JsonObject();
        var oldSpec = old is null ? null : J.O(old, "spec") ?? new JsonObject();
        var ips = ClusterIPs(spec, oldSpec, out var clusterIP);
        if (oldSpec is not null)
        {
            var oldIps = ClusterIPs(oldSpec, null, out _);
            UpgradeDowngradeClusterIPs(errs, spec, oldSpec, ips, oldIps);
            UpgradeDowngradeFamilies(errs, spec, oldSpec, ips, oldIps);
            if (J.S(spec, "type") == "LoadBalancer" && J.S(oldSpec, "type") == "LoadBalancer" && J.SN(spec, "loadBalancerClass") != J.SN(oldSpec, "loadBalancerClass"))
                errs.Add(J.SN(spec, "loadBalancerClass") is { } lbc ? Err.Invalid("spec.loadBalancerClass", lbc, "may not change once set")
                    : Err.Invalid("spec.loadBalancerClass", "null", "may not change once set"));
            // validateLoadBalancerClassField(old, new) also checks the value, and ValidateService checks it again.
            LoadBalancerClass(errs, spec, J.S(spec, "type"));
            if (NeedsHealthCheck(oldSpec) && NeedsHealthCheck(spec) && (J.L(spec, "healthCheckNodePort") ?? 0) != (J.L(oldSpec, "healthCheckNodePort") ?? 0)
                && J.L(spec, "healthCheckNodePort") is not (null or 0))
                errs.Add(Err.Forbidden("spec.healthCheckNodePort", "field is immutable"));
        }
        Validate(errs, svc, spec, ips, clusterIP);
        return errs;
    }

    private static void Validate(List<FieldError> errs, JsonObject svc, JsonObject spec, List<string> ips, string clusterIP)
    {
        var ann = J.Map(J.O(svc, "metadata"), "annotations");
        const string hintsKey = "service.kubernetes.io/topology-aware-hints", modeKey = "service.kubernetes.io/topology-mode";
        if (ann is not null && ann.TryGetValue(hintsKey, out var hints) && ann.TryGetValue(modeKey, out var mode) && hints != mode)
            errs.Add(Err.Invalid(P.Key("metadata.annotations", modeKey), mode, $"must match annotations[{hintsKey}] when both are specified"));
        var type = J.S(spec, "type");
        var headless = Headless(ips);
        var ports = J.Items(spec, "ports");
        if (ports.Count == 0 && !headless && type != "ExternalName") errs.Add(Err.Required("spec.ports"));
        switch (type)
        {
            case "LoadBalancer":
                // Upstream refuses the kubelet's port (ports.KubeletPort) on load balancers.
                foreach (var (i, port) in ports)
                    if (J.L(port, "port") == KubeletPort)
                        errs.Add(Err.Invalid(P.Index("spec.ports", i), KubeletPort, $"may not expose port {KubeletPort} externally since it is used by kubelet"));
                if (headless) errs.Add(Err.Invalid("spec.clusterIPs[0]", ips[0], "may not be set to 'None' for LoadBalancer services"));
                break;
            case "NodePort" when headless:
                errs.Add(Err.Invalid("spec.clusterIPs[0]", ips[0], "may not be set to 'None' for NodePort services"));
                break;
            case "ExternalName":
                if (ips.Count > 0) errs.Add(Err.Forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
                if (J.Count(spec, "ipFamilies") > 0) errs.Add(Err.Forbidden("spec.ipFamilies", "may not be set for ExternalName services"));
                if (J.Has(spec, "ipFamilyPolicy")) errs.Add(Err.Forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"));
                var cname = J.S(spec, "externalName");
                if (cname.EndsWith('.')) cname = cname[..^1];
                if (cname.Length > 0) Formats.Dns1123Subdomain(errs, "spec.externalName", cname);
                else errs.Add(Err.Required("spec.externalName"));
                break;
        }
        var names = new HashSet<string>();
        foreach (var (i, port) in ports) Port(errs, port, ports.Count > 1, names, P.Index("spec.ports", i));
        if (J.O(spec, "selector") is not null) Formats.Labels(errs, "spec.selector", J.Map(spec, "selector"));
        var affinity = J.S(spec, "sessionAffinity");
        if (affinity.Length == 0) errs.Add(Err.Required("spec.sessionAffinity"));
        else if (affinity is not ("ClientIP" or "None")) errs.Add(Err.NotSupported("spec.sessionAffinity", affinity, "ClientIP", "None"));
        if (affinity == "ClientIP") ClientIPConfig(errs, J.O(spec, "sessionAffinityConfig"));
        else if (affinity == "None" && J.Has(spec, "sessionAffinityConfig"))
            errs.Add(Err.Forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"));
        ClusterIPsRelated(errs, spec, ips, clusterIP);
        var externalIPs = J.Strs(spec, "externalIPs");
        for (var i = 0; i < externalIPs.Count; i++)
        {
            var ipErrs = Formats.ValidIP(P.Index("spec.externalIPs", i), externalIPs[i]);
            if (ipErrs.Count > 0) errs.AddRange(ipErrs);
            else NonSpecialIP(errs, externalIPs[i], P.Index("spec.externalIPs", i));
        }
        if (type.Length == 0) errs.Add(Err.Required("spec.type"));
        else if (!Types.Contains(type)) errs.Add(Err.NotSupported("spec.type", type, Types));
        if (type == "ClusterIP")
            foreach (var (i, port) in ports)
                if ((J.L(port, "nodePort") ?? 0) != 0) errs.Add(Err.Forbidden($"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"));
        var nodePorts = new HashSet<string>();
        foreach (var (i, port) in ports)
        {
            var np = J.L(port, "nodePort") ?? 0;
            if (np != 0 && !nodePorts.Add(J.S(port, "protocol") + "/" + np)) errs.Add(Err.Duplicate($"spec.ports[{i}].nodePort", np.ToString()) with { ValueIsString = false });
        }
        var seen = new HashSet<string>();
        foreach (var (i, port) in ports)
        {
            var key = new JsonObject { ["protocol"] = J.S(port, "protocol"), ["port"] = J.L(port, "port") ?? 0 };
            if (!seen.Add(key.ToJsonString())) errs.Add(Err.DuplicateRaw(P.Index("spec.ports", i), Go.Value(key, "core/v1.ServicePort")));
        }
        var ranges = J.Strs(spec, "loadBalancerSourceRanges");
        if (ranges.Count > 0)
        {
            const string rp = "spec.LoadBalancerSourceRanges";
            if (type != "LoadBalancer") errs.Add(Err.Forbidden(rp, "may only be used when `type` is 'LoadBalancer'"));
            for (var i = 0; i < ranges.Count; i++) errs.AddRange(Formats.ValidCIDR(P.Index(rp, i), ranges[i].Trim()));
        }
        else if (ann is not null && ann.TryGetValue("service.beta.kubernetes.io/load-balancer-source-ranges", out var lbsr))
        {
            var ap = P.Key("metadata.annotations", "service.beta.kubernetes.io/load-balancer-source-ranges");
            if (type != "LoadBalancer") errs.Add(Err.Forbidden(ap, "may only be used when `type` is 'LoadBalancer'"));
            if (lbsr.Trim() is { Length: > 0 } v)
                foreach (var cidr in v.Split(',')) errs.AddRange(Formats.ValidCIDR(ap, cidr.Trim()));
        }
        if (J.Has(spec, "allocateLoadBalancerNodePorts") && type != "LoadBalancer")
            errs.Add(Err.Forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"));
        if (type == "LoadBalancer" && !J.Has(spec, "allocateLoadBalancerNodePorts")) errs.Add(Err.Required("allocateLoadBalancerNodePorts"));
        LoadBalancerClass(errs, spec, type);
        TrafficPolicies(errs, spec, type);
    }

    private static void LoadBalancerClass(List<FieldError> errs, JsonObject spec, string type)
    {
        if (type == "LoadBalancer") { if (J.SN(spec, "loadBalancerClass") is { } lbc) Formats.QualifiedName(errs, "spec.loadBalancerClass", lbc); }
        else if (J.Has(spec, "loadBalancerClass")) errs.Add(Err.Forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
    }

    private static void Port(List<FieldError> errs, JsonObject sp, bool requireName, HashSet<string> names, string path)
    {
        var name = J.S(sp, "name");
        if (requireName && name.Length == 0) errs.Add(Err.Required(P.Child(path, "name")));
        else if (name.Length != 0)
        {
            Formats.Dns1123Label(errs, P.Child(path, "name"), name);
            if (!names.Add(name)) errs.Add(Err.Duplicate(P.Child(path, "name"), name));
        }
        var port = J.L(sp, "port") ?? 0;
        foreach (var m in Formats.PortNum(port)) errs.Add(Err.Invalid(P.Child(path, "port"), port, m));
        var proto = J.S(sp, "protocol");
        if (proto.Length == 0) errs.Add(Err.Required(P.Child(path, "protocol")));
        else if (!Protocols.Contains(proto)) errs.Add(Err.NotSupported(P.Child(path, "protocol"), proto, Protocols));
        PodContainers.PortNumOrName(errs, sp["targetPort"], P.Child(path, "targetPort"));
        if (J.SN(sp, "appProtocol") is { } ap) Formats.QualifiedName(errs, P.Child(path, "appProtocol"), ap);
    }

    private static void ClientIPConfig(List<FieldError> errs, JsonObject? cfg)
    {
        const string path = "spec.sessionAffinityConfig";
        const string detail = "when session affinity type is ClientIP";
        if (cfg is null) { errs.Add(Err.Required(path, detail)); return; }
        if (J.O(cfg, "clientIP") is not { } cip) { errs.Add(Err.Required(path + ".clientIP", detail)); return; }
        if (J.L(cip, "timeoutSeconds") is not { } t) { errs.Add(Err.Required(path + ".clientIP.timeoutSeconds", detail)); return; }
        if (t is <= 0 or > 86400) errs.Add(Err.Invalid(path + ".clientIP.timeoutSeconds", t, "must be greater than 0 and less than 86400"));
    }

    private static void ClusterIPsRelated(List<FieldError> errs, JsonObject spec, List<string> ips, string clusterIP)
    {
        if (J.S(spec, "type") == "ExternalName") return;
        const string path = "spec.clusterIPs";
        var ipsRepr = Go.Strings(ips);
        if (clusterIP.Length != 0)
        {
            if (ips.Count == 0) errs.Add(Err.Required(path));
            else if (ips[0] != clusterIP) errs.Add(Err.InvalidRaw(path, ipsRepr, "first value must match `clusterIP`"));
        }
        else if (ips.Count != 0) errs.Add(Err.InvalidRaw(path, ipsRepr, "must be empty when `clusterIP` is not specified"));
        var families = J.Strs(spec, "ipFamilies");
        var seenFam = new HashSet<string>();
        for (var i = 0; i < families.Count; i++)
        {
            if (families[i] is not ("IPv4" or "IPv6")) errs.Add(Err.NotSupported(P.Index("spec.ipFamilies", i), families[i], "IPv4", "IPv6"));
            if (!seenFam.Add(families[i])) errs.Add(Err.Duplicate(P.Index("spec.ipFamilies", i), families[i]));
        }
        if (J.SN(spec, "ipFamilyPolicy") is { } pol && pol is not ("PreferDualStack" or "RequireDualStack" or "SingleStack"))
            errs.Add(Err.NotSupported("spec.ipFamilyPolicy", pol, "PreferDualStack", "RequireDualStack", "SingleStack"));
        var invalid = false;
        for (var i = 0; i < ips.Count; i++)
        {
            if (i == 0 && ips[i] == "None")
            {
                if (ips.Count > 1) { invalid = true; errs.Add(Err.InvalidRaw(path, ipsRepr, "'None' must be the first and only value")); }
                continue;
            }
            var ipErrs = Formats.ValidIP(P.Index(path, i), ips[i]);
            invalid |= ipErrs.Count > 0;
            errs.AddRange(ipErrs);
        }
        if (ips.Count > 2) errs.Add(Err.InvalidRaw(path, ipsRepr, "may only hold up to 2 values"));
        if (invalid) return;
        if (ips.Count > 1 && Formats.IsIPv6(ips[0]) == Formats.IsIPv6(ips[1]))
            errs.Add(Err.InvalidRaw(path, ipsRepr, "may specify no more than one IP for each IP family"));
        if (Headless(ips) || ips.Count == 0) return;
        for (var i = 0; i < ips.Count && i < families.Count; i++)
        {
            if (families[i] == "IPv4" && Formats.IsIPv6(ips[i])) errs.Add(Err.Invalid(P.Index(path, i), ips[i], $"expected an IPv4 value as indicated by `ipFamilies[{i}]`"));
            if (families[i] == "IPv6" && !Formats.IsIPv6(ips[i])) errs.Add(Err.Invalid(P.Index(path, i), ips[i], $"expected an IPv6 value as indicated by `ipFamilies[{i}]`"));
        }
    }

    private static void UpgradeDowngradeClusterIPs(List<FieldError> errs, JsonObject spec, JsonObject oldSpec, List<string> ips, List<string> oldIps)
    {
        if (!NeedsClusterIP(spec) || !NeedsClusterIP(oldSpec)) return;
        if (Headless(ips) && Headless(oldIps)) return;
        var repr = Go.Strings(ips);
        if (oldIps.Count == ips.Count)
        {
            for (var i = 0; i < oldIps.Count; i++)
                if (oldIps[i] != ips[i]) errs.Add(Err.InvalidRaw(P.Index("spec.clusterIPs", i), repr, "may not change once set"));
        }
        else if (oldIps.Count > ips.Count)
        {
            if (ips.Count == 0) errs.Add(Err.InvalidRaw("spec.clusterIPs[0]", repr, "primary clusterIP can not be unset"));
            if (oldIps.Count > 0 && ips.Count > 0 && ips[0] != oldIps[0]) errs.Add(Err.InvalidRaw("spec.clusterIPs[0]", repr, "may not change once set"));
            if (ips.Count == 1 && J.SN(spec, "ipFamilyPolicy") != "SingleStack")
                errs.Add(PolicyErr(spec, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
        }
        else if (oldIps.Count > 0 && ips[0] != oldIps[0])
            errs.Add(Err.InvalidRaw("spec.clusterIPs[0]", repr, "may not change once set"));
    }

    private static FieldError PolicyErr(JsonObject spec, string detail) =>
        J.SN(spec, "ipFamilyPolicy") is { } p ? Err.Invalid("spec.ipFamilyPolicy", p, detail) : Err.Invalid("spec.ipFamilyPolicy", "null", detail);

    private static void UpgradeDowngradeFamilies(List<FieldError> errs, JsonObject spec, JsonObject oldSpec, List<string> ips, List<string> oldIps)
    {
        if (!NeedsClusterIP(spec) || !NeedsClusterIP(oldSpec)) return;
        if (Headless(ips) || Headless(oldIps)) return;
        var fams = J.Strs(spec, "ipFamilies");
        var oldFams = J.Strs(oldSpec, "ipFamilies");
        if (fams.Count == 0) return; // the allocator fills them from the old object before validating
        var famRepr = Go.Strings(fams, "[]core.IPFamily");
        var ipsRepr = Go.Strings(ips);
        if (oldFams.Count == fams.Count)
        {
            for (var i = 0; i < oldFams.Count; i++)
                if (oldFams[i] != fams[i]) errs.Add(Err.InvalidRaw("spec.ipFamilies[0]", famRepr, "may not change once set"));
        }
        else if (oldFams.Count > fams.Count)
        {
            if (ips.Count == 0) errs.Add(Err.InvalidRaw("spec.ipFamilies[0]", famRepr, "primary ipFamily can not be unset"));
            if (fams.Count > 0 && fams[0] != oldFams[0]) errs.Add(Err.InvalidRaw("spec.ipFamilies[0]", ipsRepr, "may not change once set"));
            if (fams.Count == 1 && J.SN(spec, "ipFamilyPolicy") != "SingleStack")
                errs.Add(PolicyErr(spec, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
        }
        else if (oldFams.Count > 0 && fams[0] != oldFams[0])
            errs.Add(Err.InvalidRaw("spec.ipFamilies[0]", ipsRepr, "may not change once set"));
    }

    private static bool ExternallyAccessible(JsonObject spec) =>
        J.S(spec, "type") is "LoadBalancer" or "NodePort" || (J.S(spec, "type") == "ClusterIP" && J.Count(spec, "externalIPs") > 0);

    private static bool NeedsHealthCheck(JsonObject spec) => J.S(spec, "type") == "LoadBalancer" && J.S(spec, "externalTrafficPolicy") == "Local";

    private static void TrafficPolicies(List<FieldError> errs, JsonObject spec, string type)
    {
        var etp = J.S(spec, "externalTrafficPolicy");
        if (!ExternallyAccessible(spec))
        {
            if (etp.Length > 0) errs.Add(Err.Invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"));
        }
        else if (etp.Length == 0) errs.Add(Err.Required("spec.externalTrafficPolicy"));
        else if (etp is not ("Cluster" or "Local")) errs.Add(Err.NotSupported("spec.externalTrafficPolicy", etp, "Cluster", "Local"));
        var hc = J.L(spec, "healthCheckNodePort") ?? 0;
        if (!NeedsHealthCheck(spec))
        {
            if (hc != 0) errs.Add(Err.Invalid("spec.healthCheckNodePort", hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
        }
        // Zero is allocated before validation upstream (the service allocator runs first).
        else if (hc != 0) foreach (var m in Formats.PortNum(hc)) errs.Add(Err.Invalid("spec.healthCheckNodePort", hc, m));
        var itp = J.SN(spec, "internalTrafficPolicy");
        if (itp is null && type is "NodePort" or "LoadBalancer" or "ClusterIP") errs.Add(Err.Required("spec.internalTrafficPolicy"));
        if (itp is not null && itp is not ("Cluster" or "Local")) errs.Add(Err.NotSupported("spec.internalTrafficPolicy", itp, "Cluster", "Local"));
        if (J.SN(spec, "trafficDistribution") is { } td && td != "PreferClose")
            errs.Add(Err.NotSupported("spec.trafficDistribution", td, "PreferClose"));
    }

    public static void NonSpecialIP(List<FieldError> errs, string ip, string path)
    {
        if (Formats.ParseIP(ip) is not { } addr) { errs.Add(Err.Invalid(path, ip, "must be a valid IP address")); return; }
        if (addr.IsIPv4MappedToIPv6) addr = addr.MapToIPv4();
        var b = addr.GetAddressBytes();
        var v4 = b.Length == 4;
        if (b.All(x => x == 0)) errs.Add(Err.Invalid(path, ip, $"may not be unspecified ({ip})"));
        if (System.Net.IPAddress.IsLoopback(addr)) errs.Add(Err.Invalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
        if (v4 ? b[0] == 169 && b[1] == 254 : b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
            errs.Add(Err.Invalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
        if (v4 ? b[0] == 224 && b[1] == 0 && b[2] == 0 : b[0] == 0xff && (b[1] & 0x0f) == 0x02)
            errs.Add(Err.Invalid(path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
    }

    public static List<FieldError> Endpoints(JsonObject ep, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, ep);
        foreach (var (i, ss) in J.Items(ep, "subsets"))
        {
            var p = P.Index("subsets", i);
            if (J.Count(ss, "addresses") == 0 && J.Count(ss, "notReadyAddresses") == 0)
                errs.Add(Err.Required(p, "must specify `addresses` or `notReadyAddresses`"));
            foreach (var key in new[] { "addresses", "notReadyAddresses" })
                foreach (var (j, a) in J.Items(ss, key)) Address(errs, a, P.Index(P.Child(p, key), j));
            var ports = J.Items(ss, "ports");
            foreach (var (j, port) in ports)
            {
                var pp = P.Index(P.Child(p, "ports"), j);
                var name = J.S(port, "name");
                if (ports.Count > 1 && name.Length == 0) errs.Add(Err.Required(P.Child(pp, "name")));
                else if (name.Length != 0) Formats.Dns1123Label(errs, P.Child(pp, "name"), name);
                var num = J.L(port, "port") ?? 0;
                foreach (var m in Formats.PortNum(num)) errs.Add(Err.Invalid(P.Child(pp, "port"), num, m));
                var proto = J.S(port, "protocol");
                if (proto.Length == 0) errs.Add(Err.Required(P.Child(pp, "protocol")));
                else if (!Protocols.Contains(proto)) errs.Add(Err.NotSupported(P.Child(pp, "protocol"), proto, Protocols));
                if (J.SN(port, "appProtocol") is { } ap) Formats.QualifiedName(errs, P.Child(pp, "appProtocol"), ap);
            }
        }
        return errs;
    }

    private static void Address(List<FieldError> errs, JsonObject a, string path)
    {
        var ip = J.S(a, "ip");
        errs.AddRange(Formats.ValidIP(P.Child(path, "ip"), ip));
        if (J.S(a, "hostname") is { Length: > 0 } hn) Formats.Dns1123Label(errs, P.Child(path, "hostname"), hn);
        if (J.SN(a, "nodeName") is { } nn) Formats.Dns1123Subdomain(errs, P.Child(path, "nodeName"), nn);
        NonSpecialIP(errs, ip, P.Child(path, "ip"));
    }
}
