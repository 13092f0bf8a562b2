using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Http;

namespace Portcullis.Server.FlowControl;

/// <summary>
/// API Priority and Fairness, the pipeline stage (k8s.io/apiserver pkg/server/filters/priority-and-fairness.go with
/// pkg/util/flowcontrol/apf_filter.go): each request is classified by the first FlowSchema that matches it, its flow is
/// the schema plus the distinguisher (user or namespace), and it runs under its priority level's limit: at once on the
/// exempt level, else through the level's queues (or refused at once by a Reject level). A request that cannot be
/// queued, or waits past its wait limit (a quarter of its request timeout, at most a minute), is answered 429 with
/// upstream's body and a <c>Retry-After</c> that grows while the level keeps dropping requests. Every classified
/// request carries <c>X-Kubernetes-PF-FlowSchema-UID</c> and <c>X-Kubernetes-PF-PriorityLevel-UID</c>.
/// </summary>
/// <remarks>
/// Long-running requests other than watches (exec, attach, log, port-forward, proxy) are not classified, as upstream.
/// A watch holds its seat only while it initializes: until its response starts (upstream waits for the watch's
/// initialization signal, sent when the watch is set up).
/// </remarks>
public sealed class ApfFilter(Func<HttpRequest, TimeSpan> requestTimeout, TimeProvider time) : IRequestConcurrencyLimiter
{
    public const string FlowSchemaUidHeader = "X-Kubernetes-PF-FlowSchema-UID";
    public const string PriorityLevelUidHeader = "X-Kubernetes-PF-PriorityLevel-UID";

    /// <summary>getRequestWaitContext: a request waits at most this long in a queue, whatever its timeout.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(1);

    private volatile ApfConfiguration? _config;
    private readonly DroppedRequestsTracker _dropped = new(time);

    /// <summary>The configuration requests are classified against; null until the config controller sets the first.</summary>
    public ApfConfiguration? Configuration => _config;

    public void SetConfiguration(ApfConfiguration config)
    {
        _config = config;
        foreach (var l in config.Levels.Values) FlowControlMetrics.SetLevel(l);
    }

    /// <summary>The schema and level a request classifies to (startRequest's loop; catch-all when nothing matches).</summary>
    public static (FlowSchemaMatcher Schema, PriorityLevel Level) Classify(ApfConfiguration config, UserInfo user, RequestInfo info)
    {
        foreach (var pair in config.Schemas)
            if (pair.Schema.Matches(user, info)) return pair;
        return config.CatchAll;
    }

    public async Task InvokeAsync(HttpContext ctx, RequestInfo info, UserInfo user, RequestDelegate next)
    {
        var isWatch = info.Verb == Verb.Watch;
        var config = _config;
        if (config is null || (!isWatch && InFlightLimit.IsLongRunning(info))) { await next(ctx); return; }
        var (schema, level) = Classify(config, user, info);
        var tags = FlowControlMetrics.Tags(level.Name, schema.Name);
        if (level.QueueSet is not { } queues)
        {
            // The exempt level: no limit, no queue; counted as dispatched and executing all the same.
            FlowControlMetrics.Dispatched.Add(1, tags);
            await Execute(ctx, next, schema, level, tags, isWatch, release: null);
            return;
        }
        // Only a level with queues deals a hand from the flow's hash.
        var hash = level.Queues > 0 ? schema.FlowHash(schema.FlowDistinguisher(user, info)) : 0;
        var req = queues.StartRequest(hash, out var reason);
        // The wait is observed for levels that queue (Handle's observeQueueWaitTime), rejected or not.
        var queued = level.Queues > 0;
        if (req is null)
        {
            if (queued) FlowControlMetrics.WaitDuration.Record(0, WithExecute(tags, "false"));
            await Reject(ctx, info, schema, level, tags, reason);
            return;
        }
        if (!req.Dispatched.IsCompleted)
        {
            FlowControlMetrics.InQueue.Add(1, tags);
            var dispatched = false;
            try
            {
                var timeout = requestTimeout(ctx.Request) / 4;
                dispatched = await req.Dispatched.WaitAsync(timeout < MaxWait ? timeout : MaxWait, time, ctx.RequestAborted);
            }
            catch (TimeoutException) { reason = RejectReason.TimeOut; }
            catch (OperationCanceledException) { reason = RejectReason.Cancelled; }
            finally { FlowControlMetrics.InQueue.Add(-1, tags); }
            if (!dispatched && queues.Cancel(req))
            {
                if (queued) FlowControlMetrics.WaitDuration.Record(time.GetElapsedTime(req.ArrivalTimestamp).TotalSeconds, WithExecute(tags, "false"));
                ctx.RequestAborted.ThrowIfCancellationRequested();
                await Reject(ctx, info, schema, level, tags, reason == RejectReason.None ? RejectReason.TimeOut : reason);
                return;
            }
        }
        FlowControlMetrics.Dispatched.Add(1, tags);
        if (queued) FlowControlMetrics.WaitDuration.Record(time.GetElapsedTime(req.ArrivalTimestamp, req.StartTimestamp).TotalSeconds, WithExecute(tags, "true"));
        await Execute(ctx, next, schema, level, tags, isWatch, () => queues.Finish(req));
    }

    private async Task Execute(HttpContext ctx, RequestDelegate next, FlowSchemaMatcher schema, PriorityLevel level, TagList tags,
        bool isWatch, Action? release)
    {
        SetHeaders(ctx, schema, level);
        FlowControlMetrics.Executing.Add(1, tags);
        var started = time.GetTimestamp();
        var done = 0;
        void Done()
        {
            if (Interlocked.Exchange(ref done, 1) != 0) return;
            release?.Invoke();
            FlowControlMetrics.Executing.Add(-1, tags);
            var execTags = tags;
            execTags.Add("type", isWatch ? "watch" : "regular");
            FlowControlMetrics.ExecutionSeconds.Record(time.GetElapsedTime(started).TotalSeconds, execTags);
        }
        // A watch gives its seat back once it is set up: its response has started.
        if (isWatch) ctx.Response.OnStarting(() => { Done(); return Task.CompletedTask; });
        try { await next(ctx); }
        finally { Done(); }
    }

    private Task Reject(HttpContext ctx, RequestInfo info, FlowSchemaMatcher schema, PriorityLevel level, TagList tags, RejectReason reason)
    {
        // RecordRequestTermination: a 429 in self-defense, as the max-in-flight filter counts its own.
        Observability.ApiServerMetrics.RecordTermination(ctx.Request, info, StatusCodes.Status429TooManyRequests);
        var rejectTags = tags;
        rejectTags.Add("reason", FlowControlMetrics.ReasonLabel(reason));
        FlowControlMetrics.Rejected.Add(1, rejectTags);
        SetHeaders(ctx, schema, level);
        return InFlightLimit.WriteTooManyRequestsAsync(ctx, _dropped.RecordDropped(level.Name));
    }

    private static void SetHeaders(HttpContext ctx, FlowSchemaMatcher schema, PriorityLevel level)
    {
        ctx.Response.Headers[PriorityLevelUidHeader] = level.Uid;
        ctx.Response.Headers[FlowSchemaUidHeader] = schema.Uid;
    }

    private static TagList WithExecute(TagList tags, string execute)
    {
        tags.Add("execute", execute);
        return tags;
    }

    /// <summary>hashFlowID: the first 8 bytes, little-endian, of SHA-256 over the schema name, a zero byte and the distinguisher.</summary>
    public static ulong FlowHash(string schemaName, string distinguisher)
    {
        var length = Encoding.UTF8.GetByteCount(schemaName) + 1 + Encoding.UTF8.GetByteCount(distinguisher);
        var buffer = length <= 512 ? stackalloc byte[length] : new byte[length];
        var n = Encoding.UTF8.GetBytes(schemaName, buffer);
        buffer[n] = 0;
        Encoding.UTF8.GetBytes(distinguisher, buffer[(n + 1)..]);
        Span<byte> sum = stackalloc byte[32];
        SHA256.HashData(buffer, sum);
        return BinaryPrimitives.ReadUInt64LittleEndian(sum);
    }
}
