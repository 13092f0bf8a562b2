using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using Portcullis.Server.Hosting;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Analysis.Tests;

/// <summary>The live API group's request reading: who counts as asking about itself, the questions' 422s, and the storage reader.</summary>
public sealed class AccessApiTests
{
    private static readonly UserInfo Alice = new("alice", "", ["devs", UserInfo.AllAuthenticated], UserInfo.NoExtra);

    [Fact]
    public void IsSelf_SameUserAndGroups_Only()
    {
        Assert.True(AccessApi.IsSelf(AccessIdentity.For("alice", ["devs"]), Alice));
        Assert.True(AccessApi.IsSelf(AccessIdentity.For("alice", ["devs", UserInfo.AllAuthenticated]), Alice));
        Assert.False(AccessApi.IsSelf(AccessIdentity.For("alice", []), Alice)); // fewer groups: another identity
        Assert.False(AccessApi.IsSelf(AccessIdentity.For("alice", ["devs", "system:masters"]), Alice));
        Assert.False(AccessApi.IsSelf(AccessIdentity.For("bob", ["devs"]), Alice));
    }

    [Fact]
    public void MatrixQuestion_WithoutIdentity_IsTheRequester()
    {
        var (who, ns) = AccessApi.MatrixQuestion(new JsonObject { ["namespace"] = "dev" }, Alice);
        Assert.Equal("alice", who.User);
        Assert.Equal(["devs", UserInfo.AllAuthenticated], who.Groups);
        Assert.Equal("dev", ns);
        Assert.True(AccessApi.IsSelf(who, Alice));
    }

    [Fact]
    public void EscalationQuestion_IdentityAndAll_Is422()
    {
        var e = Assert.Throws<ApiException>(() => AccessApi.EscalationQuestion(new JsonObject { ["identity"] = new JsonObject { ["user"] = "u" }, ["all"] = true }));
        Assert.Equal(422, e.Code);
        Assert.Equal("EscalationPaths.access.portcullis.dev \"\" is invalid: all: Invalid value: true: may not be given with identity", e.Message);
    }

    [Fact]
    public void ExplainQuestion_ResourceAndNonResourceUrl_Is422()
    {
        var review = new JsonObject { ["request"] = new JsonObject { ["verb"] = "get", ["resource"] = "pods", ["nonResourceURL"] = "/healthz" } };
        var e = Assert.Throws<ApiException>(() => AccessApi.ExplainQuestion(review, Alice));
        Assert.Equal("DenialExplanation.access.portcullis.dev \"\" is invalid: request.nonResourceURL: Invalid value: \"/healthz\": may not be given with request.resource", e.Message);
    }

    [Fact]
    public async Task StorageReader_KeepsSecretsAsMetadataOnly()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pc-accessapi-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await using var kv = SqliteBackend.Open(Path.Combine(dir, "kv.db"));
            await kv.CreateAsync("/registry/secrets/ns/tok", Encoding.UTF8.GetBytes(
                """{"apiVersion":"v1","kind":"Secret","metadata":{"name":"tok","namespace":"ns","uid":"u1","annotations":{"kubernetes.io/service-account.name":"sa","kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"token\":\"c2VjcmV0\"}}"}},"type":"kubernetes.io/service-account-token","data":{"token":"c2VjcmV0"}}"""));
            await kv.CreateAsync("/registry/serviceaccounts/ns/sa", Encoding.UTF8.GetBytes("""{"metadata":{"name":"sa","namespace":"ns"}}"""));
            await kv.CreateAsync("/registry/configmaps/ns/other", Encoding.UTF8.GetBytes("""{"metadata":{"name":"other","namespace":"ns"}}"""));
            var objects = await AccessObjectsReader.ReadAsync(kv, CancellationToken.None);
            Assert.Equal(2, objects.Count);
            Assert.Equal(("v1", "ServiceAccount"), (objects[0]["apiVersion"]!.GetValue<string>(), objects[0]["kind"]!.GetValue<string>()));
            Assert.Equal("""{"metadata":{"name":"tok","namespace":"ns","annotations":{"kubernetes.io/service-account.name":"sa"}},"apiVersion":"v1","kind":"Secret"}""",
                objects[1].ToJsonString());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
