using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

public class KindValidationClusterTests
{
    [Fact]
    public void CoreEventNamespaces()
    {
        Assert.Empty(Check("", "Event", Obj("""{"metadata":{"name":"e","namespace":"default"},"involvedObject":{"kind":"Pod","namespace":"default","name":"p"},"reason":"Started"}""")));
        Assert.Equal(["involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"],
            Check("", "Event", Obj("""{"metadata":{"name":"e","namespace":"default"},"involvedObject":{"kind":"Pod","namespace":"other","name":"p"}}""")));
        // Through core/v1 the errors name core's field, reportingComponent (kubernetes PR #111506).
        Assert.Equal([
            "reportingComponent: Required value",
            "reportingComponent: Invalid value: \"\": name part must be non-empty",
            "reportingComponent: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            "reportingInstance: Required value",
            "action: Required value",
            "reason: Required value",
        ], Check("", "Event", Obj("""{"metadata":{"name":"e","namespace":"default"},"involvedObject":{"kind":"Pod","namespace":"default"},"eventTime":"2025-01-01T00:00:00.000000Z"}""")));
    }

    [Fact]
    public void EventsV1Event_ReportingControllerErrors_UseItsOwnFieldName()
    {
        var e = Obj("""
            {"metadata":{"name":"e","namespace":"default"},"regarding":{"kind":"Pod","namespace":"default","name":"p"},
             "eventTime":"2025-01-01T00:00:00.000000Z","reportingController":"bad name!","reportingInstance":"i","action":"Act","reason":"R",
             "type":"Normal"}
            """);
        Assert.Equal([
            "reportingController: Invalid value: \"bad name!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ], Check("events.k8s.io", "Event", e));
    }

    [Fact]
    public void EventsV1EventIsStrict()
    {
        var e = Obj("""
            {"metadata":{"name":"e","namespace":"default"},"regarding":{"kind":"Pod","namespace":"default","name":"p"},
             "eventTime":"2025-01-01T00:00:00.000000Z","reportingController":"example.com/ctl","reportingInstance":"i","action":"Act","reason":"R",
             "type":"Normal","note":"hi"}
            """);
        Assert.Empty(Check("events.k8s.io", "Event", e));
        e["type"] = "Odd";
        e["deprecatedCount"] = 3;
        Assert.Equal(["type: Invalid value: \"\": has invalid value: Odd", "count: Invalid value: \"\": needs to be unset"], Check("events.k8s.io", "Event", e));
    }

    [Fact]
    public void Lease()
    {
        Assert.Equal(["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"],
            Check("coordination.k8s.io", "Lease", Obj("""{"metadata":{"name":"l","namespace":"default"},"spec":{"leaseDurationSeconds":0}}""")));
    }

    [Fact]
    public void NodeTaintsAndCidrs()
    {
        var node = Obj("""
            {"metadata":{"name":"n"},"spec":{"podCIDRs":["10.0.0.0/24","10.1.0.0/24"],
             "taints":[{"key":"k","effect":"NoSchedule"},{"key":"k","value":"v","effect":"NoSchedule"},{"key":"j","effect":""}]}}
            """);
        Assert.Equal([
            "metadata.taints[1]: Duplicate value: core.Taint{Key:\"k\", Value:\"v\", Effect:\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair",
            "metadata.taints[2].effect: Required value",
            "spec.podCIDRs: Invalid value: []string{\"10.0.0.0/24\", \"10.1.0.0/24\"}: may specify no more than one CIDR for each IP family",
        ], Check("", "Node", node));
        var old = Obj("""{"metadata":{"name":"n"},"spec":{"podCIDRs":["10.0.0.0/24"],"providerID":"kind://a"}}""");
        var upd = Obj("""{"metadata":{"name":"n"},"spec":{"podCIDRs":["10.9.0.0/24"],"providerID":"kind://b"}}""");
        Assert.Equal([
            "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid",
            "spec.providerID: Forbidden: node updates may not change providerID except from \"\" to valid",
        ], Check("", "Node", upd, old));
    }
}
