using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authorization;
using Portcullis.Server.Http;

namespace Portcullis.Server.Observability;

/// <summary>
/// kube-apiserver's request metrics (k8s.io/apiserver pkg/endpoints/metrics/metrics.go, MonitorRequest): names, labels,
/// buckets and the verb and scope rules as upstream, so dashboards and alerts written for a cluster read Portcullis.
/// </summary>
public static class ApiServerMetrics
{
    /// <summary>Upstream's SLO buckets for apiserver_request_duration_seconds.</summary>
    private static readonly double[] RequestBuckets = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

    public const string RequestTotalName = "apiserver_request_total", RequestDurationName = "apiserver_request_duration_seconds";

    public static readonly Counter<long> RequestTotal = Meters.ApiServer.CreateCounter<long>(RequestTotalName, null,
        "[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.");

    public static readonly Histogram<double> RequestDuration = Meters.ApiServer.CreateHistogram(RequestDurationName, null,
        "[STABLE] Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestBuckets });

    public static readonly UpDownCounter<long> LongRunning = Meters.ApiServer.CreateUpDownCounter<long>("apiserver_longrunning_requests", null,
        "[STABLE] Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.");

    public static readonly Counter<long> RequestTerminations = Meters.ApiServer.CreateCounter<long>("apiserver_request_terminations_total", null,
        "[ALPHA] Number of requests which apiserver terminated in self-defense.");

    public static readonly Counter<long> WatchEvents = Meters.ApiServer.CreateCounter<long>("apiserver_watch_events_total", null,
        "[ALPHA] Number of events sent in watch clients");

    private static readonly InflightWatermark ReadOnlyInflight = new();
    private static readonly InflightWatermark MutatingInflight = new();

    static ApiServerMetrics()
    {
        Meters.ApiServer.CreateObservableGauge("apiserver_current_inflight_requests", () => new[]
        {
            new Measurement<long>(ReadOnlyInflight.TakeMax(), new KeyValuePair<string, object?>("request_kind", "readOnly")),
            new Measurement<long>(MutatingInflight.TakeMax(), new KeyValuePair<string, object?>("request_kind", "mutating")),
        }, null, "[STABLE] Maximal number of currently used inflight request limit of this apiserver per request kind in last second.");
    }

    /// <summary>
    /// Serves one request with its metrics recorded: in flight (by kind) while it runs, or a long-running gauge for
    /// watches and streams; then the counter and the latency histogram with the status code it got. Latency counts
    /// from <paramref name="receivedTimestamp"/> (upstream's request-received timestamp).
    /// </summary>
    public static async Task MonitorAsync(HttpContext ctx, RequestInfo info, long receivedTimestamp, RequestDelegate next)
    {
        var longRunning = InFlightLimit.IsLongRunning(info);
        var mutating = info.Verb != Verb.Get && info.Verb != Verb.List && info.Verb != Verb.Watch;
        var scope = Scope(info);
        var verb = ReportedVerb(ctx.Request, info, scope);
        var inflight = mutating ? MutatingInflight : ReadOnlyInflight;
        TagList longTags = default;
        if (longRunning)
        {
            longTags = LongRunningTags(verb, info, scope);
            LongRunning.Add(1, longTags);
        }
        else inflight.Enter();
        var code = 0;
        try
        {
            await next(ctx);
            code = ctx.Response.StatusCode;
        }
        catch (Errors.ApiException e) { code = e.Code; throw; }
        // Cancelled before an answer: the deadline's 504 (a client that left gets no answer either way); after one, its code.
        catch (OperationCanceledException) { code = ctx.Response.HasStarted ? ctx.Response.StatusCode : 504; throw; }
        catch { code = 500; throw; }
        finally
        {
            if (longRunning) LongRunning.Add(-1, longTags);
            else inflight.Exit();
            Record(ctx.Request, info, verb, scope, code, Stopwatch.GetElapsedTime(receivedTimestamp).TotalSeconds);
        }
    }

    private static void Record(HttpRequest req, RequestInfo info, string verb, string scope, int code, double seconds)
    {
        var dryRun = DryRun(req);
        var component = info.IsResourceRequest ? "apiserver" : "";
        var subresource = info.IsResourceRequest ? info.Subresource : info.Path;
        var tags = new TagList
        {
            { "verb", verb }, { "dry_run", dryRun }, { "group", info.ApiGroup }, { "version", info.ApiVersion },
            { "resource", info.Resource }, { "subresource", subresource }, { "scope", scope }, { "component", component },
        };
        RequestDuration.Record(seconds, tags);
        tags.Add("code", CodeText(code));
        RequestTotal.Add(1, tags);
    }

    /// <summary>A request refused in self-defense (429 from the in-flight limits or APF, 504 from the deadline): upstream's RecordRequestTermination.</summary>
    public static void RecordTermination(HttpRequest req, RequestInfo info, int code)
    {
        var scope = Scope(info);
        RequestTerminations.Add(1, new TagList
        {
            { "verb", ReportedVerb(req, info, scope) }, { "group", info.ApiGroup }, { "version", info.ApiVersion },
            { "resource", info.IsResourceRequest ? info.Resource : "" }, { "subresource", info.IsResourceRequest ? info.Subresource : info.Path },
            { "scope", scope }, { "component", "apiserver" }, { "code", CodeText(code) },
        });
    }

    private static TagList LongRunningTags(string verb, RequestInfo info, string scope) => new()
    {
        { "verb", verb }, { "group", info.ApiGroup }, { "version", info.ApiVersion }, { "resource", info.Resource },
        { "subresource", info.Subresource }, { "scope", scope }, { "component", "apiserver" },
    };

    /// <summary>Whether upstream instruments the request: every resource route, and the roots of /healthz, /livez, /readyz.</summary>
    public static bool IsInstrumented(RequestInfo info) =>
        info.IsResourceRequest || info.Path is "/healthz" or "/livez" or "/readyz";

    /// <summary>
    /// The scope label as the route installer gives it (installer.go): a named object or a create is "resource", a list
    /// across namespaces or of a cluster-scoped kind "cluster", a list in a namespace "namespace"; non-resource paths "".
    /// </summary>
    public static string Scope(RequestInfo info)
    {
        if (!info.IsResourceRequest) return "";
        if (info.Name.Length > 0 || info.Verb == Verb.Create) return "resource";
        return info.Namespace.Length > 0 ? "namespace" : "cluster";
    }

    private static readonly HashSet<string> ConnectSubresources = ["log", "exec", "proxy", "attach", "portforward"];

    /// <summary>
    /// The verb label (CanonicalVerb and CleanVerb): the HTTP method, GET split into GET and LIST by scope, WATCH for a
    /// watch, APPLY for a server-side apply patch, CONNECT for the streaming subresources.
    /// </summary>
    public static string ReportedVerb(HttpRequest req, RequestInfo info, string scope)
    {
        if (info.Verb == Verb.Watch) return "WATCH";
        if (info.IsResourceRequest && ConnectSubresources.Contains(info.Subresource)) return "CONNECT";
        return req.Method switch
        {
            "GET" or "HEAD" => scope is not ("resource" or "") ? "LIST" : "GET",
            "PATCH" => req.ContentType is { } ct && ct.StartsWith("application/apply-patch+yaml", StringComparison.OrdinalIgnoreCase) ? "APPLY" : "PATCH",
            "POST" => "POST",
            "PUT" => "PUT",
            "DELETE" => "DELETE",
            _ => "other",
        };
    }

    /// <summary>cleanDryRun: the sorted, distinct dryRun values joined by commas; "invalid" for a value other than All.</summary>
    private static string DryRun(HttpRequest req)
    {
        if (!req.QueryString.HasValue || !req.QueryString.Value!.Contains("dryRun", StringComparison.Ordinal)) return "";
        var values = req.Query["dryRun"];
        if (values.Count == 0) return "";
        var distinct = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var v in values)
        {
            if (v != "All") return "invalid";
            distinct.Add(v);
        }
        return string.Join(",", distinct);
    }

    private static readonly string[] CodeTexts = Enumerable.Range(0, 600).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static string CodeText(int code) => (uint)code < CodeTexts.Length ? CodeTexts[code] : code.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The current count of requests in flight of one kind, and the highest since the last scrape (upstream's watermark).</summary>
    private sealed class InflightWatermark
    {
        private long _current;
        private long _max;

        public void Enter()
        {
            var now = Interlocked.Increment(ref _current);
            long seen;
            while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen) { }
        }

        public void Exit() => Interlocked.Decrement(ref _current);

        public long TakeMax()
        {
            var current = Volatile.Read(ref _current);
            return Math.Max(Interlocked.Exchange(ref _max, current), current);
        }
    }
}
