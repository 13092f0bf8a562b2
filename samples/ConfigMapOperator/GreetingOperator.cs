using System.Collections.Concurrent;
using System.Threading.Channels;
using k8s;
using k8s.Autorest;

namespace ConfigMapOperator;

/// <summary>
/// The watch loop: list the Greetings of one namespace, watch from the list's resourceVersion, and hand
/// each added or modified Greeting to <see cref="GreetingReconciler"/> through a work queue keyed by name
/// (several events for one Greeting while it waits are one reconcile of its latest copy). A reconcile
/// that fails is retried with exponential back-off per Greeting; a watch that ends or fails (410 Gone
/// when its resourceVersion is too old, a dropped connection, a 403) lists again after a back-off.
/// This is client-go's informer + workqueue pattern in the smallest form that is still correct.
/// </summary>
public sealed class GreetingOperator(IKubernetes client, string @namespace, Action<string>? log = null)
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly GreetingReconciler _reconciler = new(client);
    private readonly ConcurrentDictionary<string, Greeting> _latest = new();
    private readonly ConcurrentDictionary<string, int> _failures = new();
    private readonly ConcurrentDictionary<string, byte> _queued = new();
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>();
    private readonly Action<string> _log = log ?? (_ => { });

    /// <summary>
    /// The last error the loop met (a failed list or watch, a failed reconcile), for tests and health checks;
    /// null while everything works.
    /// </summary>
    public Exception? LastError { get; private set; }

    /// <summary>Runs until <paramref name="ct"/> is cancelled; never throws for an API failure (it retries).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var worker = Task.Run(() => WorkAsync(ct), ct);
        try { await WatchLoopAsync(ct); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        try { await worker; }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    private async Task WatchLoopAsync(CancellationToken ct)
    {
        var attempt = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var list = await client.CustomObjects.ListNamespacedCustomObjectAsync<GreetingList>(
                    Greeting.Group, Greeting.Version, @namespace, Greeting.Plural, cancellationToken: ct);
                var names = new HashSet<string>();
                foreach (var g in list.Items)
                {
                    names.Add(g.Metadata.Name);
                    Enqueue(g);
                }
                foreach (var gone in _latest.Keys.Where(n => !names.Contains(n))) _latest.TryRemove(gone, out _);
                attempt = 0;
                await WatchFromAsync(list.Metadata.ResourceVersion, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                LastError = e;
                _log($"list/watch greetings in {@namespace}: {Describe(e)}");
                await Task.Delay(Backoff(++attempt), ct);
            }
        }
    }

    /// <summary>Watches until the server ends the watch (normal: its timeout) or the watch fails; then the caller lists again.</summary>
    private async Task WatchFromAsync(string resourceVersion, CancellationToken ct)
    {
        Exception? watchError = null;
        // The client's custom-object watch yields each event's object as JSON (object); it becomes a Greeting here.
        var events = client.CustomObjects.WatchListNamespacedCustomObjectAsync(
            Greeting.Group, Greeting.Version, @namespace, Greeting.Plural,
            allowWatchBookmarks: true, resourceVersion: resourceVersion, onError: e => watchError = e, cancellationToken: ct);
        await foreach (var (type, item) in events)
        {
            switch (type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    Enqueue(KubernetesJson.Deserialize<Greeting>(KubernetesJson.Serialize(item)));
                    break;
                case WatchEventType.Deleted:
                    // Nothing to do: the ConfigMap's ownerReference lets the garbage collector delete it.
                    _latest.TryRemove(KubernetesJson.Deserialize<Greeting>(KubernetesJson.Serialize(item)).Metadata.Name, out _);
                    break;
                case WatchEventType.Error:
                    // A Status in the stream, e.g. 410 Gone ("too old resource version"): list again.
                    return;
            }
        }
        if (watchError is not null) throw watchError;
    }

    private void Enqueue(Greeting g)
    {
        _latest[g.Metadata.Name] = g;
        if (_queued.TryAdd(g.Metadata.Name, 0)) _queue.Writer.TryWrite(g.Metadata.Name);
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        await foreach (var name in _queue.Reader.ReadAllAsync(ct))
        {
            _queued.TryRemove(name, out _);
            if (!_latest.TryGetValue(name, out var g)) continue;
            try
            {
                await _reconciler.ReconcileAsync(g, ct);
                _failures.TryRemove(name, out _);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                LastError = e;
                var n = _failures.AddOrUpdate(name, 1, (_, v) => v + 1);
                _log($"reconcile greeting {@namespace}/{name} (attempt {n}): {Describe(e)}");
                _ = RequeueAfterAsync(name, Backoff(n), ct);
            }
        }
    }

    private async Task RequeueAfterAsync(string name, TimeSpan delay, CancellationToken ct)
    {
        try { await Task.Delay(delay, ct); }
        catch (OperationCanceledException) { return; }
        if (_latest.ContainsKey(name) && _queued.TryAdd(name, 0)) _queue.Writer.TryWrite(name);
    }

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16))));

    private static string Describe(Exception e) => e switch
    {
        HttpOperationException h => $"{(int)h.Response.StatusCode} {GreetingReconciler.ApiError(h).Message}",
        _ => e.Message,
    };
}
