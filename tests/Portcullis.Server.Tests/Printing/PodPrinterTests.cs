using static Portcullis.Server.Tests.Printing.PrintingTestKit;

namespace Portcullis.Server.Tests.Printing;

public class PodPrinterTests
{
    private static string Created => Ago(TimeSpan.FromMinutes(5));

    /// <summary>A pod named like the e2e seed with the given status (and optional extra spec fields).</summary>
    private static string Pod(string status, string extraSpec = "", string extraMeta = "") => """
        {"metadata":{"name":"test-pod","namespace":"default","creationTimestamp":"%CREATED%"%META%},
         "spec":{"serviceAccountName":"demo-sa","containers":[{"name":"test-container","image":"curlimages/curl"}]%SPEC%},
         "status":%STATUS%}
        """.Replace("%CREATED%", Created).Replace("%META%", extraMeta).Replace("%SPEC%", extraSpec).Replace("%STATUS%", status);

    [Fact]
    public void Columns_match_upstream()
    {
        Assert.Equal("Name|Ready|Status|Restarts|Age|IP*|Node*|Nominated Node*|Readiness Gates*", Headers("", "Pod"));
        Assert.Equal("string|string|string|string|string|string|string|string|string", Types("", "Pod"));
        AssertWellFormed("", "Pod", Parse(Pod("{}")));
    }

    [Fact]
    public void Seed_pod_running_and_ready()
    {
        var json = Pod("""
            {"phase":"Running","podIP":"10.244.0.5","podIPs":[{"ip":"10.244.0.5"}],
             "conditions":[{"type":"Ready","status":"True"}],
             "containerStatuses":[{"name":"test-container","ready":true,"restartCount":0,"started":true,
               "state":{"running":{"startedAt":"2025-05-01T11:55:10Z"}}}]}
            """, extraSpec: ""","nodeName":"node-1" """);
        Assert.Equal("""["test-pod","1/1","Running","0","5m","10.244.0.5","node-1","<none>","<none>"]""", Row("", "Pod", json));
    }

    [Fact]
    public void Freshly_created_pod_is_pending_with_nothing_known()
    {
        Assert.Equal("""["test-pod","0/1","Pending","0","5m","<none>","<none>","<none>","<none>"]""",
            Row("", "Pod", Pod("""{"phase":"Pending"}""")));
    }

    [Fact]
    public void Waiting_container_shows_its_reason()
    {
        var json = Pod("""
            {"phase":"Pending","containerStatuses":[{"name":"test-container","ready":false,"restartCount":0,
              "state":{"waiting":{"reason":"ContainerCreating"}}}]}
            """);
        Assert.Equal("""["test-pod","0/1","ContainerCreating","0","5m","<none>","<none>","<none>","<none>"]""", Row("", "Pod", json));
    }

    [Fact]
    public void Crash_looping_container_shows_restarts_with_last_restart_age()
    {
        var json = Pod("""
            {"phase":"Running","containerStatuses":[{"name":"test-container","ready":false,"restartCount":4,
              "state":{"waiting":{"reason":"CrashLoopBackOff"}},
              "lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":"%T%"}}}]}
            """.Replace("%T%", Ago(TimeSpan.FromSeconds(65))));
        Assert.Equal("""["test-pod","0/1","CrashLoopBackOff","4 (65s ago)","5m","<none>","<none>","<none>","<none>"]""", Row("", "Pod", json));
    }

    [Fact]
    public void Restarts_without_a_termination_time_have_no_suffix()
    {
        var json = Pod("""
            {"phase":"Running","containerStatuses":[{"name":"test-container","ready":true,"restartCount":2,
              "state":{"running":{}}}]}
            """);
        Assert.Equal("""["test-pod","1/1","Running","2","5m","<none>","<none>","<none>","<none>"]""", Row("", "Pod", json));
    }

    [Fact]
    public void Terminating_pod()
    {
        var json = Pod("""
            {"phase":"Running","containerStatuses":[{"name":"test-container","ready":true,"restartCount":0,"state":{"running":{}}}]}
            """, extraMeta: ""","deletionTimestamp":"%T%","deletionGracePeriodSeconds":30""".Replace("%T%", Ago(TimeSpan.FromSeconds(3))));
        Assert.Equal("""["test-pod","1/1","Terminating","0","5m","<none>","<none>","<none>","<none>"]""", Row("", "Pod", json));
    }

    [Fact]
    public void Deleted_pod_on_lost_node_is_unknown_and_finished_pod_keeps_its_phase()
    {
        var lost = Pod("""{"phase":"Running","reason":"NodeLost"}""", extraMeta: ""","deletionTimestamp":"2025-05-01T11:59:00Z" """);
        Assert.Contains("\"Unknown\"", Row("", "Pod", lost));
        var done = Pod("""{"phase":"Succeeded"}""", extraMeta: ""","deletionTimestamp":"2025-05-01T11:59:00Z" """);
        Assert.Contains("\"Succeeded\"", Row("", "Pod", done));
    }

    [Fact]
    public void Completed_and_failed_containers()
    {
        var completed = Pod("""
            {"phase":"Succeeded","containerStatuses":[{"name":"test-container","ready":false,"restartCount":0,
              "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}
            """);
        Assert.Equal("""["test-pod","0/1","Completed","0","5m","<none>","<none>","<none>","<none>"]""", Row("", "Pod", completed));

        var signal = Pod("""
            {"phase":"Failed","containerStatuses":[{"name":"test-container","restartCount":0,"state":{"terminated":{"exitCode":137,"signal":9}}}]}
            """);
        Assert.Contains("\"Signal:9\"", Row("", "Pod", signal));
        var exit = Pod("""
            {"phase":"Failed","containerStatuses":[{"name":"test-container","restartCount":0,"state":{"terminated":{"exitCode":3}}}]}
            """);
        Assert.Contains("\"ExitCode:3\"", Row("", "Pod", exit));
    }

    [Fact]
    public void Completed_container_beside_a_running_one_is_running_or_not_ready()
    {
        string TwoContainers(string conditions) => """
            {"metadata":{"name":"p","creationTimestamp":"%CREATED%"},
             "spec":{"containers":[{"name":"a"},{"name":"b"}]},
             "status":{"phase":"Running","conditions":%CONDITIONS%,"containerStatuses":[
               {"name":"a","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
               {"name":"b","ready":true,"restartCount":0,"state":{"running":{}}}]}}
            """.Replace("%CREATED%", Created).Replace("%CONDITIONS%", conditions);
        Assert.StartsWith("""["p","1/2","Running",""", Row("", "Pod", TwoContainers("""[{"type":"Ready","status":"True"}]""")));
        Assert.StartsWith("""["p","1/2","NotReady",""", Row("", "Pod", TwoContainers("""[{"type":"Ready","status":"False"}]""")));
    }

    [Fact]
    public void Init_containers_show_progress_and_failures()
    {
        string WithInit(string initStatuses) => Pod("""
            {"phase":"Pending","initContainerStatuses":%INIT%,
             "containerStatuses":[{"name":"test-container","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]}
            """.Replace("%INIT%", initStatuses), extraSpec: ""","initContainers":[{"name":"init-a"},{"name":"init-b"}]""");

        var running = WithInit("""
            [{"name":"init-a","restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
             {"name":"init-b","restartCount":0,"state":{"running":{}}}]
            """);
        Assert.Equal("""["test-pod","0/1","Init:1/2","0","5m","<none>","<none>","<none>","<none>"]""", Row("", "Pod", running));

        var crashing = WithInit("""
            [{"name":"init-a","restartCount":3,"state":{"waiting":{"reason":"CrashLoopBackOff"}},
              "lastState":{"terminated":{"exitCode":1,"finishedAt":"%T%"}}}]
            """.Replace("%T%", Ago(TimeSpan.FromMinutes(2))));
        Assert.Equal("""["test-pod","0/1","Init:CrashLoopBackOff","3 (2m ago)","5m","<none>","<none>","<none>","<none>"]""", Row("", "Pod", crashing));

        var failed = WithInit("""[{"name":"init-a","restartCount":0,"state":{"terminated":{"exitCode":2}}}]""");
        Assert.Contains("\"Init:ExitCode:2\"", Row("", "Pod", failed));
        var errored = WithInit("""[{"name":"init-a","restartCount":0,"state":{"terminated":{"exitCode":1,"reason":"Error"}}}]""");
        Assert.Contains("\"Init:Error\"", Row("", "Pod", errored));
        var initializing = WithInit("""[{"name":"init-a","restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]""");
        Assert.Contains("\"Init:0/2\"", Row("", "Pod", initializing));
    }

    [Fact]
    public void Sidecar_init_containers_count_as_containers()
    {
        var json = Pod("""
            {"phase":"Running","conditions":[{"type":"Initialized","status":"True"},{"type":"Ready","status":"True"}],
             "initContainerStatuses":[{"name":"proxy","ready":true,"started":true,"restartCount":1,"state":{"running":{}}}],
             "containerStatuses":[{"name":"test-container","ready":true,"restartCount":2,"state":{"running":{}}}]}
            """, extraSpec: ""","initContainers":[{"name":"proxy","restartPolicy":"Always"}]""");
        Assert.Equal("""["test-pod","2/2","Running","3","5m","<none>","<none>","<none>","<none>"]""", Row("", "Pod", json));
    }

    [Fact]
    public void Scheduling_gated_pod()
    {
        var json = Pod("""{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}""");
        Assert.Contains("\"SchedulingGated\"", Row("", "Pod", json));
    }

    [Fact]
    public void Wide_columns_report_ip_nodes_and_readiness_gates()
    {
        var json = Pod("""
            {"phase":"Pending","nominatedNodeName":"node-2","podIPs":[{"ip":"fd00::5"},{"ip":"10.0.0.5"}],
             "conditions":[{"type":"example.com/ready","status":"True"},{"type":"example.com/other","status":"False"}]}
            """, extraSpec: ""","nodeName":"node-1","readinessGates":[{"conditionType":"example.com/ready"},{"conditionType":"example.com/other"},{"conditionType":"example.com/missing"}]""");
        Assert.EndsWith("""
            "fd00::5","node-1","node-2","1/3"]
            """.Trim(), Row("", "Pod", json));
    }

    [Fact]
    public void Missing_creation_timestamp_is_unknown_age()
    {
        var json = """{"metadata":{"name":"x"},"spec":{"containers":[]},"status":{"phase":"Running"}}""";
        Assert.Equal("""["x","0/0","Running","0","<unknown>","<none>","<none>","<none>","<none>"]""", Row("", "Pod", json));
    }
}
