using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;

namespace Portcullis.Server.Tests.Authentication;

/// <summary>Time limits and the objects a token depends on.</summary>
public partial class ServiceAccountTokenAuthenticatorTests
{
    [Fact]
    public async Task ExpiryHonoursSixtySecondLeeway()
    {
        var token = PlainToken(600);
        _w.Clock.Advance(TimeSpan.FromSeconds(600 + 60));
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(token)).Outcome);
        _w.Clock.Advance(TimeSpan.FromSeconds(1));
        AssertFailed(await _w.Authenticate(token));
    }

    [Fact]
    public async Task NotBeforeAndIssuedAtHonourSixtySecondLeeway()
    {
        var now = _w.Clock.Now.ToUnixTimeSeconds();
        var within = _w.Resign(PlainToken(), c => { c["nbf"] = now + 60; c["iat"] = now + 60; });
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(within)).Outcome);
        AssertFailed(await _w.Authenticate(_w.Resign(PlainToken(), c => c["nbf"] = now + 61)));
        AssertFailed(await _w.Authenticate(_w.Resign(PlainToken(), c => c["iat"] = now + 61)));
    }

    [Fact]
    public async Task ServiceAccountDeletedOrRecreatedFails()
    {
        var token = PlainToken();
        _w.Remove("ServiceAccount", "default", "demo-sa");
        AssertFailed(await _w.Authenticate(token));
        _w.AddServiceAccount("default", "demo-sa"); // new uid
        AssertFailed(await _w.Authenticate(token));
    }

    [Fact]
    public async Task ServiceAccountBeingDeletedFailsAfterLeeway()
    {
        var token = PlainToken();
        _w.MarkDeleted("ServiceAccount", "default", "demo-sa", _w.Clock.Now.AddSeconds(-30));
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(token)).Outcome);
        _w.MarkDeleted("ServiceAccount", "default", "demo-sa", _w.Clock.Now.AddSeconds(-61));
        AssertFailed(await _w.Authenticate(token));
    }

    [Fact]
    public async Task BoundPodDeletedOrReplacedFails()
    {
        var token = PodToken();
        _w.Remove("Pod", "default", "test-pod");
        AssertFailed(await _w.Authenticate(token));
        _w.AddPod("default", "test-pod", "demo-sa");
        AssertFailed(await _w.Authenticate(token));
    }

    [Fact]
    public async Task LookupErrorsFailClosed()
    {
        var getters = _w.Getters with { ServiceAccounts = (_, _, _) => throw new InvalidOperationException("storage down") };
        var authn = new ServiceAccountTokenAuthenticator(_w.Keys, new ServiceAccountAuthenticatorOptions([SaWorld.IssuerUrl], SaWorld.ApiAudiences), getters, _w.Clock);
        var token = PlainToken();
        var r = await _w.Authenticate(token, authn);
        AssertFailed(r);
        Assert.DoesNotContain(token, r.Error);
    }

    [Fact]
    public async Task FailureMessagesNeverContainTheToken()
    {
        var token = PodToken();
        _w.Remove("Pod", "default", "test-pod");
        foreach (var t in new[] { token, token[..^3], token + "x", _w.Resign(token, c => c["aud"] = "x") })
        {
            var r = await _w.Authenticate(t);
            if (r.Error is { } e)
                foreach (var part in t.Split('.').Where(p => p.Length > 8))
                    Assert.DoesNotContain(part, e);
        }
    }
}
