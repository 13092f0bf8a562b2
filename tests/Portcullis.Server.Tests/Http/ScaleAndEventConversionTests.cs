using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Resources.Events;
using Portcullis.Server.Http.Handlers;

namespace Portcullis.Server.Tests.Http;

/// <summary>The Scale view of a workload, and the core/v1 ⇄ events.k8s.io/v1 Event conversion.</summary>
public class ScaleAndEventConversionTests
{
    private static ResourceDefinition Def(string group, string plural) => BuiltinResources.All.Single(d => d.Group == group && d.Plural == plural);

    [Fact]
    public void Scale_of_a_deployment_is_upstreams_autoscaling_v1_Scale()
    {
        var d = JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment",
             "metadata":{"name":"web","namespace":"prod","uid":"u-1","resourceVersion":"42","creationTimestamp":"2025-01-01T00:00:00Z","labels":{"a":"b"},"generation":3},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["fe","be"]}]}},
             "status":{"replicas":2}}
            """)!.AsObject();
        var scale = ScaleHandler.FromParent(d, Def("apps", "deployments"));
        Assert.Equal("""{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web","namespace":"prod","uid":"u-1","resourceVersion":"42","creationTimestamp":"2025-01-01T00:00:00Z"},"spec":{"replicas":3},"status":{"replicas":2,"selector":"app=web,tier in (be,fe)"}}""",
            scale.ToJsonString());
    }

    [Fact]
    public void Scale_of_zero_replicas_omits_spec_replicas_and_keeps_status_replicas()
    {
        var rc = JsonNode.Parse("""{"metadata":{"name":"rc","namespace":"ns","uid":"u","resourceVersion":"7","creationTimestamp":"2025-01-01T00:00:00Z"},"spec":{"replicas":0,"selector":{"z":"1","a":"2"}}}""")!.AsObject();
        var scale = ScaleHandler.FromParent(rc, Def("", "replicationcontrollers"));
        Assert.Equal("{}", scale["spec"]!.ToJsonString());
        Assert.Equal("""{"replicas":0,"selector":"a=2,z=1"}""", scale["status"]!.ToJsonString());
    }

    [Fact]
    public void Scale_validation_refuses_negative_replicas()
    {
        var errs = ScaleHandler.Validate(JsonNode.Parse("""{"spec":{"replicas":-2}}""")!.AsObject());
        Assert.Equal(["spec.replicas: Invalid value: -2: must be greater than or equal to 0"], errs.Select(e => e.ToString()));
        Assert.Empty(ScaleHandler.Validate(JsonNode.Parse("""{"spec":{}}""")!.AsObject()));
    }

    [Fact]
    public void EventsV1_event_is_stored_as_a_core_event_and_read_back()
    {
        var v1 = JsonNode.Parse("""
            {"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"p.1","namespace":"default"},
             "eventTime":"2025-01-01T00:00:00.000001Z","reportingController":"default-scheduler","reportingInstance":"default-scheduler-h",
             "action":"Binding","reason":"Scheduled","regarding":{"kind":"Pod","namespace":"default","name":"p","uid":"u","apiVersion":"v1"},
             "note":"Successfully assigned default/p to n","type":"Normal"}
            """)!.AsObject();
        var core = EventConversion.ToCore(v1);
        Assert.Equal("v1", (string?)core["apiVersion"]);
        Assert.Equal("Pod", (string?)core["involvedObject"]!["kind"]);
        Assert.Equal("Successfully assigned default/p to n", (string?)core["message"]);
        Assert.Equal("default-scheduler", (string?)core["reportingComponent"]);
        Assert.Equal("default-scheduler-h", (string?)core["reportingInstance"]);
        Assert.Equal("{}", core["source"]!.ToJsonString());
        Assert.Null(core["firstTimestamp"]);
        Assert.True(core.ContainsKey("firstTimestamp"));
        Assert.Null(core["regarding"]);
        // Back in events.k8s.io/v1 every field is as written; the unset deprecated fields read as Go's zero values.
        var back = EventConversion.ToEventsV1(core);
        foreach (var (key, value) in v1)
            if (key != "metadata") Assert.True(JsonNode.DeepEquals(value, back[key]), key);
        Assert.Equal("{}", back["deprecatedSource"]!.ToJsonString());
        Assert.Null(back["deprecatedFirstTimestamp"]);
    }

    [Fact]
    public void Core_event_reads_as_events_v1_with_the_deprecated_fields()
    {
        var core = JsonNode.Parse("""
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"p.2","namespace":"default"},
             "involvedObject":{"kind":"Pod","name":"p","fieldPath":"spec.containers{c}"},"reason":"Started","message":"Started container c",
             "source":{"component":"kubelet","host":"n"},"firstTimestamp":"2025-01-01T00:00:00Z","lastTimestamp":"2025-01-01T00:00:05Z","count":2,
             "type":"Normal","eventTime":null,"reportingComponent":"kubelet","reportingInstance":"n"}
            """)!.AsObject();
        var v1 = EventConversion.ToEventsV1(core);
        Assert.Equal("events.k8s.io/v1", (string?)v1["apiVersion"]);
        Assert.Equal("spec.containers{c}", (string?)v1["regarding"]!["fieldPath"]);
        Assert.Equal("""{"component":"kubelet","host":"n"}""", v1["deprecatedSource"]!.ToJsonString());
        Assert.Equal(2, v1["deprecatedCount"]!.GetValue<long>());
        Assert.Equal("2025-01-01T00:00:05Z", (string?)v1["deprecatedLastTimestamp"]);
        Assert.Equal("kubelet", (string?)v1["reportingController"]);
        Assert.Equal("Started container c", (string?)v1["note"]);
    }
}
