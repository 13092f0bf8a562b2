using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;

namespace Portcullis.Server.Http;

/// <summary>
/// The pipeline stage that bounds how many requests are served at once: kube-apiserver's max-in-flight filter
/// (<see cref="InFlightLimit"/>, <c>--enable-priority-and-fairness=false</c>) or API Priority and Fairness
/// (<see cref="FlowControl.ApfFilter"/>, the default). It runs after authentication and impersonation (it classifies by
/// user) and before authorization, as upstream's handler chain orders them. Refusing a request is an answer written
/// here (429), not an exception.
/// </summary>
public interface IRequestConcurrencyLimiter
{
    Task InvokeAsync(HttpContext ctx, RequestInfo info, UserInfo user, RequestDelegate next);
}

/// <summary>
/// kube-apiserver's max-in-flight filter (<c>--max-requests-inflight</c>,
/// <c>--max-mutating-requests-inflight</c>): at most so many read-only (get, list) and so many
/// mutating requests are served at once; one more is refused at once with 429 and
/// <c>Retry-After: 1</c>, in upstream's plain-text form. Long-running requests (watches, and
/// exec, attach, log, portforward, proxy) are not counted, and members of system:masters are
/// never refused. A limit of 0 means no limit.
/// </summary>
public sealed class InFlightLimit(int readOnlyLimit, int mutatingLimit) : IRequestConcurrencyLimiter
{
    private int _readOnly;
    private int _mutating;

    public const string TooManyMessage = "Too many requests, please try again later.";

    private static readonly HashSet<string> LongRunningSubresources = ["attach", "exec", "proxy", "log", "portforward"];

    public int ReadOnlyInFlight => Volatile.Read(ref _readOnly);
    public int MutatingInFlight => Volatile.Read(ref _mutating);

    /// <summary>Upstream's long-running check for kube-apiserver: the verbs watch and proxy, and the streaming subresources.</summary>
    public static bool IsLongRunning(RequestInfo info) =>
        info.Verb == Verb.Watch || info.Verb == Verb.Proxy || (info.IsResourceRequest && LongRunningSubresources.Contains(info.Subresource));

    Task IRequestConcurrencyLimiter.InvokeAsync(HttpContext ctx, RequestInfo info, UserInfo user, RequestDelegate next) =>
        InvokeAsync(ctx, info, user.Groups.Contains(UserInfo.SystemMasters), next);

    public async Task InvokeAsync(HttpContext ctx, RequestInfo info, bool privileged, RequestDelegate next)
    {
        if (IsLongRunning(info)) { await next(ctx); return; }
        var mutating = info.Verb != Verb.Get && info.Verb != Verb.List && info.Verb != Verb.Watch;
        var limit = mutating ? mutatingLimit : readOnlyLimit;
        if (limit <= 0) { await next(ctx); return; }
        if (!TryEnter(mutating, limit))
        {
            // A system:masters member is so powerful that it always gets an answer (upstream's words).
            if (privileged) { await next(ctx); return; }
            Observability.ApiServerMetrics.RecordTermination(ctx.Request, info, StatusCodes.Status429TooManyRequests);
            await WriteTooManyRequestsAsync(ctx, 1);
            return;
        }
        try { await next(ctx); }
        finally { DecrementCounter(mutating); }
    }

    /// <summary>tooManyRequests: 429 with <c>Retry-After</c>, in Go's http.Error form (plain text, no sniffing, a trailing newline).</summary>
    public static Task WriteTooManyRequestsAsync(HttpContext ctx, long retryAfterSeconds)
    {
        ctx.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        ctx.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return ctx.Response.WriteAsync(TooManyMessage + "\n");
    }

    private bool TryEnter(bool mutating, int limit)
    {
        ref var counter = ref mutating ? ref _mutating : ref _readOnly;
        if (Interlocked.Increment(ref counter) <= limit) return true;
        Interlocked.Decrement(ref counter);
        return false;
    }

    private void DecrementCounter(bool mutating)
    {
        if (mutating) Interlocked.Decrement(ref _mutating);
        else Interlocked.Decrement(ref _readOnly);
    }
}
