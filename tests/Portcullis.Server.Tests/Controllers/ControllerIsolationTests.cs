using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Portcullis.Server.Tests.Controllers;

/// <summary>
/// Controllers whose work for one object fails unexpectedly (not an API error) go on with the
/// others, and their loops are not restarted over and over.
/// </summary>
public sealed class ControllerIsolationTests : IAsyncLifetime
{
    private FaultyCluster _cluster = null!;
    private SqliteBackend _kv = null!;
    private SystemClient _client = null!;
    private static readonly WriteOptions As = FaultyCluster.As;


    public Task InitializeAsync()
    {
        // Writes to a pod or object named "boom" fail with an unexpected (non-API) exception.
        _cluster = new FaultyCluster(TimeProvider.System, r => r.Name == "boom", Operation.Update, Operation.Delete);
        _kv = _cluster.Kv;
        _client = _cluster.Client;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        // A hang guard only: the loop polls until the condition holds.
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (guard.IsCancellationRequested) Assert.Fail("timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task ResourceQuota_OneQuotaFailing_TheNamespacesOtherQuotasAreCounted()
    {
        var quotas = _client.Store("", "resourcequotas");
        foreach (var name in new[] { "boom", "good" })
            await quotas.CreateAsync("ns", new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "ResourceQuota",
                ["metadata"] = new JsonObject { ["name"] = name },
                ["spec"] = new JsonObject { ["hard"] = new JsonObject { ["pods"] = "5" } },
            }, As);
        var controller = new ResourceQuotaController(_client, TimeProvider.System, log: NullLogger.Instance);
        await Assert.ThrowsAsync<AggregateException>(() => controller.SyncNamespaceAsync("ns", CancellationToken.None));
        Assert.Equal("0", (await quotas.GetAsync("ns", "good"))["status"]?["used"]?["pods"]?.GetValue<string>());
    }

    [Fact]
    public async Task GarbageCollector_OneDependentFailing_TheOthersAreCollected()
    {
        var cms = _client.Store("", "configmaps");
        var owner = await cms.CreateAsync("ns", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = "owner" },
        }, As);
        foreach (var name in new[] { "boom", "dep" })
            await cms.CreateAsync("ns", new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "ConfigMap",
                ["metadata"] = new JsonObject
                {
                    ["name"] = name,
                    ["ownerReferences"] = new JsonArray(new JsonObject
                    {
                        ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["name"] = "owner", ["uid"] = owner["metadata"]!["uid"]!.GetValue<string>(),
                    }),
                },
            }, As);
        await cms.DeleteAsync("ns", "owner", new DeleteOptions(SystemClient.Controller));

        var gc = new GarbageCollector(_client, TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = gc.RunAsync(stop.Token);
        await Eventually(async () => await _client.TryGetAsync(cms, "ns", "dep", CancellationToken.None) is null, "the healthy dependent to be collected");
        Assert.NotNull(await _client.TryGetAsync(cms, "ns", "boom", CancellationToken.None));
        Assert.False(run.IsCompleted); // the loop goes on
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public void CsrSigner_AnyExpirationSeconds_IsADuration()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var req = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=ca", key, System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var ca = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var signer = new Portcullis.Server.Certificates.CsrSigner(ca, TimeSpan.FromHours(8760), TimeProvider.System);
        Assert.Equal(TimeSpan.FromHours(8760), signer.Duration(long.MaxValue));
        Assert.Equal(TimeSpan.FromMinutes(10), signer.Duration(long.MinValue));
        Assert.Equal(TimeSpan.FromHours(1), signer.Duration(3600));
    }

    [Fact]
    public async Task ControllerHost_AFailingLoop_RestartsWithGrowingDelays()
    {
        var clock = new Node.Runtime.SteppedClock(DateTimeOffset.UnixEpoch);
        var failing = new AlwaysFails();
        await using var host = new ControllerHost([failing], NullLoggerFactory.Instance, clock);
        await host.StartAsync(CancellationToken.None);
        // Each restart waits on a timer: 1 s, then 2 s, then 4 s, then 8 s (a fixed delay would never make the 2 s timer).
        foreach (var seconds in new[] { 1, 2, 4, 8 })
        {
            await clock.NextTimerAsync(TimeSpan.FromSeconds(seconds));
            clock.Advance(TimeSpan.FromSeconds(seconds));
        }
        Assert.True(host.Restarts["always-fails"] >= 4);
    }

    private sealed class AlwaysFails : IController
    {
        public string Name => "always-fails";
        public Task RunAsync(CancellationToken ct) => throw new InvalidOperationException("broken");
    }
}
