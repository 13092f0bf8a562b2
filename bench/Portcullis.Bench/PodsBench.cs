using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Portcullis.Bench;

/// <summary>Pods at scale: creation by many clients until all are Running, and LIST timings.</summary>
internal static class PodsBench
{
    const string TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io";

    /// <summary>
    /// Creates <paramref name="pods"/> pods named p-1… with the label group=g&lt;i % groups&gt;, by
    /// <paramref name="clients"/> concurrent clients (one request at a time each); prints pods/s and the
    /// create latency, then waits (watching, not polling) until every pod has reported phase Running.
    /// </summary>
    public static async Task<int> Create(BenchClient client, string ns, int pods, int clients, int groups)
    {
        using var http = client.Http(clients);
        await EnsureNamespace(http, ns);
        var collection = $"/api/v1/namespaces/{ns}/pods";

        // Count Running pods from a watch opened before the first create, so waiting costs the server
        // one stream of events instead of repeated lists of thousands of pods.
        var rv = await ListResourceVersion(http, collection);
        using var stopWatch = new CancellationTokenSource();
        var running = new HashSet<string>(StringComparer.Ordinal);
        var allRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watchTask = WatchRunning(client, $"{collection}?watch=true&resourceVersion={rv}&labelSelector=bench%3Dpods", pods, running, allRunning, stopWatch.Token);

        var next = 0;
        var errors = 0;
        string? firstError = null;
        var latencies = new List<double>[clients];
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var mine = latencies[c] = new List<double>(pods / clients + 1);
            int i;
            while ((i = Interlocked.Increment(ref next)) <= pods)
            {
                var body = $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-{{{i}}}","labels":{"bench":"pods","group":"g{{{i % groups}}}"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}""";
                var t = Stopwatch.GetTimestamp();
                using var r = await http.PostAsync(collection, new StringContent(body, Encoding.UTF8, "application/json"));
                var text = await r.Content.ReadAsStringAsync();
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                if (!r.IsSuccessStatusCode && Interlocked.Increment(ref errors) == 1) firstError = $"{(int)r.StatusCode} {text}";
            }
        }));
        var created = sw.Elapsed;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        Console.WriteLine($"created {pods} pods with {clients} clients in {created.TotalMilliseconds:F0} ms: {pods / created.TotalSeconds:F0} pods/s; " +
                          $"create p50 {Stats.Quantile(all, 0.5):F2} ms, p99 {Stats.Quantile(all, 0.99):F2} ms; errors {errors}");
        if (firstError is not null) Console.WriteLine($"  first error: {firstError}");

        var finished = await Task.WhenAny(allRunning.Task, Task.Delay(TimeSpan.FromMinutes(10)));
        var untilRunning = sw.Elapsed;
        int count;
        lock (running) count = running.Count;
        Console.WriteLine(finished == allRunning.Task && allRunning.Task.IsCompletedSuccessfully
            ? $"all {pods} pods Running {untilRunning.TotalMilliseconds:F0} ms after the first create ({pods / untilRunning.TotalSeconds:F0} pods/s end to end)"
            : $"only {count} of {pods} pods seen Running after {untilRunning.TotalSeconds:F0} s" +
              (allRunning.Task.Exception is { } e ? $" ({e.GetBaseException().Message})" : ""));
        stopWatch.Cancel();
        try { await watchTask; } catch (OperationCanceledException) { }
        return 0;
    }

    /// <summary>
    /// Times LIST of every pod in the namespace as JSON, as a Table, and by <paramref name="selector"/>:
    /// one warm-up, then <paramref name="runs"/> timed runs each, the whole body read. Median and max.
    /// </summary>
    public static async Task<int> List(BenchClient client, string ns, int runs, string selector, string? fieldSelector = null)
    {
        using var http = client.Http(1);
        var collection = $"/api/v1/namespaces/{ns}/pods";
        await Time(http, "LIST pods, JSON", collection, null, "items", runs);
        await Time(http, "LIST pods, Table", collection, TableAccept, "rows", runs);
        await Time(http, $"LIST pods, labelSelector={selector}", $"{collection}?labelSelector={Uri.EscapeDataString(selector)}", null, "items", runs);
        if (fieldSelector is not null)
            await Time(http, $"LIST pods, fieldSelector={fieldSelector}", $"{collection}?fieldSelector={Uri.EscapeDataString(fieldSelector)}", null, "items", runs);
        return 0;
    }

    static async Task Time(HttpClient http, string what, string path, string? accept, string itemsField, int runs)
    {
        var times = new List<double>();
        var bytes = 0;
        var count = -1;
        for (var run = 0; run <= runs; run++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
            var t = Stopwatch.GetTimestamp();
            using var r = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var body = await r.Content.ReadAsByteArrayAsync();
            var ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            if (!r.IsSuccessStatusCode)
            {
                Console.WriteLine($"{what}: {(int)r.StatusCode} {Encoding.UTF8.GetString(body)}");
                return;
            }
            if (run == 0) // the warm-up: also check what came back
            {
                bytes = body.Length;
                using var doc = JsonDocument.Parse(body);
                count = doc.RootElement.TryGetProperty(itemsField, out var items) && items.ValueKind == JsonValueKind.Array ? items.GetArrayLength() : -1;
                continue;
            }
            times.Add(ms);
        }
        Console.WriteLine($"{what}: median {Stats.Median(times):F1} ms, max {times.Max():F1} ms over {runs} runs ({count} {itemsField}, {bytes / 1024.0 / 1024.0:F1} MiB)");
    }

    static async Task EnsureNamespace(HttpClient http, string ns)
    {
        using var r = await http.PostAsync("/api/v1/namespaces", new StringContent($$$"""{"metadata":{"name":"{{{ns}}}"}}""", Encoding.UTF8, "application/json"));
        if (!r.IsSuccessStatusCode && r.StatusCode != HttpStatusCode.Conflict)
            throw new InvalidOperationException($"creating namespace {ns}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        // Pods are refused until the namespace's default ServiceAccount exists (ServiceAccount admission).
        for (var i = 0; i < 300; i++)
        {
            using var sa = await http.GetAsync($"/api/v1/namespaces/{ns}/serviceaccounts/default");
            if (sa.IsSuccessStatusCode) return;
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"no default ServiceAccount in {ns} after 30 s");
    }

    /// <summary>The collection's current resourceVersion (a list of at most one item).</summary>
    public static async Task<string> ListResourceVersion(HttpClient http, string collection)
    {
        using var r = await http.GetAsync($"{collection}?limit=1");
        r.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await r.Content.ReadAsByteArrayAsync());
        return doc.RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString()!;
    }

    static async Task WatchRunning(BenchClient client, string path, int pods, HashSet<string> running, TaskCompletionSource done, CancellationToken cancel)
    {
        try
        {
            using var http = client.Http(1);
            using var r = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancel);
            r.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await r.Content.ReadAsStreamAsync(cancel));
            while (await reader.ReadLineAsync(cancel) is { } line)
            {
                if (line.Length == 0) continue;
                using var doc = JsonDocument.Parse(line);
                var obj = doc.RootElement.GetProperty("object");
                if (!obj.TryGetProperty("status", out var status) || !status.TryGetProperty("phase", out var phase) || phase.GetString() != "Running") continue;
                var name = obj.GetProperty("metadata").GetProperty("name").GetString()!;
                lock (running)
                {
                    if (running.Add(name) && running.Count == pods) done.TrySetResult();
                }
            }
            // A watch the server ended (its timeout, an ERROR event) before every pod ran: say so instead of waiting.
            done.TrySetException(new InvalidOperationException("the watch counting Running pods ended early"));
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested) { }
        catch (Exception e) { done.TrySetException(e); }
    }
}
