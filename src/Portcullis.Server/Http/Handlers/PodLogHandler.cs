using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authorization;
using Portcullis.Server.Controllers.Node.Runtime;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Http.Handlers;

/// <summary>
/// pods/log (GET): a container's output, as the kubelet serves it — container, follow, previous,
/// timestamps, sinceSeconds, sinceTime, tailLines, limitBytes — validated as upstream's
/// ValidatePodLogOptions. The simulated runtime has no output and says which flag changes that.
/// </summary>
public sealed class PodLogHandler(Func<ResourceDefinition, GenericStore> stores, ProcessRuntime? runtime, TimeProvider time) : ICustomHandler
{
    public IEnumerable<(string Group, string Plural, string Subresource)> Routes => [("", "pods", "log")];

    public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
    {
        if (info.Verb != Verb.Get) throw ApiErrors.MethodNotSupported("pods/log", "", ctx.Request.Method);
        string? Q(string k) => ctx.Request.Query.TryGetValue(k, out var v) ? v.ToString() : null;
        var options = ParseOptions(Q, info.Name, time.GetUtcNow());
        var pod = await stores(def).GetAsync(info.Namespace, info.Name, ctx.RequestAborted);
        var container = PodSubresources.Container(pod, Q("container"));
        var previous = PodSubresources.Bool(Q("previous"));
        if (!new PodView(pod).IsScheduled)
        {
            // Not on a node yet: upstream answers an empty log.
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "text/plain";
            return;
        }
        if (runtime is null) throw PodSubresources.Simulated("log");
        var worker = runtime.Worker(Meta.Uid(pod));
        var state = worker?.State(container);
        // The kubelet's validateContainerLogStatus: which instance, or why there is none.
        var backingOff = state is { WaitingReason: not null, Terminated: not null };
        ContainerLog? log;
        if (previous)
        {
            log = backingOff ? worker!.Log(container, false) : worker?.Log(container, true);
            if (log is null) throw ApiErrors.BadRequest($"previous terminated container \"{container}\" in pod \"{info.Name}\" not found");
        }
        else
        {
            log = worker?.Log(container, false);
            if (log is null)
            {
                var reason = state?.WaitingReason ?? "ContainerCreating";
                throw ApiErrors.BadRequest($"container \"{container}\" in pod \"{info.Name}\" is waiting to start: {reason}");
            }
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/plain";
        ctx.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await ctx.Response.StartAsync(ctx.RequestAborted);
        try { await log.CopyToAsync(ctx.Response.Body, options, ctx.RequestAborted); }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested) { }
    }

    /// <summary>PodLogOptions from the query, with upstream's validation (422 Invalid, kind PodLogOptions).</summary>
    internal static LogOptions ParseOptions(Func<string, string?> q, string podName, DateTimeOffset now)
    {
        var tail = PodSubresources.Int(q("tailLines"), "tailLines");
        var since = PodSubresources.Int(q("sinceSeconds"), "sinceSeconds");
        var limit = PodSubresources.Int(q("limitBytes"), "limitBytes");
        DateTimeOffset? sinceTime = null;
        if (q("sinceTime") is { } st)
        {
            if (!DateTimeOffset.TryParse(st, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
                throw ApiErrors.BadRequest($"parsing time \"{st}\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"{st}\" as \"2006\"");
            sinceTime = t;
        }
        var errors = new List<FieldError>();
        if (tail is < 0) errors.Add(FieldError.Invalid("tailLines", tail.Value.ToString(CultureInfo.InvariantCulture), "must be greater than or equal to 0", quoted: false));
        if (limit is < 1) errors.Add(FieldError.Invalid("limitBytes", limit.Value.ToString(CultureInfo.InvariantCulture), "must be greater than 0", quoted: false));
        if (since is not null && sinceTime is not null) errors.Add(FieldError.Forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"));
        else if (since is < 1) errors.Add(FieldError.Invalid("sinceSeconds", since.Value.ToString(CultureInfo.InvariantCulture), "must be greater than 0", quoted: false));
        if (errors.Count > 0) throw ApiErrors.Invalid("PodLogOptions", "", podName, errors);
        return new LogOptions(
            Follow: PodSubresources.Bool(q("follow")),
            Timestamps: PodSubresources.Bool(q("timestamps")),
            TailLines: tail,
            Since: since is { } s ? now.AddSeconds(-s) : sinceTime,
            LimitBytes: limit);
    }
}
