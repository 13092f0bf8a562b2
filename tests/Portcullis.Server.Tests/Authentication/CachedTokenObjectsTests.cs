using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Controllers;
using Portcullis.Server.Hosting.Modules;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Authentication;

/// <summary>
/// The ServiceAccount token authenticator as the server builds it (<see cref="TokenObjectLookups.Cached"/>):
/// the facts of the objects a token names are kept per stored revision, and one authenticator checks the
/// same token before and after the objects change, so every change must reach it.
/// </summary>
public sealed class CachedTokenObjectsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-sa-").FullName;
    private readonly SaWorld _w = new();
    private readonly WriteOptions _as = new(SystemClient.Controller);
    private IKeyValueBackend _kv = null!;
    private SystemClient _client = null!;
    private ServiceAccountTokenAuthenticator _authn = null!;

    private GenericStore Accounts => _client.Store("", "serviceaccounts");
    private GenericStore Pods => _client.Store("", "pods");
    private GenericStore Secrets => _client.Store("", "secrets");

    public Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "state.db"));
        var resources = new ResourceRegistry(BuiltinResources.All);
        // In the server's order: authentication is built over the store table before the stores exist.
        var table = new StoreTable();
        _client = new SystemClient(table, resources, _kv);
        _authn = new ServiceAccountTokenAuthenticator(_w.Keys, new ServiceAccountAuthenticatorOptions([SaWorld.IssuerUrl], SaWorld.ApiAudiences),
            TokenObjectLookups.Cached(_client), _w.Clock);
        table.Fill(resources.All.Where(d => !d.Virtual).ToDictionary(d => d, d => new GenericStore(d, _kv, _w.Clock, AdmissionChain.Empty)));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kv.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private Task<JsonObject> CreateAccount(params string[] finalizers)
    {
        var meta = new JsonObject { ["name"] = "demo-sa" };
        if (finalizers.Length > 0) meta["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode)f).ToArray());
        return Accounts.CreateAsync("default", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = meta }, _as);
    }

    private Task<JsonObject> CreatePod() => Pods.CreateAsync("default", new JsonObject
    {
        ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = new JsonObject { ["name"] = "web" },
        ["spec"] = new JsonObject
        {
            ["serviceAccountName"] = "demo-sa",
            ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }),
        },
    }, _as);

    private static BoundObjectReference RefOf(JsonObject o) => new(Meta.Name(o), Meta.Uid(o));

    private async Task<AuthenticationResult> Check(string token) => (await _authn.AuthenticateTokenAsync(token)).Result;

    private static void AssertFailed(AuthenticationResult r, string error)
    {
        Assert.Equal(AuthenticationOutcome.Failed, r.Outcome);
        Assert.Equal(error, r.Error);
    }

    [Fact]
    public async Task A_bound_token_fails_once_its_service_account_is_deleted_or_recreated()
    {
        var sa = await CreateAccount();
        var token = _w.Issuer.Issue(sa, TokenBinding.None, 3600, SaWorld.ApiAudiences).Token;
        Assert.Equal(AuthenticationOutcome.Authenticated, (await Check(token)).Outcome);
        Assert.Equal(AuthenticationOutcome.Authenticated, (await Check(token)).Outcome);

        await Accounts.DeleteAsync("default", "demo-sa", new DeleteOptions(SystemClient.Controller));
        AssertFailed(await Check(token), "serviceaccounts \"demo-sa\" not found");

        var again = await CreateAccount();
        Assert.NotEqual(Meta.Uid(sa), Meta.Uid(again));
        AssertFailed(await Check(token), "service account UID of default/demo-sa does not match the token's claim");
    }

    [Fact]
    public async Task A_service_account_deleted_behind_the_stores_back_is_seen()
    {
        var sa = await CreateAccount();
        var token = _w.Issuer.Issue(sa, TokenBinding.None, 3600, SaWorld.ApiAudiences).Token;
        Assert.Equal(AuthenticationOutcome.Authenticated, (await Check(token)).Outcome);

        var key = Accounts.Key("default", "demo-sa");
        Assert.True((await _kv.DeleteAsync(key, (await _kv.GetAsync(key))!.ModRevision)).Succeeded);

        AssertFailed(await Check(token), "serviceaccounts \"demo-sa\" not found");
    }

    [Fact]
    public async Task A_service_account_marked_for_deletion_fails_after_the_leeway()
    {
        var sa = await CreateAccount("example.com/hold");
        var token = _w.Issuer.Issue(sa, TokenBinding.None, 3600, SaWorld.ApiAudiences).Token;
        Assert.Equal(AuthenticationOutcome.Authenticated, (await Check(token)).Outcome);

        await Accounts.DeleteAsync("default", "demo-sa", new DeleteOptions(SystemClient.Controller));
        Assert.Equal(AuthenticationOutcome.Authenticated, (await Check(token)).Outcome);
        _w.Clock.Advance(TimeSpan.FromSeconds(61));
        AssertFailed(await Check(token), "service account default/demo-sa has been deleted");
    }

    [Fact]
    public async Task A_pod_bound_token_fails_once_its_pod_is_deleted_or_replaced()
    {
        var sa = await CreateAccount();
        var pod = await CreatePod();
        var token = _w.Issuer.Issue(sa, new TokenBinding(Pod: RefOf(pod)), 3600, SaWorld.ApiAudiences).Token;
        var ok = await Check(token);
        Assert.Equal(AuthenticationOutcome.Authenticated, ok.Outcome);
        Assert.Equal([Meta.Uid(pod)], ok.User!.Extra["authentication.kubernetes.io/pod-uid"]);

        await Pods.DeleteAsync("default", "web", new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 0));
        AssertFailed(await Check(token), "service account token has been invalidated");

        await CreatePod();
        AssertFailed(await Check(token), "pod UID does not match service account pod ref claim");
    }

    [Fact]
    public async Task A_legacy_token_follows_its_secret()
    {
        var sa = await CreateAccount();
        var secret = await Secrets.CreateAsync("default", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Secret",
            ["metadata"] = new JsonObject
            {
                ["name"] = "demo-token", ["annotations"] = new JsonObject { ["kubernetes.io/service-account.name"] = "demo-sa" },
            },
            ["type"] = ServiceAccountTokenAuthenticator.ServiceAccountTokenSecretType,
        }, _as);
        var token = new LegacyTokenIssuer(_w.Keys).Issue(sa, secret);
        string Stored(string t) => Convert.ToBase64String(Encoding.UTF8.GetBytes(t));
        Task Edit(Action<JsonObject> edit) => Secrets.UpdateAsync("default", "demo-token", "", o => { edit(o); return o; }, _as);

        await Edit(o => o["data"] = new JsonObject { ["token"] = Stored(token) });
        Assert.Equal(AuthenticationOutcome.Authenticated, (await Check(token)).Outcome);

        await Edit(o => o["data"]!["token"] = Stored(token + "x"));
        AssertFailed(await Check(token), "Token does not match server's copy");

        await Edit(o =>
        {
            o["data"]!["token"] = Stored(token);
            o["metadata"]!["labels"] = new JsonObject { [ServiceAccountTokenAuthenticator.LegacyTokenInvalidSinceLabel] = "2025-01-01" };
        });
        Assert.StartsWith("the token in secret default/demo-token for service account default/demo-sa has been marked invalid.",
            (await Check(token)).Error);

        await Edit(o => ((JsonObject)o["metadata"]!).Remove("labels"));
        Assert.Equal(AuthenticationOutcome.Authenticated, (await Check(token)).Outcome);
    }
}
