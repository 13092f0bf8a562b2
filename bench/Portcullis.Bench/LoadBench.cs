using System.Diagnostics;
using System.Text;

namespace Portcullis.Bench;

/// <summary>
/// CONCURRENCY clients, each one request at a time, for SECONDS: GET one path, or create ConfigMaps
/// (POST to a collection). Prints requests per second, p50 and p99 latency and the non-2xx count.
/// </summary>
internal static class LoadBench
{
    public static async Task<int> Run(BenchClient client, string path, int concurrency, int seconds, string mode, string? label)
    {
        if (mode is not ("get" or "create")) { Console.Error.WriteLine($"mode must be get or create, not {mode}"); return 2; }
        using var http = client.Http(concurrency);
        // Warm up connections and the JIT; a failing warm-up (401, 403, 404) is reported, not hidden.
        var warm = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => http.GetAsync(path)));
        if (warm.FirstOrDefault(r => !r.IsSuccessStatusCode && mode == "get") is { } bad)
            Console.WriteLine($"warning: warm-up GET {path} answered {(int)bad.StatusCode}: {await bad.Content.ReadAsStringAsync()}");
        var latencies = new List<double>[concurrency];
        var errors = 0;
        var stop = DateTime.UtcNow.AddSeconds(seconds);
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async w =>
        {
            var mine = latencies[w] = new List<double>(100_000);
            var n = 0;
            while (DateTime.UtcNow < stop)
            {
                var t = Stopwatch.GetTimestamp();
                using var r = mode == "create"
                    ? await http.PostAsync(path, new StringContent($"{{\"metadata\":{{\"name\":\"b-{w}-{n++}-{Environment.TickCount64}\"}}}}", Encoding.UTF8, "application/json"))
                    : await http.GetAsync(path);
                await r.Content.ReadAsByteArrayAsync();
                if (!r.IsSuccessStatusCode) Interlocked.Increment(ref errors);
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        }));
        var elapsed = sw.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var what = label is null ? "" : $"[{label}] ";
        Console.WriteLine($"{what}{mode} {path} ({client.AuthLabel}, {concurrency} clients): {all.Length / elapsed:F0} req/s, " +
                          $"p50 {Stats.Quantile(all, 0.50):F2} ms, p99 {Stats.Quantile(all, 0.99):F2} ms, errors {errors}, n {all.Length}");
        return 0;
    }
}
