using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Audit;
using Portcullis.Server.Audit.Backends;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Audit;

/// <summary>The Audit stage on its own: stages, Panic, blocking-strict refusal, source IPs, the kept response.</summary>
public sealed class AuditorTests
{
    private sealed class Collect(bool ok = true) : IAuditBackend
    {
        public readonly List<JsonObject> Events = [];
        public string Name => "collect";
        public bool ProcessEvents(IReadOnlyList<AuditEventRecord> events)
        {
            Events.AddRange(events.Select(e => JsonNode.Parse(e.Json)!.AsObject()));
            return ok;
        }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static readonly UserInfo Alice = new("alice", "", ["system:authenticated"], UserInfo.NoExtra);

    private static (Auditor, Collect) Make(AuditLevel level, AuditStages omit = AuditStages.None, bool ok = true, bool omitManaged = false)
    {
        var backend = new Collect(ok);
        var policy = new AuditPolicy([new AuditPolicyRule { Level = level, OmitStages = omit }], AuditStages.None, omitManaged);
        return (new Auditor(new PolicyRuleEvaluator(policy), backend, TimeProvider.System, NullLogger<Auditor>.Instance), backend);
    }

    private static DefaultHttpContext Request(Auditor auditor, string id = "id-1")
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.Method = "GET";
        ctx.Request.Path = "/api/v1/namespaces/default/configmaps/x";
        ctx.Connection.RemoteIpAddress = IPAddress.Loopback;
        var info = RequestInfoParser.Parse("GET", "/api/v1/namespaces/default/configmaps/x", _ => null);
        ctx.Features.Set(new RequestContextFeature(info, null) { User = Alice });
        auditor.Init(ctx, id);
        return ctx;
    }

    private static string? S(JsonNode? n) => n?.GetValue<string>();

    [Fact]
    public async Task Completed_RequestReceivedThenResponseComplete()
    {
        var (auditor, backend) = Make(AuditLevel.Metadata);
        var ctx = Request(auditor);
        await auditor.InvokeAsync(ctx, c => { c.Response.StatusCode = 200; return Task.CompletedTask; });
        Assert.Equal(["RequestReceived", "ResponseComplete"], backend.Events.Select(e => S(e["stage"])));
        Assert.Null(backend.Events[0]["responseStatus"]);
        Assert.Equal(200, (int)backend.Events[1]["responseStatus"]!["code"]!);
        Assert.Equal("get", S(backend.Events[1]["verb"]));
        Assert.Equal("x", S(backend.Events[1]["objectRef"]!["name"]));
    }

    [Fact]
    public async Task UnhandledException_IsAPanicEvent_AndRethrown()
    {
        var (auditor, backend) = Make(AuditLevel.Metadata, AuditStages.RequestReceived);
        var ctx = Request(auditor);
        await Assert.ThrowsAsync<InvalidOperationException>(() => auditor.InvokeAsync(ctx, _ => throw new InvalidOperationException("boom")));
        var e = Assert.Single(backend.Events);
        Assert.Equal("Panic", S(e["stage"]));
        Assert.Equal("""{"metadata":{},"status":"Failure","message":"APIServer panic'd: boom","reason":"InternalError","code":500}""", Portcullis.Server.Serialization.GoJsonWriter.ToString(e["responseStatus"]));
    }

    [Fact]
    public async Task ApiError_RecordsItsStatus()
    {
        var (auditor, backend) = Make(AuditLevel.RequestResponse, AuditStages.RequestReceived);
        var ctx = Request(auditor);
        await Assert.ThrowsAsync<ApiException>(() => auditor.InvokeAsync(ctx, _ => throw ApiErrors.NotFound("configmaps", "", "x")));
        var e = Assert.Single(backend.Events);
        Assert.Equal("ResponseComplete", S(e["stage"]));
        Assert.Equal(404, (int)e["responseStatus"]!["code"]!);
        Assert.Equal("NotFound", S(e["responseStatus"]!["reason"]));
        Assert.Equal("Status", S(e["responseObject"]!["kind"]));
    }

    [Fact]
    public async Task BlockingStrict_AnEventThatCannotBeStored_RefusesTheRequest()
    {
        var (auditor, _) = Make(AuditLevel.Metadata, ok: false);
        var ctx = Request(auditor);
        var called = false;
        var e = await Assert.ThrowsAsync<ApiException>(() => auditor.InvokeAsync(ctx, _ => { called = true; return Task.CompletedTask; }));
        Assert.Equal(500, e.Code);
        Assert.Equal("Internal error occurred: failed to store audit event", e.Message);
        Assert.False(called);
    }

    [Fact]
    public async Task LevelNone_NoEvents()
    {
        var (auditor, backend) = Make(AuditLevel.None);
        var ctx = Request(auditor);
        var called = false;
        await auditor.InvokeAsync(ctx, _ => { called = true; return Task.CompletedTask; });
        Assert.True(called);
        Assert.Empty(backend.Events);
    }

    [Fact]
    public async Task RequestResponse_KeepsTheAnswer_Compact_WithoutManagedFields()
    {
        var (auditor, backend) = Make(AuditLevel.RequestResponse, AuditStages.RequestReceived, omitManaged: true);
        var ctx = Request(auditor);
        var client = new MemoryStream();
        ctx.Response.Body = client;
        const string body = "{\n  \"kind\": \"ConfigMap\",\n  \"metadata\": {\n    \"name\": \"x\",\n    \"managedFields\": [{\"manager\": \"m\"}]\n  }\n}\n";
        await auditor.InvokeAsync(ctx, async c =>
        {
            c.Response.ContentType = "application/json";
            await c.Response.WriteAsync(body);
        });
        Assert.Equal(body, Encoding.UTF8.GetString(client.ToArray()));
        Assert.Same(client, ctx.Response.Body);
        Assert.Equal("""{"kind":"ConfigMap","metadata":{"name":"x"}}""", backend.Events.Single()["responseObject"]!.ToJsonString());
    }

    [Fact]
    public async Task LongRunning_RefusedBeforeItsAnswer_ResponseStartedOnceThenComplete()
    {
        var (auditor, backend) = Make(AuditLevel.Metadata, AuditStages.RequestReceived);
        var ctx = new DefaultHttpContext();
        ctx.Request.Method = "GET";
        var info = RequestInfoParser.Parse("GET", "/api/v1/namespaces/default/configmaps", k => k == "watch" ? "true" : null);
        ctx.Features.Set(new RequestContextFeature(info, null) { User = Alice });
        auditor.Init(ctx, "w");
        await Assert.ThrowsAsync<ApiException>(() => auditor.InvokeAsync(ctx, _ => throw ApiErrors.Gone("too old resource version: 1 (5)")));
        Assert.Equal(["ResponseStarted", "ResponseComplete"], backend.Events.Select(e => S(e["stage"])));
        Assert.All(backend.Events, e => Assert.Equal(410, (int)e["responseStatus"]!["code"]!));
        Assert.Equal("watch", S(backend.Events[0]["verb"]));
    }

    [Fact]
    public void SourceIps_ForwardedRealIpAndPeer_AsUtilnet()
    {
        var ctx = new DefaultHttpContext();
        ctx.Connection.RemoteIpAddress = IPAddress.Parse("::ffff:127.0.0.1");
        ctx.Request.Headers["X-Forwarded-For"] = "1.2.3.4, not-an-ip, 10.0.0.1";
        ctx.Request.Headers["X-Real-Ip"] = "10.0.0.1";
        Assert.Equal(["1.2.3.4", "10.0.0.1", "127.0.0.1"], Auditor.SourceIps(ctx));
        ctx.Request.Headers["X-Forwarded-For"] = "5.6.7.8, 127.0.0.1";
        ctx.Request.Headers.Remove("X-Real-Ip");
        Assert.Equal(["5.6.7.8", "127.0.0.1"], Auditor.SourceIps(ctx));
    }

    [Fact]
    public void FailedAuthentication_OneResponseStartedEvent()
    {
        var (auditor, backend) = Make(AuditLevel.Metadata);
        var ctx = Request(auditor);
        ctx.Request.Headers.Authorization = "Bearer nope";
        auditor.FailedAuthentication(ctx);
        var e = Assert.Single(backend.Events);
        Assert.Equal("ResponseStarted", S(e["stage"]));
        Assert.Equal("{}", e["user"]!.ToJsonString());
        Assert.Equal("""{"metadata":{},"message":"Authentication failed, attempted: bearer","code":401}""", e["responseStatus"]!.ToJsonString());
    }
}
