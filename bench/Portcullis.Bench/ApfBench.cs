using System.Diagnostics;

namespace Portcullis.Bench;

/// <summary>
/// The abusive-client load test (issue 21): POLITE clients each send a request at RATE requests per second (one request
/// at a time, the next one due 1/RATE after the last was due), first alone for SECONDS, then for SECONDS while FLOOD
/// clients of another user send theirs as fast as they can. Prints the polite clients' p50/p99 and errors in both
/// phases, and the flooder's requests per second and share of 429s.
/// PATH is one path for both, or <c>POLITE_PATH|FLOOD_PATH</c>; a path written <c>POST:/api/v1/namespaces/NS/configmaps</c>
/// creates a ConfigMap there (generateName) instead of a GET.
/// </summary>
internal static class ApfBench
{
    public static async Task<int> Run(BenchClient polite, BenchClient flooder, string paths, int politeClients, int rate, int floodClients, int seconds)
    {
        var split = paths.Split('|');
        var path = split[0];
        var floodPath = split.Length > 1 ? split[1] : path;
        using var politeHttp = polite.Http(politeClients);
        using var floodHttp = flooder.Http(floodClients);
        await Task.WhenAll(Enumerable.Range(0, politeClients).Select(_ => Send(politeHttp, path, default)));
        var alone = await Polite(politeHttp, path, politeClients, rate, seconds);
        Print("polite clients alone", alone);

        using var stop = new CancellationTokenSource();
        long flooded = 0, rejected = 0, otherErrors = 0;
        var sw = Stopwatch.StartNew();
        var flood = Task.WhenAll(Enumerable.Range(0, floodClients).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var r = await Send(floodHttp, floodPath, stop.Token);
                    await r.Content.ReadAsByteArrayAsync();
                    Interlocked.Increment(ref flooded);
                    if ((int)r.StatusCode == 429) Interlocked.Increment(ref rejected);
                    else if (!r.IsSuccessStatusCode) Interlocked.Increment(ref otherErrors);
                }
                catch (OperationCanceledException) { }
                catch (HttpRequestException) { Interlocked.Increment(ref otherErrors); }
            }
        }));
        await Task.Delay(TimeSpan.FromSeconds(1)); // the flood is on before the polite clients measure
        var during = await Polite(politeHttp, path, politeClients, rate, seconds);
        await stop.CancelAsync();
        await flood;
        Print($"polite clients during a flood of {floodClients} clients", during);
        var elapsed = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"[flooder] {flooded / elapsed:F0} req/s, 429: {rejected} of {flooded} ({(flooded == 0 ? 0 : 100.0 * rejected / flooded):F1} %), other errors {otherErrors}");
        return 0;
    }

    /// <summary>A GET of PATH, or for <c>POST:PATH</c> the creation of a ConfigMap with a generated name.</summary>
    private static Task<HttpResponseMessage> Send(HttpClient http, string path, CancellationToken ct) =>
        path.StartsWith("POST:", StringComparison.Ordinal)
            ? http.PostAsync(path[5..], new StringContent("""{"metadata":{"generateName":"b-"}}""", System.Text.Encoding.UTF8, "application/json"), ct)
            : http.GetAsync(path, ct);

    private static void Print(string label, (double[] Sorted, int Errors, int Rejected) r) =>
        Console.WriteLine($"[{label}] p50 {Stats.Quantile(r.Sorted, 0.50):F2} ms, p99 {Stats.Quantile(r.Sorted, 0.99):F2} ms, " +
                          $"n {r.Sorted.Length}, 429 {r.Rejected}, other errors {r.Errors}");

    private static async Task<(double[] Sorted, int Errors, int Rejected)> Polite(HttpClient http, string path, int clients, int rate, int seconds)
    {
        var period = TimeSpan.FromSeconds(1.0 / rate);
        var errors = 0;
        var rejected = 0;
        var lists = await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var mine = new List<double>();
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; ; i++)
            {
                var due = period * i + TimeSpan.FromMilliseconds(c * 7 % Math.Max(1, (int)period.TotalMilliseconds));
                var wait = due - Stopwatch.GetElapsedTime(start);
                if (due.TotalSeconds >= seconds) break;
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
                var t = Stopwatch.GetTimestamp();
                using var r = await Send(http, path, default);
                await r.Content.ReadAsByteArrayAsync();
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                if ((int)r.StatusCode == 429) Interlocked.Increment(ref rejected);
                else if (!r.IsSuccessStatusCode) { if (Interlocked.Increment(ref errors) == 1) Console.Error.WriteLine($"polite: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}"); }
            }
            return mine;
        }));
        return ([.. lists.SelectMany(l => l).Order()], errors, rejected);
    }
}
