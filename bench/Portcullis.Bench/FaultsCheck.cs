using System.Globalization;
using System.Text.Json.Nodes;

namespace Portcullis.Bench;

/// <summary>
/// The fault run's checks over the clients' logs (bench/faults.sh): every acknowledged write is present at its
/// acknowledged revision on every replica, none acknowledged twice; every watcher saw events in revision order and every
/// acknowledged write it lived through (or listed again after a 410); the quota was never exceeded; each Lease changed
/// holder only after the previous holder's lease ran out or was released. Prints PASS/FAIL lines; exit 1 on a failure.
/// </summary>
internal static class FaultsCheck
{
    public static async Task<int> Run(string dir, BenchClient[] servers, string ns, string quotaNs, int quota)
    {
        var failures = 0;
        void Report(bool ok, string what)
        {
            Console.WriteLine((ok ? "PASS " : "FAIL ") + what);
            if (!ok) failures++;
        }

        // Acknowledged writes.
        var acks = File.ReadAllLines(Path.Combine(dir, "writes.log")).Where(l => l.StartsWith("ack ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')).Select(p => (Name: p[1], Rv: long.Parse(p[2], CultureInfo.InvariantCulture))).ToList();
        var failed = File.ReadAllLines(Path.Combine(dir, "writes.log")).Count(l => l.StartsWith("fail ", StringComparison.Ordinal));
        Report(acks.Select(a => a.Name).Distinct().Count() == acks.Count, $"no name acknowledged twice ({acks.Count} acknowledged, {failed} failed or unanswered)");
        Report(acks.Select(a => a.Rv).Distinct().Count() == acks.Count, "no revision acknowledged twice");
        for (var r = 0; r < servers.Length; r++)
        {
            var http = servers[r].Http(2);
            var stored = await ListAsync(http, ns);
            var missing = acks.Where(a => !stored.TryGetValue(a.Name, out var rv) || rv != a.Rv).ToList();
            Report(missing.Count == 0, $"replica {r}: every acknowledged write present at its revision ({stored.Count} stored)" +
                (missing.Count > 0 ? $"; missing or changed: {string.Join(", ", missing.Take(10).Select(m => m.Name))}" : ""));
        }

        // Watchers.
        foreach (var file in Directory.GetFiles(dir, "watch-*.log").Order())
        {
            var seen = new HashSet<string>();
            long floor = 0, observed = 0;
            var ordered = true;
            var relists = 0;
            foreach (var line in File.ReadAllLines(file))
            {
                var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                switch (p[0])
                {
                    case "list":
                        floor = long.Parse(p[1], CultureInfo.InvariantCulture);
                        observed = Math.Max(observed, floor);
                        seen.UnionWith(p.Skip(2));
                        break;
                    case "gone":
                        relists++;
                        break;
                    default:
                        var rv = long.Parse(p[2], CultureInfo.InvariantCulture);
                        if (rv <= floor) ordered = false;
                        floor = rv;
                        observed = Math.Max(observed, rv);
                        if (p[0] == "ADDED") seen.Add(p[1]);
                        break;
                }
            }
            var unseen = acks.Where(a => a.Rv <= observed && !seen.Contains(a.Name)).ToList();
            Report(ordered, $"{Path.GetFileName(file)}: events in revision order");
            Report(unseen.Count == 0, $"{Path.GetFileName(file)}: saw every acknowledged write up to revision {observed} ({relists} re-lists after 410)" +
                (unseen.Count > 0 ? $"; not seen: {string.Join(", ", unseen.Take(10).Select(m => m.Name))}" : ""));
        }

        // Quota.
        if (File.Exists(Path.Combine(dir, "quota.log")))
        {
            var qacks = File.ReadAllLines(Path.Combine(dir, "quota.log")).Count(l => l.StartsWith("ack ", StringComparison.Ordinal));
            var http = servers[0].Http(2);
            var stored = (await ListAsync(http, quotaNs)).Count;
            Report(qacks <= quota && stored <= quota, $"quota count/configmaps={quota} never exceeded: {qacks} admitted, {stored} stored (the namespace's root CA ConfigMap counts too)");
            string used = "";
            for (var i = 0; i < 60; i++)
            {
                var q = JsonNode.Parse(await http.GetStringAsync($"/api/v1/namespaces/{quotaNs}/resourcequotas/cm"))!;
                used = q["status"]?["used"]?["count/configmaps"]?.GetValue<string>() ?? "";
                if (used == stored.ToString(CultureInfo.InvariantCulture)) break;
                await Task.Delay(500);
            }
            Report(used == stored.ToString(CultureInfo.InvariantCulture), $"quota status.used count/configmaps is exact: {used} (stored {stored})");
        }

        // Leases: a new holder only after the previous one's lease ran out (renewTime + duration) or it released it.
        if (File.Exists(Path.Combine(dir, "leases.log")))
        {
            foreach (var group in File.ReadAllLines(Path.Combine(dir, "leases.log")).Select(l => l.Split(' ')).GroupBy(p => p[0]))
            {
                var versions = group.OrderBy(p => long.Parse(p[6], CultureInfo.InvariantCulture)).ToList();
                var overlaps = new List<string>();
                for (var i = 1; i < versions.Count; i++)
                {
                    var (prev, cur) = (versions[i - 1], versions[i]);
                    if (prev[1] == cur[1] || prev[1] is "-" or "" || cur[1] is "-" or "") continue;
                    var expires = DateTimeOffset.Parse(prev[3], CultureInfo.InvariantCulture).AddSeconds(int.Parse(prev[4], CultureInfo.InvariantCulture));
                    var acquired = DateTimeOffset.Parse(cur[2], CultureInfo.InvariantCulture);
                    // A released lease (the previous holder stepped down) is written with a short duration; allow 1 s of clock rounding.
                    if (acquired.AddSeconds(1) < expires) overlaps.Add($"{prev[1]} -> {cur[1]} at {cur[2]} (previous lease ran to {expires:O})");
                }
                var holders = versions.Select(v => v[1]).Where(h => h is not ("-" or "")).Distinct().Count();
                Report(overlaps.Count == 0, $"lease {group.Key}: one holder at a time ({holders} holders, {versions.Count} versions seen)" +
                    (overlaps.Count > 0 ? "; " + string.Join("; ", overlaps) : ""));
            }
        }
        Console.WriteLine(failures == 0 ? "all checks passed" : $"{failures} checks failed");
        return failures == 0 ? 0 : 1;
    }

    private static async Task<Dictionary<string, long>> ListAsync(HttpClient http, string ns)
    {
        var list = JsonNode.Parse(await http.GetStringAsync($"/api/v1/namespaces/{ns}/configmaps"))!;
        return list["items"]!.AsArray().ToDictionary(i => i!["metadata"]!["name"]!.GetValue<string>(),
            i => long.Parse(i!["metadata"]!["resourceVersion"]!.GetValue<string>(), CultureInfo.InvariantCulture));
    }
}
