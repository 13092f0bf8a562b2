using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Portcullis.E2E.Tests;

/// <summary>The official C# client against the real server.</summary>
public sealed class KubernetesClientTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private Kubernetes Client() => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(f.Server.Kubeconfig));

    private static V1ConfigMap Cm(string name, IDictionary<string, string>? labels = null) =>
        new() { Metadata = new V1ObjectMeta { Name = name, Labels = labels }, Data = new Dictionary<string, string> { ["k"] = "v" } };

    private static V1Secret Secret(string name) => new() { Metadata = new V1ObjectMeta { Name = name }, StringData = new Dictionary<string, string> { ["k"] = "v" } };

    [Fact]
    public async Task CreateGetList_WithLabelSelector()
    {
        using var c = Client();
        var ns = await c.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "client-sel" } });
        await c.CoreV1.CreateNamespacedConfigMapAsync(Cm("a", new Dictionary<string, string> { ["app"] = "web", ["tier"] = "fe" }), "client-sel");
        await c.CoreV1.CreateNamespacedConfigMapAsync(Cm("b", new Dictionary<string, string> { ["app"] = "db" }), "client-sel");
        await c.CoreV1.CreateNamespacedConfigMapAsync(Cm("c"), "client-sel");

        var got = await c.CoreV1.ReadNamespacedConfigMapAsync("a", "client-sel");
        Assert.Equal("v", got.Data["k"]);
        Assert.False(string.IsNullOrEmpty(got.Metadata.Uid));

        Assert.Equal(["a"], (await c.CoreV1.ListNamespacedConfigMapAsync("client-sel", labelSelector: "app=web")).Items.Select(i => i.Name()));
        Assert.Equal(["a", "b"], (await c.CoreV1.ListNamespacedConfigMapAsync("client-sel", labelSelector: "app in (web,db)")).Items.Select(i => i.Name()));
        Assert.Equal(["b", "c"], Mine(await c.CoreV1.ListNamespacedConfigMapAsync("client-sel", labelSelector: "tier!=fe")));
        // kube-root-ca.crt, published into every namespace by a controller, has no labels either: leave it out.
        static IEnumerable<string> Mine(V1ConfigMapList l) => l.Items.Select(i => i.Name()).Where(n => n != "kube-root-ca.crt");
        Assert.Equal(["c"], Mine(await c.CoreV1.ListNamespacedConfigMapAsync("client-sel", labelSelector: "!app")));
        Assert.Equal(["b"], (await c.CoreV1.ListNamespacedConfigMapAsync("client-sel", fieldSelector: "metadata.name=b")).Items.Select(i => i.Name()));
    }

    [Fact]
    public async Task List_Paginates_OnAConsistentSnapshot()
    {
        using var c = Client();
        await c.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "client-page" } });
        // Secrets, since every namespace also gets a kube-root-ca.crt ConfigMap.
        for (var i = 0; i < 7; i++) await c.CoreV1.CreateNamespacedSecretAsync(Secret($"p{i}"), "client-page");

        var first = await c.CoreV1.ListNamespacedSecretAsync("client-page", limit: 3);
        Assert.Equal(["p0", "p1", "p2"], first.Items.Select(i => i.Name()));
        Assert.Equal(4, first.Metadata.RemainingItemCount);
        // Written after the first page: not part of the snapshot the continue token reads.
        await c.CoreV1.CreateNamespacedSecretAsync(Secret("p7"), "client-page");
        await c.CoreV1.DeleteNamespacedSecretAsync("p5", "client-page");

        var second = await c.CoreV1.ListNamespacedSecretAsync("client-page", limit: 3, continueParameter: first.Metadata.ContinueProperty);
        Assert.Equal(["p3", "p4", "p5"], second.Items.Select(i => i.Name()));
        var third = await c.CoreV1.ListNamespacedSecretAsync("client-page", limit: 3, continueParameter: second.Metadata.ContinueProperty);
        Assert.Equal(["p6"], third.Items.Select(i => i.Name()));
        Assert.Null(third.Metadata.ContinueProperty);
        Assert.Equal(first.Metadata.ResourceVersion, third.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Watch_ReceivesAddedModifiedDeleted()
    {
        using var c = Client();
        await c.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "client-watch" } });
        var start = await c.CoreV1.ListNamespacedConfigMapAsync("client-watch");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<(WatchEventType, string, string)>();
        var watching = Task.Run(async () =>
        {
            // Only "w": the namespace's kube-root-ca.crt may be published while the test runs.
            await foreach (var (type, item) in c.CoreV1.WatchListNamespacedConfigMapAsync("client-watch",
                fieldSelector: "metadata.name=w", resourceVersion: start.Metadata.ResourceVersion, cancellationToken: cts.Token))
            {
                seen.Add((type, item.Name(), (item.Data is { } d && d.TryGetValue("k", out var kv) ? kv : "")));
                if (type == WatchEventType.Deleted) return;
            }
        }, cts.Token);

        await c.CoreV1.CreateNamespacedConfigMapAsync(Cm("w"), "client-watch");
        var cur = await c.CoreV1.ReadNamespacedConfigMapAsync("w", "client-watch");
        cur.Data["k"] = "v2";
        await c.CoreV1.ReplaceNamespacedConfigMapAsync(cur, "w", "client-watch");
        await c.CoreV1.DeleteNamespacedConfigMapAsync("w", "client-watch");
        await watching;

        Assert.Equal(
            [(WatchEventType.Added, "w", "v"), (WatchEventType.Modified, "w", "v2"), (WatchEventType.Deleted, "w", "v2")],
            seen);
    }

    [Fact]
    public async Task Replace_WithStaleResourceVersion_Is409()
    {
        using var c = Client();
        var created = await c.CoreV1.CreateNamespacedConfigMapAsync(Cm("stale-client"), "default");
        created.Data["k"] = "v2";
        await c.CoreV1.ReplaceNamespacedConfigMapAsync(created, "stale-client", "default");
        created.Data["k"] = "v3";
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => c.CoreV1.ReplaceNamespacedConfigMapAsync(created, "stale-client", "default"));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, e.Response.StatusCode);
    }

    [Fact]
    public async Task Delete_WithFinalizer_MarksThenRemovesWhenFinalizerCleared()
    {
        using var c = Client();
        var cm = Cm("final");
        cm.Metadata.Finalizers = ["example.com/hold"];
        await c.CoreV1.CreateNamespacedConfigMapAsync(cm, "default");
        await c.CoreV1.DeleteNamespacedConfigMapAsync("final", "default");

        var marked = await c.CoreV1.ReadNamespacedConfigMapAsync("final", "default");
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Equal(["example.com/hold"], marked.Metadata.Finalizers);

        marked.Metadata.Finalizers = [];
        await c.CoreV1.ReplaceNamespacedConfigMapAsync(marked, "final", "default");
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => c.CoreV1.ReadNamespacedConfigMapAsync("final", "default"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, e.Response.StatusCode);
    }

    [Fact]
    public async Task Delete_WithUidPrecondition_Mismatch_Is409()
    {
        using var c = Client();
        await c.CoreV1.CreateNamespacedConfigMapAsync(Cm("precond"), "default");
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => c.CoreV1.DeleteNamespacedConfigMapAsync("precond", "default",
            new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = "not-the-uid" } }));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Contains("Precondition failed: UID in precondition: not-the-uid", e.Response.Content);
    }

    [Fact]
    public async Task GenerateName_And_DryRun()
    {
        using var c = Client();
        var made = await c.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "gen-" } }, "default");
        Assert.Matches("^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$", made.Name());
        await c.CoreV1.CreateNamespacedConfigMapAsync(Cm("dry"), "default", dryRun: "All");
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => c.CoreV1.ReadNamespacedConfigMapAsync("dry", "default"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, e.Response.StatusCode);
    }

    [Fact]
    public async Task StatusSubresource_IgnoresSpec_AndMainResourceIgnoresStatus()
    {
        using var c = Client();
        var q = await c.CoreV1.CreateNamespacedResourceQuotaAsync(new V1ResourceQuota
        {
            Metadata = new V1ObjectMeta { Name = "rq" },
            Spec = new V1ResourceQuotaSpec { Hard = new Dictionary<string, ResourceQuantity> { ["pods"] = new("10") } },
        }, "default");

        // The quota controller writes the status too: a replace that loses the race is a 409, and a
        // client re-reads and tries again, as client-go's RetryOnConflict.
        async Task<V1ResourceQuota> Replace(V1ResourceQuota current, Action<V1ResourceQuota> change, Func<V1ResourceQuota, Task<V1ResourceQuota>> replace)
        {
            for (var attempt = 1; ; attempt++)
            {
                change(current);
                try { return await replace(current); }
                catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict && attempt < 10)
                {
                    current = await c.CoreV1.ReadNamespacedResourceQuotaAsync("rq", "default");
                }
            }
        }

        var afterStatus = await Replace(q, x =>
        {
            x.Status ??= new V1ResourceQuotaStatus();
            x.Status.Hard = new Dictionary<string, ResourceQuantity> { ["pods"] = new("10") };
            x.Spec.Hard["pods"] = new ResourceQuantity("99");
        }, x => c.CoreV1.ReplaceNamespacedResourceQuotaStatusAsync(x, "rq", "default"));
        Assert.Equal("10", afterStatus.Spec.Hard["pods"].ToString());
        Assert.Equal("10", afterStatus.Status.Hard["pods"].ToString());

        var afterMain = await Replace(afterStatus, x =>
        {
            x.Status.Hard["pods"] = new ResourceQuantity("1");
            x.Spec.Hard["pods"] = new ResourceQuantity("20");
        }, x => c.CoreV1.ReplaceNamespacedResourceQuotaAsync(x, "rq", "default"));
        Assert.Equal("20", afterMain.Spec.Hard["pods"].ToString());
        Assert.Equal("10", afterMain.Status.Hard["pods"].ToString());
    }

    [Theory]
    [InlineData("Orphan", true)]
    [InlineData("Foreground", false)]
    [InlineData("Background", false)]
    public async Task Delete_PropagationPolicy_OrphansOrDeletesDependents(string policy, bool dependentSurvives)
    {
        using var c = Client();
        var ns = "gc-" + policy.ToLowerInvariant();
        await c.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        var owner = await c.CoreV1.CreateNamespacedConfigMapAsync(Cm("owner"), ns);
        var dep = Cm("dependent");
        dep.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner", Uid = owner.Metadata.Uid }];
        await c.CoreV1.CreateNamespacedConfigMapAsync(dep, ns);

        await c.CoreV1.DeleteNamespacedConfigMapAsync("owner", ns, new V1DeleteOptions { PropagationPolicy = policy });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var names = (await c.CoreV1.ListNamespacedConfigMapAsync(ns, cancellationToken: cts.Token)).Items.Select(i => i.Name()).ToList();
            if (!names.Contains("owner") && names.Contains("dependent") == dependentSurvives) break;
            await Task.Delay(200, cts.Token);
        }
        if (dependentSurvives)
        {
            var survivor = await c.CoreV1.ReadNamespacedConfigMapAsync("dependent", ns);
            Assert.True(survivor.Metadata.OwnerReferences is null || survivor.Metadata.OwnerReferences.Count == 0);
        }
    }
}
