using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Certificates;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;
using Portcullis.Server.Tests.Authentication;
using Portcullis.Server.Tests.Authorization.RbacPolicy;
using static Portcullis.Server.Tests.Certificates.CsrTestKit;

namespace Portcullis.Server.Tests.Certificates;

/// <summary>A CSR through the real store, the three CSR admission plugins and the signing controller.</summary>
public sealed class CsrLifecycleTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-csr-").FullName;
    private readonly ManualClock _clock = new(Start);
    private SqliteBackend _kv = null!;
    private SystemClient _client = null!;
    private CsrSigningController _controller = null!;
    /// <summary>Who may approve or sign: (user, verb, signer name) triples.</summary>
    private readonly HashSet<(string, string, string)> _grants = [];

    private static readonly UserInfo Alice = new("alice", "u-1", ["devs", UserInfo.AllAuthenticated], new Dictionary<string, IReadOnlyList<string>> { ["team"] = ["a"] });
    private static readonly UserInfo Approver = new("approver", "", [UserInfo.AllAuthenticated], UserInfo.NoExtra);

    public Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "kv.db"));
        var resources = new ResourceRegistry(BuiltinResources.All);
        var authz = new FakeAuthorizer(a => a.User.Groups.Contains(UserInfo.SystemMasters)
            || (a.Resource == "signers" && a.ApiGroup == "certificates.k8s.io" && _grants.Contains((a.User.Name, a.Verb.Value, a.Name))));
        var admission = new AdmissionChain([new CertificateApproval(authz), new CertificateSigning(authz), new CertificateSubjectRestriction()]);
        var stores = new Dictionary<ResourceDefinition, GenericStore>();
        foreach (var d in resources.All.Where(d => !d.Virtual)) stores[d] = new GenericStore(d, _kv, _clock, admission);
        _client = new SystemClient(stores, resources, _kv);
        _controller = new CsrSigningController(_client, new CsrSigner(Ca, TimeSpan.FromHours(8760), _clock), _clock, NullLogger<CsrSigningController>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private GenericStore Store => _client.Store("certificates.k8s.io", "certificatesigningrequests");

    private Task<JsonObject> Approve(string name, UserInfo who, string type = "Approved") =>
        Store.UpdateAsync("", name, "approval", c =>
        {
            c["status"] = new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = type, ["status"] = "True", ["reason"] = "KubectlApprove" }) };
            return c;
        }, new WriteOptions(who));

    private async Task<JsonObject> Sync(string name)
    {
        await _controller.SyncAsync(await Store.GetAsync("", name), CancellationToken.None);
        return await Store.GetAsync("", name);
    }

    [Fact]
    public async Task Create_StampsTheRequester_AndIgnoresClaimedIdentityAndStatus()
    {
        var csr = WithConditions(Csr("jane", RequestPem("CN=jane, O=devs")), Condition("Approved"));
        csr["spec"]!["username"] = "someone-else";
        csr["spec"]!["groups"] = new JsonArray("system:masters");
        var created = await Store.CreateAsync("", csr, new WriteOptions(Alice));
        Assert.Equal("alice", (string?)created["spec"]!["username"]);
        Assert.Equal("u-1", (string?)created["spec"]!["uid"]);
        Assert.Equal("[\"devs\",\"system:authenticated\"]", created["spec"]!["groups"]!.ToJsonString());
        Assert.Equal("{\"team\":[\"a\"]}", created["spec"]!["extra"]!.ToJsonString());
        Assert.Equal("{}", created["status"]!.ToJsonString());
    }

    [Fact]
    public async Task Create_AnyNameThatIsAPathSegment_IsAccepted_OthersAre400NotInvalid()
    {
        // certificates ValidateCertificateRequestName returns nil ("We don't care what you call your
        // certificate requests"); only the store's NoNamespaceKeyFunc (apiserver store.go @ kubernetes-1.33.0) refuses.
        await Store.CreateAsync("", Csr("Jane_Doe.CSR", RequestPem("CN=jane, O=devs")), new WriteOptions(Alice));
        var e = await Assert.ThrowsAsync<ApiException>(() => Store.CreateAsync("", Csr("a/b%c", RequestPem("CN=jane, O=devs")), new WriteOptions(Alice)));
        Assert.Equal(400, e.Code);
        Assert.Equal("BadRequest", e.Reason);
        Assert.Equal("Name parameter invalid: \"a/b%c\": may not contain '/';may not contain '%'", e.Message);
    }

    [Fact]
    public async Task Create_SystemMastersForApiServerClient_IsForbidden()
    {
        var e = await Assert.ThrowsAsync<ApiException>(() => Store.CreateAsync("", Csr("evil", RequestPem("CN=evil, O=system:masters")), new WriteOptions(Alice)));
        Assert.Equal(403, e.Code);
        Assert.Equal("certificatesigningrequests.certificates.k8s.io \"evil\" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed", e.Message);
        // Another signer may carry the group: the restriction is kube-apiserver-client's.
        await Store.CreateAsync("", Csr("other", RequestPem("CN=x, O=system:masters"), signer: "example.com/signer"), new WriteOptions(Alice));
    }

    [Fact]
    public async Task Approval_NeedsApproveOnTheSigner_ThenTheControllerSigns()
    {
        await Store.CreateAsync("", Csr("jane", RequestPem("CN=jane, O=devs"), expirationSeconds: 3600), new WriteOptions(Alice));
        var e = await Assert.ThrowsAsync<ApiException>(() => Approve("jane", Approver));
        Assert.Equal("certificatesigningrequests.certificates.k8s.io \"jane\" is forbidden: user not permitted to approve requests with signerName \"kubernetes.io/kube-apiserver-client\"", e.Message);

        Assert.Equal("", CertificateValidationBytes(await Sync("jane"))); // pending: nothing to sign

        _grants.Add(("approver", "approve", "kubernetes.io/*")); // the domain wildcard is enough
        var approved = await Approve("jane", Approver);
        var condition = approved["status"]!["conditions"]![0]!;
        Assert.Equal("2026-03-01T12:00:00Z", (string?)condition["lastUpdateTime"]);
        Assert.Equal("2026-03-01T12:00:00Z", (string?)condition["lastTransitionTime"]);

        var signed = await Sync("jane");
        using var cert = Parse(CertificateValidationBytes(signed));
        Assert.Equal("jane", cert.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false));
        Assert.Equal(Start.AddHours(1).UtcDateTime, cert.NotAfter.ToUniversalTime());
        Assert.Equal("Approved,Issued", (string?)BuiltinPrinterCells(signed)[5]);
    }

    [Fact]
    public async Task Status_NeedsSignOnTheSigner_AndKeepsApprovalConditions()
    {
        await Store.CreateAsync("", Csr("jane", RequestPem("CN=jane, O=devs")), new WriteOptions(Alice));
        await Approve("jane", new UserInfo("admin", "", [UserInfo.SystemMasters], UserInfo.NoExtra));
        var e = await Assert.ThrowsAsync<ApiException>(() => Store.UpdateAsync("", "jane", "status", c =>
        {
            c["status"]!["certificate"] = B64(Ca.ExportCertificatePem());
            return c;
        }, new WriteOptions(Approver)));
        Assert.Equal("certificatesigningrequests.certificates.k8s.io \"jane\" is forbidden: user not permitted to sign requests with signerName \"kubernetes.io/kube-apiserver-client\"", e.Message);

        _grants.Add(("approver", "sign", "kubernetes.io/kube-apiserver-client"));
        var updated = await Store.UpdateAsync("", "jane", "status", c =>
        {
            ((JsonObject)c["status"]!["conditions"]![0]!)["reason"] = "Tampered";
            return c;
        }, new WriteOptions(Approver));
        Assert.Equal("KubectlApprove", (string?)updated["status"]!["conditions"]![0]!["reason"]);
    }

    [Fact]
    public async Task Denied_IsNeverSigned()
    {
        await Store.CreateAsync("", Csr("jane", RequestPem("CN=jane, O=devs")), new WriteOptions(Alice));
        await Approve("jane", new UserInfo("admin", "", [UserInfo.SystemMasters], UserInfo.NoExtra), "Denied");
        var after = await Sync("jane");
        Assert.Equal("", CertificateValidationBytes(after));
        Assert.Equal("Denied", (string?)BuiltinPrinterCells(after)[5]);
    }

    [Fact]
    public async Task BrokenSignerRules_GetAFailedCondition()
    {
        await Store.CreateAsync("", Csr("jane", RequestPem("CN=jane, O=devs"), usages: ["client auth", "server auth"]), new WriteOptions(Alice));
        await Approve("jane", new UserInfo("admin", "", [UserInfo.SystemMasters], UserInfo.NoExtra));
        var after = await Sync("jane");
        var failed = after["status"]!["conditions"]!.AsArray().Single(c => (string?)c!["type"] == "Failed")!;
        Assert.Equal("SignerValidationFailure", (string?)failed["reason"]);
        Assert.Equal("invalid usage for client certificate: server auth", (string?)failed["message"]);
        Assert.Equal("", CertificateValidationBytes(after));
        Assert.Equal("Approved,Failed", (string?)BuiltinPrinterCells(after)[5]);
    }

    [Fact]
    public async Task UpdateOfTheObject_KeepsSpecAndStatus()
    {
        await Store.CreateAsync("", Csr("jane", RequestPem("CN=jane, O=devs")), new WriteOptions(Alice));
        var updated = await Store.UpdateAsync("", "jane", "", c =>
        {
            c["spec"]!["signerName"] = "example.com/other";
            Meta.Set(c, "labels", new JsonObject { ["a"] = "b" });
            return c;
        }, new WriteOptions(Alice));
        Assert.Equal("kubernetes.io/kube-apiserver-client", (string?)updated["spec"]!["signerName"]);
        Assert.Equal("b", (string?)updated["metadata"]!["labels"]!["a"]);
    }

    private static string CertificateValidationBytes(JsonObject csr) =>
        csr["status"]?["certificate"] is { } c ? System.Text.Encoding.ASCII.GetString(Convert.FromBase64String((string)c!)) : "";

    private JsonArray BuiltinPrinterCells(JsonObject csr) =>
        new([.. Store.Definition.Strategy.Printer.Cells(csr, _clock.GetUtcNow()).Select(c => c?.DeepClone())]);
}
