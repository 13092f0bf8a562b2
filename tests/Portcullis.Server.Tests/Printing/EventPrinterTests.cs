using static Portcullis.Server.Tests.Printing.PrintingTestKit;

namespace Portcullis.Server.Tests.Printing;

public class EventPrinterTests
{
    private const string Headings = "Last Seen|Type|Reason|Object|Subobject*|Source*|Message|First Seen*|Count*|Name*";

    [Fact]
    public void Columns_match_upstream_in_both_groups()
    {
        Assert.Equal(Headings, Headers("", "Event"));
        Assert.Equal(Headings, Headers("events.k8s.io", "Event"));
        var name = Kinds.Of("", "Event").Printer.Columns[^1];
        Assert.Equal("name", name.Format);
    }

    [Fact]
    public void Core_event_with_counts_and_timestamps()
    {
        var ev = Fill("""
            {"metadata":{"name":"test-pod.17f","creationTimestamp":"%CREATED%"},
             "involvedObject":{"kind":"Pod","name":"test-pod","fieldPath":"spec.containers{test-container}"},
             "reason":"Pulled","message":"  Successfully pulled image  \n","type":"Normal","count":3,
             "source":{"component":"kubelet","host":"node-1"},
             "firstTimestamp":"%FIRST%","lastTimestamp":"%LAST%"}
            """, ("FIRST", TimeSpan.FromMinutes(4)), ("LAST", TimeSpan.FromSeconds(39)));
        Assert.Equal("""["39s","Normal","Pulled","pod/test-pod","spec.containers{test-container}","kubelet, node-1","Successfully pulled image","4m",3,"test-pod.17f"]""",
            Row("", "Event", ev));
    }

    [Fact]
    public void Core_event_written_the_new_way_falls_back_to_event_time_and_reporter()
    {
        var ev = """
            {"metadata":{"name":"e1"},"involvedObject":{"kind":"Node"},"reason":"Starting","type":"Normal",
             "eventTime":"%MICRO%","reportingComponent":"kube-proxy","reportingInstance":"","source":{}}
            """.Replace("%MICRO%", MicroAgo(TimeSpan.FromSeconds(130)));
        Assert.Equal("""["2m10s","Normal","Starting","node","","kube-proxy","","2m10s",1,"e1"]""", Row("", "Event", ev));

        var unknown = """{"metadata":{"name":"e2"},"involvedObject":{"kind":"Pod","name":"p"},"reason":"X","type":"Warning"}""";
        Assert.Equal("""["<unknown>","Warning","X","pod/p","","","","<unknown>",1,"e2"]""", Row("", "Event", unknown));
    }

    [Fact]
    public void Series_sets_last_seen_and_count()
    {
        var ev = """
            {"metadata":{"name":"e3"},"involvedObject":{"kind":"Pod","name":"p"},"reason":"BackOff","type":"Warning","message":"Back-off",
             "eventTime":"%FIRST%","series":{"count":7,"lastObservedTime":"%LAST%"},"reportingComponent":"kubelet","reportingInstance":"node-1"}
            """.Replace("%FIRST%", MicroAgo(TimeSpan.FromHours(3))).Replace("%LAST%", MicroAgo(TimeSpan.FromSeconds(5)));
        Assert.Equal("""["5s","Warning","BackOff","pod/p","","kubelet, node-1","Back-off","3h",7,"e3"]""", Row("", "Event", ev));
    }

    [Fact]
    public void Events_v1_fields_map_onto_the_same_columns()
    {
        var ev = Fill("""
            {"metadata":{"name":"test-pod.17f","creationTimestamp":"%CREATED%"},
             "regarding":{"kind":"Pod","name":"test-pod","fieldPath":"spec.containers{c}"},
             "reason":"Pulled","note":"pulled","type":"Normal","deprecatedCount":2,
             "deprecatedSource":{"component":"kubelet"},"reportingController":"ignored-when-source-set","reportingInstance":"node-9",
             "deprecatedFirstTimestamp":"%FIRST%","deprecatedLastTimestamp":"%LAST%"}
            """, ("FIRST", TimeSpan.FromMinutes(4)), ("LAST", TimeSpan.FromSeconds(39)));
        Assert.Equal("""["39s","Normal","Pulled","pod/test-pod","spec.containers{c}","kubelet, node-9","pulled","4m",2,"test-pod.17f"]""",
            Row("events.k8s.io", "Event", ev));
    }
}
