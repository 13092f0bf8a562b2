using System.Diagnostics;
using System.Diagnostics.Metrics;
using Portcullis.Server.Observability;

namespace Portcullis.Server.FlowControl;

/// <summary>
/// The <c>apiserver_flowcontrol_*</c> metrics (k8s.io/apiserver pkg/util/flowcontrol/metrics/metrics.go, Kubernetes 1.33):
/// upstream's names, help texts, labels and buckets, as instruments on <see cref="Meters.ApiServer"/>.
/// </summary>
internal static class FlowControlMetrics
{
    private static readonly double[] RequestDurationSecondsBuckets = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];

    public static readonly Counter<long> Dispatched = Meters.ApiServer.CreateCounter<long>(
        "apiserver_flowcontrol_dispatched_requests_total", null, "Number of requests executed by API Priority and Fairness subsystem");

    public static readonly Counter<long> Rejected = Meters.ApiServer.CreateCounter<long>(
        "apiserver_flowcontrol_rejected_requests_total", null, "Number of requests rejected by API Priority and Fairness subsystem");

    public static readonly UpDownCounter<long> InQueue = Meters.ApiServer.CreateUpDownCounter<long>(
        "apiserver_flowcontrol_current_inqueue_requests", null, "Number of requests currently pending in queues of the API Priority and Fairness subsystem");

    public static readonly UpDownCounter<long> Executing = Meters.ApiServer.CreateUpDownCounter<long>(
        "apiserver_flowcontrol_current_executing_requests", null,
        "Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem");

    public static readonly Histogram<double> WaitDuration = Meters.ApiServer.CreateHistogram<double>(
        "apiserver_flowcontrol_request_wait_duration_seconds", null, "Length of time a request spent waiting in its queue", null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestDurationSecondsBuckets });

    public static readonly Histogram<double> ExecutionSeconds = Meters.ApiServer.CreateHistogram<double>(
        "apiserver_flowcontrol_request_execution_seconds", null,
        "Duration of initial stage (for a WATCH) or any (for a non-WATCH) stage of request execution in the API Priority and Fairness subsystem", null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestDurationSecondsBuckets });

    public static readonly Gauge<long> NominalLimitSeats = Meters.ApiServer.CreateGauge<long>(
        "apiserver_flowcontrol_nominal_limit_seats", null, "Nominal number of execution seats configured for each priority level");

    public static readonly Gauge<long> CurrentLimitSeats = Meters.ApiServer.CreateGauge<long>(
        "apiserver_flowcontrol_current_limit_seats", null, "current derived number of execution seats available to each priority level");

    public static readonly Gauge<long> RequestConcurrencyLimit = Meters.ApiServer.CreateGauge<long>(
        "apiserver_flowcontrol_request_concurrency_limit", null, "Nominal number of execution seats configured for each priority level");

    public static TagList Tags(string priorityLevel, string flowSchema) => new() { { "priority_level", priorityLevel }, { "flow_schema", flowSchema } };

    public static string ReasonLabel(RejectReason r) => r switch
    {
        RejectReason.QueueFull => "queue-full",
        RejectReason.ConcurrencyLimit => "concurrency-limit",
        RejectReason.TimeOut => "time-out",
        _ => "cancelled",
    };

    /// <summary>SetPriorityLevelConfiguration: the level's limits (no borrowing: the current limit is the nominal one).</summary>
    public static void SetLevel(PriorityLevel l)
    {
        var tag = new KeyValuePair<string, object?>("priority_level", l.Name);
        NominalLimitSeats.Record(l.NominalLimit, tag);
        CurrentLimitSeats.Record(l.CurrentLimit, tag);
        RequestConcurrencyLimit.Record(l.NominalLimit, tag);
    }
}
