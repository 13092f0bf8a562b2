using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;
using static Portcullis.Server.Tests.Authorization.RbacPolicy.RbacTestData;

namespace Portcullis.Server.Tests.Authorization.RbacPolicy;

/// <summary>
/// Upstream checks escalation in the RBAC storage's Create/Update, after mutating admission and
/// before the strategy validates: an escalating write that is also invalid is refused with 403.
/// </summary>
public sealed class EscalationGuardOrderTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-rbac-order-").FullName;
    private SqliteBackend _kv = null!;
    private GenericStore _roles = null!;

    public Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "kv.db"));
        var def = new ResourceRegistry(BuiltinResources.All).Find("rbac.authorization.k8s.io", "v1", "roles")!;
        var guard = new RbacEscalationGuard(new FakeRuleResolver(), new FakeAuthorizer(),
            (_, _, _, _) => Task.FromResult<JsonObject?>(null));
        _roles = new GenericStore(def, _kv, TimeProvider.System, new AdmissionChain([guard]));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task EscalatingInvalidRoleIsForbiddenBeforeValidation()
    {
        // The second rule has no verbs (invalid: "verbs must contain at least one value"); the first escalates.
        var role = Role("r", "ns1", Rule(["get"], [""], ["pods"]), Rule([], [""], ["secrets"]));
        var e = await Assert.ThrowsAsync<ApiException>(() =>
            _roles.CreateAsync("ns1", role, new WriteOptions(User("u", "g1"))));
        Assert.Equal(403, e.Code);
        Assert.Equal("roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"u\" (groups=[\"g1\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\"]}", e.Message);
    }
}
