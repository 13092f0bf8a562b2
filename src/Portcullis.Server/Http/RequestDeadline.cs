using Microsoft.AspNetCore.Http;
using Portcullis.Server.Errors;
using Portcullis.Server.Hosting;

namespace Portcullis.Server.Http;

/// <summary>
/// kube-apiserver's request deadline and timeout filters (<c>--request-timeout</c>, default 1m0s):
/// a request that is not long-running gets a deadline, the server's timeout or the shorter one
/// its <c>timeout</c> query parameter asks for (0 or a longer one: the server's); a <c>timeout</c>
/// that is not a Go duration is a 400. A request still being served at its deadline is answered
/// 504 <c>Timeout: request did not complete within the allotted timeout</c>.
/// </summary>
/// <remarks>
/// Upstream runs the handler in a goroutine and answers at the deadline while the handler goes on
/// writing into a discarded buffer. Here the deadline cancels the request's token
/// (<see cref="HttpContext.RequestAborted"/>), which storage, admission and authorization observe; the
/// 504 is written when the handler gives up, or at once when the deadline has passed before the
/// handler starts. A handler that has begun its response finishes it, as upstream's handler does
/// once its headers are out.
/// </remarks>
public sealed class RequestDeadline(TimeSpan requestTimeout, TimeProvider time)
{
    public const string InvalidTimeoutInUrl = "invalid timeout specified in the request URL";

    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public TimeSpan RequestTimeout => requestTimeout;

    public static ApiException TimeoutError() =>
        new(504, "Timeout", "Timeout: request did not complete within the allotted timeout");

    /// <summary>The deadline for this request: the server's, or the shorter one the client asked for.</summary>
    public TimeSpan TimeoutFor(HttpRequest req)
    {
        // Go's url.Values.Get: the first value.
        var value = req.Query.TryGetValue("timeout", out var v) && v.Count > 0 ? v[0] ?? "" : "";
        if (value.Length == 0) return requestTimeout;
        if (!GoDuration.TryParse(value, out var d, out var error))
            throw ApiErrors.BadRequest($"{InvalidTimeoutInUrl} - {error}");
        var asked = d.Nanoseconds;
        return asked > 0 && asked < requestTimeout.Ticks * 100 ? d.ToTimeSpan() : requestTimeout;
    }

    /// <summary>The 504, counted in apiserver_request_terminations_total as upstream's timeout filter counts it.</summary>
    private static ApiException Terminated(HttpContext ctx, RequestInfo info)
    {
        Observability.ApiServerMetrics.RecordTermination(ctx.Request, info, 504);
        return TimeoutError();
    }

    public async Task InvokeAsync(HttpContext ctx, RequestInfo info, RequestDelegate next)
    {
        if (InFlightLimit.IsLongRunning(info)) { await next(ctx); return; }
        var timeout = TimeoutFor(ctx.Request);
        if (timeout <= TimeSpan.Zero) throw Terminated(ctx, info);

        var client = ctx.RequestAborted;
        // A timer holds at most 2^32-2 ms (about 49 days); a longer deadline is no deadline.
        using var timer = timeout < MaxTimer ? new CancellationTokenSource(timeout, time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(client, timer.Token);
        ctx.RequestAborted = linked.Token;
        try
        {
            await next(ctx);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !client.IsCancellationRequested && !ctx.Response.HasStarted)
        {
            throw Terminated(ctx, info);
        }
        catch (ApiException) when (timer.IsCancellationRequested && !client.IsCancellationRequested && !ctx.Response.HasStarted)
        {
            // Whatever the handler made of its cancelled work, the client is told it ran out of time.
            throw Terminated(ctx, info);
        }
        finally
        {
            ctx.RequestAborted = client;
        }
    }
}
