using System.Diagnostics.Metrics;

namespace Portcullis.Server.Observability;

/// <summary>
/// The one <see cref="Meter"/> every kube-apiserver metric is created on; /metrics exports it in the Prometheus text
/// format. An instrument's name is the full Prometheus name upstream exposes (<c>apiserver_request_total</c>,
/// <c>authentication_attempts</c>, <c>apiserver_request_duration_seconds</c>), its unit is left null so the exporter
/// adds no suffix, its tags are upstream's label names, and a histogram gives upstream's buckets as
/// <see cref="InstrumentAdvice{T}.HistogramBucketBoundaries"/>.
/// </summary>
public static class Meters
{
    public const string Name = "Portcullis.ApiServer";

    public static readonly Meter ApiServer = new(Name);
}
