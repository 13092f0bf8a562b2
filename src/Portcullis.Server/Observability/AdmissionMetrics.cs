using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Portcullis.Server.Observability;

/// <summary>
/// Admission's metrics (k8s.io/apiserver pkg/admission/metrics): each step (admit, validate), each plugin, and each
/// webhook call, by operation and whether it refused the request; webhook calls also by HTTP code.
/// </summary>
public static class AdmissionMetrics
{
    private static readonly double[] StepBuckets = [0.005, 0.025, 0.1, 0.5, 1.0, 2.5];
    private static readonly double[] WebhookBuckets = [0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 10, 25];

    private static readonly Histogram<double> Step = Meters.ApiServer.CreateHistogram("apiserver_admission_step_admission_duration_seconds", null,
        "[STABLE] Admission sub-step latency histogram in seconds, broken out for each operation and API resource and step type (validate or admit).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StepBuckets });

    private static readonly Histogram<double> Controller = Meters.ApiServer.CreateHistogram("apiserver_admission_controller_admission_duration_seconds", null,
        "[STABLE] Admission controller latency histogram in seconds, identified by name and broken out for each operation and API resource and type (validate or admit).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StepBuckets });

    private static readonly Histogram<double> Webhook = Meters.ApiServer.CreateHistogram("apiserver_admission_webhook_admission_duration_seconds", null,
        "[STABLE] Admission webhook latency histogram in seconds, identified by name and broken out for each operation and API resource and type (validate or admit).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = WebhookBuckets });

    private static readonly Counter<long> WebhookRequests = Meters.ApiServer.CreateCounter<long>("apiserver_admission_webhook_request_total", null,
        "[ALPHA] Admission webhook request total, identified by name and broken out for each admission type (validating or mutating) and operation. Additional labels specify whether the request was rejected or not and an HTTP status code. Codes greater than 600 are truncated to 600, to keep the metrics cardinality bounded.");

    /// <summary>One step of the chain: <paramref name="type"/> is "admit" or "validate"; the operation is upstream's (CREATE, UPDATE, ...).</summary>
    public static void ObserveStep(long startTimestamp, bool rejected, string operation, string type) =>
        Step.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
            new TagList { { "type", type }, { "operation", operation }, { "rejected", rejected ? "true" : "false" } });

    public static void ObserveController(long startTimestamp, bool rejected, string operation, string type, string name) =>
        Controller.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
            new TagList { { "name", name }, { "type", type }, { "operation", operation }, { "rejected", rejected ? "true" : "false" } });

    /// <summary>One webhook call: <paramref name="type"/> is "admit" (mutating) or "validating", as upstream's dispatchers pass it.</summary>
    public static void ObserveWebhook(long startTimestamp, bool rejected, string operation, string type, string name, int code)
    {
        var rejectedText = rejected ? "true" : "false";
        Webhook.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
            new TagList { { "name", name }, { "type", type }, { "operation", operation }, { "rejected", rejectedText } });
        WebhookRequests.Add(1, new TagList { { "name", name }, { "type", type }, { "operation", operation }, { "code", Math.Min(code, 600).ToString(System.Globalization.CultureInfo.InvariantCulture) }, { "rejected", rejectedText } });
    }
}
