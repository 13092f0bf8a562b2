using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authorization;

namespace Portcullis.Server.Http;

/// <summary>
/// kube-apiserver's max-in-flight filter (<c>--max-requests-inflight</c>,
/// <c>--max-mutating-requests-inflight</c>): at most so many read-only (get, list) and so many
/// mutating requests are served at once; one more is refused at once with 429 and
/// <c>Retry-After: 1</c>, in upstream's plain-text form. Long-running requests (watches, and
/// exec, attach, log, portforward, proxy) are not counted, and members of system:masters are
/// never refused. A limit of 0 means no limit.
/// </summary>
public sealed class InFlightLimit(int readOnlyLimit, int mutatingLimit)
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
            ctx.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            ctx.Response.Headers.RetryAfter = "1";
            // Go's http.Error: plain text, no sniffing, a trailing newline.
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
            await ctx.Response.WriteAsync(TooManyMessage + "\n");
            return;
        }
        try { await next(ctx); }
        finally { DecrementCounter(mutating); }
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
