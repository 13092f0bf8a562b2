using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace Portcullis.Server.Observability;

/// <summary>
/// /metrics: the instruments of <see cref="Meters.ApiServer"/> and .NET's runtime meter in the Prometheus text format,
/// through OpenTelemetry's Prometheus exporter. Names pass unchanged (no unit or <c>_total</c> suffix is added, no scope
/// or target labels), so each series reads as kube-apiserver's. The pipeline authorizes the request first (the
/// non-resource URL <c>/metrics</c>, granted by the bootstrap ClusterRole <c>system:monitoring</c>), as upstream.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    public const string Path = "/metrics";

    /// <summary>The runtime's own meter (GC, thread pool, JIT, exceptions) in .NET 9 and later.</summary>
    private const string RuntimeMeter = "System.Runtime";

    /// <summary>
    /// Series kept per metric; beyond it the SDK counts into one overflow series. The SDK sets aside room for every
    /// series of every metric when the metric is first used (its default of 2,000 series per metric held 11 MB of the
    /// idle server's heap), so each metric gets what it can use: the request metrics one series per resource, verb,
    /// scope and code of a busy server; the other kube-apiserver metrics (per resource, plugin, webhook, priority
    /// level) the SDK's default; process, runtime, authentication and authorization metrics (a handful of label values
    /// each) 200.
    /// </summary>
    internal static int SeriesLimit(string instrument) => instrument switch
    {
        ApiServerMetrics.RequestTotalName or ApiServerMetrics.RequestDurationName => 20_000,
        _ when instrument.StartsWith("apiserver_", StringComparison.Ordinal) => 2_000,
        _ => 200,
    };

    private readonly MeterProvider _provider;

    public MetricsEndpoint()
    {
        ProcessMetrics.Register();
        _provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(Meters.Name, RuntimeMeter)
            .AddView(instrument => new MetricStreamConfiguration { CardinalityLimit = SeriesLimit(instrument.Name) })
            .AddPrometheusExporter(o =>
            {
                o.ScrapeResponseCacheDurationMilliseconds = 0;
                o.DisableTotalNameSuffixForCounters = true;
                o.ScopeInfoEnabled = false;
                o.TargetInfoEnabled = false;
                o.TranslationStrategy = PrometheusAspNetCoreTranslationStrategy.UnderscoreEscapingWithoutSuffixes;
            })
            .Build();
    }

    /// <summary>Serves GET /metrics at this point of the pipeline (after authorization); anything else goes on.</summary>
    public void Mount(IApplicationBuilder app) =>
        app.UseOpenTelemetryPrometheusScrapingEndpoint(_provider, IsScrape, path: null, configureBranchedPipeline: null, optionsName: null);

    private static bool IsScrape(HttpContext ctx) =>
        string.Equals(ctx.Request.Path.Value, Path, StringComparison.Ordinal) && (HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method));

    public void Dispose() => _provider.Dispose();
}
