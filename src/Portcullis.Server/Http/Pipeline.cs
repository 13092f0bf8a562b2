using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;
using Portcullis.Server.Observability;

namespace Portcullis.Server.Http;

/// <summary>The parsed request, set once by the RequestInfo stage.</summary>
public sealed record RequestContextFeature(RequestInfo Info, ResourceDefinition? Resource)
{
    /// <summary>When the request arrived (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>): upstream's request-received timestamp.</summary>
    public long ReceivedTimestamp { get; init; }

    public UserInfo? User { get; set; }
}

/// <summary>
/// The request pipeline, in one place. Each request passes each stage once, in this order
/// (upstream's DefaultBuildHandlerChain, read outside in).
/// </summary>
public sealed partial class Pipeline(
    ResourceRegistry resources,
    IAuthenticator authenticator,
    IAuthorizer authorizer,
    Dispatcher dispatcher,
    InFlightLimit inFlight,
    RequestDeadline deadline,
    ILogger<Pipeline> log)
{
    /// <summary>
    /// --explain-denials: a hint for a denied request, added as a <c>Warning: 299</c> header (kubectl
    /// prints it as "Warning: ..."); the 403 Status stays upstream's. Null: off.
    /// </summary>
    public Func<AuthorizationAttributes, string?>? DenialHint { get; init; }

    /// <summary>/metrics, served after authorization; null: not served.</summary>
    public Observability.MetricsEndpoint? Metrics { get; init; }

    public void Build(IApplicationBuilder app)
    {
        app.Use(Errors);          // any ApiException → its Status; anything else → 500 Status, logged
        app.UseWebSockets();      // only offers the upgrade; handlers accept it after every check has passed
        app.Use(ParseRequest);    // RequestInfo: verb, group, version, resource, namespace, name
        app.Use(Deadline);        // --request-timeout and ?timeout= for requests that are not long-running → 504, or 400
        app.Use(Authenticate);    // x509 / tokens / anonymous → UserInfo, or 401
        app.Use(Impersonate);     // Impersonate-* headers, each part authorized as `impersonate`, or 403
        // Audit plugs in here (its own issue).
        app.Use(LimitInFlight);   // --max-requests-inflight / --max-mutating-requests-inflight → 429
        app.Use(Authorize);       // RBAC and friends → allow, or 403
        app.Use(Monitor);         // apiserver_request_total, _duration_seconds, in-flight and long-running gauges
        Metrics?.Mount(app);      // GET /metrics
        app.Run(dispatcher.DispatchAsync); // handler: decode → admission → strategy → storage → encode
    }

    private async Task Errors(HttpContext ctx, RequestDelegate next)
    {
        // An upgrade request that fails is answered and its connection closed, never kept for a
        // later request (CVE-2018-1002105).
        if (ctx.Request.Headers.Upgrade.Count > 0)
            ctx.Response.OnStarting(() =>
            {
                if (ctx.Response.StatusCode != StatusCodes.Status101SwitchingProtocols) ctx.Response.Headers.Connection = "close";
                return Task.CompletedTask;
            });
        try { await next(ctx); }
        catch (ApiException e) when (!ctx.Response.HasStarted) { await Responses.WriteErrorAsync(ctx, e); }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested) { }
        catch (BadHttpRequestException e) when (!ctx.Response.HasStarted)
        {
            await Responses.WriteErrorAsync(ctx, e.StatusCode == 413
                ? ApiErrors.RequestEntityTooLarge($"Request entity too large: limit is {BodyDecoder.MaxBodyBytes}")
                : ApiErrors.BadRequest(e.Message));
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            LogUnhandled(log, e, ctx.Request.Method, ctx.Request.Path);
            await Responses.WriteErrorAsync(ctx, ApiErrors.Internal(e.Message));
        }
    }

    private Task ParseRequest(HttpContext ctx, RequestDelegate next)
    {
        var received = Stopwatch.GetTimestamp();
        var q = ctx.Request.Query;
        var info = RequestInfoParser.Parse(ctx.Request.Method, ctx.Request.Path.Value ?? "/",
            k => q.TryGetValue(k, out var v) ? v.ToString() : null);
        ResourceDefinition? def = null;
        if (info.IsResourceRequest)
        {
            def = resources.Find(info.ApiGroup, info.ApiVersion, info.Resource);
            // A known resource addressed in the wrong scope is not a route: refuse before authorization.
            if (def is not null && !ScopeFits(info, def)) throw ApiErrors.PathNotFound();
        }
        ctx.Features.Set(new RequestContextFeature(info, def) { ReceivedTimestamp = received });
        return next(ctx);
    }

    private static bool ScopeFits(RequestInfo info, ResourceDefinition def)
    {
        // Judged from the path (Parts), not from a name a field selector may have supplied.
        if (def.Namespaced) return info.Namespace.Length > 0 || info.Parts.Length == 1;
        if (def.Plural == "namespaces") return info.Namespace.Length == 0 || (info.Parts.Length >= 2 && info.Parts[1] == info.Namespace);
        return info.Namespace.Length == 0;
    }

    private Task Deadline(HttpContext ctx, RequestDelegate next) =>
        deadline.InvokeAsync(ctx, ctx.Features.GetRequiredFeature<RequestContextFeature>().Info, next);

    private async Task Authenticate(HttpContext ctx, RequestDelegate next)
    {
        var feature = ctx.Features.GetRequiredFeature<RequestContextFeature>();
        var started = Stopwatch.GetTimestamp();
        var result = await authenticator.AuthenticateAsync(ctx);
        AuthenticationMetrics.Record(result, Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (result.Outcome != AuthenticationOutcome.Authenticated)
        {
            if (result.Error is { } why) LogAuthFailed(log, why);
            throw ApiErrors.Unauthorized();
        }
        feature.User = result.User;
        // Credentials are consumed here; later stages never see them.
        ctx.Request.Headers.Authorization = default;
        await next(ctx);
    }

    private async Task Impersonate(HttpContext ctx, RequestDelegate next)
    {
        if (Impersonation.IsRequested(ctx.Request.Headers))
        {
            var f = ctx.Features.GetRequiredFeature<RequestContextFeature>();
            f.User = await Impersonation.ApplyAsync(ctx.Request, f.User!, authorizer, ctx.RequestAborted);
        }
        await next(ctx);
    }

    private Task LimitInFlight(HttpContext ctx, RequestDelegate next)
    {
        var f = ctx.Features.GetRequiredFeature<RequestContextFeature>();
        return inFlight.InvokeAsync(ctx, f.Info, f.User!.Groups.Contains("system:masters"), next);
    }

    private async Task Authorize(HttpContext ctx, RequestDelegate next)
    {
        var f = ctx.Features.GetRequiredFeature<RequestContextFeature>();
        var i = f.Info;
        var attrs = new AuthorizationAttributes(f.User!, i.Verb, i.IsResourceRequest, i.Path, i.Namespace,
            i.ApiGroup, i.ApiVersion, i.Resource, i.Subresource, i.Name);
        var started = Stopwatch.GetTimestamp();
        var decision = await authorizer.AuthorizeAsync(attrs, ctx.RequestAborted);
        AuthorizationMetrics.RecordAttempt(decision, Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (decision.Decision != Decision.Allow)
        {
            if (DenialHint is { } hint) AddDenialHint(ctx, hint, attrs);
            throw Forbidden(attrs, decision.Reason);
        }
        // A request whose deadline passed on the way here is not started (it is answered 504).
        ctx.RequestAborted.ThrowIfCancellationRequested();
        await next(ctx);
    }

    private Task Monitor(HttpContext ctx, RequestDelegate next)
    {
        var f = ctx.Features.GetRequiredFeature<RequestContextFeature>();
        return ApiServerMetrics.IsInstrumented(f.Info) ? ApiServerMetrics.MonitorAsync(ctx, f.Info, f.ReceivedTimestamp, next) : next(ctx);
    }

    private void AddDenialHint(HttpContext ctx, Func<AuthorizationAttributes, string?> hint, AuthorizationAttributes attrs)
    {
        string? text;
        try { text = hint(attrs); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogHintFailed(log, e);
            return;
        }
        if (string.IsNullOrEmpty(text)) return;
        // A header value is ASCII: anything else (and control characters) becomes '?'.
        var ascii = string.Create(text.Length, text, (span, t) =>
        {
            for (var i = 0; i < t.Length; i++) span[i] = t[i] is >= ' ' and <= '~' ? t[i] : '?';
        });
        ctx.Response.Headers.Append("Warning", "299 - " + Serialization.GoText.WarningQuote(ascii));
    }

    /// <summary>Upstream's forbidden message (endpoints/handlers/responsewriters.forbiddenMessage).</summary>
    public static ApiException Forbidden(AuthorizationAttributes a, string reason)
    {
        string msg;
        if (!a.IsResourceRequest)
            msg = $"User \"{a.User.Name}\" cannot {a.Verb.Value} path \"{a.Path}\"";
        else
        {
            var resource = a.Subresource.Length > 0 ? a.Resource + "/" + a.Subresource : a.Resource;
            msg = a.Namespace.Length > 0
                ? $"User \"{a.User.Name}\" cannot {a.Verb.Value} resource \"{resource}\" in API group \"{a.ApiGroup}\" in the namespace \"{a.Namespace}\""
                : $"User \"{a.User.Name}\" cannot {a.Verb.Value} resource \"{resource}\" in API group \"{a.ApiGroup}\" at the cluster scope";
        }
        if (reason.Length > 0) msg += ": " + reason;
        return a.IsResourceRequest
            ? ApiErrors.Forbidden(a.Resource, a.ApiGroup, a.Name, msg)
            : ApiErrors.Forbidden("", "", "", msg);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "unhandled error serving {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception e, string method, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "--explain-denials: the hint failed")]
    private static partial void LogHintFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "authentication failed: {Reason}")]
    private static partial void LogAuthFailed(ILogger logger, string reason);
}
