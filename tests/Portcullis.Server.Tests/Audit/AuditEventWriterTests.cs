using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Audit;
using Portcullis.Server.Authentication;

namespace Portcullis.Server.Tests.Audit;

/// <summary>The audit.k8s.io/v1 Event as Go's encoding/json writes it: field order, omitempty, MicroTime, sorted annotations.</summary>
public sealed class AuditEventWriterTests
{
    private static AuditContext Event() => new()
    {
        AuditId = "6f1e2f8a-7c1b-4d3b-9d5e-0c2a8d1b7e44",
        RequestReceived = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567),
        Config = new RequestAuditConfig(AuditLevel.Request, AuditStages.None, false),
        RequestUri = "/api/v1/namespaces/prod/secrets?fieldManager=kubectl-create&x=<y>",
        Verb = "create",
        User = new UserInfo("alice", "u-1", ["devs", "system:authenticated"], new Dictionary<string, IReadOnlyList<string>> { ["b"] = ["2"], ["a"] = ["1"] }),
        SourceIps = ["10.0.0.1", "127.0.0.1"],
        UserAgent = "kubectl/v1.33.0",
        ObjectRef = new AuditObjectRef { Resource = "secrets", Namespace = "prod", Name = "db", ApiVersion = "v1" },
        ResponseStatus = AuditContext.CodeStatus(201),
        RequestObject = Encoding.UTF8.GetBytes("""{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db"}}"""),
    };

    [Fact]
    public void Serialize_GoFieldOrder_OmitEmpty_MicroTime()
    {
        var ev = Event();
        ev.Annotate("z.example/last", "2");
        ev.Annotate("authorization.k8s.io/decision", "allow");
        var json = Encoding.UTF8.GetString(AuditEventWriter.Serialize(ev, AuditStages.ResponseComplete, ev.RequestReceived.AddMilliseconds(5)));
        const string expected = """
            {"level":"Request","auditID":"6f1e2f8a-7c1b-4d3b-9d5e-0c2a8d1b7e44","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/prod/secrets?fieldManager=kubectl-create\u0026x=\u003cy\u003e","verb":"create","user":{"username":"alice","uid":"u-1","groups":["devs","system:authenticated"],"extra":{"a":["1"],"b":["2"]}},"sourceIPs":["10.0.0.1","127.0.0.1"],"userAgent":"kubectl/v1.33.0","objectRef":{"resource":"secrets","namespace":"prod","name":"db","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db"}},"requestReceivedTimestamp":"2026-12-07T10:00:00.123456Z","stageTimestamp":"2026-12-07T10:00:00.128456Z","annotations":{"authorization.k8s.io/decision":"allow","z.example/last":"2"}}
            """;
        Assert.Equal(expected, json);
    }

    [Fact]
    public void FailedAuthentication_HasAnEmptyUser_AndNoAnnotations()
    {
        var ev = new AuditContext { AuditId = "x", RequestReceived = DateTimeOffset.UnixEpoch, Config = new(AuditLevel.Metadata, AuditStages.None, false), RequestUri = "/api", Verb = "get" };
        var json = JsonNode.Parse(AuditEventWriter.Serialize(ev, AuditStages.ResponseStarted, DateTimeOffset.UnixEpoch))!.AsObject();
        Assert.Equal("{}", json["user"]!.ToJsonString());
        Assert.Null(json["annotations"]);
        Assert.Null(json["objectRef"]);
        Assert.Equal(["level", "auditID", "stage", "requestURI", "verb", "user", "requestReceivedTimestamp", "stageTimestamp"], json.Select(p => p.Key));
    }

    [Fact]
    public void LogLine_StartsWithKindAndApiVersion()
    {
        var w = new System.Buffers.ArrayBufferWriter<byte>();
        AuditEventWriter.WriteWithTypeMeta(w, Encoding.UTF8.GetBytes("""{"level":"Metadata"}"""));
        Assert.Equal("""{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata"}""", Encoding.UTF8.GetString(w.WrittenSpan));
    }

    [Fact]
    public void EventList_ItemsWithoutTypeMeta()
    {
        var list = AuditEventWriter.EventList([new(Encoding.UTF8.GetBytes("""{"level":"Metadata"}"""), null), new(Encoding.UTF8.GetBytes("""{"level":"Request"}"""), null)]);
        Assert.Equal("""{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[{"level":"Metadata"},{"level":"Request"}]}""", Encoding.UTF8.GetString(list));
    }

    [Fact]
    public void Legacy_OneLine_AsEventString()
    {
        var ev = Event();
        Assert.Equal("2026-12-07T10:00:00.1234567Z AUDIT: id=\"6f1e2f8a-7c1b-4d3b-9d5e-0c2a8d1b7e44\" stage=\"ResponseComplete\" ip=\"10.0.0.1\" method=\"create\" " +
                     "user=\"alice\" groups=\"\\\"devs\\\",\\\"system:authenticated\\\"\" as=\"<self>\" asgroups=\"<lookup>\" user-agent=\"kubectl/v1.33.0\" " +
                     "namespace=\"prod\" uri=\"/api/v1/namespaces/prod/secrets?fieldManager=kubectl-create&x=<y>\" response=\"201\"",
            AuditEventWriter.Legacy(ev, AuditStages.ResponseComplete));
    }

    [Fact]
    public void BoundedStatus_KeepsStatusMessageReasonDetailsCode()
    {
        var status = Portcullis.Server.Errors.ApiErrors.NotFound("secrets", "", "db").ToStatus();
        Assert.Equal("""{"metadata":{},"status":"Failure","message":"secrets \"db\" not found","reason":"NotFound","details":{"name":"db","kind":"secrets"},"code":404}""",
            Portcullis.Server.Serialization.GoJsonWriter.ToString(AuditContext.BoundedStatus(status)));
    }

    [Fact]
    public void Compactor_LeavesStringsAlone() =>
        Assert.Equal("""{"a":[1,2],"b":"x y\n \" z"}""", Encoding.UTF8.GetString(JsonCompactor.Compact(Encoding.UTF8.GetBytes("{\n  \"a\": [ 1, 2 ],\n  \"b\": \"x y\\n \\\" z\"\n}\n"))));
}
