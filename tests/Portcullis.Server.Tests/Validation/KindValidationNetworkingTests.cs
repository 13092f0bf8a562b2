using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

/// <summary>networking.k8s.io/v1 NetworkPolicy and Ingress as pkg/apis/networking/validation and its strategies (1.33 era).</summary>
public class KindValidationNetworkingTests
{
    private static JsonObject Np(string spec) => Obj($$"""{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"n","namespace":"default"},"spec":{{spec}}}""");
    /// <summary>An Ingress; SVC in the spec stands for a valid service backend.</summary>
    private static JsonObject Ing(string spec, string annotations = "{}") =>
        Obj($$"""{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"i","namespace":"default","annotations":{{annotations}}},"spec":{{spec.Replace("SVC", Svc)}}}""");
    private static List<string> NpErrs(JsonObject np, JsonObject? old = null) => Check("networking.k8s.io", "NetworkPolicy", np, old);
    private static List<string> IngErrs(JsonObject ing, JsonObject? old = null) => Check("networking.k8s.io", "Ingress", ing, old);
    private const string Svc = """{"service":{"name":"web","port":{"number":80}}}""";

    [Fact]
    public void ValidNetworkPolicies_HaveNoErrors()
    {
        Assert.Empty(NpErrs(Np("""{"podSelector":{},"policyTypes":["Ingress","Egress"]}""")));
        Assert.Empty(NpErrs(Np("""
            {"podSelector":{"matchLabels":{"app":"x"}},
             "ingress":[{"from":[{"podSelector":{}},{"namespaceSelector":{},"podSelector":{}},{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}}],
                         "ports":[{"protocol":"TCP","port":80,"endPort":90},{"protocol":"UDP","port":"dns"},{"protocol":"SCTP"}]}],
             "egress":[{"to":[{"ipBlock":{"cidr":"2001:db8::/32","except":["2001:db8:1::/48"]}}]}]}
            """)));
    }

    [Fact]
    public void Ports_ProtocolPortAndEndPortRules()
    {
        Assert.Equal([
            "spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
            "spec.ingress[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.ingress[0].ports[2].endPort: Invalid value: 100: must be greater than or equal to `port`",
            "spec.ingress[0].ports[3].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.ingress[0].ports[4].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
            "spec.ingress[0].ports[5].endPort: Invalid value: 90: may not be specified when `port` is not specified",
            "spec.ingress[0].ports[6].port: Invalid value: \"Bad_Name\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        ], NpErrs(Np("""
            {"podSelector":{},"ingress":[{"ports":[
              {"protocol":"ICMP"},{"port":0},{"port":100,"endPort":90},{"port":80,"endPort":70000},
              {"port":"http","endPort":90},{"endPort":90},{"port":"Bad_Name"}]}]}
            """)));
    }

    [Fact]
    public void Peers_NeedExactlyOneKindWhenIpBlockIsUsed()
    {
        Assert.Equal([
            "spec.egress[0].to[0]: Required value: must specify a peer",
            "spec.egress[0].to[1]: Forbidden: may not specify both ipBlock and another peer",
            "spec.egress[0].to[2].podSelector.matchLabels: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ], NpErrs(Np("""
            {"podSelector":{},"egress":[{"to":[{},{"podSelector":{},"ipBlock":{"cidr":"10.0.0.0/8"}},{"podSelector":{"matchLabels":{"a":"-bad"}}}]}]}
            """)));
    }

    [Fact]
    public void IpBlock_CidrAndExceptRules_AreSloppyIn133()
    {
        Assert.Equal([
            "spec.ingress[0].from[0].ipBlock.cidr: Required value",
            "spec.ingress[0].from[1].ipBlock.cidr: Invalid value: \"10.0.0.0\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            "spec.ingress[0].from[2].ipBlock.except[0]: Invalid value: \"nope\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            "spec.ingress[0].from[2].ipBlock.except[1]: Invalid value: \"11.0.0.0/16\": must be a strict subset of `cidr`",
            "spec.ingress[0].from[2].ipBlock.except[2]: Invalid value: \"10.0.0.0/8\": must be a strict subset of `cidr`",
        ], NpErrs(Np("""
            {"podSelector":{},"ingress":[{"from":[
              {"ipBlock":{"cidr":""}},{"ipBlock":{"cidr":"10.0.0.0"}},
              {"ipBlock":{"cidr":"10.0.0.0/8","except":["nope","11.0.0.0/16","10.0.0.0/8","10.2.0.0/16"]}}]}]}
            """)));
        // StrictIPCIDRValidation is off in 1.33: leading zeros and host bits pass.
        Assert.Empty(NpErrs(Np("""{"podSelector":{},"ingress":[{"from":[{"ipBlock":{"cidr":"010.1.2.3/8","except":["10.1.0.0/016"]}}]}]}""")));
    }

    [Fact]
    public void PolicyTypes_AreIngressOrEgress_AtMostTwo()
    {
        Assert.Equal(["spec.policyTypes[1]: Unsupported value: \"Both\": supported values: \"Ingress\", \"Egress\""],
            NpErrs(Np("""{"podSelector":{},"policyTypes":["Ingress","Both"]}""")));
        Assert.Equal(["spec.policyTypes: Invalid value: []networking.PolicyType{\"Ingress\", \"Egress\", \"Bad\"}: may not specify more than two policyTypes"],
            NpErrs(Np("""{"podSelector":{},"policyTypes":["Ingress","Egress","Bad"]}""")));
    }

    [Fact]
    public void NetworkPolicyUpdate_ListsSpecErrorsTwice_AndKeepsOldInvalidSelectorValues()
    {
        var old = Np("""{"podSelector":{}}""");
        var bad = Np("""{"podSelector":{},"policyTypes":["Both"]}""");
        const string e = "spec.policyTypes[0]: Unsupported value: \"Both\": supported values: \"Ingress\", \"Egress\"";
        Assert.Equal([e, e], NpErrs(bad, old));

        var oldInvalid = Np("""{"podSelector":{"matchExpressions":[{"key":"a","operator":"In","values":["-bad"]}]}}""");
        Assert.Empty(NpErrs(Clone(oldInvalid), oldInvalid));
        Assert.Single(NpErrs(Clone(oldInvalid)));
    }

    [Fact]
    public void ValidIngresses_HaveNoErrors()
    {
        Assert.Empty(IngErrs(Ing("""{"defaultBackend":SVC}""")));
        Assert.Empty(IngErrs(Ing("""
            {"ingressClassName":"nginx","tls":[{"hosts":["*.example.com","a.example.com"],"secretName":"tls"}],
             "rules":[{"host":"*.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":SVC},
               {"pathType":"ImplementationSpecific","backend":{"resource":{"apiGroup":"k8s.example.com","kind":"Bucket","name":"b"}}}]}},
               {"host":"foo.example.com"}]}
            """, """{"kubernetes.io/ingress.class":"nginx"}""")));
    }

    [Fact]
    public void Ingress_NeedsRulesOrDefaultBackend()
    {
        Assert.Equal(["spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"], IngErrs(Ing("{}")));
        Assert.Equal(["spec: Invalid value: []networking.IngressRule{}: either `defaultBackend` or `rules` must be specified"], IngErrs(Ing("""{"rules":[]}""")));
    }

    [Fact]
    public void IngressRules_HostAndPathRules()
    {
        Assert.Equal([
            "spec.rules[0].host: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address",
            "spec.rules[1].host: Invalid value: \"a.*.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "spec.rules[1].http.paths: Required value",
            "spec.rules[2].http.paths[0].pathType: Required value: pathType must be specified",
            "spec.rules[2].http.paths[1].path: Invalid value: \"foo\": must be an absolute path",
            "spec.rules[2].http.paths[2].path: Invalid value: \"/a//b/.\": must not contain '//'",
            "spec.rules[2].http.paths[2].path: Invalid value: \"/a//b/.\": cannot end with '/.'",
            "spec.rules[2].http.paths[3].path: Invalid value: \"rel\": must be an absolute path",
            "spec.rules[2].http.paths[4].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"",
        ], IngErrs(Ing("""
            {"rules":[{"host":"1.2.3.4"},{"host":"a.*.com","http":{"paths":[]}},
              {"http":{"paths":[{"path":"/"},{"path":"foo","pathType":"Exact","backend":SVC},{"path":"/a//b/.","pathType":"Prefix","backend":SVC},
                {"path":"rel","pathType":"ImplementationSpecific","backend":SVC},{"path":"/","pathType":"Regex","backend":SVC}]}}]}
            """)));
    }

    [Fact]
    public void IngressBackends_ServiceAndResourceRules()
    {
        Assert.Equal([
            "spec.defaultBackend: Invalid value: \"\": resource or service backend is required",
            "spec.rules[0].http.paths[0].backend: Invalid value: \"\": cannot set both resource and service backends",
            "spec.rules[0].http.paths[1].backend.service.name: Required value",
            "spec.rules[0].http.paths[1].backend: Required value: port name or number is required",
            "spec.rules[0].http.paths[2].backend.service.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
            "spec.rules[0].http.paths[2].backend: Invalid value: \"\": cannot set both port name & port number",
            "spec.rules[0].http.paths[3].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.rules[0].http.paths[4].backend.resource.kind: Required value: kind is required",
            "spec.rules[0].http.paths[4].backend.resource.name: Invalid value: \"a/b\": may not contain '/'",
        ], IngErrs(Ing("""
            {"defaultBackend":{},"rules":[{"http":{"paths":[
              {"pathType":"Prefix","path":"/","backend":{"service":{"name":"w","port":{"number":80}},"resource":{"kind":"K","name":"n"}}},
              {"pathType":"Prefix","path":"/","backend":{"service":{}}},
              {"pathType":"Prefix","path":"/","backend":{"service":{"name":"1web","port":{"name":"http","number":80}}}},
              {"pathType":"Prefix","path":"/","backend":{"service":{"name":"web","port":{"number":70000}}}},
              {"pathType":"Prefix","path":"/","backend":{"resource":{"name":"a/b"}}}]}}]}
            """)));
    }

    [Fact]
    public void IngressTls_ClassName_AndClassAnnotation()
    {
        Assert.Equal([
            "spec.tls[1].hosts[0]: Invalid value: \"Bad.Host\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "spec.tls[1].secretName: Invalid value: \"Bad_Secret\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "spec.ingressClassName: Invalid value: \"Nginx\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "annotations.kubernetes.io/ingress.class: Invalid value: \"nginx\": must match `ingressClassName` when both are specified",
        ], IngErrs(Ing("""
            {"defaultBackend":SVC,"ingressClassName":"Nginx","tls":[{"hosts":["ok.example.com"]},{"hosts":["Bad.Host"],"secretName":"Bad_Secret"}]}
            """, """{"kubernetes.io/ingress.class":"nginx"}""")));
    }

    [Fact]
    public void IngressUpdate_KeepsOldInvalidSecretNamesAndWildcardRules_AndSkipsTheAnnotationCheck()
    {
        var old = Ing("""
            {"tls":[{"secretName":"Bad_Secret"}],"rules":[{"host":"*.example.com","http":{"paths":[{"path":"/"}]}}]}
            """, """{"kubernetes.io/ingress.class":"other"}""");
        var updated = Clone(old);
        updated["spec"]!["ingressClassName"] = "nginx";
        Assert.Equal(3, IngErrs(Clone(updated)).Count);
        Assert.Empty(IngErrs(updated, old));
    }

    [Fact]
    public void IngressStatusUpdate_ChecksLoadBalancerIpsAndHostnamesOnly()
    {
        var def = BuiltinResources.All.Single(d => d.Group == "networking.k8s.io" && d.Kind == "Ingress");
        var old = Ing("""{"defaultBackend":SVC}""");
        var updated = Clone(old);
        updated["spec"] = Obj("{}"); // the status path keeps the old spec; only status rules run
        updated["status"] = Obj("""{"loadBalancer":{"ingress":[{"ip":"1.2.3"},{"ip":"010.1.2.3","hostname":"10.1.2.3"},{"hostname":"Lb.Example"}]}}""");
        Assert.Equal([
            "status.loadBalancer.ingress[0].ip: Invalid value: \"1.2.3\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            "status.loadBalancer.ingress[1].hostname: Invalid value: \"10.1.2.3\": must be a DNS name, not an IP address",
            "status.loadBalancer.ingress[2].hostname: Invalid value: \"Lb.Example\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ], def.Strategy.ValidateUpdate(updated, old, "status").Select(e => e.ToString()));
    }
}
