using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Authentication;

public sealed class LegacyTokenSecretControllerTests : IAsyncLifetime
{
    private const string Ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-sa-").FullName;
    private readonly SaWorld _w = new();
    private IKeyValueBackend _kv = null!;
    private SystemClient _client = null!;
    private LegacyTokenSecretController _controller = null!;
    private GenericStore Secrets => _client.Store("", "secrets");
    private GenericStore Accounts => _client.Store("", "serviceaccounts");
    private readonly WriteOptions _as = new(SystemClient.Controller);

    public Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "state.db"));
        var resources = new ResourceRegistry(BuiltinResources.All);
        var stores = resources.All.Where(d => !d.Virtual).ToDictionary(d => d, d => new GenericStore(d, _kv, _w.Clock, AdmissionChain.Empty));
        _client = new SystemClient(stores, resources, _kv);
        _controller = new LegacyTokenSecretController(_client, new LegacyTokenIssuer(_w.Keys), Ca);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kv.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private static JsonObject TokenSecret(string name, string sa) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Secret",
        ["metadata"] = new JsonObject { ["name"] = name, ["annotations"] = new JsonObject { ["kubernetes.io/service-account.name"] = sa } },
        ["type"] = "kubernetes.io/service-account-token",
    };

    private ServiceAccountTokenAuthenticator Authenticator()
    {
        Func<string, string, CancellationToken, Task<JsonObject?>> From(GenericStore s) => (ns, n, ct) => _client.TryGetAsync(s, ns, n, ct);
        return new ServiceAccountTokenAuthenticator(_w.Keys, new ServiceAccountAuthenticatorOptions([SaWorld.IssuerUrl], SaWorld.ApiAudiences),
            new ServiceAccountObjectGetters(From(Accounts), From(_client.Store("", "pods")), From(Secrets)), _w.Clock);
    }

    [Fact]
    public async Task FillsTokenSecretAndTokenWorksUntilSecretIsDeleted()
    {
        var sa = await Accounts.CreateAsync("ns1", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = "builder" } }, _as);
        await Secrets.CreateAsync("ns1", TokenSecret("builder-token", "builder"), _as);
        await _controller.InitializeAsync(default);

        var secret = await Secrets.GetAsync("ns1", "builder-token");
        Assert.Equal(sa["metadata"]!["uid"]!.GetValue<string>(), secret["metadata"]!["annotations"]!["kubernetes.io/service-account.uid"]!.GetValue<string>());
        Assert.Equal(Ca, Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["ca.crt"]!.GetValue<string>())));
        Assert.Equal("ns1", Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["namespace"]!.GetValue<string>())));
        var token = Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["token"]!.GetValue<string>()));

        var ok = await Authenticator().AuthenticateTokenAsync(token);
        Assert.Equal(AuthenticationOutcome.Authenticated, ok.Result.Outcome);
        Assert.Equal("system:serviceaccount:ns1:builder", ok.Result.User!.Name);

        // A second pass changes nothing.
        var rv = secret["metadata"]!["resourceVersion"]!.GetValue<string>();
        await _controller.SyncSecretAsync("ns1", "builder-token", default);
        Assert.Equal(rv, (await Secrets.GetAsync("ns1", "builder-token"))["metadata"]!["resourceVersion"]!.GetValue<string>());

        await Secrets.DeleteAsync("ns1", "builder-token", new DeleteOptions(SystemClient.Controller));
        Assert.Equal(AuthenticationOutcome.Failed, (await Authenticator().AuthenticateTokenAsync(token)).Result.Outcome);
    }

    [Fact]
    public async Task SecretForMissingServiceAccountIsDeleted()
    {
        await Secrets.CreateAsync("ns1", TokenSecret("orphan", "nobody"), _as);
        var opaque = TokenSecret("opaque", "nobody");
        opaque["type"] = "Opaque";
        await Secrets.CreateAsync("ns1", opaque, _as);
        await _controller.InitializeAsync(default);
        Assert.Null(await _client.TryGetAsync(Secrets, "ns1", "orphan", default));
        Assert.NotNull(await _client.TryGetAsync(Secrets, "ns1", "opaque", default));
    }

    [Fact]
    public async Task DeletingTheServiceAccountRemovesItsTokens()
    {
        await Accounts.CreateAsync("ns1", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = "builder" } }, _as);
        await Secrets.CreateAsync("ns1", TokenSecret("builder-token", "builder"), _as);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var loop = _controller.RunAsync(cts.Token);
        await Until(async () => (await Secrets.GetAsync("ns1", "builder-token"))["data"]?["token"] is not null, cts.Token);

        await Accounts.DeleteAsync("ns1", "builder", new DeleteOptions(SystemClient.Controller));
        await Until(async () => await _client.TryGetAsync(Secrets, "ns1", "builder-token", default) is null, cts.Token);
        await cts.CancelAsync();
        try { await loop; } catch (OperationCanceledException) { }
    }

    private static async Task Until(Func<Task<bool>> condition, CancellationToken ct)
    {
        while (!await condition()) await Task.Delay(20, ct);
    }
}
