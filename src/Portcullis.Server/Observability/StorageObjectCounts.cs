using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Observability;

/// <summary>
/// apiserver_storage_objects: the number of stored objects per resource, counted from storage every poll period
/// (kube-apiserver's <c>--etcd-count-metric-poll-period</c>, one minute by default), as upstream's storage counter does.
/// The label is the resource, with its group for a named group (<c>pods</c>, <c>deployments.apps</c>); a count that
/// fails reads -1, as upstream.
/// </summary>
public sealed class StorageObjectCounts
{
    private volatile FrozenDictionary<string, long> _counts = FrozenDictionary<string, long>.Empty;
    private static StorageObjectCounts? _current;

    static StorageObjectCounts()
    {
        Meters.ApiServer.CreateObservableGauge("apiserver_storage_objects",
            () => (_current?._counts ?? FrozenDictionary<string, long>.Empty)
                .Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("resource", p.Key))),
            null, "[STABLE] Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.");
    }

    /// <summary>The latest counts, by resource label.</summary>
    public IReadOnlyDictionary<string, long> Counts => _counts;

    /// <summary>
    /// Counts every <paramref name="resources"/> (label, key prefix) now, then again every <paramref name="period"/> until
    /// <paramref name="ct"/> is cancelled. The gauge reads the counts of the server that started counting last.
    /// </summary>
    public async Task RunAsync(IKeyValueBackend kv, Func<IEnumerable<(string Label, string Prefix)>> resources, TimeSpan period, TimeProvider time, CancellationToken ct)
    {
        _current = this;
        while (!ct.IsCancellationRequested)
        {
            await CountAsync(kv, resources(), ct);
            try { await Task.Delay(period, time, ct); }
            catch (OperationCanceledException) { return; }
        }
    }

    public async Task CountAsync(IKeyValueBackend kv, IEnumerable<(string Label, string Prefix)> resources, CancellationToken ct)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (label, prefix) in resources.DistinctBy(r => r.Label))
        {
            try
            {
                var page = await kv.RangeAsync(prefix, null, 1, 0, ct);
                counts[label] = page.Items.Count + page.RemainingCount;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception) { counts[label] = -1; }
        }
        _counts = counts.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
