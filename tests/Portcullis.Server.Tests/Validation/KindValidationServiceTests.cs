using System.Text.Json.Nodes;
using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

public class KindValidationServiceTests
{
    private static JsonObject Svc(string ports = """[{"protocol":"TCP","port":80,"targetPort":8080}]""", string extra = "") => Obj($$$"""
        {"metadata":{"name":"s","namespace":"default"},
         "spec":{"ports":{{{ports}}},"selector":{"app":"x"},"type":"ClusterIP","sessionAffinity":"None",
                 "internalTrafficPolicy":"Cluster"{{{extra}}}}}
        """);

    private static List<string> SvcErrors(JsonObject s, JsonObject? old = null) => Check("", "Service", s, old);

    [Fact]
    public void DefaultedServiceIsValid()
    {
        Assert.Empty(SvcErrors(Svc()));
        Assert.Empty(SvcErrors(Svc(extra: ""","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack" """)));
    }

    [Fact]
    public void PortsAreRequiredUnlessHeadlessOrExternalName()
    {
        Assert.Equal(["spec.ports: Required value"], SvcErrors(Svc("[]")));
        Assert.Empty(SvcErrors(Svc("[]", ""","clusterIP":"None" """)));
        var ext = Obj("""{"metadata":{"name":"s","namespace":"default"},"spec":{"type":"ExternalName","externalName":"example.com.","sessionAffinity":"None"}}""");
        Assert.Empty(SvcErrors(ext));
    }

    [Fact]
    public void PortRules()
    {
        var errs = SvcErrors(Svc("""[{"protocol":"TCP","port":0,"targetPort":8080,"name":"a"},{"protocol":"HTTP","port":80,"targetPort":"web_port","name":"a"},{"protocol":"TCP","port":80,"targetPort":80}]"""));
        Assert.Equal([
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.ports[1].name: Duplicate value: \"a\"",
            "spec.ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            "spec.ports[1].targetPort: Invalid value: \"web_port\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            "spec.ports[2].name: Required value",
        ], errs);
    }

    [Fact]
    public void DuplicatePortsPrintTheGoKey()
    {
        var errs = SvcErrors(Svc("""[{"name":"a","protocol":"TCP","port":80,"targetPort":80},{"name":"b","protocol":"TCP","port":80,"targetPort":81}]"""));
        Assert.Equal([
            "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
        ], errs);
    }

    [Fact]
    public void TypeAndSelector()
    {
        var s = Svc();
        s["spec"]!["type"] = "Public";
        s["spec"]!["selector"] = new JsonObject { ["app"] = "bad value!" };
        Assert.Equal([
            "spec.selector: Invalid value: \"bad value!\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            "spec.type: Unsupported value: \"Public\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
        ], SvcErrors(s));
    }

    [Fact]
    public void NodePortServiceNeedsExternalTrafficPolicy()
    {
        var s = Svc();
        s["spec"]!["type"] = "NodePort";
        Assert.Equal(["spec.externalTrafficPolicy: Required value"], SvcErrors(s));
        s["spec"]!["externalTrafficPolicy"] = "Cluster";
        Assert.Empty(SvcErrors(s));
    }

    [Fact]
    public void ClusterIPIsImmutable()
    {
        var old = Svc(extra: ""","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack" """);
        var s = Svc(extra: ""","clusterIP":"10.96.0.11","clusterIPs":["10.96.0.10"],"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack" """);
        Assert.Equal(["spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set"], SvcErrors(s, old));
        // A replace that omits the allocated clusterIP keeps it.
        Assert.Empty(SvcErrors(Svc(extra: ""","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack" """), old));
    }

    [Fact]
    public void Endpoints()
    {
        var ep = Obj("""
            {"metadata":{"name":"e","namespace":"default"},"subsets":[
              {"addresses":[{"ip":"10.0.0.1"},{"ip":"127.0.0.1"},{"ip":"nope"}],"ports":[{"port":80,"protocol":"TCP"}]},
              {"ports":[{"port":80,"protocol":"TCP","name":"a"},{"port":81,"protocol":"TCP"}]}]}
            """);
        Assert.Equal([
            "subsets[0].addresses[1].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
            "subsets[0].addresses[2].ip: Invalid value: \"nope\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            "subsets[0].addresses[2].ip: Invalid value: \"nope\": must be a valid IP address",
            "subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`",
            "subsets[1].ports[1].name: Required value",
        ], Check("", "Endpoints", ep));
    }

    // Audit (issue 13): ValidateService refuses the kubelet's port 10250 on LoadBalancer services.
    [Fact]
    public void LoadBalancer_MayNotExposeTheKubeletPort()
    {
        var s = Svc("""[{"name":"a","protocol":"TCP","port":10250,"targetPort":8080},{"name":"b","protocol":"TCP","port":80,"targetPort":80}]""",
            ""","allocateLoadBalancerNodePorts":true,"externalTrafficPolicy":"Cluster" """);
        s["spec"]!["type"] = "LoadBalancer";
        Assert.Equal(["spec.ports[0]: Invalid value: 10250: may not expose port 10250 externally since it is used by kubelet"], SvcErrors(s));
        s["spec"]!["type"] = "NodePort";
        s["spec"]!.AsObject().Remove("allocateLoadBalancerNodePorts");
        Assert.Empty(SvcErrors(s));
    }

    // Audit (issue 13): ValidateServiceUpdate runs validateLoadBalancerClassField(old, new), which checks the
    // value too, and then ValidateService, which checks it again.
    [Fact]
    public void Update_ChecksLoadBalancerClassTwice()
    {
        var old = Svc();
        var s = Svc();
        s["spec"]!["loadBalancerClass"] = "example.com/lb";
        Assert.Equal(["spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"], SvcErrors(s));
        Assert.Equal([
            "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'",
            "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'",
        ], SvcErrors(s, old));
    }

    // Audit (issue 13): the Service strategy's PrepareForUpdate (dropTypeDependentFields) wipes the fields
    // a new type no longer uses when the update left them unchanged.
    [Fact]
    public void TypeChange_WipesUnchangedTypeDependentFields()
    {
        var old = Svc("""[{"protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080}]""",
            ""","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","externalTrafficPolicy":"Cluster" """);
        old["spec"]!["type"] = "NodePort";
        Assert.Empty(SvcErrors(old));
        var ctx = new Portcullis.Server.Api.Resources.StrategyContext(TimeProvider.System);

        var s = Clone(old);
        s["spec"]!["type"] = "ClusterIP";
        Assert.Equal([
            "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
            "spec.externalTrafficPolicy: Invalid value: \"Cluster\": may only be set for externally-accessible services",
        ], SvcErrors(Clone(s), old));
        Portcullis.Server.Api.Resources.Core.ServiceKind.DropTypeDependentFields(s, old, ctx);
        Assert.Empty(SvcErrors(s, old));
        Assert.Null(s["spec"]!["ports"]![0]!["nodePort"]);
        Assert.Equal("10.96.0.10", (string?)s["spec"]!["clusterIP"]);

        // A net-new node port is the user's own change: it stays, and validation refuses it.
        s = Clone(old);
        s["spec"]!["type"] = "ClusterIP";
        s["spec"]!["ports"]![0]!["nodePort"] = 30081;
        Portcullis.Server.Api.Resources.Core.ServiceKind.DropTypeDependentFields(s, old, ctx);
        Assert.Equal(["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"], SvcErrors(s, old));

        s = Clone(old);
        s["spec"]!["type"] = "ExternalName";
        s["spec"]!["externalName"] = "example.com";
        Portcullis.Server.Api.Resources.Core.ServiceKind.DropTypeDependentFields(s, old, ctx);
        Assert.Empty(SvcErrors(s, old));
        Assert.Null(s["spec"]!["clusterIPs"]);
        Assert.Null(s["spec"]!["ipFamilies"]);
    }
}
