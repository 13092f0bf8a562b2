// Benchmarks (not tests): start-up time, idle memory, and request throughput and latency over
// TLS with many concurrent clients. Usage:
//   startup  DLL|EXE DATADIR PORT         time from process start to /readyz 200, and RSS after idle
//   load     URL PATH CERT KEY CA CONCURRENCY SECONDS [get|create]
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;

return args[0] switch
{
    "startup" => await Startup(args[1], args[2], int.Parse(args[3])),
    "load" => await Load(args[1], args[2], args[3], args[4], args[5], int.Parse(args[6]), int.Parse(args[7]), args.Length > 8 ? args[8] : "get"),
    _ => 2,
};

static async Task<int> Startup(string dll, string dataDir, int port)
{
    using var http = new HttpClient(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        PooledConnectionLifetime = TimeSpan.Zero, // every poll a new connection, as a fresh client would make
    });
    // The measuring client's own first TLS request (JIT, OpenSSL loading) must not count as the
    // server's start-up: warm it on a throw-away start in another data dir first.
    if (await StartOnce(dll, dataDir + "-warmup", port, http, measure: false) is null) return 1;
    var result = await StartOnce(dll, dataDir, port, http, measure: true);
    if (result is not { } r) return 1;
    Console.WriteLine($"start-to-readyz: {r.Ready.TotalMilliseconds:F0} ms; idle {r.Rss}");
    return 0;
}

static async Task<(TimeSpan Ready, string Rss)?> StartOnce(string dll, string dataDir, int port, HttpClient http, bool measure)
{
    // A .dll runs under the JIT (`dotnet x.dll`); anything else is a Native AOT executable.
    string[] serve = ["serve", "--data-dir", dataDir, "--secure-port", port.ToString()];
    var psi = dll.EndsWith(".dll", StringComparison.Ordinal)
        ? new ProcessStartInfo("dotnet", [dll, .. serve])
        : new ProcessStartInfo(dll, serve);
    psi.RedirectStandardOutput = true;
    psi.RedirectStandardError = true;
    var sw = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    _ = p.StandardOutput.ReadToEndAsync();
    _ = p.StandardError.ReadToEndAsync();
    while (true)
    {
        try { if ((await http.GetAsync($"https://127.0.0.1:{port}/readyz")).StatusCode == HttpStatusCode.OK) break; }
        catch (HttpRequestException) { }
        await Task.Delay(2);
        if (sw.Elapsed > TimeSpan.FromSeconds(30)) { Console.WriteLine("did not become ready"); p.Kill(); return null; }
    }
    var ready = sw.Elapsed;
    var rss = "";
    if (measure)
    {
        await Task.Delay(5000);
        rss = File.ReadAllLines($"/proc/{p.Id}/status").First(l => l.StartsWith("VmRSS:")).Replace("VmRSS:", "RSS").Trim();
    }
    p.Kill();
    await p.WaitForExitAsync();
    return (ready, rss);
}

static async Task<int> Load(string url, string path, string cert, string key, string ca, int concurrency, int seconds, string mode)
{
    var handler = new SocketsHttpHandler
    {
        MaxConnectionsPerServer = concurrency,
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    };
    if (cert != "-")
        handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(cert, key)];
    using var http = new HttpClient(handler) { BaseAddress = new Uri(url) };
    // Warm up connections and the JIT.
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => http.GetAsync(path)));
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
            HttpResponseMessage r;
            if (mode == "create")
                r = await http.PostAsync(path, new StringContent($"{{\"metadata\":{{\"name\":\"b-{w}-{n++}-{Environment.TickCount64}\"}}}}", Encoding.UTF8, "application/json"));
            else
                r = await http.GetAsync(path);
            await r.Content.ReadAsByteArrayAsync();
            if (!r.IsSuccessStatusCode) Interlocked.Increment(ref errors);
            mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }
    }));
    var elapsed = sw.Elapsed.TotalSeconds;
    var all = latencies.SelectMany(l => l).Order().ToArray();
    double P(double q) => all[Math.Min(all.Length - 1, (int)(q * all.Length))];
    Console.WriteLine($"{mode} {path}: {all.Length / elapsed:F0} req/s, p50 {P(0.50):F2} ms, p99 {P(0.99):F2} ms, errors {errors}, n {all.Length}");
    return 0;
}
