using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;

namespace Portcullis.Server.Tests.Authentication;

/// <summary>
/// A token's signature is verified once per authenticator; everything else is checked on every
/// request, so a remembered token still stops working when its objects go or it expires, and a
/// token whose signature fails is never remembered.
/// </summary>
public sealed class VerifiedSignaturesTests
{
    private readonly SaWorld _w = new();
    private readonly JsonObject _sa;
    private readonly JsonObject _pod;

    public VerifiedSignaturesTests()
    {
        _sa = _w.AddServiceAccount("default", "demo-sa", "8a0c232f-7238-40a9-902d-26b1a3edb95c");
        _pod = _w.AddPod("default", "test-pod", "demo-sa", "");
    }

    private static BoundObjectReference RefOf(JsonObject o) => new(o["metadata"]!["name"]!.GetValue<string>(), o["metadata"]!["uid"]!.GetValue<string>());

    [Fact]
    public async Task SecondUse_IsNotVerifiedAgain_ButObjectsAndExpiryAreChecked()
    {
        var authn = _w.Authenticator();
        var token = _w.Issuer.Issue(_sa, new TokenBinding(Pod: RefOf(_pod)), 3600, SaWorld.ApiAudiences).Token;
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(token, authn)).Outcome);
        Assert.Equal(1, authn.VerifiedCount);
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(token, authn)).Outcome);
        Assert.Equal(1, authn.VerifiedCount);

        _w.Remove("Pod", "default", "test-pod");
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(token, authn)).Outcome);
        _w.AddPod("default", "test-pod", "demo-sa", ""); // recreated: another uid
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(token, authn)).Outcome);

        var plain = _w.Issuer.Issue(_sa, TokenBinding.None, 600, SaWorld.ApiAudiences).Token;
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(plain, authn)).Outcome);
        _w.Clock.Advance(TimeSpan.FromMinutes(12)); // past expiry and the minute of leeway
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(plain, authn)).Outcome);
        _w.Remove("ServiceAccount", "default", "demo-sa");
        Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(token, authn)).Outcome);
    }

    [Fact]
    public async Task BadSignatures_AreNeverRemembered()
    {
        var authn = _w.Authenticator();
        var parts = _w.Issuer.Issue(_sa, TokenBinding.None, 3600, SaWorld.ApiAudiences).Token.Split('.');
        var sig = SaWorld.Unb64(parts[2]);
        sig[10] ^= 0x01;
        var forged = parts[0] + "." + parts[1] + "." + SaWorld.B64(sig);
        for (var i = 0; i < 2; i++) Assert.Equal(AuthenticationOutcome.Failed, (await _w.Authenticate(forged, authn)).Outcome);
        Assert.Equal(0, authn.VerifiedCount);
    }
}
