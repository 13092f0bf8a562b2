using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Audit.Backends;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;

namespace Portcullis.Server.Audit;

/// <summary>
/// The audit stages of the pipeline (k8s.io/apiserver/pkg/endpoints/filters audit_init.go, audit.go,
/// authn_audit.go): made only when --audit-policy-file is given, so without a policy the pipeline's cost is one null
/// check. The policy is evaluated once per request, after authentication and before impersonation; events go to the
/// backend at RequestReceived, ResponseStarted (long-running requests only), ResponseComplete, or Panic (an
/// unhandled exception, answered 500), less the stages the rule omits.
/// </summary>
public sealed partial class Auditor(PolicyRuleEvaluator policy, IAuditBackend backend, TimeProvider time, ILogger<Auditor> log) : IAsyncDisposable
{
    /// <summary>upstream's maxUserAgentLength: a longer User-Agent is cut and marked.</summary>
    private const int MaxUserAgentLength = 1024;

    public IAuditBackend Backend => backend;

    /// <summary>
    /// WithAuditInit, with a policy loaded: the request's audit context, stamped with the time it was received (the
    /// Audit-Id header itself is set for every request by the pipeline).
    /// </summary>
    public void Init(HttpContext ctx, string auditId) =>
        ctx.Features.Set(new AuditContext { AuditId = auditId, RequestReceived = time.GetUtcNow() });

    /// <summary>WithAudit: evaluates the policy, sends the stages' events around the rest of the pipeline.</summary>
    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        if (ctx.Features.Get<AuditContext>() is not { } ac) { await next(ctx); return; }
        var f = ctx.Features.GetRequiredFeature<RequestContextFeature>();
        if (!Evaluate(ctx, ac, f.User, f.Info)) { await next(ctx); return; }

        if (!Process(ac, AuditStages.RequestReceived))
        {
            AuditMetrics.RequestsRejected.Add(1);
            throw ApiErrors.Internal("failed to store audit event");
        }
        var longRunning = InFlightLimit.IsLongRunning(f.Info);
        var started = false; // ResponseStarted is sent once (the auditResponseWriter's sync.Once)
        if (longRunning)
            ctx.Response.OnStarting(() =>
            {
                // The first WriteHeader: the code, and the Status if one is being written.
                if (started) return Task.CompletedTask;
                started = true;
                ac.ResponseStatus ??= AuditContext.CodeStatus(ctx.Response.StatusCode);
                Process(ac, AuditStages.ResponseStarted);
                return Task.CompletedTask;
            });
        ResponseCapture? capture = null;
        if (ac.Level == AuditLevel.RequestResponse && !longRunning)
        {
            capture = new ResponseCapture(ctx.Response.Body);
            ctx.Response.Body = capture;
        }
        try
        {
            await next(ctx);
            if (capture is not null)
            {
                await ctx.Response.BodyWriter.FlushAsync(CancellationToken.None); // the answer is complete: keep what was written
                ac.ResponseObject = capture.Recorded(ctx.Response.ContentType, ac.Config.OmitManagedFields);
            }
            // processCode: the code written is the event's, also over a Status answer's (a delete's Success has none).
            if (ac.ResponseStatus is { } written) written["code"] = ctx.Response.StatusCode;
            else ac.ResponseStatus = AuditContext.CodeStatus(ctx.Response.StatusCode);
        }
        catch (Exception e) when (Answered(e) is { } status)
        {
            // The error is written by the Errors stage outside; its Status is what the event records.
            ac.ResponseStatus = AuditContext.BoundedStatus(status);
            if (ac.Level == AuditLevel.RequestResponse) ac.ResponseObject = Serialization.GoJsonWriter.ToBytes(status);
            if (longRunning && !started)
            {
                started = true;
                Process(ac, AuditStages.ResponseStarted);
            }
            Process(ac, AuditStages.ResponseComplete);
            throw;
        }
        catch (Exception e)
        {
            ac.ResponseStatus = new System.Text.Json.Nodes.JsonObject
            {
                ["metadata"] = new System.Text.Json.Nodes.JsonObject(),
                ["status"] = "Failure",
                ["message"] = $"APIServer panic'd: {e.Message}",
                ["reason"] = "InternalError",
                ["code"] = 500,
            };
            Process(ac, AuditStages.Panic);
            throw;
        }
        finally
        {
            if (capture is not null) ctx.Response.Body = capture.Inner;
        }
        Process(ac, AuditStages.ResponseComplete);
    }

    /// <summary>
    /// WithFailedAuthenticationAudit: a request whose credentials were refused is audited with no user, one
    /// ResponseStarted event whose status says what was tried, and code 401.
    /// </summary>
    public void FailedAuthentication(HttpContext ctx)
    {
        if (ctx.Features.Get<AuditContext>() is not { } ac) return;
        var info = ctx.Features.GetRequiredFeature<RequestContextFeature>().Info;
        if (!Evaluate(ctx, ac, null, info)) return;
        ac.ResponseStatus = new System.Text.Json.Nodes.JsonObject
        {
            ["metadata"] = new System.Text.Json.Nodes.JsonObject(),
            ["message"] = AuthMethods(ctx),
            ["code"] = 401,
        };
        Process(ac, AuditStages.ResponseStarted);
    }

    /// <summary>evaluatePolicyAndCreateAuditEvent and LogRequestMetadata; false when the level is None.</summary>
    private bool Evaluate(HttpContext ctx, AuditContext ac, UserInfo? user, RequestInfo info)
    {
        var rac = ac.Config = policy.Evaluate(user, info);
        AuditMetrics.ObservePolicyLevel(rac.Level);
        if (rac.Level == AuditLevel.None) return false;
        var req = ctx.Request;
        ac.Verb = info.Verb.Value;
        ac.RequestUri = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : req.Path + req.QueryString;
        var ua = req.Headers.UserAgent.ToString();
        ac.UserAgent = ua.Length > MaxUserAgentLength ? ua[..MaxUserAgentLength] + "...TRUNCATED" : ua;
        ac.SourceIps = SourceIps(ctx);
        ac.User = user;
        if (info.IsResourceRequest)
            ac.ObjectRef = new AuditObjectRef
            {
                Namespace = info.Namespace, Name = info.Name, Resource = info.Resource, Subresource = info.Subresource,
                ApiGroup = info.ApiGroup, ApiVersion = info.ApiVersion,
            };
        return true;
    }

    /// <summary>processAuditEvent: skips omitted stages, stamps the stage, counts, hands the event to the backend.</summary>
    private bool Process(AuditContext ac, AuditStages stage)
    {
        if ((ac.Config.OmitStages & stage) != 0) return true;
        var stamp = stage == AuditStages.RequestReceived ? ac.RequestReceived : time.GetUtcNow();
        AuditEventRecord record;
        try
        {
            record = new AuditEventRecord(AuditEventWriter.Serialize(ac, stage, stamp), backend.WantsLegacy ? AuditEventWriter.Legacy(ac, stage) : null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogEncodeFailed(log, e, ac.AuditId);
            AuditMetrics.PluginError(backend.Name, 1);
            return false;
        }
        AuditMetrics.Events.Add(1);
        return backend.ProcessEvents([record]);
    }

    /// <summary>The Status an exception is answered with by the Errors stage, or null for one answered 500 (a panic).</summary>
    private static System.Text.Json.Nodes.JsonObject? Answered(Exception e) => e switch
    {
        ApiException api => api.ToStatus(),
        BadHttpRequestException bad => (bad.StatusCode == 413
            ? ApiErrors.RequestEntityTooLarge($"Request entity too large: limit is {BodyDecoder.MaxBodyBytes}")
            : ApiErrors.BadRequest(bad.Message)).ToStatus(),
        // A request cancelled by its deadline is answered 504 by the RequestDeadline stage outside (a client that went
        // away reads nothing, but the event still says how the request ended).
        OperationCanceledException => RequestDeadline.TimeoutError().ToStatus(),
        _ => null,
    };

    /// <summary>utilnet.SourceIPs: X-Forwarded-For's valid addresses, X-Real-Ip if new, then the peer unless it is the last one.</summary>
    internal static IReadOnlyList<string> SourceIps(HttpContext ctx)
    {
        var ips = new List<IPAddress>();
        var forwarded = ctx.Request.Headers["X-Forwarded-For"].ToString();
        if (forwarded.Length > 0)
            foreach (var part in forwarded.Split(','))
                if (IPAddress.TryParse(part.Trim(), out var ip)) ips.Add(Plain(ip));
        if (ctx.Request.Headers["X-Real-Ip"].ToString() is { Length: > 0 } real && IPAddress.TryParse(real, out var realIp) && !ips.Contains(Plain(realIp)))
            ips.Add(Plain(realIp));
        if (ctx.Connection.RemoteIpAddress is { } remote && (ips.Count == 0 || !ips[^1].Equals(Plain(remote))))
            ips.Add(Plain(remote));
        return [.. ips.Select(i => i.ToString())];
    }

    private static IPAddress Plain(IPAddress ip) => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;

    /// <summary>getAuthMethods: what the refused request tried, upstream's wording.</summary>
    private static string AuthMethods(HttpContext ctx)
    {
        var methods = new List<string>();
        var auth = ctx.Request.Headers.Authorization.ToString().Trim();
        if (auth.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) methods.Add("basic");
        var parts = auth.Split(' ');
        if (parts.Length > 1 && parts[0].Equals("bearer", StringComparison.OrdinalIgnoreCase)) methods.Add("bearer");
        if (ctx.Request.Query["access_token"].ToString().Trim().Length > 0) methods.Add("access_token");
        if (ctx.Connection.ClientCertificate is not null) methods.Add("x509");
        return methods.Count > 0 ? "Authentication failed, attempted: " + string.Join(", ", methods) : "Authentication failed, no credentials provided";
    }

    public ValueTask DisposeAsync() => backend.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Error, Message = "audit: could not encode the event of request {AuditId}")]
    private static partial void LogEncodeFailed(ILogger logger, Exception e, string auditId);
}
