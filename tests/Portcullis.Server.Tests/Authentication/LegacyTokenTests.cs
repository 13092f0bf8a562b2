using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;

namespace Portcullis.Server.Tests.Authentication;

public class LegacyTokenTests
{
    private readonly SaWorld _w = new();
    private readonly JsonObject _sa;
    private readonly string _token;

    public LegacyTokenTests()
    {
        _sa = _w.AddServiceAccount("ns1", "builder");
        var secret = _w.Add("Secret", "ns1", "builder-token", configure: s => s["type"] = "kubernetes.io/service-account-token");
        _token = new LegacyTokenIssuer(_w.Keys).Issue(_sa, secret);
        secret["data"] = new JsonObject { ["token"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(_token)) };
    }

    [Fact]
    public void LegacyClaimsLayout()
    {
        var payload = Encoding.UTF8.GetString(SaWorld.Unb64(_token.Split('.')[1]));
        Assert.Equal(
            "{\"iss\":\"kubernetes/serviceaccount\",\"kubernetes.io/serviceaccount/namespace\":\"ns1\"," +
            "\"kubernetes.io/serviceaccount/secret.name\":\"builder-token\",\"kubernetes.io/serviceaccount/service-account.name\":\"builder\"," +
            $"\"kubernetes.io/serviceaccount/service-account.uid\":\"{_sa["metadata"]!["uid"]}\",\"sub\":\"system:serviceaccount:ns1:builder\"}}", payload);
    }

    [Fact]
    public async Task ValidWhileSecretExistsThenInvalid()
    {
        var ok = await _w.Authenticate(_token);
        Assert.Equal(AuthenticationOutcome.Authenticated, ok.Outcome);
        Assert.Equal("system:serviceaccount:ns1:builder", ok.User!.Name);
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"], ok.User.Groups);
        Assert.Empty(ok.User.Extra);

        _w.Remove("Secret", "ns1", "builder-token");
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(_token)).Outcome);
    }

    [Fact]
    public async Task NoExpiryCheckForLegacyTokens()
    {
        _w.Clock.Advance(TimeSpan.FromDays(3650));
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(_token)).Outcome);
    }

    [Fact]
    public async Task SecretMustHoldThisTokenAndBeATokenSecret()
    {
        var secret = _w.Objects[("Secret", "ns1", "builder-token")];
        secret["data"]!["token"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(_token + "x"));
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(_token)).Outcome);
        secret["data"]!["token"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(_token));
        secret["type"] = "Opaque";
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(_token)).Outcome);
    }

    [Fact]
    public async Task SecretBeingDeletedOrMarkedInvalidFails()
    {
        _w.MarkDeleted("Secret", "ns1", "builder-token", _w.Clock.Now);
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(_token)).Outcome);
        _w.Objects[("Secret", "ns1", "builder-token")]["metadata"]!.AsObject().Remove("deletionTimestamp");
        _w.Objects[("Secret", "ns1", "builder-token")]["metadata"]!["labels"] = new JsonObject { ["kubernetes.io/legacy-token-invalid-since"] = "2024-01-01" };
        var r = await _w.Authenticate(_token);
        Assert.Equal(AuthenticationOutcome.Failed, r.Outcome);
        Assert.Contains("has been marked invalid", r.Error);
    }

    [Fact]
    public async Task ServiceAccountRecreatedFails()
    {
        _w.AddServiceAccount("ns1", "builder");
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(_token)).Outcome);
    }

    [Fact]
    public async Task SubjectMustMatchClaims()
    {
        var forged = _w.Resign(_token, c => c["sub"] = "system:serviceaccount:ns1:admin", "{\"alg\":\"RS256\"}");
        var secret = _w.Objects[("Secret", "ns1", "builder-token")];
        secret["data"]!["token"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(forged));
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(forged)).Outcome);
    }

    [Fact]
    public async Task LegacyCanBeTurnedOffAndUsageIsReported()
    {
        var off = _w.Authenticator(new ServiceAccountAuthenticatorOptions([SaWorld.IssuerUrl], SaWorld.ApiAudiences) { LegacyTokens = false });
        Assert.Equal(AuthenticationOutcome.NotMine, (await _w.Authenticate(_token, off)).Outcome);

        var used = new List<string>();
        var on = _w.Authenticator(new ServiceAccountAuthenticatorOptions([SaWorld.IssuerUrl], SaWorld.ApiAudiences)
        {
            LegacyTokenUsed = (s, _) => { used.Add(s.Name); throw new InvalidOperationException("patch failed"); },
        });
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(_token, on)).Outcome);
        Assert.Equal(["builder-token"], used);
    }
}
