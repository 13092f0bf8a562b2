using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using static Portcullis.Server.Tests.Defaults.PodDefaultsTests;

namespace Portcullis.Server.Tests.Defaults;

public sealed class KindDefaultsTests
{
    private const string Template = """{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}""";

    private const string DefaultedTemplateSpec = """
        {"containers":[{"name":"web","image":"nginx:1.27","imagePullPolicy":"IfNotPresent",
           "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],
         "dnsPolicy":"ClusterFirst","restartPolicy":"Always","securityContext":{},"terminationGracePeriodSeconds":30,
         "schedulerName":"default-scheduler"}
        """;

    [Fact]
    public void Deployment()
    {
        var d = Apply("apps", "Deployment", """{"metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":@Template@}}""".Replace("@Template@", Template));
        var spec = d["spec"]!.AsObject();
        Assert.Equal(1, (int)spec["replicas"]!);
        AssertJson("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}}""", spec["strategy"]!);
        Assert.Equal(10, (int)spec["revisionHistoryLimit"]!);
        Assert.Equal(600, (int)spec["progressDeadlineSeconds"]!);
        AssertJson(DefaultedTemplateSpec, spec["template"]!["spec"]!);

        var recreate = Apply("apps", "Deployment", """{"spec":{"replicas":0,"strategy":{"type":"Recreate"},"template":@Template@}}""".Replace("@Template@", Template));
        Assert.Equal(0, (int)recreate["spec"]!["replicas"]!);
        AssertJson("""{"type":"Recreate"}""", recreate["spec"]!["strategy"]!);

        var partial = Apply("apps", "Deployment", """{"spec":{"strategy":{"rollingUpdate":{"maxSurge":1}},"template":@Template@}}""".Replace("@Template@", Template));
        AssertJson("""{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":"25%"}}""", partial["spec"]!["strategy"]!);
    }

    [Fact]
    public void ReplicaSet_DaemonSet_StatefulSet()
    {
        var rs = Apply("apps", "ReplicaSet", """{"spec":{"template":@Template@}}""".Replace("@Template@", Template));
        Assert.Equal(1, (int)rs["spec"]!["replicas"]!);
        AssertJson(DefaultedTemplateSpec, rs["spec"]!["template"]!["spec"]!);

        var ds = Apply("apps", "DaemonSet", """{"spec":{"template":@Template@}}""".Replace("@Template@", Template));
        AssertJson("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}""", ds["spec"]!["updateStrategy"]!);
        Assert.Equal(10, (int)ds["spec"]!["revisionHistoryLimit"]!);
        Assert.Null(ds["spec"]!["replicas"]);

        var sts = Apply("apps", "StatefulSet", """
            {"spec":{"serviceName":"web","template":@Template@,
              "volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]}}
            """.Replace("@Template@", Template));
        var spec = sts["spec"]!;
        Assert.Equal("OrderedReady", (string?)spec["podManagementPolicy"]);
        AssertJson("""{"type":"RollingUpdate","rollingUpdate":{"partition":0}}""", spec["updateStrategy"]!);
        AssertJson("""{"whenDeleted":"Retain","whenScaled":"Retain"}""", spec["persistentVolumeClaimRetentionPolicy"]!);
        Assert.Equal(1, (int)spec["replicas"]!);
        Assert.Equal(10, (int)spec["revisionHistoryLimit"]!);
        AssertJson("""
            {"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"www"},
             "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"volumeMode":"Filesystem"},
             "status":{"phase":"Pending"}}
            """, spec["volumeClaimTemplates"]![0]!);

        var onDelete = Apply("apps", "StatefulSet", """{"spec":{"updateStrategy":{"type":"OnDelete"},"template":@Template@}}""".Replace("@Template@", Template));
        AssertJson("""{"type":"OnDelete"}""", onDelete["spec"]!["updateStrategy"]!);
    }

    [Fact]
    public void Service()
    {
        var svc = Apply("", "Service", """{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80},{"name":"named","port":443,"targetPort":"https","protocol":"TCP"}]}}""");
        AssertJson("""
            {"selector":{"app":"web"},
             "ports":[{"port":80,"protocol":"TCP","targetPort":80},{"name":"named","port":443,"targetPort":"https","protocol":"TCP"}],
             "sessionAffinity":"None","type":"ClusterIP","internalTrafficPolicy":"Cluster"}
            """, svc["spec"]!);

        var nodePort = Apply("", "Service", """{"spec":{"type":"NodePort","ports":[{"port":80,"targetPort":0,"protocol":"UDP"}],"sessionAffinity":"None","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":5}}}}""");
        AssertJson("""
            {"type":"NodePort","ports":[{"port":80,"targetPort":80,"protocol":"UDP"}],"sessionAffinity":"None",
             "externalTrafficPolicy":"Cluster","internalTrafficPolicy":"Cluster"}
            """, nodePort["spec"]!);

        var lb = Apply("", "Service", """{"spec":{"type":"LoadBalancer","sessionAffinity":"ClientIP","ports":[{"port":80}]},"status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"},{"hostname":"lb.example.com"}]}}}""");
        Assert.True((bool)lb["spec"]!["allocateLoadBalancerNodePorts"]!);
        AssertJson("""{"clientIP":{"timeoutSeconds":10800}}""", lb["spec"]!["sessionAffinityConfig"]!);
        Assert.Equal("Cluster", (string?)lb["spec"]!["externalTrafficPolicy"]);
        AssertJson("""[{"ip":"1.2.3.4","ipMode":"VIP"},{"hostname":"lb.example.com"}]""", lb["status"]!["loadBalancer"]!["ingress"]!);

        var external = Apply("", "Service", """{"spec":{"type":"ExternalName","externalName":"example.com"}}""");
        AssertJson("""{"type":"ExternalName","externalName":"example.com","sessionAffinity":"None"}""", external["spec"]!);

        var withExternalIps = Apply("", "Service", """{"spec":{"externalIPs":["1.2.3.4"],"ports":[{"port":80}]}}""");
        Assert.Equal("Cluster", (string?)withExternalIps["spec"]!["externalTrafficPolicy"]);
    }

    [Fact]
    public void Job_And_CronJob()
    {
        var job = Apply("batch", "Job", """
            {"metadata":{"name":"pi"},"spec":{"template":{"metadata":{"labels":{"app":"pi"}},"spec":{"restartPolicy":"Never","containers":[{"name":"pi","image":"perl:5.34.0"}]}}}}
            """);
        var spec = job["spec"]!;
        Assert.Equal(1, (int)spec["completions"]!);
        Assert.Equal(1, (int)spec["parallelism"]!);
        Assert.Equal(6, (int)spec["backoffLimit"]!);
        Assert.Equal("NonIndexed", (string?)spec["completionMode"]);
        Assert.False((bool)spec["suspend"]!);
        Assert.False((bool)spec["manualSelector"]!);
        Assert.Equal("TerminatingOrFailed", (string?)spec["podReplacementPolicy"]);
        AssertJson("""{"app":"pi"}""", job["metadata"]!["labels"]!);
        Assert.Equal("Never", (string?)spec["template"]!["spec"]!["restartPolicy"]);
        Assert.Equal("IfNotPresent", (string?)spec["template"]!["spec"]!["containers"]![0]!["imagePullPolicy"]);

        var parallel = Apply("batch", "Job", """
            {"metadata":{"labels":{"own":"label"}},"spec":{"parallelism":3,"completionMode":"Indexed","backoffLimitPerIndex":1,
              "podFailurePolicy":{"rules":[{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget"}]}]},
              "template":{"metadata":{"labels":{"app":"pi"}},"spec":{"containers":[]}}}}
            """);
        Assert.Null(parallel["spec"]!["completions"]);
        Assert.Equal(3, (int)parallel["spec"]!["parallelism"]!);
        Assert.Equal(int.MaxValue, (int)parallel["spec"]!["backoffLimit"]!);
        Assert.Equal("Indexed", (string?)parallel["spec"]!["completionMode"]);
        Assert.Equal("Failed", (string?)parallel["spec"]!["podReplacementPolicy"]);
        Assert.Equal("True", (string?)parallel["spec"]!["podFailurePolicy"]!["rules"]![0]!["onPodConditions"]![0]!["status"]);
        AssertJson("""{"own":"label"}""", parallel["metadata"]!["labels"]!);

        var cron = Apply("batch", "CronJob", """
            {"spec":{"schedule":"*/1 * * * *","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}}}}
            """);
        var cs = cron["spec"]!;
        Assert.Equal("Allow", (string?)cs["concurrencyPolicy"]);
        Assert.False((bool)cs["suspend"]!);
        Assert.Equal(3, (int)cs["successfulJobsHistoryLimit"]!);
        Assert.Equal(1, (int)cs["failedJobsHistoryLimit"]!);
        // The job template is not a Job: only its pod template is defaulted.
        var jobSpec = cs["jobTemplate"]!["spec"]!;
        Assert.Null(jobSpec["backoffLimit"]);
        Assert.Null(jobSpec["completions"]);
        Assert.Equal("Always", (string?)jobSpec["template"]!["spec"]!["containers"]![0]!["imagePullPolicy"]);
        Assert.Equal("default-scheduler", (string?)jobSpec["template"]!["spec"]!["schedulerName"]);

        // In 1.33.0 only a Job's onPodConditions patterns get status True (kubernetes/kubernetes#131525 came later).
        var cronWithPolicy = Apply("batch", "CronJob", """
            {"spec":{"schedule":"*/1 * * * *","jobTemplate":{"spec":{"podFailurePolicy":{"rules":[{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget"}]}]},
              "template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}}}
            """);
        AssertJson("""{"type":"DisruptionTarget"}""", cronWithPolicy["spec"]!["jobTemplate"]!["spec"]!["podFailurePolicy"]!["rules"]![0]!["onPodConditions"]![0]!);
    }

    [Fact]
    public void RbacBindings_DefaultApiGroups()
    {
        const string body = """
            {"roleRef":{"kind":"ClusterRole","name":"view"},
             "subjects":[{"kind":"User","name":"alice"},{"kind":"Group","name":"devs"},
                         {"kind":"ServiceAccount","name":"sa","namespace":"default"},{"kind":"User","name":"bob","apiGroup":"example.com"}]}
            """;
        foreach (var kind in (string[])["RoleBinding", "ClusterRoleBinding"])
        {
            var binding = Apply("rbac.authorization.k8s.io", kind, body);
            AssertJson("""
                {"roleRef":{"kind":"ClusterRole","name":"view","apiGroup":"rbac.authorization.k8s.io"},
                 "subjects":[{"kind":"User","name":"alice","apiGroup":"rbac.authorization.k8s.io"},
                             {"kind":"Group","name":"devs","apiGroup":"rbac.authorization.k8s.io"},
                             {"kind":"ServiceAccount","name":"sa","namespace":"default"},
                             {"kind":"User","name":"bob","apiGroup":"example.com"}]}
                """, binding);
        }
        Assert.False(Kinds.HasDefaults("rbac.authorization.k8s.io", "Role"));
        Assert.False(Kinds.HasDefaults("rbac.authorization.k8s.io", "ClusterRole"));
    }

    [Fact]
    public void Namespace_Secret_ConfigMap_Node()
    {
        var ns = Apply("", "Namespace", """{"metadata":{"name":"team-a","labels":{"kubernetes.io/metadata.name":"spoofed","x":"y"}}}""");
        AssertJson("""{"metadata":{"name":"team-a","labels":{"kubernetes.io/metadata.name":"team-a","x":"y"}},"status":{"phase":"Active"}}""", ns);

        var secret = Apply("", "Secret", """{"metadata":{"name":"s"},"data":{"a":"YQ=="},"stringData":{"b":"hello","a":"x"}}""");
        AssertJson("""{"metadata":{"name":"s"},"data":{"a":"eA==","b":"aGVsbG8="},"type":"Opaque"}""", secret);
        var typed = Apply("", "Secret", """{"type":"kubernetes.io/tls"}""");
        Assert.Equal("kubernetes.io/tls", (string?)typed["type"]);

        Assert.False(Kinds.HasDefaults("", "ConfigMap"));
        Assert.False(Kinds.HasDefaults("", "ServiceAccount"));
        Assert.False(Kinds.HasDefaults("coordination.k8s.io", "Lease"));
        Assert.False(Kinds.HasDefaults("policy", "PodDisruptionBudget"));
        Assert.False(Kinds.HasDefaults("networking.k8s.io", "Ingress"));

        var node = Apply("", "Node", """{"spec":{"podCIDR":"10.244.0.0/24"},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""");
        AssertJson("""{"cpu":"4","memory":"8Gi"}""", node["status"]!["allocatable"]!);
        AssertJson("""["10.244.0.0/24"]""", node["spec"]!["podCIDRs"]!);
    }

    [Fact]
    public void LimitRange_ResourceQuota_Endpoints_NetworkPolicy()
    {
        var lr = Apply("", "LimitRange", """{"spec":{"limits":[{"type":"Container","max":{"cpu":"2","memory":"1Gi"},"min":{"cpu":"100m","memory":"4Mi"},"default":{"memory":"512Mi"}},{"type":"Pod","max":{"cpu":"4"}}]}}""");
        var container = lr["spec"]!["limits"]![0]!;
        AssertJson("""{"memory":"512Mi","cpu":"2"}""", container["default"]!);
        AssertJson("""{"memory":"512Mi","cpu":"2"}""", container["defaultRequest"]!);
        Assert.Null(lr["spec"]!["limits"]![1]!["default"]);

        var quota = Apply("", "ResourceQuota", """{"spec":{"hard":{"cpu":"0.0005","pods":"10"}}}""");
        AssertJson("""{"cpu":"1m","pods":"10"}""", quota["spec"]!["hard"]!);

        var ep = Apply("", "Endpoints", """{"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80},{"port":53,"protocol":"UDP"}]}]}""");
        AssertJson("""[{"port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]""", ep["subsets"]![0]!["ports"]!);

        var np = Apply("networking.k8s.io", "NetworkPolicy", """{"spec":{"podSelector":{},"ingress":[{"ports":[{"port":80}]}]}}""");
        AssertJson("""{"podSelector":{},"ingress":[{"ports":[{"port":80,"protocol":"TCP"}]}],"policyTypes":["Ingress"]}""", np["spec"]!);
        var egress = Apply("networking.k8s.io", "NetworkPolicy", """{"spec":{"podSelector":{},"egress":[{"ports":[{"port":53,"protocol":"UDP"}]}]}}""");
        AssertJson("""["Ingress","Egress"]""", egress["spec"]!["policyTypes"]!);
        var explicitTypes = Apply("networking.k8s.io", "NetworkPolicy", """{"spec":{"podSelector":{},"policyTypes":["Egress"]}}""");
        AssertJson("""["Egress"]""", explicitTypes["spec"]!["policyTypes"]!);
    }
}
