using System.Diagnostics;
using k8s;
using Portcullis.Testing;

namespace Portcullis.Bench;

/// <summary>
/// The test host's start-up in a warm test process (issue 22's target: a fresh cluster answers its first request within
/// 200 ms): <see cref="PortcullisCluster.StartAsync"/>, then the first request (the admin client lists namespaces: a
/// new TLS connection with a client certificate), then dispose; N times after warm-up starts that are not counted.
/// Prints the median and p90 of each step.
/// </summary>
internal static class TestHostBench
{
    /// <param name="reuse">
    /// <c>snapshot</c> (the defaults: shared keys and the bootstrap snapshot), <c>keys</c> (shared keys, every store built
    /// from nothing) or <c>nothing</c> (own keys too: a cold start every time).
    /// </param>
    public static async Task<int> Run(int runs, string reuse)
    {
        if (reuse is not ("snapshot" or "keys" or "nothing")) { Console.Error.WriteLine("testhost: REUSE is snapshot, keys or nothing"); return 2; }
        var options = new PortcullisClusterOptions { ReuseKeys = reuse != "nothing", ReuseBootstrapState = reuse == "snapshot" };
        // Warm-up: JIT, the shared keys, OpenSSL, the KubernetesClient's first use; not counted.
        for (var i = 0; i < 3; i++) await Once(options);
        var start = new List<double>();
        var first = new List<double>();
        var total = new List<double>();
        var dispose = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var (s, f, d) = await Once(options);
            start.Add(s); first.Add(f); total.Add(s + f); dispose.Add(d);
        }
        Console.WriteLine($"testhost: {runs} clusters one after another in one warm process, reusing {reuse} (ms)");
        Console.WriteLine($"  {"",-28} {"median",8} {"p90",8} {"min",8} {"max",8}");
        Row("StartAsync", start);
        Row("first request (list ns)", first);
        Row("start to first answer", total);
        Row("dispose", dispose);
        return 0;
    }

    private static async Task<(double Start, double First, double Dispose)> Once(PortcullisClusterOptions options)
    {
        var sw = Stopwatch.StartNew();
        var cluster = await PortcullisCluster.StartAsync(options);
        var started = sw.Elapsed.TotalMilliseconds;
        var namespaces = await cluster.AdminClient.CoreV1.ListNamespaceAsync();
        if (namespaces.Items.Count == 0) throw new InvalidOperationException("no namespaces");
        var answered = sw.Elapsed.TotalMilliseconds;
        await cluster.DisposeAsync();
        return (started, answered - started, sw.Elapsed.TotalMilliseconds - answered);
    }

    private static void Row(string name, List<double> values)
    {
        var sorted = values.Order().ToList();
        double P(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        Console.WriteLine($"  {name,-28} {P(0.5),8:F1} {P(0.9),8:F1} {sorted[0],8:F1} {sorted[^1],8:F1}");
    }
}
