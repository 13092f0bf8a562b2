using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Faults on a three-member etcd with two replicas (bench/faults.sh runs the longer version): kill -9 of a replica and of
/// an etcd member during a write burst through both replicas loses no acknowledged write, and every acknowledged write
/// is on both replicas at its acknowledged revision after the killed ones are back.
/// </summary>
public sealed class EtcdFaultTests
{
    private static HttpClient Admin(ServerProcess s) => new(s.AdminHandler()) { BaseAddress = new Uri(s.Url), Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task KillingAReplicaAndAnEtcdMember_DuringWrites_LosesNoAcknowledgedWrite()
    {
        await using var set = await ReplicaSet.StartAsync(2, etcdMembers: 3);
        var clients = new[] { Admin(set[0]), Admin(set[1]) };
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        var failed = 0;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var name = $"w{w}-{i}";
                try
                {
                    using var body = new StringContent($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"}}""", Encoding.UTF8, "application/json");
                    using var r = await clients[(w + i) % 2].PostAsync("/api/v1/namespaces/default/configmaps", body);
                    if (r.StatusCode == HttpStatusCode.Created)
                        acknowledged[name] = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["metadata"]!["resourceVersion"]!.GetValue<string>();
                    else Interlocked.Increment(ref failed);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Increment(ref failed);
                    await Task.Delay(50);
                }
            }
        })).ToList();

        await WaitForAsync(() => acknowledged.Count >= 100);
        set.Kill(1);
        await WaitForAsync(() => acknowledged.Count >= 200);
        set.Etcd.KillMember(2);
        await WaitForAsync(() => acknowledged.Count >= 300);
        await set.Etcd.RestartMemberAsync(2);
        await set.RestartAsync(1);
        clients[1] = Admin(set[1]);
        await WaitForAsync(() => acknowledged.Count >= 400);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        foreach (var s in set.Replicas)
        {
            using var http = Admin(s);
            var list = JsonNode.Parse(await http.GetStringAsync("/api/v1/namespaces/default/configmaps"))!["items"]!.AsArray()
                .ToDictionary(i => i!["metadata"]!["name"]!.GetValue<string>(), i => i!["metadata"]!["resourceVersion"]!.GetValue<string>());
            var lost = acknowledged.Where(a => !list.TryGetValue(a.Key, out var rv) || rv != a.Value).Select(a => a.Key).ToList();
            Assert.True(lost.Count == 0, $"{s.Url}: {lost.Count} of {acknowledged.Count} acknowledged writes missing ({failed} failed): {string.Join(",", lost.Take(10))}");
        }
        Assert.Equal(acknowledged.Count, acknowledged.Values.Distinct().Count());
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1200 && !condition(); i++) await Task.Delay(100);
        Assert.True(condition(), "the writers made no progress for 120 s");
    }
}
