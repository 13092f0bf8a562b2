using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;

namespace Portcullis.Server.Tests.Authentication;

public partial class ServiceAccountTokenAuthenticatorTests
{
    private readonly SaWorld _w = new();
    private readonly JsonObject _sa;
    private readonly JsonObject _pod;
    private readonly JsonObject _node;

    public ServiceAccountTokenAuthenticatorTests()
    {
        _sa = _w.AddServiceAccount("default", "demo-sa", "8a0c232f-7238-40a9-902d-26b1a3edb95c");
        _node = _w.Add("Node", "", "kind-worker2", "dc61b04e-9102-465d-bd10-fe373046dd93");
        _pod = _w.AddPod("default", "test-pod", "demo-sa", "kind-worker2");
    }

    private static BoundObjectReference RefOf(JsonObject o) => new(o["metadata"]!["name"]!.GetValue<string>(), o["metadata"]!["uid"]!.GetValue<string>());

    private string PodToken(long seconds = 3600) =>
        _w.Issuer.Issue(_sa, new TokenBinding(Pod: RefOf(_pod), Node: RefOf(_node)), seconds, SaWorld.ApiAudiences).Token;

    private string PlainToken(long seconds = 3600) => _w.Issuer.Issue(_sa, TokenBinding.None, seconds, SaWorld.ApiAudiences).Token;

    private static void AssertFailed(AuthenticationResult r)
    {
        Assert.Equal(AuthenticationOutcome.Failed, r.Outcome);
        Assert.Null(r.User);
    }

    [Fact]
    public void MintedTokenHasUpstreamLayout()
    {
        var issued = _w.Issuer.Issue(_sa, new TokenBinding(Pod: RefOf(_pod), Node: RefOf(_node)), 3600, SaWorld.ApiAudiences, warnAfterSeconds: 0);
        var parts = issued.Token.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.Equal($"{{\"alg\":\"RS256\",\"kid\":\"{_w.Keys.SigningKeyId}\"}}", Encoding.UTF8.GetString(SaWorld.Unb64(parts[0])));
        var payload = Encoding.UTF8.GetString(SaWorld.Unb64(parts[1]));
        var now = _w.Clock.Now.ToUnixTimeSeconds();
        Assert.Equal(
            $"{{\"aud\":[\"https://kubernetes.default.svc.cluster.local\"],\"exp\":{now + 3600},\"iat\":{now},\"iss\":\"https://kubernetes.default.svc.cluster.local\",\"jti\":\"{issued.Jti}\"," +
            "\"kubernetes.io\":{\"namespace\":\"default\",\"node\":{\"name\":\"kind-worker2\",\"uid\":\"dc61b04e-9102-465d-bd10-fe373046dd93\"}," +
            $"\"pod\":{{\"name\":\"test-pod\",\"uid\":\"{RefOf(_pod).Uid}\"}},\"serviceaccount\":{{\"name\":\"demo-sa\",\"uid\":\"8a0c232f-7238-40a9-902d-26b1a3edb95c\"}}}}," +
            $"\"nbf\":{now},\"sub\":\"system:serviceaccount:default:demo-sa\"}}", payload);
        Assert.True(Guid.TryParse(issued.Jti, out _));
        Assert.Equal(342, parts[2].Length); // 256-byte RS256 signature
    }

    [Fact]
    public void KeyIdIsSha256OfPkixDer()
    {
        var expected = SaWorld.B64(SHA256.HashData(SaWorld.SigningKey.ExportSubjectPublicKeyInfo()));
        Assert.Equal(expected, _w.Keys.SigningKeyId);
        Assert.Equal(43, expected.Length);
    }

    [Fact]
    public async Task RoundTripPodBoundToken()
    {
        var r = await _w.Authenticate(PodToken());
        Assert.Equal(AuthenticationOutcome.Authenticated, r.Outcome);
        var u = r.User!;
        Assert.Equal("system:serviceaccount:default:demo-sa", u.Name);
        Assert.Equal("8a0c232f-7238-40a9-902d-26b1a3edb95c", u.Uid);
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"], u.Groups);
        Assert.Equal(["test-pod"], u.Extra["authentication.kubernetes.io/pod-name"]);
        Assert.Equal([RefOf(_pod).Uid], u.Extra["authentication.kubernetes.io/pod-uid"]);
        Assert.Equal(["kind-worker2"], u.Extra["authentication.kubernetes.io/node-name"]);
        Assert.Equal(["dc61b04e-9102-465d-bd10-fe373046dd93"], u.Extra["authentication.kubernetes.io/node-uid"]);
        Assert.StartsWith("JTI=", u.Extra["authentication.kubernetes.io/credential-id"][0]);
    }

    [Fact]
    public async Task RoundTripUnboundTokenHasOnlyCredentialId()
    {
        var r = await _w.Authenticate(PlainToken());
        Assert.Equal(AuthenticationOutcome.Authenticated, r.Outcome);
        Assert.Equal(["authentication.kubernetes.io/credential-id"], r.User!.Extra.Keys);
    }

    [Fact]
    public async Task NodeBoundTokenNeedsTheNode()
    {
        var token = _w.Issuer.Issue(_sa, new TokenBinding(Node: RefOf(_node)), 3600, SaWorld.ApiAudiences).Token;
        var ok = await _w.Authenticate(token);
        Assert.Equal(AuthenticationOutcome.Authenticated, ok.Outcome);
        Assert.False(ok.User!.Extra.ContainsKey("authentication.kubernetes.io/pod-name"));
        _w.Remove("Node", "", "kind-worker2");
        AssertFailed(await _w.Authenticate(token));
    }

    [Fact]
    public async Task SecretBoundTokenDiesWithTheSecret()
    {
        var secret = _w.Add("Secret", "default", "bound");
        var token = _w.Issuer.Issue(_sa, new TokenBinding(Secret: RefOf(secret)), 3600, SaWorld.ApiAudiences).Token;
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(token)).Outcome);
        _w.Add("Secret", "default", "bound"); // recreated: new uid
        AssertFailed(await _w.Authenticate(token));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    [InlineData("Bearer  abc")]
    [InlineData("Bearer not-a-jwt")]
    [InlineData("Bearer a.b")]
    [InlineData("Bearer a.b.c.d")]
    [InlineData("Bearer {\"payload\":\"x\"}.a.b")]
    public async Task NonJwtBearerIsNotMine(string? header)
    {
        var r = await _w.Authenticator().AuthenticateAsync(SaWorld.Request(header));
        Assert.Equal(AuthenticationOutcome.NotMine, r.Outcome);
    }

    [Fact]
    public async Task ForeignIssuerIsNotMine()
    {
        var token = _w.Resign(PlainToken(), c => c["iss"] = "https://accounts.example.com");
        Assert.Equal(AuthenticationOutcome.NotMine, (await _w.Authenticate(token)).Outcome);
        var unsigned = SaWorld.B64("{\"alg\":\"RS256\"}") + "." + SaWorld.B64("{\"iss\":\"https://accounts.example.com\"}") + ".sig";
        Assert.Equal(AuthenticationOutcome.NotMine, (await _w.Authenticate(unsigned)).Outcome);
    }

    [Fact]
    public async Task WrongIssuerWithValidSignatureIsNeverAccepted()
    {
        var authn = _w.Authenticator(new ServiceAccountAuthenticatorOptions(["https://other.example"], SaWorld.ApiAudiences));
        Assert.NotEqual(AuthenticationOutcome.Authenticated, (await _w.Authenticate(PlainToken(), authn)).Outcome);
    }

    [Fact]
    public async Task SecondAcceptedIssuerWorks()
    {
        var authn = _w.Authenticator(new ServiceAccountAuthenticatorOptions(["https://new.example", SaWorld.IssuerUrl], SaWorld.ApiAudiences));
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(PlainToken(), authn)).Outcome);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("None")]
    [InlineData("NONE")]
    [InlineData("nOnE")]
    [InlineData("rs256")]
    [InlineData("RS384")]
    [InlineData("PS256")]
    [InlineData("ES256")]
    public async Task OtherAlgorithmsFail(string alg)
    {
        var claims = SaWorld.PayloadOf(PlainToken()).ToJsonString();
        var header = $"{{\"alg\":\"{alg}\",\"kid\":\"{_w.Keys.SigningKeyId}\"}}";
        // Unsigned, and signed with our real key: both refused.
        AssertFailed(await _w.Authenticate(SaWorld.B64(header) + "." + SaWorld.B64(claims) + "."));
        AssertFailed(await _w.Authenticate(SaWorld.SignRaw(header, claims, SaWorld.SigningKey)));
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("HS384")]
    [InlineData("HS512")]
    public async Task HmacWithThePublicKeyFails(string alg)
    {
        var claims = SaWorld.PayloadOf(PlainToken()).ToJsonString();
        var input = SaWorld.B64($"{{\"alg\":\"{alg}\",\"kid\":\"{_w.Keys.SigningKeyId}\"}}") + "." + SaWorld.B64(claims);
        foreach (var secret in new[] { SaWorld.SigningKey.ExportSubjectPublicKeyInfo(), Encoding.ASCII.GetBytes(SaWorld.SigningKey.ExportSubjectPublicKeyInfoPem()) })
        {
            var mac = alg switch
            {
                "HS256" => HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)),
                "HS384" => HMACSHA384.HashData(secret, Encoding.ASCII.GetBytes(input)),
                _ => HMACSHA512.HashData(secret, Encoding.ASCII.GetBytes(input)),
            };
            AssertFailed(await _w.Authenticate(input + "." + SaWorld.B64(mac)));
        }
    }

    [Fact]
    public async Task UnknownKidFails()
    {
        AssertFailed(await _w.Authenticate(_w.Resign(PlainToken(), _ => { }, _w.SignedHeader("not-a-key-id"))));
    }

    /// <summary>A real kind-cluster token (from the seed walkthrough): same issuer and claim layout, another cluster's key.</summary>
    private const string UpstreamToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6IklzYTlFRjBnb1owNENHOHJlMkdoWnZYYlF1Ulc5blZhcjRzaURfZXRBVWcifQ.eyJhdWQiOlsiaHR0cHM6Ly9rdWJlcm5ldGVzLmRlZmF1bHQuc3ZjLmNsdXN0ZXIubG9jYWwiXSwiZXhwIjoxNzcwNTg5Njg4LCJpYXQiOjE3MzkwNTM2ODgsImlzcyI6Imh0dHBzOi8va3ViZXJuZXRlcy5kZWZhdWx0LnN2Yy5jbHVzdGVyLmxvY2FsIiwianRpIjoiNGQ0ZGM3NTMtY2FhNC00ZjAxLWJlYWYtMTBiZTRkNTVlYjU4Iiwia3ViZXJuZXRlcy5pbyI6eyJuYW1lc3BhY2UiOiJkZWZhdWx0Iiwibm9kZSI6eyJuYW1lIjoia2luZC13b3JrZXIyIiwidWlkIjoiZGM2MWIwNGUtOTEwMi00NjVkLWJkMTAtZmUzNzMwNDZkZDkzIn0sInBvZCI6eyJuYW1lIjoidGVzdC1wb2QiLCJ1aWQiOiJjMGQxMWM1NS1jMzM4LTQwMzQtODhlOC01YjExMmY4YzVkMTQifSwic2VydmljZWFjY291bnQiOnsibmFtZSI6ImRlbW8tc2EiLCJ1aWQiOiI4YTBjMjMyZi03MjM4LTQwYTktOTAyZC0yNmIxYTNlZGI5NWMifSwid2FybmFmdGVyIjoxNzM5MDU3Mjk1fSwibmJmIjoxNzM5MDUzNjg4LCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpkZW1vLXNhIn0.tUVP8y2iSNjsfdmmuHGdD-ZbkPg8HEwaOfvtDm8v-2LfYoAqIZ9e-9GhyGIwLOsf_4QlgJDeO_sq5XRdAe1mp1IOqZ7VAopZxGihxtg8mP9b2rrVjovy9C4DYDm18m4fEsjwwNG_JxZxoL3rwL9xlQIX0Lp8j0OkBASZVtL93KPGY1dZjLT5C4qAYpDiwnkL3Wi1NkKLfC8lqGfHbML9jRw1dUVuJ0tBmCyIKwUJFsPzbcvwti0OrUed5mZYx--s--MQuH6BOAmtsm3KmkazzESwaEgtbEba2R5t_7wxL0yhZ0mdR19dlfDbWqvNHKbQjYRKJzK3-XNaCJGOqABP8Q";

    [Fact]
    public async Task UpstreamTokenFromAnotherClusterFails()
    {
        var claims = SaWorld.PayloadOf(UpstreamToken);
        Assert.Equal(["aud", "exp", "iat", "iss", "jti", "kubernetes.io", "nbf", "sub"], claims.Select(p => p.Key));
        Assert.Equal(["namespace", "node", "pod", "serviceaccount", "warnafter"], claims["kubernetes.io"]!.AsObject().Select(p => p.Key));
        _w.AddServiceAccount("default", "demo-sa", "8a0c232f-7238-40a9-902d-26b1a3edb95c");
        AssertFailed(await _w.Authenticate(UpstreamToken));
        // Its kid names a key we do not have; stripped of the kid, no key of ours verifies it either.
        var parts = UpstreamToken.Split('.');
        AssertFailed(await _w.Authenticate(SaWorld.B64("{\"alg\":\"RS256\"}") + "." + parts[1] + "." + parts[2]));
    }

    [Fact]
    public async Task KeyNotOursFails()
    {
        var claims = SaWorld.PayloadOf(PlainToken()).ToJsonString();
        AssertFailed(await _w.Authenticate(SaWorld.SignRaw("{\"alg\":\"RS256\"}", claims, SaWorld.OtherKey)));
        // Claiming our kid does not help a stranger's key.
        AssertFailed(await _w.Authenticate(SaWorld.SignRaw(_w.SignedHeader(), claims, SaWorld.OtherKey)));
    }

    [Fact]
    public async Task NoKidTriesEveryKeyAndExtraKeysVerify()
    {
        var world = new SaWorld([SaWorld.OtherKey]);
        var sa = world.AddServiceAccount();
        var claims = SaWorld.PayloadOf(world.Issuer.Issue(sa, TokenBinding.None, 3600, SaWorld.ApiAudiences).Token).ToJsonString();
        Assert.Equal(AuthenticationOutcome.Authenticated, (await world.Authenticate(SaWorld.SignRaw("{\"alg\":\"RS256\"}", claims, SaWorld.OtherKey))).Outcome);
        Assert.Equal(AuthenticationOutcome.Authenticated, (await world.Authenticate(SaWorld.SignRaw("{\"alg\":\"RS256\"}", claims, SaWorld.SigningKey))).Outcome);
        // A kid selects that key only.
        AssertFailed(await world.Authenticate(SaWorld.SignRaw(world.SignedHeader(), claims, SaWorld.OtherKey)));
    }

    [Theory]
    [InlineData("jwk")]
    [InlineData("jku")]
    [InlineData("x5u")]
    [InlineData("x5c")]
    [InlineData("crit")]
    public async Task KeyMaterialInHeaderFails(string param)
    {
        var p = SaWorld.SigningKey.ExportParameters(false);
        var value = param switch
        {
            "jwk" => $"{{\"kty\":\"RSA\",\"n\":\"{SaWorld.B64(p.Modulus!)}\",\"e\":\"AQAB\"}}",
            "x5c" => "[\"MIIB\"]",
            "crit" => "[\"exp\"]",
            _ => "\"https://attacker.example/keys\"",
        };
        var header = $"{{\"alg\":\"RS256\",\"kid\":\"{_w.Keys.SigningKeyId}\",\"{param}\":{value}}}";
        AssertFailed(await _w.Authenticate(_w.Resign(PlainToken(), _ => { }, header)));
        // The embedded key is never used: a stranger's signature with its own jwk fails too.
        var o = SaWorld.OtherKey.ExportParameters(false);
        var forged = $"{{\"alg\":\"RS256\",\"jwk\":{{\"kty\":\"RSA\",\"n\":\"{SaWorld.B64(o.Modulus!)}\",\"e\":\"AQAB\"}}}}";
        AssertFailed(await _w.Authenticate(SaWorld.SignRaw(forged, SaWorld.PayloadOf(PlainToken()).ToJsonString(), SaWorld.OtherKey)));
    }

    [Fact]
    public async Task WrongAudienceFails()
    {
        AssertFailed(await _w.Authenticate(_w.Resign(PlainToken(), c => c["aud"] = new JsonArray("vault"))));
        var token = _w.Issuer.Issue(_sa, TokenBinding.None, 3600, ["vault", "https://kubernetes.default.svc.cluster.local"]).Token;
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(token)).Outcome);
        // A single string audience is accepted (RFC 7519).
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(_w.Resign(PlainToken(), c => c["aud"] = SaWorld.IssuerUrl))).Outcome);
    }

    [Fact]
    public async Task TokenReviewAudiencesAreHonoured()
    {
        var token = _w.Issuer.Issue(_sa, TokenBinding.None, 3600, ["vault"]).Token;
        var r = await _w.Authenticator().AuthenticateTokenAsync(token, ["vault", "other"]);
        Assert.Equal(AuthenticationOutcome.Authenticated, r.Result.Outcome);
        Assert.Equal(["vault"], r.Audiences);
        AssertFailed((await _w.Authenticator().AuthenticateTokenAsync(token)).Result);
    }

    [Fact]
    public async Task TamperedPayloadFails()
    {
        var parts = PlainToken().Split('.');
        var claims = SaWorld.PayloadOf(PlainToken());
        claims["kubernetes.io"]!["serviceaccount"]!["name"] = "admin";
        claims["sub"] = "system:serviceaccount:default:admin";
        _w.AddServiceAccount("default", "admin", "8a0c232f-7238-40a9-902d-26b1a3edb95c");
        AssertFailed(await _w.Authenticate(parts[0] + "." + SaWorld.B64(claims.ToJsonString()) + "." + parts[2]));
    }

    [Fact]
    public async Task TamperedSignatureFails()
    {
        var parts = PlainToken().Split('.');
        var sig = SaWorld.Unb64(parts[2]);
        sig[10] ^= 0x01;
        AssertFailed(await _w.Authenticate(parts[0] + "." + parts[1] + "." + SaWorld.B64(sig)));
        AssertFailed(await _w.Authenticate(parts[0] + "." + parts[1] + "." + SaWorld.B64(sig[..^1])));
        AssertFailed(await _w.Authenticate(parts[0] + "." + parts[1] + "."));
    }

    [Fact]
    public async Task TruncatedTokensNeverAuthenticate()
    {
        var token = PlainToken();
        for (var len = token.Length - 1; len > 0; len -= 7)
            Assert.NotEqual(AuthenticationOutcome.Authenticated, (await _w.Authenticate(token[..len])).Outcome);
        // A signature cut to a whole number of bytes still parses, and fails; other cuts are not a JWS at all.
        AssertFailed(await _w.Authenticate(token[..^4]));
        Assert.Equal(AuthenticationOutcome.NotMine, (await _w.Authenticate(token[..^5])).Outcome);
    }

    [Fact]
    public async Task OversizedTokenFails()
    {
        var token = PlainToken();
        var huge = token + new string('A', 1 << 20);
        AssertFailed(await _w.Authenticate(huge));
        var padded = _w.Resign(token, c => c["pad"] = new string('x', 1 << 20));
        AssertFailed(await _w.Authenticate(padded));
    }

    [Fact]
    public async Task DuplicateClaimsAreNotTrusted()
    {
        var claims = SaWorld.PayloadOf(PlainToken()).ToJsonString();
        var dup = claims.Insert(1, "\"iss\":\"https://other.example\",");
        Assert.NotEqual(AuthenticationOutcome.Authenticated, (await _w.Authenticate(SaWorld.SignRaw(_w.SignedHeader(), dup, SaWorld.SigningKey))).Outcome);
    }

    [Fact]
    public async Task ClaimsOfWrongTypeFail()
    {
        AssertFailed(await _w.Authenticate(_w.Resign(PlainToken(), c => c["exp"] = "9999999999")));
        AssertFailed(await _w.Authenticate(_w.Resign(PlainToken(), c => c["kubernetes.io"] = "default")));
        AssertFailed(await _w.Authenticate(_w.Resign(PlainToken(), c => c["aud"] = new JsonArray(1))));
    }
}
