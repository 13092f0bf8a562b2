using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Http;
using Portcullis.Server.Observability;

namespace Portcullis.Server.Tests.Observability;

/// <summary>
/// The label rules of upstream's MonitorRequest (pkg/endpoints/metrics/metrics.go): the scope the route installer
/// gives, the verb from the HTTP method (LIST, WATCH, APPLY, CONNECT), dry_run, and the recorded series.
/// </summary>
public sealed class ApiServerMetricsTests
{
    private static (HttpContext Ctx, RequestInfo Info) Request(string method, string path, string query = "", string? contentType = null)
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.Method = method;
        ctx.Request.Path = path;
        ctx.Request.QueryString = new QueryString(query);
        if (contentType is not null) ctx.Request.ContentType = contentType;
        var q = ctx.Request.Query;
        var info = RequestInfoParser.Parse(method, path, k => q.TryGetValue(k, out var v) ? v.ToString() : null);
        return (ctx, info);
    }

    [Theory]
    [InlineData("GET", "/api/v1/namespaces/default/pods/p", "", null, "GET", "resource")]
    [InlineData("GET", "/api/v1/namespaces/default/pods", "", null, "LIST", "namespace")]
    [InlineData("GET", "/api/v1/pods", "", null, "LIST", "cluster")]
    [InlineData("GET", "/api/v1/nodes", "", null, "LIST", "cluster")]
    [InlineData("GET", "/api/v1/nodes/n1", "", null, "GET", "resource")]
    [InlineData("GET", "/api/v1/namespaces/default/pods", "?watch=true", null, "WATCH", "namespace")]
    [InlineData("GET", "/api/v1/watch/namespaces/default/pods", "", null, "WATCH", "namespace")]
    [InlineData("POST", "/api/v1/namespaces/default/pods", "", null, "POST", "resource")]
    [InlineData("PUT", "/api/v1/namespaces/default/pods/p", "", null, "PUT", "resource")]
    [InlineData("PATCH", "/api/v1/namespaces/default/pods/p", "", "application/merge-patch+json", "PATCH", "resource")]
    [InlineData("PATCH", "/api/v1/namespaces/default/pods/p", "", "application/apply-patch+yaml", "APPLY", "resource")]
    [InlineData("DELETE", "/api/v1/namespaces/default/pods", "", null, "DELETE", "namespace")]
    [InlineData("GET", "/api/v1/namespaces/default/pods/p/log", "", null, "CONNECT", "resource")]
    [InlineData("POST", "/api/v1/namespaces/default/pods/p/exec", "", null, "CONNECT", "resource")]
    [InlineData("GET", "/apis/apps/v1/namespaces/default/deployments/d/scale", "", null, "GET", "resource")]
    [InlineData("OPTIONS", "/api/v1/namespaces/default/pods", "", null, "other", "namespace")]
    [InlineData("GET", "/livez", "", null, "GET", "")]
    public void VerbAndScope_AsUpstream(string method, string path, string query, string? contentType, string verb, string scope)
    {
        var (ctx, info) = Request(method, path, query, contentType);
        Assert.Equal(scope, ApiServerMetrics.Scope(info));
        Assert.Equal(verb, ApiServerMetrics.ReportedVerb(ctx.Request, info, ApiServerMetrics.Scope(info)));
    }

    [Fact]
    public void OnlyResourceRoutesAndHealthRootsAreInstrumented()
    {
        Assert.True(ApiServerMetrics.IsInstrumented(Request("GET", "/api/v1/pods").Info));
        Assert.True(ApiServerMetrics.IsInstrumented(Request("GET", "/readyz").Info));
        Assert.False(ApiServerMetrics.IsInstrumented(Request("GET", "/readyz/etcd").Info));
        Assert.False(ApiServerMetrics.IsInstrumented(Request("GET", "/metrics").Info));
        Assert.False(ApiServerMetrics.IsInstrumented(Request("GET", "/openapi/v2").Info));
    }

    [Fact]
    public async Task Monitor_RecordsCodeLatencyDryRunAndInflight()
    {
        var seen = new List<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = Listen(seen, "apiserver_request_total", "apiserver_request_duration_seconds");

        var (ctx, info) = Request("POST", "/api/v1/namespaces/default/configmaps", "?dryRun=All&dryRun=All");
        await ApiServerMetrics.MonitorAsync(ctx, info, System.Diagnostics.Stopwatch.GetTimestamp(), c => { c.Response.StatusCode = 201; return Task.CompletedTask; });
        (ctx, info) = Request("GET", "/api/v1/namespaces/default/configmaps/x", "?dryRun=bogus");
        await Assert.ThrowsAsync<Portcullis.Server.Errors.ApiException>(() => ApiServerMetrics.MonitorAsync(ctx, info, System.Diagnostics.Stopwatch.GetTimestamp(), _ => throw Portcullis.Server.Errors.ApiErrors.NotFound("configmaps", "", "x")));

        var total = seen.Where(s => s.Name == "apiserver_request_total" && (string?)s.Tags["resource"] == "configmaps").ToList();
        Assert.Equal(2, total.Count);
        Assert.Equal(("POST", "All", "201", "resource", "apiserver"), ((string)total[0].Tags["verb"]!, (string)total[0].Tags["dry_run"]!, (string)total[0].Tags["code"]!, (string)total[0].Tags["scope"]!, (string)total[0].Tags["component"]!));
        Assert.Equal(("GET", "invalid", "404"), ((string)total[1].Tags["verb"]!, (string)total[1].Tags["dry_run"]!, (string)total[1].Tags["code"]!));
        var latency = seen.Where(s => s.Name == "apiserver_request_duration_seconds" && (string?)s.Tags["resource"] == "configmaps").ToList();
        Assert.Equal(2, latency.Count);
        Assert.All(latency, l => Assert.False(l.Tags.ContainsKey("code")));
        Assert.All(latency, l => Assert.True(l.Value >= 0));
    }

    [Theory]
    [InlineData("admin", "admin")]
    [InlineData("kubelet", "kubelet")]
    [InlineData("system:serviceaccount:kube-system:default", "system:serviceaccount:kube-system:default")]
    [InlineData("jane@example.com", "email_id")]
    [InlineData("system:serviceaccount:default:app", "other")]
    public void CompressUsername_AsUpstream(string name, string label) => Assert.Equal(label, AuthenticationMetrics.CompressUsername(name));

    [Fact]
    public async Task InstrumentedAuthorizer_CountsTerminalDecisionsOnly()
    {
        var seen = new List<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = Listen(seen, "apiserver_authorization_decisions_total");
        var user = new UserInfo("u", "", [], UserInfo.NoExtra);
        var a = new AuthorizationAttributes(user, Verb.Get, true, Resource: "pods");
        await AuthorizationMetrics.Instrument("AlwaysAllow", "test-allow", new AlwaysAllowAuthorizer()).AuthorizeAsync(a);
        await AuthorizationMetrics.Instrument("AlwaysDeny", "test-deny", new AlwaysDenyAuthorizer()).AuthorizeAsync(a);
        await AuthorizationMetrics.Instrument("RBAC", "test-rbac", new Portcullis.Server.Authorization.Rbac.RbacAuthorizer(new Portcullis.Server.Authorization.Rbac.RbacIndex())).AuthorizeAsync(a);
        var mine = seen.Where(s => ((string?)s.Tags["name"])?.StartsWith("test-", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(2, mine.Count);
        Assert.Equal(("AlwaysAllow", "test-allow", "allowed"), ((string)mine[0].Tags["type"]!, (string)mine[0].Tags["name"]!, (string)mine[0].Tags["decision"]!));
        Assert.Equal(("AlwaysDeny", "test-deny", "denied"), ((string)mine[1].Tags["type"]!, (string)mine[1].Tags["name"]!, (string)mine[1].Tags["decision"]!));
    }

    private static MeterListener Listen(List<(string Name, double Value, Dictionary<string, object?> Tags)> seen, params string[] names)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (i, l) => { if (i.Meter.Name == Meters.Name && names.Contains(i.Name)) l.EnableMeasurementEvents(i); },
        };
        void Add(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var d = new Dictionary<string, object?>();
            foreach (var t in tags) d[t.Key] = t.Value;
            lock (seen) seen.Add((i.Name, v, d));
        }
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        listener.Start();
        return listener;
    }
}
