using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Portcullis.Bench;

/// <summary>
/// WATCHERS watches on the namespace's pods (from the current resourceVersion, so no initial burst),
/// then WRITES merge patches of one pod's annotation, one at a time: each write waits until every
/// watcher has seen it (or 10 s). The latency of a write to a watcher is from just before the PATCH
/// is sent to the moment that watcher read the event's line; p50, p99 and max over all pairs. The same
/// counted from the PATCH's answer separates the fan-out from the write itself.
/// </summary>
internal static class WatchBench
{
    const string SeqKey = "bench.portcullis.dev/seq";

    public static async Task<int> Run(BenchClient client, string ns, int watchers, int writes, bool http2)
    {
        var collection = $"/api/v1/namespaces/{ns}/pods";
        using var writer = client.Http(1);
        var target = await TargetPod(writer, collection);
        var rv = await PodsBench.ListResourceVersion(writer, collection);

        // One handler for all watchers: under HTTP/1.1 one connection each; under HTTP/2 streams
        // share connections (as many as the server's stream limit requires).
        using var watchHttp = client.Http(watchers, http2);
        using var cancel = new CancellationTokenSource();
        var sent = new long[writes];
        var answered = new long[writes];
        var received = new long[watchers, writes];
        var seen = new int[writes];
        var allSeen = Enumerable.Range(0, writes).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var open = 0;
        var failed = 0;
        string? firstFailure = null;
        var allOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var opening = new SemaphoreSlim(32); // TLS handshakes in small batches

        var sw = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, watchers).Select(w => Task.Run(async () =>
        {
            try
            {
                HttpResponseMessage r;
                await opening.WaitAsync(cancel.Token);
                try { r = await watchHttp.GetAsync($"{collection}?watch=true&resourceVersion={rv}", HttpCompletionOption.ResponseHeadersRead, cancel.Token); }
                finally { opening.Release(); }
                using (r)
                {
                    if (!r.IsSuccessStatusCode)
                    {
                        var text = await r.Content.ReadAsStringAsync();
                        if (Interlocked.Increment(ref failed) == 1) firstFailure = $"{(int)r.StatusCode} {text}";
                        return;
                    }
                    if (Interlocked.Increment(ref open) + Volatile.Read(ref failed) == watchers) allOpen.TrySetResult();
                    using var reader = new StreamReader(await r.Content.ReadAsStreamAsync(cancel.Token));
                    while (await reader.ReadLineAsync(cancel.Token) is { } line)
                    {
                        var now = Stopwatch.GetTimestamp();
                        if (Seq(line) is not { } k || k < 0 || k >= writes) continue;
                        received[w, k] = now;
                        if (Interlocked.Increment(ref seen[k]) == Volatile.Read(ref open)) allSeen[k].TrySetResult();
                    }
                }
            }
            catch (OperationCanceledException) { }
            catch (Exception e)
            {
                if (Interlocked.Increment(ref failed) == 1) firstFailure = e.GetBaseException().Message;
            }
            finally
            {
                if (Volatile.Read(ref open) + Volatile.Read(ref failed) == watchers) allOpen.TrySetResult();
            }
        })).ToArray();

        await Task.WhenAny(allOpen.Task, Task.Delay(TimeSpan.FromSeconds(120)));
        Console.WriteLine($"{open} of {watchers} watchers open over {(http2 ? "HTTP/2" : "HTTP/1.1")} in {sw.Elapsed.TotalMilliseconds:F0} ms; failed {failed}" +
                          (firstFailure is null ? "" : $" (first: {firstFailure})"));
        await Task.Delay(500); // let the last watches register before the first write

        var patchLatency = new List<double>();
        var timedOut = 0;
        for (var k = 0; k < writes; k++)
        {
            var patch = new StringContent($$$$"""{"metadata":{"annotations":{"{{{{SeqKey}}}}":"{{{{k}}}}"}}}""", Encoding.UTF8);
            patch.Headers.ContentType = new MediaTypeHeaderValue("application/merge-patch+json");
            sent[k] = Stopwatch.GetTimestamp();
            using var r = await writer.PatchAsync($"{collection}/{target}", patch);
            answered[k] = Stopwatch.GetTimestamp();
            patchLatency.Add(Stopwatch.GetElapsedTime(sent[k], answered[k]).TotalMilliseconds);
            if (!r.IsSuccessStatusCode) { Console.WriteLine($"PATCH answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}"); break; }
            if (await Task.WhenAny(allSeen[k].Task, Task.Delay(TimeSpan.FromSeconds(10))) != allSeen[k].Task) timedOut++;
            await Task.Delay(50);
        }
        cancel.Cancel();
        await Task.WhenAll(tasks);

        var latencies = new List<double>(watchers * writes);
        var afterAnswer = new List<double>(watchers * writes);
        var missing = 0;
        for (var w = 0; w < watchers; w++)
            for (var k = 0; k < writes; k++)
                if (received[w, k] != 0)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(sent[k], received[w, k]).TotalMilliseconds);
                    // Negative when the event reached this watcher before the PATCH's own answer.
                    afterAnswer.Add((received[w, k] - answered[k]) * 1000.0 / Stopwatch.Frequency);
                }
                else if (sent[k] != 0) missing++;
        var sorted = latencies.Order().ToArray();
        var sortedAfter = afterAnswer.Order().ToArray();
        var missed = missing - (watchers - open) * writes; // events a watcher that never opened could not see are not "missed"
        Console.WriteLine($"{writes} writes to {open} watchers: write-to-watcher p50 {Stats.Quantile(sorted, 0.5):F1} ms, p99 {Stats.Quantile(sorted, 0.99):F1} ms, " +
                          $"max {(sorted.Length > 0 ? sorted[^1] : double.NaN):F1} ms over {sorted.Length} deliveries; missed {missed}; writes not seen by all within 10 s: {timedOut}; " +
                          $"PATCH p50 {Stats.Median(patchLatency):F1} ms");
        Console.WriteLine($"  counted from the PATCH's answer instead: p50 {Stats.Quantile(sortedAfter, 0.5):F1} ms, p99 {Stats.Quantile(sortedAfter, 0.99):F1} ms");
        return 0;
    }

    /// <summary>The write number in an event line's annotation, if it carries one.</summary>
    static int? Seq(string line)
    {
        var at = line.IndexOf($"\"{SeqKey}\"", StringComparison.Ordinal);
        if (at < 0) return null;
        var i = at + SeqKey.Length + 2;
        while (i < line.Length && line[i] is ':' or ' ' or '"') i++;
        var start = i;
        while (i < line.Length && char.IsAsciiDigit(line[i])) i++;
        return int.TryParse(line.AsSpan(start, i - start), out var k) ? k : null;
    }

    /// <summary>The pod the writes patch: the first in the namespace, or a new one.</summary>
    static async Task<string> TargetPod(HttpClient http, string collection)
    {
        using (var r = await http.GetAsync($"{collection}?limit=1"))
        {
            r.EnsureSuccessStatusCode();
            using var doc = JsonDocument.Parse(await r.Content.ReadAsByteArrayAsync());
            var items = doc.RootElement.GetProperty("items");
            if (items.GetArrayLength() > 0) return items[0].GetProperty("metadata").GetProperty("name").GetString()!;
        }
        const string body = """{"metadata":{"name":"watch-target"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}""";
        using var created = await http.PostAsync(collection, new StringContent(body, Encoding.UTF8, "application/json"));
        created.EnsureSuccessStatusCode();
        return "watch-target";
    }
}
