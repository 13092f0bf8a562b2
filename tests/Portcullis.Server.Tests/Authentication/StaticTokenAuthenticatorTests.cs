using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.Tokens;

namespace Portcullis.Server.Tests.Authentication;

public class StaticTokenAuthenticatorTests
{
    private static StaticTokenAuthenticator Parse(string csv, List<string>? warnings = null) =>
        StaticTokenAuthenticator.Parse(csv, "/etc/tokens.csv", warnings);

    [Fact]
    public void ParsesUpstreamFormat()
    {
        var a = Parse("token1,alice,uid-1,\"group1,group2\"\r\ntoken2,bob,uid-2\n\ntoken3,carol,uid-3,ops,ignored\n");
        var alice = a.AuthenticateToken("token1");
        Assert.Equal(AuthenticationOutcome.Authenticated, alice.Outcome);
        Assert.Equal("alice", alice.User!.Name);
        Assert.Equal("uid-1", alice.User.Uid);
        Assert.Equal(["group1", "group2", "system:authenticated"], alice.User.Groups);
        Assert.Equal(["system:authenticated"], a.AuthenticateToken("token2").User!.Groups);
        Assert.Equal(["ops", "system:authenticated"], a.AuthenticateToken("token3").User!.Groups);
        Assert.Equal(3, a.Count);
    }

    [Fact]
    public void UnknownTokenIsNotMine()
    {
        var a = Parse("token1,alice,uid-1\n");
        Assert.Equal(AuthenticationOutcome.NotMine, a.AuthenticateToken("token2").Outcome);
        Assert.Equal(AuthenticationOutcome.NotMine, a.AuthenticateToken("token").Outcome);
        Assert.Equal(AuthenticationOutcome.NotMine, a.AuthenticateToken("token1 ").Outcome);
        Assert.Equal(AuthenticationOutcome.NotMine, a.AuthenticateToken("TOKEN1").Outcome);
    }

    [Fact]
    public void FewerThanThreeColumnsIsAnError()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("token1,alice\n"));
        Assert.Equal("token file '/etc/tokens.csv' must have at least 3 columns (token, user name, user uid), found 2", e.Message);
        Assert.DoesNotContain("token1", e.Message);
        // No comment syntax upstream: a "#" line is a one-column record.
        Assert.Throws<InvalidDataException>(() => Parse("# tokens\ntoken1,alice,uid\n"));
    }

    [Fact]
    public void QuotesFollowGoCsv()
    {
        var a = Parse("\"to,ken\",\"al\"\"ice\",uid\n");
        Assert.Equal("al\"ice", a.AuthenticateToken("to,ken").User!.Name);
        Assert.Throws<InvalidDataException>(() => Parse("tok\"en,alice,uid\n"));
        Assert.Throws<InvalidDataException>(() => Parse("\"token\"x,alice,uid\n"));
        Assert.Throws<InvalidDataException>(() => Parse("\"token,alice,uid\n"));
    }

    [Fact]
    public void EmptyAndDuplicateTokensWarn()
    {
        var warnings = new List<string>();
        var a = Parse(",nobody,uid0\ntoken1,alice,uid1\ntoken1,mallory,uid2\n", warnings);
        Assert.Equal("mallory", a.AuthenticateToken("token1").User!.Name);
        Assert.Equal(AuthenticationOutcome.NotMine, a.AuthenticateToken("").Outcome);
        Assert.Equal(
        [
            "empty token has been found in token file '/etc/tokens.csv', record number '1'",
            "duplicate token has been found in token file '/etc/tokens.csv', record number '3'",
        ], warnings);
    }

    [Fact]
    public void GroupsKeepUpstreamQuirks()
    {
        var a = Parse("t1,alice,uid,\"\"\nt2,bob,uid,system:authenticated\nt3,system:anonymous,uid\n");
        Assert.Equal(["", "system:authenticated"], a.AuthenticateToken("t1").User!.Groups);
        Assert.Equal(["system:authenticated"], a.AuthenticateToken("t2").User!.Groups);
        Assert.Empty(a.AuthenticateToken("t3").User!.Groups);
    }

    [Fact]
    public async Task ReadsBearerHeader()
    {
        var a = Parse("secret-token,alice,uid\n");
        Assert.Equal(AuthenticationOutcome.Authenticated, (await a.AuthenticateAsync(SaWorld.Request("Bearer secret-token"))).Outcome);
        Assert.Equal(AuthenticationOutcome.Authenticated, (await a.AuthenticateAsync(SaWorld.Request("bEaReR secret-token"))).Outcome);
        Assert.Equal(AuthenticationOutcome.Authenticated, (await a.AuthenticateAsync(SaWorld.Request("  Bearer secret-token  "))).Outcome);
        Assert.Equal(AuthenticationOutcome.NotMine, (await a.AuthenticateAsync(SaWorld.Request("Bearer  secret-token"))).Outcome);
        Assert.Equal(AuthenticationOutcome.NotMine, (await a.AuthenticateAsync(SaWorld.Request("Basic secret-token"))).Outcome);
        Assert.Equal(AuthenticationOutcome.NotMine, (await a.AuthenticateAsync(SaWorld.Request(null))).Outcome);
    }

    [Fact]
    public void ReadsFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tokens-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "abc,alice,1\n");
        try { Assert.Equal(1, StaticTokenAuthenticator.FromFile(path).Count); }
        finally { File.Delete(path); }
    }
}
