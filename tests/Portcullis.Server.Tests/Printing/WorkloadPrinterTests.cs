using static Portcullis.Server.Tests.Printing.PrintingTestKit;

namespace Portcullis.Server.Tests.Printing;

public class WorkloadPrinterTests
{
    private const string Template = """
        "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"},{"name":"log","image":"busybox"}]}}
        """;

    [Fact]
    public void Deployment()
    {
        Assert.Equal("Name|Ready|Up-to-date|Available|Age|Containers*|Images*|Selector*", Headers("apps", "Deployment"));
        var d = Fill("""
            {"metadata":{"name":"web","creationTimestamp":"%CREATED%"},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"env","operator":"In","values":["prod","dev"]},{"key":"legacy","operator":"DoesNotExist"}]},%TEMPLATE%},
             "status":{"replicas":3,"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}}
            """.Replace("%TEMPLATE%", Template));
        Assert.Equal("""["web","2/3",3,2,"5m","nginx,log","nginx:1.27,busybox","app=web,env in (dev,prod),!legacy"]""", Row("apps", "Deployment", d));
        AssertWellFormed("apps", "Deployment", Parse(d));

        var fresh = Fill("""{"metadata":{"name":"new","creationTimestamp":"%CREATED%"},"spec":{"selector":{}}}""");
        Assert.Equal("""["new","0/1",0,0,"5m","","",""]""", Row("apps", "Deployment", fresh));
        var bad = Fill("""{"metadata":{"name":"bad","creationTimestamp":"%CREATED%"},"spec":{"selector":{"matchExpressions":[{"key":"a","operator":"Near"}]}}}""");
        Assert.EndsWith("""
            "<invalid>"]
            """.Trim(), Row("apps", "Deployment", bad));
    }

    [Fact]
    public void Scale()
    {
        Assert.Equal("Name|Desired|Available|Age", Headers("autoscaling", "Scale"));
        Assert.Equal("string|integer|integer|string", Types("autoscaling", "Scale"));
        var scale = Fill("""{"metadata":{"name":"web","creationTimestamp":"%CREATED%"},"spec":{"replicas":3},"status":{"replicas":1,"selector":"app=web"}}""");
        Assert.Equal("""["web",3,1,"5m"]""", Row("autoscaling", "Scale", scale));
        Assert.Equal("""["zero",0,0,"5m"]""", Row("autoscaling", "Scale", Fill("""{"metadata":{"name":"zero","creationTimestamp":"%CREATED%"},"spec":{},"status":{"replicas":0}}""")));
    }

    [Fact]
    public void ReplicationController()
    {
        Assert.Equal("Name|Desired|Current|Ready|Age|Containers*|Images*|Selector*", Headers("", "ReplicationController"));
        Assert.Equal("string|integer|integer|integer|string|string|string|string", Types("", "ReplicationController"));
        var rc = Fill("""
            {"metadata":{"name":"legacy","creationTimestamp":"%CREATED%"},
             "spec":{"replicas":3,"selector":{"tier":"fe","app":"web"},%TEMPLATE%},
             "status":{"replicas":2,"readyReplicas":1}}
            """.Replace("%TEMPLATE%", Template));
        // The selector is a plain label map, printed as labels are.
        Assert.Equal("""["legacy",3,2,1,"5m","nginx,log","nginx:1.27,busybox","app=web,tier=fe"]""", Row("", "ReplicationController", rc));
        AssertWellFormed("", "ReplicationController", Parse(rc));
        var bare = Fill("""{"metadata":{"name":"x","creationTimestamp":"%CREATED%"},"spec":{"replicas":0}}""");
        Assert.Equal("""["x",0,0,0,"5m","","","<none>"]""", Row("", "ReplicationController", bare));
    }

    [Fact]
    public void ReplicaSet()
    {
        Assert.Equal("Name|Desired|Current|Ready|Age|Containers*|Images*|Selector*", Headers("apps", "ReplicaSet"));
        Assert.Equal("string|integer|integer|integer|string|string|string|string", Types("apps", "ReplicaSet"));
        var rs = Fill("""
            {"metadata":{"name":"web-5d4f","creationTimestamp":"%CREATED%"},
             "spec":{"replicas":2,"selector":{"matchLabels":{"pod-template-hash":"5d4f","app":"web"}},%TEMPLATE%},
             "status":{"replicas":2,"readyReplicas":1}}
            """.Replace("%TEMPLATE%", Template));
        Assert.Equal("""["web-5d4f",2,2,1,"5m","nginx,log","nginx:1.27,busybox","app=web,pod-template-hash=5d4f"]""", Row("apps", "ReplicaSet", rs));
        var noSelector = Fill("""{"metadata":{"name":"x","creationTimestamp":"%CREATED%"},"spec":{"replicas":0}}""");
        Assert.Equal("""["x",0,0,0,"5m","","","<none>"]""", Row("apps", "ReplicaSet", noSelector));
    }

    [Fact]
    public void StatefulSet()
    {
        Assert.Equal("Name|Ready|Age|Containers*|Images*", Headers("apps", "StatefulSet"));
        var sts = Fill("""
            {"metadata":{"name":"db","creationTimestamp":"%CREATED%"},"spec":{"replicas":3,%TEMPLATE%},"status":{"readyReplicas":3}}
            """.Replace("%TEMPLATE%", Template));
        Assert.Equal("""["db","3/3","5m","nginx,log","nginx:1.27,busybox"]""", Row("apps", "StatefulSet", sts));
    }

    [Fact]
    public void DaemonSet()
    {
        Assert.Equal("Name|Desired|Current|Ready|Up-to-date|Available|Node Selector|Age|Containers*|Images*|Selector*", Headers("apps", "DaemonSet"));
        var ds = Fill("""
            {"metadata":{"name":"kube-proxy","creationTimestamp":"%CREATED%"},
             "spec":{"selector":{"matchLabels":{"k8s-app":"kube-proxy"}},
               "template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},"containers":[{"name":"kube-proxy","image":"registry.k8s.io/kube-proxy:v1.33.1"}]}}},
             "status":{"desiredNumberScheduled":3,"currentNumberScheduled":3,"numberReady":2,"updatedNumberScheduled":3,"numberAvailable":2}}
            """);
        Assert.Equal("""["kube-proxy",3,3,2,3,2,"kubernetes.io/os=linux","5m","kube-proxy","registry.k8s.io/kube-proxy:v1.33.1","k8s-app=kube-proxy"]""",
            Row("apps", "DaemonSet", ds));
    }

    [Fact]
    public void Job_status_completions_and_duration()
    {
        Assert.Equal("Name|Status|Completions|Duration|Age|Containers*|Images*|Selector*", Headers("batch", "Job"));
        string Job(string spec, string status, string meta = "") => Fill("""
            {"metadata":{"name":"pi","creationTimestamp":"%CREATED%"%META%},
             "spec":{"selector":{"matchLabels":{"batch.kubernetes.io/controller-uid":"u1"}},"template":{"spec":{"containers":[{"name":"pi","image":"perl"}]}}%SPEC%},
             "status":%STATUS%}
            """.Replace("%META%", meta).Replace("%SPEC%", spec).Replace("%STATUS%", status),
            ("START", TimeSpan.FromMinutes(4)), ("DONE", TimeSpan.FromSeconds(110)));

        var complete = Job(""","completions":1,"parallelism":1""",
            """{"succeeded":1,"startTime":"%START%","completionTime":"%DONE%","conditions":[{"type":"SuccessCriteriaMet","status":"True"},{"type":"Complete","status":"True"}]}""");
        Assert.Equal("""["pi","Complete","1/1","2m10s","5m","pi","perl","batch.kubernetes.io/controller-uid=u1"]""", Row("batch", "Job", complete));

        var running = Job(""","completions":5""", """{"succeeded":2,"startTime":"%START%"}""");
        Assert.StartsWith("""["pi","Running","2/5","4m","5m",""", Row("batch", "Job", running));

        var workQueue = Job(""","parallelism":3""", """{"conditions":[{"type":"Suspended","status":"True"}]}""");
        Assert.StartsWith("""["pi","Suspended","0/1 of 3","","5m",""", Row("batch", "Job", workQueue));

        var failed = Job("", """{"conditions":[{"type":"FailureTarget","status":"True"},{"type":"Failed","status":"True"}]}""");
        Assert.StartsWith("""["pi","Failed","0/1",""", Row("batch", "Job", failed));

        var failing = Job("", """{"conditions":[{"type":"FailureTarget","status":"True"}]}""");
        Assert.StartsWith("""["pi","FailureTarget",""", Row("batch", "Job", failing));

        var deleting = Job("", """{"conditions":[{"type":"Suspended","status":"True"}]}""", meta: ""","deletionTimestamp":"2025-05-01T11:59:00Z" """);
        Assert.StartsWith("""["pi","Terminating",""", Row("batch", "Job", deleting));
    }

    [Fact]
    public void CronJob()
    {
        Assert.Equal("Name|Schedule|Timezone|Suspend|Active|Last Schedule|Age|Containers*|Images*|Selector*", Headers("batch", "CronJob"));
        Assert.Equal("string|string|string|boolean|integer|string|string|string|string|string", Types("batch", "CronJob"));
        var cj = Fill("""
            {"metadata":{"name":"hello","creationTimestamp":"%CREATED%"},
             "spec":{"schedule":"*/1 * * * *","suspend":false,
               "jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"hello","image":"busybox:1.28"}]}}}}},
             "status":{"active":[{"name":"hello-1"}],"lastScheduleTime":"%LAST%"}}
            """, ("LAST", TimeSpan.FromSeconds(20)));
        Assert.Equal("""["hello","*/1 * * * *","<none>","False",1,"20s","5m","hello","busybox:1.28","<none>"]""", Row("batch", "CronJob", cj));

        var suspended = Fill("""
            {"metadata":{"name":"nightly","creationTimestamp":"%CREATED%"},
             "spec":{"schedule":"0 3 * * *","timeZone":"Europe/Paris","suspend":true,"jobTemplate":{"spec":{"template":{"spec":{"containers":[]}}}}}}
            """);
        Assert.Equal("""["nightly","0 3 * * *","Europe/Paris","True",0,"<none>","5m","","","<none>"]""", Row("batch", "CronJob", suspended));
    }
}
