using static Portcullis.Server.Tests.Printing.PrintingTestKit;

namespace Portcullis.Server.Tests.Printing;

public class MiscPrinterTests
{
    private const string Rbac = "rbac.authorization.k8s.io";

    [Fact]
    public void RoleBinding_and_ClusterRoleBinding()
    {
        foreach (var kind in new[] { "RoleBinding", "ClusterRoleBinding" })
        {
            Assert.Equal("Name|Role|Age|Users*|Groups*|ServiceAccounts*", Headers(Rbac, kind));
            var b = Fill("""
                {"metadata":{"name":"read","creationTimestamp":"%CREATED%"},
                 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
                 "subjects":[{"kind":"User","name":"jane"},{"kind":"Group","name":"devs"},{"kind":"User","name":"bob"},
                             {"kind":"ServiceAccount","name":"demo-sa","namespace":"default"},{"kind":"Robot","name":"r2"}]}
                """);
            Assert.Equal("""["read","ClusterRole/view","5m","jane, bob","devs","default/demo-sa"]""", Row(Rbac, kind, b));
            Assert.Equal("""["empty","Role/r","5m","","",""]""", Row(Rbac, kind,
                Fill("""{"metadata":{"name":"empty","creationTimestamp":"%CREATED%"},"roleRef":{"kind":"Role","name":"r"}}""")));
        }
    }

    [Fact]
    public void NetworkPolicy()
    {
        Assert.Equal("Name|Pod-Selector|Age", Headers("networking.k8s.io", "NetworkPolicy"));
        Assert.Equal("""["deny-all","<none>","5m"]""", Row("networking.k8s.io", "NetworkPolicy",
            Fill("""{"metadata":{"name":"deny-all","creationTimestamp":"%CREATED%"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}""")));
        Assert.Equal("""["db","role=db","5m"]""", Row("networking.k8s.io", "NetworkPolicy",
            Fill("""{"metadata":{"name":"db","creationTimestamp":"%CREATED%"},"spec":{"podSelector":{"matchLabels":{"role":"db"}}}}""")));
    }

    [Fact]
    public void Ingress()
    {
        Assert.Equal("Name|Class|Hosts|Address|Ports|Age", Headers("networking.k8s.io", "Ingress"));
        var ing = Fill("""
            {"metadata":{"name":"web","creationTimestamp":"%CREATED%"},
             "spec":{"ingressClassName":"nginx","tls":[{"hosts":["a.example.com"]}],
               "rules":[{"host":"a.example.com"},{"host":"b.example.com"},{},{"host":"c.example.com"},{"host":"d.example.com"}]},
             "status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.9"},{"hostname":"lb.example.com"}]}}}
            """);
        Assert.Equal("""["web","nginx","a.example.com,b.example.com,c.example.com + 2 more...","10.0.0.9,lb.example.com","80, 443","5m"]""",
            Row("networking.k8s.io", "Ingress", ing));
        var bare = Fill("""{"metadata":{"name":"any","creationTimestamp":"%CREATED%"},"spec":{"defaultBackend":{"service":{"name":"s","port":{"number":80}}}}}""");
        Assert.Equal("""["any","<none>","*","","80","5m"]""", Row("networking.k8s.io", "Ingress", bare));
    }

    [Fact]
    public void PodDisruptionBudget()
    {
        Assert.Equal("Name|Min Available|Max Unavailable|Allowed Disruptions|Age", Headers("policy", "PodDisruptionBudget"));
        Assert.Equal("""["pdb","2","N/A",1,"5m"]""", Row("policy", "PodDisruptionBudget",
            Fill("""{"metadata":{"name":"pdb","creationTimestamp":"%CREATED%"},"spec":{"minAvailable":2},"status":{"disruptionsAllowed":1}}""")));
        Assert.Equal("""["pct","N/A","25%",0,"5m"]""", Row("policy", "PodDisruptionBudget",
            Fill("""{"metadata":{"name":"pct","creationTimestamp":"%CREATED%"},"spec":{"maxUnavailable":"25%"}}""")));
    }

    [Fact]
    public void Lease()
    {
        Assert.Equal("Name|Holder|Age", Headers("coordination.k8s.io", "Lease"));
        Assert.Equal("""["kube-scheduler","node-1_5f2c","5m"]""", Row("coordination.k8s.io", "Lease",
            Fill("""{"metadata":{"name":"kube-scheduler","creationTimestamp":"%CREATED%"},"spec":{"holderIdentity":"node-1_5f2c","leaseDurationSeconds":15}}""")));
        Assert.Equal("""["free","","5m"]""", Row("coordination.k8s.io", "Lease", Fill("""{"metadata":{"name":"free","creationTimestamp":"%CREATED%"},"spec":{}}""")));
    }

    [Fact]
    public void Every_printer_is_well_formed_even_for_a_bare_object()
    {
        var bare = Parse("""{"metadata":{"name":"x"}}""");
        foreach (var (group, kind) in new[]
        {
            ("", "Pod"), ("", "Namespace"), ("", "ServiceAccount"), ("", "Secret"), ("", "ConfigMap"), ("", "Node"), ("", "Event"),
            ("", "Service"), ("", "Endpoints"), ("", "LimitRange"), ("", "ResourceQuota"), (Rbac, "RoleBinding"), (Rbac, "ClusterRoleBinding"),
            (Rbac, "Role"), (Rbac, "ClusterRole"), ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
            ("batch", "Job"), ("batch", "CronJob"), ("networking.k8s.io", "NetworkPolicy"), ("networking.k8s.io", "Ingress"),
            ("policy", "PodDisruptionBudget"), ("coordination.k8s.io", "Lease"), ("events.k8s.io", "Event"),
        })
            AssertWellFormed(group, kind, bare);
    }
}
