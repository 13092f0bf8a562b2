using System.Diagnostics.Metrics;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// k8s.io/apiserver/pkg/storage/value/metrics.go: <c>apiserver_storage_transformation_operations_total</c>{resource,
/// transformation_type, transformer_prefix, status} and <c>apiserver_storage_transformation_duration_seconds</c>
/// {transformation_type, transformer_prefix} (successes only, buckets 5µs × 2^0..24).
/// </summary>
internal static class TransformationMetrics
{
    private static readonly Counter<long> Operations = Observability.Meters.ApiServer.CreateCounter<long>(
        "apiserver_storage_transformation_operations_total", unit: null,
        description: "Total number of transformations. Successful transformation will have a status 'OK' and a varied status string when the transformation fails. The status, resource, and transformation_type fields can be used for alerting purposes. For example, you can monitor for encryption/decryption failures using the transformation_type (e.g., from_storage for decryption and to_storage for encryption). Additionally, these fields can be used to ensure that the correct transformers are applied to each resource.");

    private static readonly Histogram<double> Duration = Observability.Meters.ApiServer.CreateHistogram<double>(
        "apiserver_storage_transformation_duration_seconds", unit: null,
        description: "Latencies in seconds of value transformation operations.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Enumerable.Range(0, 25).Select(i => 5e-6 * Math.Pow(2, i)).ToArray() });

    /// <summary>The resource being transformed (upstream takes it from the request; the storage decorator knows it).</summary>
    internal static readonly AsyncLocal<string?> Resource = new();

    public static void Record(string type, string prefix, Exception? error, double seconds)
    {
        Operations.Add(1,
            new KeyValuePair<string, object?>("resource", Resource.Value ?? ""),
            new KeyValuePair<string, object?>("transformation_type", type),
            new KeyValuePair<string, object?>("transformer_prefix", prefix),
            new KeyValuePair<string, object?>("status", Status(error)));
        if (error is null)
            Duration.Record(seconds, new KeyValuePair<string, object?>("transformation_type", type), new KeyValuePair<string, object?>("transformer_prefix", prefix));
    }

    /// <summary>getErrorCode: "OK", a gRPC code's name, or "unknown-non-grpc".</summary>
    private static string Status(Exception? error)
    {
        if (error is null) return "OK";
        for (var e = error; e is not null; e = e.InnerException)
            if (e is Grpc.Core.RpcException rpc) return rpc.StatusCode.ToString();
        return "unknown-non-grpc";
    }
}
