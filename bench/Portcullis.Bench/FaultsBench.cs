using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Bench;

/// <summary>
/// The fault run's clients (bench/faults.sh starts them and kills servers around them): writers that log every answer,
/// watchers that log every event, a quota stress and a lease recorder; then the checks over their logs. Every loop is
/// bounded by a duration; a server that is down is retried, never waited on without end.
/// </summary>
internal static class FaultsBench
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private static HttpClient[] Clients(BenchClient[] servers) => servers.Select(s =>
    {
        var h = s.Http(64);
        h.Timeout = RequestTimeout;
        return h;
    }).ToArray();

    /// <summary>CLIENTS writers create ConfigMaps through the servers in turn for SECONDS; one line per answer.</summary>
    public static async Task<int> Write(BenchClient[] servers, string ns, int seconds, int clients, string outFile)
    {
        var http = Clients(servers);
        var lines = new List<string>();
        var end = DateTime.UtcNow.AddSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (var i = 0; DateTime.UtcNow < end; i++)
            {
                var r = (c + i) % http.Length;
                var name = $"w{c}-{i}";
                var line = await CreateAsync(http[r], ns, name, r);
                lock (lines) lines.Add(line);
                if (line.StartsWith("fail", StringComparison.Ordinal)) await Task.Delay(50);
            }
        })));
        await File.WriteAllLinesAsync(outFile, lines);
        Console.WriteLine($"writes: {lines.Count(l => l.StartsWith("ack", StringComparison.Ordinal))} acknowledged, {lines.Count(l => l.StartsWith("fail", StringComparison.Ordinal))} failed");
        return 0;
    }

    /// <summary>"ack NAME RV REPLICA" for a 201, "fail NAME WHY REPLICA" for anything else (the write may or may not exist).</summary>
    private static async Task<string> CreateAsync(HttpClient http, string ns, string name, int replica)
    {
        try
        {
            using var body = new StringContent($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"},"data":{"by":"{{{replica}}}"}}""", Encoding.UTF8, "application/json");
            using var resp = await http.PostAsync($"/api/v1/namespaces/{ns}/configmaps", body);
            var text = await resp.Content.ReadAsStringAsync();
            if (resp.StatusCode == HttpStatusCode.Created)
                return $"ack {name} {JsonNode.Parse(text)!["metadata"]!["resourceVersion"]} {replica}";
            return $"fail {name} {(int)resp.StatusCode} {replica}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return $"fail {name} {e.GetType().Name} {replica}";
        }
    }

    /// <summary>
    /// Lists and watches ConfigMaps on one server for SECONDS: "list RV NAMES…" for a (re)list, "ADDED NAME RV" (and the
    /// other types) per event, "gone RV" when the server answers 410 and the watcher lists again.
    /// </summary>
    public static async Task<int> Watch(BenchClient server, string ns, int seconds, string outFile)
    {
        var http = server.Http(4);
        http.Timeout = Timeout.InfiniteTimeSpan;
        var lines = new List<string>();
        var end = DateTime.UtcNow.AddSeconds(seconds);
        string? rv = null;
        while (DateTime.UtcNow < end)
        {
            using var cts = new CancellationTokenSource(end - DateTime.UtcNow);
            try
            {
                if (rv is null)
                {
                    var list = JsonNode.Parse(await http.GetStringAsync($"/api/v1/namespaces/{ns}/configmaps", cts.Token))!;
                    rv = list["metadata"]!["resourceVersion"]!.GetValue<string>();
                    lines.Add($"list {rv} " + string.Join(' ', list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>())));
                }
                using var resp = await http.GetAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}", HttpCompletionOption.ResponseHeadersRead, cts.Token);
                if (resp.StatusCode == HttpStatusCode.Gone) { lines.Add($"gone {rv}"); rv = null; continue; }
                if (!resp.IsSuccessStatusCode) { await Task.Delay(200, cts.Token); continue; }
                using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(cts.Token));
                while (await reader.ReadLineAsync(cts.Token) is { } line)
                {
                    if (line.Length == 0) continue;
                    var ev = JsonNode.Parse(line)!;
                    var type = ev["type"]!.GetValue<string>();
                    if (type == "ERROR")
                    {
                        if (ev["object"]?["code"]?.GetValue<int>() == 410) { lines.Add($"gone {rv}"); rv = null; }
                        break;
                    }
                    var meta = ev["object"]!["metadata"]!;
                    rv = meta["resourceVersion"]!.GetValue<string>();
                    if (type != "BOOKMARK") lines.Add($"{type} {meta["name"]} {rv}");
                }
            }
            catch (OperationCanceledException) when (DateTime.UtcNow >= end) { break; }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or System.Text.Json.JsonException)
            {
                // The server went away (killed) or the stream broke: watch again from the last revision seen.
                try { await Task.Delay(200, cts.Token); } catch (OperationCanceledException) { break; }
            }
        }
        await File.WriteAllLinesAsync(outFile, lines);
        return 0;
    }

    /// <summary>CLIENTS writers create ConfigMaps in a namespace with a count quota, through every server at once, until each is refused 3 times.</summary>
    public static async Task<int> Quota(BenchClient[] servers, string ns, int clients, string outFile)
    {
        var http = Clients(servers);
        var lines = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var refused = 0;
            for (var i = 0; refused < 3 && i < 10_000; i++)
            {
                var line = await CreateAsync(http[(c + i) % http.Length], ns, $"q{c}-{i}", (c + i) % http.Length);
                lock (lines) lines.Add(line);
                if (line.StartsWith("fail", StringComparison.Ordinal)) refused++;
            }
        })));
        await File.WriteAllLinesAsync(outFile, lines);
        return 0;
    }

    /// <summary>Records every version of the kube-system Leases for SECONDS: "LEASE HOLDER ACQUIRE RENEW DURATION TRANSITIONS RV".</summary>
    public static async Task<int> Leases(BenchClient[] servers, int seconds, string outFile)
    {
        var http = Clients(servers);
        var lines = new List<string>();
        var seen = new HashSet<string>();
        var end = DateTime.UtcNow.AddSeconds(seconds);
        // Polled through whichever server answers (one may be down), every 100 ms: a lease's holder changes at most
        // once per lease duration, so no change of holder is missed.
        for (var i = 0; DateTime.UtcNow < end; i++)
        {
            try
            {
                var list = JsonNode.Parse(await http[i % http.Length].GetStringAsync("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"))!;
                foreach (var l in list["items"]!.AsArray())
                {
                    var name = l!["metadata"]!["name"]!.GetValue<string>();
                    if (name is not ("kube-controller-manager" or "kube-scheduler")) continue;
                    var spec = l["spec"]!;
                    var line = $"{name} {spec["holderIdentity"] ?? "-"} {spec["acquireTime"] ?? "-"} {spec["renewTime"] ?? "-"} {spec["leaseDurationSeconds"] ?? 0} {spec["leaseTransitions"] ?? 0} {l["metadata"]!["resourceVersion"]}";
                    if (seen.Add(line)) lines.Add(line);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException) { }
            await Task.Delay(100);
        }
        await File.WriteAllLinesAsync(outFile, lines);
        return 0;
    }
}
