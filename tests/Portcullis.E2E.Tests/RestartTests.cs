using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Durability: a restart keeps objects and resourceVersions; kill -9 loses no acknowledged write.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Restart_KeepsObjectsAndResourceVersions()
    {
        var s = new ServerProcess();
        await s.StartAsync();
        try
        {
            var (_, created) = await Tools.Curl(s, "POST", "/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"durable"},"data":{"a":"1"}}""");
            var rv = (string)JsonNode.Parse(created)!["metadata"]!["resourceVersion"]!;
            Assert.Equal(0, await s.StopAsync());

            await s.StartAsync();
            var (code, body) = await Tools.Curl(s, "GET", "/api/v1/namespaces/default/configmaps/durable");
            Assert.Equal(200, code);
            Assert.Equal(rv, (string?)JsonNode.Parse(body)!["metadata"]!["resourceVersion"]);
            var (_, next) = await Tools.Curl(s, "POST", "/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"after"}}""");
            Assert.True(long.Parse((string)JsonNode.Parse(next)!["metadata"]!["resourceVersion"]!) > long.Parse(rv));
        }
        finally { await s.DisposeAsync(); }
    }

    [Fact]
    public async Task Restart_ServesEstablishedCustomResources_BeforeItIsReady()
    {
        var s = new ServerProcess();
        await s.StartAsync();
        try
        {
            var (cst, _) = await Tools.Curl(s, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", """
                {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"notes.restart.example.com"},
                 "spec":{"group":"restart.example.com","scope":"Namespaced","names":{"plural":"notes","kind":"Note"},
                   "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}
                """);
            Assert.Equal(201, cst);
            var created = 0;
            for (var i = 0; i < 150 && created != 201; i++)
            {
                (created, _) = await Tools.Curl(s, "POST", "/apis/restart.example.com/v1/namespaces/default/notes",
                    """{"apiVersion":"restart.example.com/v1","kind":"Note","metadata":{"name":"kept"},"text":"hello"}""");
                if (created != 201) await Task.Delay(100);
            }
            Assert.Equal(201, created);
            Assert.Equal(0, await s.StopAsync());

            // StartAsync returns once /readyz answers: the kind is served from the first request on.
            await s.StartAsync();
            var (code, body) = await Tools.Curl(s, "GET", "/apis/restart.example.com/v1/namespaces/default/notes/kept");
            Assert.Equal(200, code);
            Assert.Equal("hello", (string?)JsonNode.Parse(body)!["text"]);
        }
        finally { await s.DisposeAsync(); }
    }

    [Fact]
    public async Task Kill9_DuringBurstOfCreates_LosesNoAcknowledgedWrite()
    {
        var s = new ServerProcess();
        await s.StartAsync();
        try
        {
            var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
            using var http = new HttpClient(s.AdminHandler()) { BaseAddress = new Uri(s.Url) };
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested && i < 2000; i++)
                {
                    var name = $"burst-{w}-{i}";
                    try
                    {
                        var r = await http.PostAsync("/api/v1/namespaces/default/configmaps",
                            new StringContent("{\"metadata\":{\"name\":\"" + name + "\"}}", System.Text.Encoding.UTF8, "application/json"));
                        if ((int)r.StatusCode == 201) acknowledged.Add(name);
                    }
                    catch (HttpRequestException) { return; }
                    catch (TaskCanceledException) { return; }
                }
            })).ToArray();
            while (acknowledged.Count < 200) await Task.Delay(20);
            s.Kill();
            stop.Cancel();
            await Task.WhenAll(writers);

            await s.StartAsync();
            var (code, body) = await Tools.Curl(s, "GET", "/api/v1/namespaces/default/configmaps");
            Assert.Equal(200, code);
            var present = JsonNode.Parse(body)!["items"]!.AsArray().Select(i => (string)i!["metadata"]!["name"]!).ToHashSet();
            var lost = acknowledged.Where(n => !present.Contains(n)).ToList();
            Assert.Empty(lost);
        }
        finally { await s.DisposeAsync(); }
    }
}
