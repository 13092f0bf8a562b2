using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// networking.k8s.io/v1 NetworkPolicy and Ingress (pkg/apis/networking/validation and the strategies in
/// pkg/registry/networking/{networkpolicy,ingress}), as of 1.33. StrictIPCIDRValidation is alpha (off) in
/// 1.33, so CIDRs and IPs are parsed the sloppy (legacy) way: leading zeros and host bits are accepted.
/// </summary>
internal static class NetworkingValidation
{
    private const string IngressClassAnnotation = "kubernetes.io/ingress.class";
    private static readonly string[] PathTypes = ["Exact", "ImplementationSpecific", "Prefix"];
    private static readonly string[] InvalidPathSequences = ["//", "/./", "/../", "%2f", "%2F"];
    private static readonly string[] InvalidPathSuffixes = ["/..", "/."];

    // ---- NetworkPolicy ----

    /// <summary>
    /// The strategy's Validate, and on update its ValidateUpdate, which appends ValidateNetworkPolicy and
    /// ValidateNetworkPolicyUpdate: every spec error is listed twice (the message shows it once).
    /// </summary>
    public static List<FieldError> NetworkPolicy(JsonObject np, JsonObject? old)
    {
        // ValidationOptionsForNetworking: invalid label values stay allowed when the old podSelector had them.
        var allowInvalid = false;
        if (old is not null)
        {
            var probe = new List<FieldError>();
            Selectors.Validate(probe, J.O(J.O(old, "spec"), "podSelector"), "");
            allowInvalid = probe.Count > 0;
        }
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, np);
        NetworkPolicySpec(errs, J.O(np, "spec") ?? new JsonObject(), allowInvalid);
        if (old is not null) NetworkPolicySpec(errs, J.O(np, "spec") ?? new JsonObject(), allowInvalid);
        return errs;
    }

    private static void NetworkPolicySpec(List<FieldError> errs, JsonObject spec, bool allowInvalid)
    {
        const string path = "spec";
        Selectors.Validate(errs, J.O(spec, "podSelector"), P.Child(path, "podSelector"), allowInvalid);
        foreach (var (dir, peers) in new[] { ("ingress", "from"), ("egress", "to") })
        {
            foreach (var (i, rule) in J.Items(spec, dir))
            {
                var rp = P.Index(P.Child(path, dir), i);
                foreach (var (j, port) in J.Items(rule, "ports")) NetworkPolicyPort(errs, port, P.Index(P.Child(rp, "ports"), j));
                foreach (var (j, peer) in J.Items(rule, peers)) NetworkPolicyPeer(errs, peer, P.Index(P.Child(rp, peers), j), allowInvalid);
            }
        }
        var types = J.Strs(spec, "policyTypes");
        var tp = P.Child(path, "policyTypes");
        if (types.Count > 2)
        {
            errs.Add(Err.InvalidRaw(tp, Go.Strings(types, "[]networking.PolicyType"), "may not specify more than two policyTypes"));
            return;
        }
        for (var i = 0; i < types.Count; i++)
            if (types[i] is not ("Ingress" or "Egress")) errs.Add(Err.NotSupported(P.Index(tp, i), types[i], "Ingress", "Egress"));
    }

    private static void NetworkPolicyPort(List<FieldError> errs, JsonObject port, string path)
    {
        if (J.SN(port, "protocol") is { } proto && proto is not ("TCP" or "UDP" or "SCTP"))
            errs.Add(Err.NotSupported(P.Child(path, "protocol"), proto, "TCP", "UDP", "SCTP"));
        var endPort = J.L(port, "endPort");
        var endPath = P.Child(path, "endPort");
        if (J.IntOrStr(port["port"]) is { } p)
        {
            if (p.IsInt)
            {
                foreach (var m in Formats.PortNum(p.Int)) errs.Add(Err.Invalid(P.Child(path, "port"), p.Int, m));
                if (endPort is { } end)
                {
                    // 1.33 prints the port, not the endPort, as the bad value here (later releases print endPort).
                    if (end < p.Int) errs.Add(Err.Invalid(endPath, p.Int, "must be greater than or equal to `port`"));
                    foreach (var m in Formats.PortNum(end)) errs.Add(Err.Invalid(endPath, end, m));
                }
            }
            else
            {
                if (endPort is { } end) errs.Add(Err.Invalid(endPath, end, "may not be specified when `port` is non-numeric"));
                foreach (var m in Formats.PortName(p.Str)) errs.Add(Err.Invalid(P.Child(path, "port"), p.Str, m));
            }
        }
        else if (endPort is { } end)
            errs.Add(Err.Invalid(endPath, end, "may not be specified when `port` is not specified"));
    }

    private static void NetworkPolicyPeer(List<FieldError> errs, JsonObject peer, string path, bool allowInvalid)
    {
        var n = 0;
        if (J.O(peer, "podSelector") is { } pod)
        {
            n++;
            Selectors.Validate(errs, pod, P.Child(path, "podSelector"), allowInvalid);
        }
        if (J.O(peer, "namespaceSelector") is { } ns)
        {
            n++;
            Selectors.Validate(errs, ns, P.Child(path, "namespaceSelector"), allowInvalid);
        }
        var ipBlock = J.O(peer, "ipBlock");
        if (ipBlock is not null)
        {
            n++;
            IPBlock(errs, ipBlock, P.Child(path, "ipBlock"));
        }
        if (n == 0) errs.Add(Err.Required(path, "must specify a peer"));
        else if (n > 1 && ipBlock is not null) errs.Add(Err.Forbidden(path, "may not specify both ipBlock and another peer"));
    }

    private static void IPBlock(List<FieldError> errs, JsonObject ipb, string path)
    {
        var cidr = J.S(ipb, "cidr");
        if (cidr.Length == 0)
        {
            errs.Add(Err.Required(P.Child(path, "cidr")));
            return;
        }
        errs.AddRange(Formats.ValidCIDR(P.Child(path, "cidr"), cidr));
        if (ParseCIDR(cidr) is not { } net) return;
        var except = J.Strs(ipb, "except");
        for (var i = 0; i < except.Count; i++)
        {
            var ep = P.Index(P.Child(path, "except"), i);
            errs.AddRange(Formats.ValidCIDR(ep, except[i]));
            if (ParseCIDR(except[i]) is not { } ex) continue;
            if (!Contains(net, ex.Ip) || net.Bits >= ex.Bits)
                errs.Add(Err.Invalid(ep, except[i], "must be a strict subset of `cidr`"));
        }
    }

    /// <summary>A net.IPNet from netutils.ParseCIDRSloppy: the masked IP (4 bytes for IPv4, 16 for IPv6), its mask and prefix length.</summary>
    private sealed record IPNet(byte[] Ip, byte[] Mask, int Bits);

    private static IPNet? ParseCIDR(string s)
    {
        var slash = s.IndexOf('/');
        if (slash <= 0 || Formats.ParseIP(s[..slash]) is not { } addr) return null;
        if (!int.TryParse(s[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var bits)) return null;
        var ip = addr.GetAddressBytes();
        if (addr.AddressFamily == AddressFamily.InterNetwork ? bits > 32 : bits > 128) return null;
        var mask = new byte[ip.Length];
        for (var i = 0; i < mask.Length; i++)
        {
            var b = Math.Clamp(bits - 8 * i, 0, 8);
            mask[i] = (byte)(0xff << (8 - b));
            ip[i] &= mask[i];
        }
        return new IPNet(ip, mask, bits);
    }

    /// <summary>net.IP.To4: the IPv4 form of a 4-byte or IPv4-mapped 16-byte address.</summary>
    private static byte[]? To4(byte[] ip)
    {
        if (ip.Length == 4) return ip;
        for (var i = 0; i < 10; i++) if (ip[i] != 0) return null;
        return ip[10] == 0xff && ip[11] == 0xff ? ip[12..] : null;
    }

    /// <summary>net.IPNet.Contains.</summary>
    private static bool Contains(IPNet net, byte[] ip)
    {
        var nn = To4(net.Ip) ?? net.Ip;
        var m = net.Mask;
        if (m.Length == 16 && nn.Length == 4) m = m[12..];
        ip = To4(ip) ?? ip;
        if (ip.Length != nn.Length || m.Length != nn.Length) return false;
        for (var i = 0; i < ip.Length; i++)
            if ((nn[i] & m[i]) != (ip[i] & m[i])) return false;
        return true;
    }

    // ---- Ingress ----

    /// <summary>The main resource: ValidateIngressCreate on create, ValidateIngressUpdate on update.</summary>
    public static List<FieldError> Ingress(JsonObject ing, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, ing);
        var spec = J.O(ing, "spec") ?? new JsonObject();
        var allowInvalidSecretName = old is not null && J.Items(J.O(old, "spec"), "tls").Any(t => TlsSecretName(J.S(t.O, "secretName")).Count > 0);
        var allowInvalidWildcardRule = old is not null && J.Items(J.O(old, "spec"), "rules").Any(r =>
        {
            if (!J.S(r.O, "host").Contains('*')) return false;
            var probe = new List<FieldError>();
            IngressRuleValue(probe, r.O, "");
            return probe.Count > 0;
        });
        IngressSpec(errs, spec, allowInvalidSecretName, allowInvalidWildcardRule);
        if (old is null && J.Map(J.O(ing, "metadata"), "annotations") is { } ann && ann.TryGetValue(IngressClassAnnotation, out var cls)
            && J.SN(spec, "ingressClassName") is { } className && cls != className)
            errs.Add(Err.Invalid(P.Child("annotations", IngressClassAnnotation), cls, "must match `ingressClassName` when both are specified"));
        return errs;
    }

    /// <summary>The main resource runs the spec rules; /status runs ValidateIngressStatusUpdate.</summary>
    public static List<FieldError> IngressUpdate(JsonObject ing, JsonObject old, string subresource)
    {
        if (subresource != "status") return Ingress(ing, old);
        var errs = new List<FieldError>();
        foreach (var (i, lb) in J.Items(J.O(J.O(ing, "status"), "loadBalancer"), "ingress"))
        {
            var p = P.Index("status.loadBalancer.ingress", i);
            var ip = J.S(lb, "ip");
            if (ip.Length > 0) errs.AddRange(Formats.ValidIP(P.Child(p, "ip"), ip));
            var host = J.S(lb, "hostname");
            if (host.Length > 0)
            {
                Formats.Dns1123Subdomain(errs, P.Child(p, "hostname"), host);
                if (Formats.ParseIP(host) is not null) errs.Add(Err.Invalid(P.Child(p, "hostname"), host, "must be a DNS name, not an IP address"));
            }
        }
        return errs;
    }

    private static void IngressSpec(List<FieldError> errs, JsonObject spec, bool allowInvalidSecretName, bool allowInvalidWildcardRule)
    {
        const string path = "spec";
        var rules = J.Items(spec, "rules");
        var backend = J.O(spec, "defaultBackend");
        if (rules.Count == 0 && backend is null)
            errs.Add(Err.InvalidRaw(path, J.A(spec, "rules") is null ? "[]networking.IngressRule(nil)" : "[]networking.IngressRule{}",
                "either `defaultBackend` or `rules` must be specified"));
        if (backend is not null) IngressBackend(errs, backend, P.Child(path, "defaultBackend"));
        foreach (var (i, rule) in rules)
        {
            var rp = P.Index(P.Child(path, "rules"), i);
            var host = J.S(rule, "host");
            var wildcard = false;
            if (host.Length > 0)
            {
                var hp = P.Child(rp, "host");
                if (Formats.ParseIP(host) is not null) errs.Add(Err.Invalid(hp, host, "must be a DNS name, not an IP address"));
                if (host.Contains('*'))
                {
                    foreach (var m in WildcardDns1123Subdomain(host)) errs.Add(Err.Invalid(hp, host, m));
                    wildcard = true;
                }
                else Formats.Dns1123Subdomain(errs, hp, host);
            }
            if (!wildcard || !allowInvalidWildcardRule) IngressRuleValue(errs, rule, rp);
        }
        foreach (var (t, tls) in J.Items(spec, "tls"))
        {
            var tp = P.Index(P.Child(path, "tls"), t);
            var hosts = J.Strs(tls, "hosts");
            for (var i = 0; i < hosts.Count; i++)
            {
                var hp = P.Index(P.Child(tp, "hosts"), i);
                if (hosts[i].Contains('*'))
                    foreach (var m in WildcardDns1123Subdomain(hosts[i])) errs.Add(Err.Invalid(hp, hosts[i], m));
                else Formats.Dns1123Subdomain(errs, hp, hosts[i]);
            }
            if (!allowInvalidSecretName)
            {
                var secret = J.S(tls, "secretName");
                foreach (var m in TlsSecretName(secret)) errs.Add(Err.Invalid(P.Child(tp, "secretName"), secret, m));
            }
        }
        if (J.SN(spec, "ingressClassName") is { } cls) Formats.Dns1123Subdomain(errs, P.Child(path, "ingressClassName"), cls);
    }

    private static List<string> TlsSecretName(string name) => name.Length == 0 ? [] : NameValidation.IsDns1123Subdomain(name);

    private static void IngressRuleValue(List<FieldError> errs, JsonObject rule, string path)
    {
        if (J.O(rule, "http") is not { } http) return;
        var hp = P.Child(path, "http");
        var paths = J.Items(http, "paths");
        if (paths.Count == 0) errs.Add(Err.Required(P.Child(hp, "paths")));
        foreach (var (i, p) in paths) HttpIngressPath(errs, p, P.Index(P.Child(hp, "paths"), i));
    }

    private static void HttpIngressPath(List<FieldError> errs, JsonObject p, string path)
    {
        if (J.SN(p, "pathType") is not { } type)
        {
            errs.Add(Err.Required(P.Child(path, "pathType"), "pathType must be specified"));
            return;
        }
        var value = J.S(p, "path");
        var pp = P.Child(path, "path");
        switch (type)
        {
            case "Exact" or "Prefix":
                if (!value.StartsWith('/')) errs.Add(Err.Invalid(pp, value, "must be an absolute path"));
                if (value.Length > 0)
                {
                    foreach (var seq in InvalidPathSequences)
                        if (value.Contains(seq, StringComparison.Ordinal)) errs.Add(Err.Invalid(pp, value, $"must not contain '{seq}'"));
                    foreach (var suffix in InvalidPathSuffixes)
                        if (value.EndsWith(suffix, StringComparison.Ordinal)) errs.Add(Err.Invalid(pp, value, $"cannot end with '{suffix}'"));
                }
                break;
            case "ImplementationSpecific":
                if (value.Length > 0 && !value.StartsWith('/')) errs.Add(Err.Invalid(pp, value, "must be an absolute path"));
                break;
            default:
                errs.Add(Err.NotSupported(P.Child(path, "pathType"), type, PathTypes));
                break;
        }
        IngressBackend(errs, J.O(p, "backend") ?? new JsonObject(), P.Child(path, "backend"));
    }

    private static void IngressBackend(List<FieldError> errs, JsonObject backend, string path)
    {
        var resource = J.O(backend, "resource");
        var service = J.O(backend, "service");
        if (resource is not null && service is not null)
        {
            errs.Add(Err.Invalid(path, "", "cannot set both resource and service backends"));
            return;
        }
        if (resource is not null)
        {
            var rp = P.Child(path, "resource");
            if (J.SN(resource, "apiGroup") is { } group) Formats.Dns1123Subdomain(errs, P.Child(rp, "apiGroup"), group);
            foreach (var (field, required) in new[] { ("kind", "kind is required"), ("name", "name is required") })
            {
                var v = J.S(resource, field);
                if (v.Length == 0) errs.Add(Err.Required(P.Child(rp, field), required));
                else foreach (var m in NameValidation.IsValidPathSegmentName(v)) errs.Add(Err.Invalid(P.Child(rp, field), v, m));
            }
            return;
        }
        if (service is null)
        {
            errs.Add(Err.Invalid(path, "", "resource or service backend is required"));
            return;
        }
        var name = J.S(service, "name");
        var np = P.Child(path, "service", "name");
        if (name.Length == 0) errs.Add(Err.Required(np));
        else foreach (var m in MetadataValidation.IsDns1035Label(name)) errs.Add(Err.Invalid(np, name, m));
        var port = J.O(service, "port");
        var portName = J.S(port, "name");
        var portNumber = J.L(port, "number") ?? 0;
        var portPath = P.Child(path, "service", "port");
        if (portName.Length > 0 && portNumber != 0) errs.Add(Err.Invalid(path, "", "cannot set both port name & port number"));
        else if (portName.Length > 0)
            foreach (var m in Formats.PortName(portName)) errs.Add(Err.Invalid(P.Child(portPath, "name"), portName, m));
        else if (portNumber != 0)
            foreach (var m in Formats.PortNum(portNumber)) errs.Add(Err.Invalid(P.Child(portPath, "number"), portNumber, m));
        else errs.Add(Err.Required(path, "port name or number is required"));
    }

    private const string WildcardDns1123SubdomainFmt = @"\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

    /// <summary>validation.IsWildcardDNS1123Subdomain.</summary>
    private static List<string> WildcardDns1123Subdomain(string v)
    {
        var errs = new List<string>();
        if (NameValidation.GoLen(v) > 253) errs.Add(NameValidation.MaxLenError(253));
        if (!System.Text.RegularExpressions.Regex.IsMatch(v, "^" + WildcardDns1123SubdomainFmt + @"\z"))
            errs.Add(Formats.RegexError("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
                WildcardDns1123SubdomainFmt, "*.example.com"));
        return errs;
    }
}
