using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Node;
using Portcullis.Server.Controllers.Node.Runtime;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;
using Portcullis.Server.Tests.Authentication;

namespace Portcullis.Server.Tests.Controllers.Node.Runtime;

/// <summary>The kubelet's token manager rule (pkg/kubelet/token/token_manager.go requiresRefresh), without its jitter.</summary>
public sealed class ProjectedTokenRuleTests
{
    private static readonly DateTimeOffset Iat = new(2025, 2, 8, 22, 28, 8, TimeSpan.Zero);

    private static ProjectedToken Token(long seconds) => new("t", Iat.AddSeconds(seconds), seconds);

    [Fact]
    public void KubeApiAccessToken_3607Seconds_IsRenewedOnceLessThan20PercentIsLeft()
    {
        var t = Token(3607);
        Assert.Equal(Iat, t.IssuedAt);
        // 3607*20/100 = 721 in Go's integer arithmetic: renewal after 2886 s, not 2885.6.
        Assert.Equal(Iat.AddSeconds(2886), t.RefreshAt);
        Assert.False(t.RequiresRefresh(Iat));
        Assert.False(t.RequiresRefresh(Iat.AddSeconds(2886)));
        Assert.True(t.RequiresRefresh(Iat.AddSeconds(2887)));
        Assert.False(t.Expired(Iat.AddSeconds(3607)));
        Assert.True(t.Expired(Iat.AddSeconds(3608)));
    }

    [Fact]
    public void ShortToken_IsRenewedAt80Percent()
    {
        Assert.Equal(Iat.AddSeconds(480), Token(600).RefreshAt);
        Assert.Equal(Iat.AddSeconds(2880), Token(3600).RefreshAt);
    }

    [Fact]
    public void LongToken_IsRenewedAtLeastOnceADay()
    {
        // 80% of two days would be 38.4 hours: the daily rule comes first.
        var t = Token(2 * 86400);
        Assert.Equal(Iat.AddHours(24), t.RefreshAt);
        Assert.False(t.RequiresRefresh(Iat.AddHours(24)));
        Assert.True(t.RequiresRefresh(Iat.AddHours(24).AddSeconds(1)));
        // Exactly 30 hours: 80% is 24 h too.
        Assert.Equal(Iat.AddHours(24), Token(30 * 3600).RefreshAt);
        // 29 hours: 80% (23.2 h) comes first.
        Assert.Equal(Iat.AddSeconds(29 * 3600 - 29 * 3600 * 20 / 100), Token(29 * 3600).RefreshAt);
    }

    [Fact]
    public void ClockThatWentBack_BeforeTheTokenWasIssued_RequiresRefresh()
    {
        var t = Token(3607);
        Assert.True(t.RequiresRefresh(Iat.AddSeconds(-1)));
    }
}

/// <summary>
/// <see cref="PodVolumes"/> with the runtime's real TokenRequest (<see cref="ProcessRuntime.IssueTokenAsync"/>
/// against <see cref="TokenRequestLogic"/>) on a hand-moved clock: when a renewal fails, the
/// kubelet keeps the current token while it is valid, then fails the volume.
/// </summary>
public sealed class ProjectedTokenVolumeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-token-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject PodWithToken(JsonObject pod, string audience, long seconds)
    {
        pod["spec"]!["volumes"] = JsonNode.Parse($$$"""
            [{"name":"tok","projected":{"sources":[{"serviceAccountToken":{"audience":"{{{audience}}}","expirationSeconds":{{{seconds}}},"path":"token"}}]}}]
            """);
        return pod;
    }

    [Fact]
    public async Task FailedRenewal_KeepsTheCurrentToken_UntilItExpires()
    {
        var w = new SaWorld();
        w.AddServiceAccount("default", "default");
        var pod = PodWithToken(w.AddPod("default", "p", "default", "node-1"), "vault", 600);
        var logic = w.TokenRequests();
        var sources = new VolumeSources((_, _) => Task.FromResult<JsonObject?>(null), (_, _) => Task.FromResult<JsonObject?>(null),
            (p, aud, sec, ct) => ProcessRuntime.IssueTokenAsync(logic, w.Getters, p, aud, sec, ct), new Dictionary<string, string>());
        var volumes = new PodVolumes(_dir, sources, w.Clock);
        var file = Path.Combine(volumes.VolumeDir("tok"), "token");

        await volumes.SyncAsync(pod, "10.244.0.5", "127.0.0.1", CancellationToken.None);
        var first = await File.ReadAllTextAsync(file);
        Assert.Equal(w.Clock.Now.AddSeconds(600).ToUnixTimeSeconds(), (long)SaWorld.PayloadOf(first)["exp"]!);

        // Past 80% the node asks again, and the service account is gone: the current token stays.
        w.Remove("ServiceAccount", "default", "default");
        w.Clock.Advance(TimeSpan.FromSeconds(481));
        await volumes.SyncAsync(pod, "10.244.0.5", "127.0.0.1", CancellationToken.None);
        Assert.Equal(first, await File.ReadAllTextAsync(file));

        // Once it has expired there is nothing to fall back on: the volume cannot be set up.
        w.Clock.Advance(TimeSpan.FromSeconds(120));
        var e = await Assert.ThrowsAsync<VolumeSetupException>(() => volumes.SyncAsync(pod, "10.244.0.5", "127.0.0.1", CancellationToken.None));
        Assert.Equal("MountVolume.SetUp failed for volume \"tok\" : token expired and refresh failed: serviceaccounts \"default\" not found", e.Message);

        // The service account is back: the next pass gets a new token.
        w.AddServiceAccount("default", "default");
        await volumes.SyncAsync(pod, "10.244.0.5", "127.0.0.1", CancellationToken.None);
        var renewed = await File.ReadAllTextAsync(file);
        Assert.NotEqual(first, renewed);
        Assert.Equal(w.Clock.Now.ToUnixTimeSeconds(), (long)SaWorld.PayloadOf(renewed)["iat"]!);
    }

    [Fact]
    public async Task NoServiceAccount_AtFirst_IsTheKubeletsFailedToFetch()
    {
        var w = new SaWorld();
        var pod = PodWithToken(w.AddPod("default", "p", "default", "node-1"), "vault", 600);
        var logic = w.TokenRequests();
        var sources = new VolumeSources((_, _) => Task.FromResult<JsonObject?>(null), (_, _) => Task.FromResult<JsonObject?>(null),
            (p, aud, sec, ct) => ProcessRuntime.IssueTokenAsync(logic, w.Getters, p, aud, sec, ct), new Dictionary<string, string>());
        var e = await Assert.ThrowsAsync<VolumeSetupException>(() =>
            new PodVolumes(_dir, sources, w.Clock).SyncAsync(pod, "10.244.0.5", "127.0.0.1", CancellationToken.None));
        Assert.Equal("MountVolume.SetUp failed for volume \"tok\" : failed to fetch token: serviceaccounts \"default\" not found", e.Message);
    }
}

/// <summary>
/// The process runtime renewing a running pod's projected tokens by itself: a real
/// <see cref="ProcessRuntime"/> with real stores, TokenRequest, issuer and authenticator, and a
/// container (<c>sleep</c>) running; only the clock is the test's. The pod worker's 10-second volume
/// loop runs one pass per clock jump, so each check happens at a known instant.
/// </summary>
public sealed class ProcessRuntimeTokenRenewalTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2025, 2, 8, 22, 28, 8, TimeSpan.Zero);
    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-renew-").FullName;
    private readonly SteppedClock _clock = new(T0);
    private SqliteBackend _kv = null!;
    private SystemClient _client = null!;
    private ServiceAccountObjectGetters _getters = null!;
    private ServiceAccountTokenAuthenticator _authn = null!;
    private ProcessRuntime _runtime = null!;

    public async Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "kv.db"));
        var resources = new ResourceRegistry(BuiltinResources.All);
        var stores = new Dictionary<ResourceDefinition, GenericStore>();
        foreach (var d in resources.All.Where(d => !d.Virtual))
            stores[d] = new GenericStore(d, _kv, _clock, new AdmissionChain([]));
        _client = new SystemClient(stores, resources, _kv);
        Task<JsonObject?> Get(string plural, string ns, string name, CancellationToken ct) => _client.TryGetAsync(_client.Store("", plural), ns, name, ct);
        _getters = new ServiceAccountObjectGetters((ns, n, c) => Get("serviceaccounts", ns, n, c), (ns, n, c) => Get("pods", ns, n, c),
            (ns, n, c) => Get("secrets", ns, n, c), (_, n, c) => Get("nodes", "", n, c));
        var keys = ServiceAccountKeys.FromKeys(SaWorld.SigningKey, null);
        var issuer = new ServiceAccountTokenIssuer(keys, SaWorld.IssuerUrl, _clock);
        _authn = new ServiceAccountTokenAuthenticator(keys, new ServiceAccountAuthenticatorOptions([SaWorld.IssuerUrl], SaWorld.ApiAudiences), _getters, _clock);
        var tokens = new TokenRequestLogic(issuer, new TokenRequestSettings(SaWorld.ApiAudiences), _clock);

        var node = new NodeIdentity("node-1", "127.0.0.1", "10.244.0.0/24");
        await _client.EnsureAsync(_client.Store("", "nodes"), "", node.ToNode(T0, "v1.32.0"), CancellationToken.None);
        await _client.EnsureAsync(_client.Store("", "serviceaccounts"), "default",
            new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = "default" } }, CancellationToken.None);
        _runtime = new ProcessRuntime(_client, node, tokens, _getters,
            new ProcessRuntimeSettings(Path.Combine(_dir, "pods"), "127.0.0.1", "127.0.0.1", 6443), _clock, NullLogger.Instance);
    }

    public async Task DisposeAsync()
    {
        await _runtime.DisposeAsync();
        await _kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    // The kube-api-access volume as the ServiceAccount admission plugin injects it, and a token for another audience that lives two days.
    private const string PodManifest = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"renewer"},
         "spec":{"nodeName":"node-1","serviceAccountName":"default","restartPolicy":"Always",
          "containers":[{"name":"main","image":"busybox","command":["sleep","3600"]}],
          "volumes":[
           {"name":"kube-api-access-x7k2p","projected":{"defaultMode":420,"sources":[
             {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
             {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}]}},
           {"name":"vault-token","projected":{"sources":[{"serviceAccountToken":{"audience":"vault","expirationSeconds":172800,"path":"token"}}]}}]}}
        """;

    private string TokenFile(string uid, string volume) => Path.Combine(_dir, "pods", uid, "volumes", volume, "token");

    private static JsonObject Claims(string token) => SaWorld.PayloadOf(token);
    private static long Unix(DateTimeOffset t) => t.ToUnixTimeSeconds();

    /// <summary>Jumps the clock and waits for the volume loop's pass at the new instant to finish (it then waits again).</summary>
    private async Task JumpTo(DateTimeOffset at)
    {
        _clock.Advance(at - _clock.GetUtcNow());
        await _clock.NextTimerAsync(Resync);
    }

    [Fact]
    public async Task RunningPod_GetsFreshTokens_BeforeTheOldOnesExpire_AsTheKubeletRenewsThem()
    {
        var pods = _client.Store("", "pods");
        await pods.CreateAsync("default", JsonNode.Parse(PodManifest)!.AsObject(), new WriteOptions(SystemClient.Controller), CancellationToken.None);
        var pod = (await _client.TryGetAsync(pods, "default", "renewer", CancellationToken.None))!;
        var uid = Meta.Uid(pod);
        _runtime.Run(pod, "10.244.0.5");
        await _clock.NextTimerAsync(Resync); // volumes written, the container started, the loop waiting

        var apiFile = TokenFile(uid, "kube-api-access-x7k2p");
        var vaultFile = TokenFile(uid, "vault-token");
        var api1 = await File.ReadAllTextAsync(apiFile);
        var vault1 = await File.ReadAllTextAsync(vaultFile);
        Assert.Equal("default", await File.ReadAllTextAsync(Path.Combine(_dir, "pods", uid, "volumes", "kube-api-access-x7k2p", "namespace")));

        // 3607 seconds with the API audience and a pod: the server extends the JWT to a year (warn-only after 3607 s)...
        var c1 = Claims(api1);
        Assert.Equal(Unix(T0), (long)c1["iat"]!);
        Assert.Equal(Unix(T0) + ServiceAccountTokenIssuer.ExpirationExtensionSeconds, (long)c1["exp"]!);
        Assert.Equal(Unix(T0) + 3607, (long)c1["kubernetes.io"]!["warnafter"]!);
        Assert.Equal("renewer", (string?)c1["kubernetes.io"]!["pod"]!["name"]);
        Assert.Equal(uid, (string?)c1["kubernetes.io"]!["pod"]!["uid"]);
        Assert.Equal("node-1", (string?)c1["kubernetes.io"]!["node"]!["name"]);
        await AssertAuthenticatesAsThePod(api1);
        // ...and another audience gets exactly what it asked for.
        var v1 = Claims(vault1);
        Assert.Equal("""["vault"]""", v1["aud"]!.ToJsonString());
        Assert.Equal(Unix(T0) + 172800, (long)v1["exp"]!);
        Assert.Null(v1["kubernetes.io"]!["warnafter"]);

        // 2880 s: less than 80% of the 3607 s the TokenRequest answered — no renewal, though the pass ran.
        await JumpTo(T0.AddSeconds(2880));
        Assert.Equal(api1, await File.ReadAllTextAsync(apiFile));
        Assert.Equal(vault1, await File.ReadAllTextAsync(vaultFile));

        // 2890 s: past 3607 - 721 = 2886 s — renewed as the kubelet would (the JWT's year notwithstanding),
        // long before the old token's 3607 s are up.
        var renewedAt = T0.AddSeconds(2890);
        await JumpTo(renewedAt);
        var api2 = await File.ReadAllTextAsync(apiFile);
        Assert.NotEqual(api1, api2);
        var c2 = Claims(api2);
        Assert.Equal(Unix(renewedAt), (long)c2["iat"]!);
        Assert.Equal(Unix(renewedAt) + ServiceAccountTokenIssuer.ExpirationExtensionSeconds, (long)c2["exp"]!);
        Assert.Equal(Unix(renewedAt) + 3607, (long)c2["kubernetes.io"]!["warnafter"]!);
        Assert.True((long)c2["iat"]! < (long)c1["kubernetes.io"]!["warnafter"]!, "renewed before the old token's requested lifetime ended");
        Assert.NotEqual((string?)c1["jti"], (string?)c2["jti"]);
        Assert.Equal(uid, (string?)c2["kubernetes.io"]!["pod"]!["uid"]);
        await AssertAuthenticatesAsThePod(api2);
        // Swapped atomically: one timestamped directory, the one ..data points to.
        var volumeDir = Path.GetDirectoryName(apiFile)!;
        var dataTarget = new FileInfo(Path.Combine(volumeDir, "..data")).LinkTarget;
        Assert.Equal(dataTarget, Path.GetFileName(Assert.Single(Directory.GetDirectories(volumeDir, "..2*"))));
        Assert.Equal(vault1, await File.ReadAllTextAsync(vaultFile)); // 172800 s: nowhere near its renewal

        // The next pass keeps the new token.
        await JumpTo(renewedAt.AddSeconds(10));
        Assert.Equal(api2, await File.ReadAllTextAsync(apiFile));

        // A day after it was issued the two-day token is due (80% of its life would be 38.4 hours).
        await JumpTo(T0.AddHours(24));
        Assert.Equal(vault1, await File.ReadAllTextAsync(vaultFile));
        var dayAfter = T0.AddHours(24).AddSeconds(10);
        await JumpTo(dayAfter);
        var vault2 = await File.ReadAllTextAsync(vaultFile);
        Assert.NotEqual(vault1, vault2);
        Assert.Equal(Unix(dayAfter), (long)Claims(vault2)["iat"]!);
        Assert.Equal(Unix(dayAfter) + 172800, (long)Claims(vault2)["exp"]!);
        Assert.Equal(uid, (string?)Claims(vault2)["kubernetes.io"]!["pod"]!["uid"]);

        // The container ran the whole time: the pod is Running, its first instance never restarted.
        var status = await RunningStatus(pods);
        Assert.Equal(0L, (long)status["containerStatuses"]![0]!["restartCount"]!);
    }

    private static async Task<JsonObject> RunningStatus(GenericStore pods)
    {
        JsonObject? status = null;
        for (var i = 0; i < 600; i++)
        {
            status = (await pods.GetAsync("default", "renewer", CancellationToken.None))["status"] as JsonObject;
            if (status?["phase"]?.GetValue<string>() == "Running") return status;
            await Task.Delay(100);
        }
        throw new TimeoutException("the pod never became Running: " + status?.ToJsonString());
    }

    private async Task AssertAuthenticatesAsThePod(string token)
    {
        var ctx = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        ctx.Request.Headers.Authorization = "Bearer " + token;
        var r = await _authn.AuthenticateAsync(ctx);
        Assert.Equal(AuthenticationOutcome.Authenticated, r.Outcome);
        Assert.Equal("system:serviceaccount:default:default", r.User!.Name);
        Assert.Equal(["renewer"], r.User.Extra[ServiceAccountUser.PodNameKey]);
    }
}
