using Portcullis.Server.Observability;

namespace Portcullis.Server.Tests.Observability;

/// <summary>The series kept per metric: room for a busy server's request series, the SDK's default for the other
/// kube-apiserver metrics, and a small allowance for metrics with a handful of label values.</summary>
public sealed class SeriesLimitTests
{
    [Theory]
    [InlineData("apiserver_request_total", 20_000)]
    [InlineData("apiserver_request_duration_seconds", 20_000)]
    [InlineData("apiserver_watch_events_total", 2_000)]
    [InlineData("apiserver_storage_objects", 2_000)]
    [InlineData("apiserver_admission_webhook_admission_duration_seconds", 2_000)]
    [InlineData("apiserver_flowcontrol_dispatched_requests_total", 2_000)]
    [InlineData("authentication_attempts", 200)]
    [InlineData("authorization_duration_seconds", 200)]
    [InlineData("process_resident_memory_bytes", 200)]
    [InlineData("dotnet.gc.collections", 200)]
    public void EachMetricGetsTheSeriesItCanUse(string instrument, int limit) =>
        Assert.Equal(limit, MetricsEndpoint.SeriesLimit(instrument));
}
