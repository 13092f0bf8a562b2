using System.Diagnostics;
using System.Net;

namespace Portcullis.Bench;

/// <summary>Time from process start to /readyz 200, and the resident memory after 5 s idle.</summary>
internal static class StartupBench
{
    public static async Task<int> Run(string dll, string dataDir, int port)
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
}
