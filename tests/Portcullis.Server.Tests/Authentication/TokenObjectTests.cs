using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication.ServiceAccounts;

namespace Portcullis.Server.Tests.Authentication;

/// <summary>The facts token validation reads from an object: absent or wrongly typed fields read as unset, never throw.</summary>
public sealed class TokenObjectTests
{
    private static readonly DateTimeOffset Cutoff = new(2025, 2, 8, 22, 0, 0, TimeSpan.Zero);

    private static TokenObject Of(string json) => TokenObject.From(JsonNode.Parse(json)!.AsObject());

    [Fact]
    public void Metadata_IsRead_AndAbsentFieldsAreEmpty()
    {
        var o = Of("""{"metadata":{"namespace":"ns1","name":"sa","uid":"u-1"}}""");
        Assert.Equal(("ns1", "sa", "u-1"), (o.Namespace, o.Name, o.Uid));
        Assert.Null(o.DeletionTimestamp);
        Assert.False(o.IsDeleting);
        Assert.False(o.DeletedBefore(Cutoff));
        Assert.Equal("", o.Type);
        Assert.Equal("", o.LegacyTokenInvalidSince);
        Assert.False(o.HoldsToken(""));

        var bare = Of("""{"metadata":7,"type":1}""");
        Assert.Equal(("", "", "", ""), (bare.Namespace, bare.Name, bare.Uid, bare.Type));
    }

    [Theory]
    [InlineData("\"2025-02-08T21:59:59Z\"", true, true)]
    [InlineData("\"2025-02-08T22:00:00Z\"", true, false)]
    [InlineData("\"not a time\"", true, true)]
    [InlineData("12", true, true)]
    [InlineData("null", false, false)]
    public void DeletionTimestamp_UnreadableCountsAsLongAgo_NullAsUnset(string value, bool deleting, bool deletedBeforeCutoff)
    {
        var o = Of($$$"""{"metadata":{"deletionTimestamp":{{{value}}}}}""");
        Assert.Equal(deleting, o.IsDeleting);
        Assert.Equal(deletedBeforeCutoff, o.DeletedBefore(Cutoff));
    }

    [Fact]
    public void HoldsToken_ComparesTheDecodedSecretData()
    {
        var stored = Convert.ToBase64String(Encoding.UTF8.GetBytes("tok.en.x"));
        var o = Of($$$"""{"type":"kubernetes.io/service-account-token","metadata":{"labels":{"kubernetes.io/legacy-token-invalid-since":"2025-01-01"}},"data":{"token":"{{{stored}}}"}}""");
        Assert.True(o.HoldsToken("tok.en.x"));
        Assert.False(o.HoldsToken("tok.en.y"));
        Assert.False(o.HoldsToken(stored));
        Assert.Equal("kubernetes.io/service-account-token", o.Type);
        Assert.Equal("2025-01-01", o.LegacyTokenInvalidSince);
    }

    [Theory]
    [InlineData("""{"data":{"token":""}}""")]
    [InlineData("""{"data":{"token":"%%%"}}""")]
    [InlineData("""{"data":{"token":5}}""")]
    [InlineData("""{"data":"x"}""")]
    public void HoldsToken_NoneForAnEmptyOrMalformedStoredToken(string json)
    {
        var o = Of(json);
        Assert.False(o.HoldsToken(""));
        Assert.False(o.HoldsToken("%%%"));
    }
}
