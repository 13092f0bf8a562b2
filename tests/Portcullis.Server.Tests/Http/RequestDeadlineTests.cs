using Microsoft.AspNetCore.Http;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Tests.Controllers.Node.Runtime;

namespace Portcullis.Server.Tests.Http;

/// <summary>
/// The request deadline as upstream's WithRequestDeadline and WithTimeoutForNonLongRunningRequests:
/// which deadline applies, the 400 for a bad <c>timeout</c>, the 504 when it passes, and no deadline
/// for long-running requests.
/// </summary>
public sealed class RequestDeadlineTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromSeconds(60);

    private static RequestInfo Info(string method, string path, bool watch = false) =>
        RequestInfoParser.Parse(method, path, k => watch && k == "watch" ? "true" : null);

    private static DefaultHttpContext Context(string query = "")
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.QueryString = new QueryString(query);
        ctx.Response.Body = new MemoryStream();
        return ctx;
    }

    [Theory]
    [InlineData("", 60)]
    [InlineData("?timeout=10s", 10)]
    [InlineData("?timeout=1m30s", 60)]     // longer than the server's: the server's
    [InlineData("?timeout=0s", 60)]        // 0: no limit of the client's own
    [InlineData("?timeout=-5s", 60)]       // negative: the server's
    [InlineData("?timeout=59s&timeout=5s", 59)] // the first value, as url.Values.Get
    public void The_deadline_is_the_servers_or_a_shorter_one_the_client_asks_for(string query, int seconds)
    {
        var d = new RequestDeadline(Minute, TimeProvider.System);
        Assert.Equal(TimeSpan.FromSeconds(seconds), d.TimeoutFor(Context(query).Request));
    }

    [Theory]
    [InlineData("abc", "invalid timeout specified in the request URL - time: invalid duration \"abc\"")]
    [InlineData("10", "invalid timeout specified in the request URL - time: missing unit in duration \"10\"")]
    [InlineData("5x", "invalid timeout specified in the request URL - time: unknown unit \"x\" in duration \"5x\"")]
    public async Task A_timeout_that_is_not_a_go_duration_is_a_400(string value, string message)
    {
        var d = new RequestDeadline(Minute, TimeProvider.System);
        var ran = false;
        var e = await Assert.ThrowsAsync<ApiException>(() =>
            d.InvokeAsync(Context("?timeout=" + value), Info("GET", "/api/v1/namespaces"), _ => { ran = true; return Task.CompletedTask; }));
        Assert.Equal(400, e.Code);
        Assert.Equal("BadRequest", e.Reason);
        Assert.Equal(message, e.Message);
        Assert.False(ran);
    }

    [Fact]
    public async Task A_request_still_running_at_its_deadline_is_answered_504()
    {
        var clock = new SteppedClock(DateTimeOffset.UnixEpoch);
        var d = new RequestDeadline(Minute, clock);
        var ctx = Context("?timeout=5s");
        var started = new TaskCompletionSource();
        var serving = d.InvokeAsync(ctx, Info("POST", "/api/v1/namespaces/default/configmaps"), async c =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, c.RequestAborted);
        });
        await started.Task;
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.False(serving.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));

        var e = await Assert.ThrowsAsync<ApiException>(() => serving);
        Assert.Equal(504, e.Code);
        Assert.Equal("Timeout", e.Reason);
        Assert.Equal("Timeout: request did not complete within the allotted timeout", e.Message);
        // upstream's NewTimeoutError carries an empty details object
        Assert.Equal("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: request did not complete within the allotted timeout","reason":"Timeout","details":{},"code":504}""",
            e.ToStatus().ToJsonString());
        // the client's own token is given back
        Assert.False(ctx.RequestAborted.CanBeCanceled);
    }

    [Fact]
    public async Task A_client_that_goes_away_is_not_a_timeout()
    {
        var d = new RequestDeadline(Minute, new SteppedClock(DateTimeOffset.UnixEpoch));
        var ctx = Context();
        using var client = new CancellationTokenSource();
        ctx.RequestAborted = client.Token;
        var serving = d.InvokeAsync(ctx, Info("GET", "/api/v1/namespaces"), c => Task.Delay(Timeout.Infinite, c.RequestAborted));
        client.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    [Fact]
    public async Task A_deadline_too_short_to_measure_answers_504_without_running_the_handler()
    {
        var d = new RequestDeadline(Minute, TimeProvider.System);
        var ran = false;
        var e = await Assert.ThrowsAsync<ApiException>(() =>
            d.InvokeAsync(Context("?timeout=1ns"), Info("GET", "/api/v1/namespaces"), _ => { ran = true; return Task.CompletedTask; }));
        Assert.Equal(504, e.Code);
        Assert.False(ran);
    }

    [Theory]
    [InlineData("GET", "/api/v1/namespaces/default/pods", true)]                 // watch
    [InlineData("GET", "/api/v1/namespaces/default/pods/p/log", false)]
    [InlineData("POST", "/api/v1/namespaces/default/pods/p/exec", false)]
    [InlineData("GET", "/api/v1/namespaces/default/pods/p/attach", false)]
    public async Task Long_running_requests_have_no_deadline_and_ignore_the_timeout_parameter(string method, string path, bool watch)
    {
        var d = new RequestDeadline(Minute, new SteppedClock(DateTimeOffset.UnixEpoch));
        var ctx = Context("?timeout=bogus");
        CancellationToken seen = default;
        await d.InvokeAsync(ctx, Info(method, path, watch), c => { seen = c.RequestAborted; return Task.CompletedTask; });
        Assert.False(seen.CanBeCanceled);
    }

    [Fact]
    public async Task A_deadline_beyond_what_a_timer_holds_is_no_deadline()
    {
        var d = new RequestDeadline(TimeSpan.FromDays(100_000), TimeProvider.System);
        var status = 0;
        await d.InvokeAsync(Context(), Info("GET", "/api/v1/namespaces"), c => { status = 200; return Task.CompletedTask; });
        Assert.Equal(200, status);
    }
}
