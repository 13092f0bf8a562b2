using Microsoft.AspNetCore.Http;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Http;

/// <summary>The max-in-flight filter as upstream's maxinflight.go: counted verbs, exemptions and the 429.</summary>
public sealed class InFlightLimitTests
{
    private static RequestInfo Info(string method, string path, string query = "") =>
        RequestInfoParser.Parse(method, path, k => query.Contains(k + "=") ? "true" : null);

    /// <summary>Starts a request that stays in flight until <paramref name="release"/> completes.</summary>
    private static Task Hold(InFlightLimit limit, RequestInfo info, Task release) =>
        limit.InvokeAsync(new DefaultHttpContext(), info, false, _ => release);

    private static async Task<DefaultHttpContext> Send(InFlightLimit limit, RequestInfo info, bool privileged = false)
    {
        var ctx = new DefaultHttpContext();
        ctx.Response.Body = new MemoryStream();
        await limit.InvokeAsync(ctx, info, privileged, c => { c.Response.StatusCode = 200; return Task.CompletedTask; });
        return ctx;
    }

    private static string Body(HttpContext ctx)
    {
        ctx.Response.Body.Position = 0;
        return new StreamReader(ctx.Response.Body).ReadToEnd();
    }

    [Fact]
    public async Task One_request_over_the_read_only_limit_is_refused_with_upstreams_429()
    {
        var limit = new InFlightLimit(1, 1);
        var release = new TaskCompletionSource();
        var held = Hold(limit, Info("GET", "/api/v1/namespaces/default/pods/a"), release.Task);
        Assert.Equal(1, limit.ReadOnlyInFlight);

        var refused = await Send(limit, Info("GET", "/api/v1/namespaces/default/pods"));
        Assert.Equal(429, refused.Response.StatusCode);
        Assert.Equal("1", refused.Response.Headers.RetryAfter.ToString());
        Assert.Equal("text/plain; charset=utf-8", refused.Response.ContentType);
        Assert.Equal("Too many requests, please try again later.\n", Body(refused));

        // Mutating requests have their own budget.
        Assert.Equal(200, (await Send(limit, Info("POST", "/api/v1/namespaces/default/pods"))).Response.StatusCode);

        release.SetResult();
        await held;
        Assert.Equal(0, limit.ReadOnlyInFlight);
        Assert.Equal(200, (await Send(limit, Info("GET", "/api/v1/namespaces/default/pods"))).Response.StatusCode);
    }

    [Fact]
    public async Task Mutating_requests_are_counted_apart_and_released_when_the_handler_fails()
    {
        var limit = new InFlightLimit(1, 1);
        var release = new TaskCompletionSource();
        var held = Hold(limit, Info("DELETE", "/api/v1/namespaces/default/pods/a"), release.Task);
        Assert.Equal(429, (await Send(limit, Info("PATCH", "/api/v1/namespaces/default/pods/a"))).Response.StatusCode);
        Assert.Equal(200, (await Send(limit, Info("GET", "/api/v1/namespaces/default/pods/a"))).Response.StatusCode);
        release.SetException(new InvalidOperationException("handler failed"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => held);
        Assert.Equal(0, limit.MutatingInFlight);
    }

    [Fact]
    public async Task System_masters_always_get_an_answer()
    {
        var limit = new InFlightLimit(1, 1);
        var release = new TaskCompletionSource();
        var held = Hold(limit, Info("GET", "/api/v1/pods"), release.Task);
        Assert.Equal(200, (await Send(limit, Info("GET", "/api/v1/pods"), privileged: true)).Response.StatusCode);
        release.SetResult();
        await held;
    }

    [Theory]
    [InlineData("GET", "/api/v1/namespaces/default/pods", "watch=")]
    [InlineData("GET", "/api/v1/watch/namespaces/default/pods", "")]
    [InlineData("GET", "/api/v1/namespaces/default/pods/a/log", "")]
    [InlineData("POST", "/api/v1/namespaces/default/pods/a/exec", "")]
    [InlineData("GET", "/api/v1/namespaces/default/pods/a/attach", "")]
    [InlineData("POST", "/api/v1/namespaces/default/pods/a/portforward", "")]
    public async Task Long_running_requests_are_not_counted(string method, string path, string query)
    {
        var info = Info(method, path, query);
        Assert.True(InFlightLimit.IsLongRunning(info));
        var limit = new InFlightLimit(1, 1);
        var release = new TaskCompletionSource();
        var held = Hold(limit, info, release.Task);
        Assert.Equal(0, limit.ReadOnlyInFlight + limit.MutatingInFlight);
        release.SetResult();
        await held;
    }

    [Fact]
    public async Task Zero_means_no_limit()
    {
        var limit = new InFlightLimit(0, 0);
        var release = new TaskCompletionSource();
        var held = Hold(limit, Info("GET", "/api/v1/pods"), release.Task);
        Assert.Equal(200, (await Send(limit, Info("GET", "/api/v1/pods"))).Response.StatusCode);
        release.SetResult();
        await held;
    }
}
