using static Portcullis.Server.Tests.Printing.PrintingTestKit;

namespace Portcullis.Server.Tests.Printing;

public class CorePrinterTests
{
    [Fact]
    public void Namespace()
    {
        Assert.Equal("Name|Status|Age", Headers("", "Namespace"));
        var ns = Fill("""{"metadata":{"name":"default","creationTimestamp":"%CREATED%"},"status":{"phase":"Active"}}""");
        Assert.Equal("""["default","Active","5m"]""", Row("", "Namespace", ns));
        AssertWellFormed("", "Namespace", Parse(ns));
    }

    [Fact]
    public void ServiceAccount_counts_secrets_as_a_number()
    {
        Assert.Equal("Name|Secrets|Age", Headers("", "ServiceAccount"));
        Assert.Equal("""["demo-sa",0,"5m"]""", Row("", "ServiceAccount", Fill("""{"metadata":{"name":"demo-sa","creationTimestamp":"%CREATED%"}}""")));
        Assert.Equal("""["builder",2,"5m"]""", Row("", "ServiceAccount",
            Fill("""{"metadata":{"name":"builder","creationTimestamp":"%CREATED%"},"secrets":[{"name":"a"},{"name":"b"}]}""")));
    }

    [Fact]
    public void Secret_shows_type_and_key_count()
    {
        Assert.Equal("Name|Type|Data|Age", Headers("", "Secret"));
        var s = Fill("""{"metadata":{"name":"tls","creationTimestamp":"%CREATED%"},"type":"kubernetes.io/tls","data":{"tls.crt":"YQ==","tls.key":"Yg=="}}""");
        Assert.Equal("""["tls","kubernetes.io/tls",2,"5m"]""", Row("", "Secret", s));
        Assert.Equal("""["plain","Opaque",0,"5m"]""", Row("", "Secret", Fill("""{"metadata":{"name":"plain","creationTimestamp":"%CREATED%"}}""")));
    }

    [Fact]
    public void ConfigMap_counts_text_and_binary_keys()
    {
        Assert.Equal("Name|Data|Age", Headers("", "ConfigMap"));
        var cm = Fill("""{"metadata":{"name":"kube-root-ca.crt","creationTimestamp":"%CREATED%"},"data":{"ca.crt":"x"},"binaryData":{"b":"AA=="}}""");
        Assert.Equal("""["kube-root-ca.crt",2,"5m"]""", Row("", "ConfigMap", cm));
    }

    [Fact]
    public void LimitRange_Role_and_ClusterRole_use_the_default_table()
    {
        foreach (var (group, kind) in new[] { ("", "LimitRange"), ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "ClusterRole") })
        {
            Assert.Equal("Name|Created At", Headers(group, kind));
            Assert.Equal("string|date", Types(group, kind));
            Assert.Equal("""["limits","2025-05-01T11:55:00Z"]""", Row(group, kind, Fill("""{"metadata":{"name":"limits","creationTimestamp":"%CREATED%"}}""")));
        }
    }

    [Fact]
    public void Node_status_roles_and_wide_details()
    {
        Assert.Equal("Name|Status|Roles|Age|Version|Internal-IP*|External-IP*|OS-Image*|Kernel-Version*|Container-Runtime*", Headers("", "Node"));
        var node = Fill("""
            {"metadata":{"name":"kind-control-plane","creationTimestamp":"%CREATED%",
               "labels":{"node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/":"","kubernetes.io/role":"etcd","kubernetes.io/hostname":"x"}},
             "spec":{"unschedulable":true},
             "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
               "addresses":[{"type":"Hostname","address":"kind"},{"type":"InternalIP","address":"172.18.0.2"}],
               "nodeInfo":{"kubeletVersion":"v1.33.1","osImage":"Debian GNU/Linux 12","containerRuntimeVersion":"containerd://2.1.1"}}}
            """);
        Assert.Equal("""["kind-control-plane","Ready,SchedulingDisabled","control-plane,etcd","5m","v1.33.1","172.18.0.2","<none>","Debian GNU/Linux 12","<unknown>","containerd://2.1.1"]""",
            Row("", "Node", node));

        var bare = Fill("""{"metadata":{"name":"n","creationTimestamp":"%CREATED%"},"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}}""");
        Assert.Equal("""["n","NotReady","<none>","5m","","<none>","<none>","<unknown>","<unknown>","<unknown>"]""", Row("", "Node", bare));
        Assert.StartsWith("""["m","Unknown",""", Row("", "Node", """{"metadata":{"name":"m"}}"""));
    }

    [Fact]
    public void Service_types_ips_and_ports()
    {
        Assert.Equal("Name|Type|Cluster-IP|External-IP|Port(s)|Age|Selector*", Headers("", "Service"));
        var kubernetes = Fill("""
            {"metadata":{"name":"kubernetes","creationTimestamp":"%CREATED%"},
             "spec":{"type":"ClusterIP","clusterIP":"10.96.0.1","clusterIPs":["10.96.0.1"],"ports":[{"name":"https","port":443,"protocol":"TCP","targetPort":6443}]}}
            """);
        Assert.Equal("""["kubernetes","ClusterIP","10.96.0.1","<none>","443/TCP","5m","<none>"]""", Row("", "Service", kubernetes));

        var nodePort = Fill("""
            {"metadata":{"name":"web","creationTimestamp":"%CREATED%"},
             "spec":{"type":"NodePort","clusterIPs":["10.96.3.4","fd00::4"],"externalIPs":["1.2.3.4"],"selector":{"tier":"front","app":"web"},
               "ports":[{"port":80,"nodePort":30080,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}}
            """);
        Assert.Equal("""["web","NodePort","10.96.3.4","1.2.3.4","80:30080/TCP,53/UDP","5m","app=web,tier=front"]""", Row("", "Service", nodePort));

        var pending = Fill("""{"metadata":{"name":"lb","creationTimestamp":"%CREATED%"},"spec":{"type":"LoadBalancer","clusterIP":"10.96.0.9","ports":[{"port":80,"nodePort":31000,"protocol":"TCP"}]}}""");
        Assert.Equal("""["lb","LoadBalancer","10.96.0.9","<pending>","80:31000/TCP","5m","<none>"]""", Row("", "Service", pending));

        var ready = Fill("""
            {"metadata":{"name":"lb","creationTimestamp":"%CREATED%"},"spec":{"type":"LoadBalancer","clusterIP":"10.96.0.9","externalIPs":["9.9.9.9"]},
             "status":{"loadBalancer":{"ingress":[{"ip":"5.6.7.8"},{"hostname":"a.example.com"},{"ip":"1.2.3.4"},{"ip":"5.6.7.8"}]}}}
            """);
        Assert.Equal("""["lb","LoadBalancer","10.96.0.9","1.2.3.4,5.6.7.8,a.example.com,9.9.9.9","<none>","5m","<none>"]""", Row("", "Service", ready));

        var external = Fill("""{"metadata":{"name":"ext","creationTimestamp":"%CREATED%"},"spec":{"type":"ExternalName","externalName":"db.example.com"}}""");
        Assert.Equal("""["ext","ExternalName","<none>","db.example.com","<none>","5m","<none>"]""", Row("", "Service", external));

        var headless = Fill("""{"metadata":{"name":"h","creationTimestamp":"%CREATED%"},"spec":{"clusterIP":"None","ports":[{"port":80}]}}""");
        Assert.Equal("""["h","ClusterIP","None","<none>","80/TCP","5m","<none>"]""", Row("", "Service", headless));
    }

    [Fact]
    public void Endpoints_list_the_first_three_addresses()
    {
        Assert.Equal("Name|Endpoints|Age", Headers("", "Endpoints"));
        Assert.Equal("""["none","<none>","5m"]""", Row("", "Endpoints", Fill("""{"metadata":{"name":"none","creationTimestamp":"%CREATED%"}}""")));

        var one = Fill("""{"metadata":{"name":"kubernetes","creationTimestamp":"%CREATED%"},"subsets":[{"addresses":[{"ip":"172.18.0.2"}],"ports":[{"name":"https","port":6443}]}]}""");
        Assert.Equal("""["kubernetes","172.18.0.2:6443","5m"]""", Row("", "Endpoints", one));

        var many = Fill("""
            {"metadata":{"name":"web","creationTimestamp":"%CREATED%"},"subsets":[
              {"addresses":[{"ip":"10.0.0.1"},{"ip":"fd00::2"}],"ports":[{"port":80},{"port":443}]},
              {"addresses":[{"ip":"10.0.0.3"}]}]}
            """);
        Assert.Equal("""["web","10.0.0.1:80,[fd00::2]:80,10.0.0.1:443 + 2 more...","5m"]""", Row("", "Endpoints", many));
    }

    [Fact]
    public void ResourceQuota_splits_requests_and_limits()
    {
        Assert.Equal("Name|Request|Limit|Age", Headers("", "ResourceQuota"));
        var quota = Fill("""
            {"metadata":{"name":"compute","creationTimestamp":"%CREATED%"},
             "spec":{"hard":{"pods":"10"}},
             "status":{"hard":{"requests.cpu":"1","pods":"10","limits.memory":"2Gi","limits.cpu":"2","requests.memory":"1Gi"},
                       "used":{"requests.cpu":"500m","pods":"3","limits.cpu":"0"}}}
            """);
        Assert.Equal("""["compute","pods: 3/10, requests.cpu: 500m/1, requests.memory: 0/1Gi","limits.cpu: 0/2, limits.memory: 0/2Gi","5m"]""",
            Row("", "ResourceQuota", quota));
        Assert.Equal("""["empty","","","5m"]""", Row("", "ResourceQuota", Fill("""{"metadata":{"name":"empty","creationTimestamp":"%CREATED%"}}""")));
    }
}
