using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Authentication;

public class TokenRequestLogicTests
{
    private readonly SaWorld _w = new();
    private readonly JsonObject _sa;

    public TokenRequestLogicTests() => _sa = _w.AddServiceAccount("default", "demo-sa");

    private static JsonObject Request(long? seconds = null, JsonObject? boundRef = null, string[]? audiences = null)
    {
        var spec = new JsonObject();
        if (audiences is not null) spec["audiences"] = new JsonArray(audiences.Select(a => (JsonNode?)a).ToArray());
        if (seconds is not null) spec["expirationSeconds"] = seconds.Value;
        if (boundRef is not null) spec["boundObjectRef"] = boundRef;
        return new JsonObject { ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "TokenRequest", ["spec"] = spec };
    }

    private static JsonObject Ref(string kind, string name, string? uid = null, string apiVersion = "v1")
    {
        var r = new JsonObject { ["kind"] = kind, ["apiVersion"] = apiVersion, ["name"] = name };
        if (uid is not null) r["uid"] = uid;
        return r;
    }

    private Task<TokenRequestOutcome> Create(JsonObject request, TokenRequestSettings? settings = null, string name = "demo-sa") =>
        _w.TokenRequests(settings).CreateAsync("default", name, request, _w.Getters);

    private static async Task<ApiException> Throws(Func<Task> f) => await Assert.ThrowsAsync<ApiException>(f);

    [Fact]
    public async Task DefaultsToOneHourAndApiAudiences()
    {
        var outcome = await Create(Request());
        var tr = outcome.TokenRequest;
        Assert.Equal(3600, tr["spec"]!["expirationSeconds"]!.GetValue<long>());
        Assert.Equal("[\"https://kubernetes.default.svc.cluster.local\"]", tr["spec"]!["audiences"]!.ToJsonString());
        Assert.Null(tr["spec"]!["boundObjectRef"]);
        Assert.True(tr["spec"]!.AsObject().ContainsKey("boundObjectRef"));
        Assert.Equal("2025-02-08T23:28:08Z", tr["status"]!["expirationTimestamp"]!.GetValue<string>());
        Assert.Equal("demo-sa", tr["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("default", tr["metadata"]!["namespace"]!.GetValue<string>());
        Assert.Equal("2025-02-08T22:28:08Z", tr["metadata"]!["creationTimestamp"]!.GetValue<string>());
        Assert.Empty(outcome.Warnings);
        Assert.StartsWith("JTI=", outcome.CredentialId);
        Assert.StartsWith("{\"kind\":\"TokenRequest\",\"apiVersion\":\"authentication.k8s.io/v1\",\"metadata\":", GoJsonWriter.ToString(tr));

        var claims = SaWorld.PayloadOf(tr["status"]!["token"]!.GetValue<string>());
        Assert.Equal(_w.Clock.Now.ToUnixTimeSeconds() + 3600, claims["exp"]!.GetValue<long>());
        Assert.Equal("JTI=" + claims["jti"]!.GetValue<string>(), outcome.CredentialId);
        Assert.Equal(AuthenticationOutcome.Authenticated, (await _w.Authenticate(tr["status"]!["token"]!.GetValue<string>())).Outcome);
    }

    [Fact]
    public async Task MinimumIsTenMinutes()
    {
        var e = await Throws(() => Create(Request(500)));
        Assert.Equal(422, e.Code);
        Assert.Equal("TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 500: may not specify a duration less than 10 minutes", e.Message);
        Assert.Equal(600, (await Create(Request(600))).TokenRequest["spec"]!["expirationSeconds"]!.GetValue<long>());
        var zero = await Throws(() => Create(Request(0)));
        Assert.Contains("Invalid value: 0:", zero.Message);
    }

    [Fact]
    public async Task MaximumIsTwoToThe32()
    {
        var e = await Throws(() => Create(Request((1L << 32) + 1)));
        Assert.Equal("TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds", e.Message);
    }

    [Fact]
    public async Task OverMaxIsClampedWithWarning()
    {
        var outcome = await Create(Request(86400), new TokenRequestSettings(SaWorld.ApiAudiences, MaxExpirationSeconds: 7200));
        Assert.Equal(["requested expiration of 86400 seconds shortened to 7200 seconds"], outcome.Warnings);
        Assert.Equal(7200, outcome.TokenRequest["spec"]!["expirationSeconds"]!.GetValue<long>());
        var claims = SaWorld.PayloadOf(outcome.TokenRequest["status"]!["token"]!.GetValue<string>());
        Assert.Equal(7200, claims["exp"]!.GetValue<long>() - claims["iat"]!.GetValue<long>());
    }

    [Fact]
    public async Task MissingServiceAccountIsNotFound()
    {
        var e = await Throws(() => Create(Request(), name: "nobody"));
        Assert.Equal(404, e.Code);
        Assert.Equal("serviceaccounts \"nobody\" not found", e.Message);
    }

    [Fact]
    public async Task BodyNameMustMatch()
    {
        var req = Request();
        req["metadata"] = new JsonObject { ["name"] = "other" };
        var e = await Throws(() => Create(req));
        Assert.Equal("TokenRequest.authentication.k8s.io \"demo-sa\" is invalid: metadata.name: Invalid value: \"other\": must match the service account name if specified", e.Message);
    }

    [Fact]
    public async Task PodBoundTokenCarriesPodAndNode()
    {
        var node = _w.Add("Node", "", "worker-1");
        var pod = _w.AddPod("default", "web", "demo-sa", "worker-1");
        var outcome = await Create(Request(boundRef: Ref("Pod", "web", pod["metadata"]!["uid"]!.GetValue<string>())));
        var k8s = SaWorld.PayloadOf(outcome.TokenRequest["status"]!["token"]!.GetValue<string>())["kubernetes.io"]!;
        Assert.Equal("web", k8s["pod"]!["name"]!.GetValue<string>());
        Assert.Equal(node["metadata"]!["uid"]!.GetValue<string>(), k8s["node"]!["uid"]!.GetValue<string>());
        Assert.Equal("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"name\":\"web\",\"uid\":\"" + pod["metadata"]!["uid"] + "\"}",
            outcome.TokenRequest["spec"]!["boundObjectRef"]!.ToJsonString());
    }

    [Fact]
    public async Task PodOnMissingNodeRecordsNodeNameOnly()
    {
        _w.AddPod("default", "web", "demo-sa", "gone-node");
        var outcome = await Create(Request(boundRef: Ref("Pod", "web")));
        var k8s = SaWorld.PayloadOf(outcome.TokenRequest["status"]!["token"]!.GetValue<string>())["kubernetes.io"]!;
        Assert.Equal("{\"name\":\"gone-node\"}", k8s["node"]!.ToJsonString());
    }

    [Fact]
    public async Task PodWithOtherServiceAccountIsRefused()
    {
        _w.AddPod("default", "web", "default");
        var e = await Throws(() => Create(Request(boundRef: Ref("Pod", "web"))));
        Assert.Equal(400, e.Code);
        Assert.Equal("cannot bind token for serviceaccount \"demo-sa\" to pod running with different serviceaccount name.", e.Message);
    }

    [Fact]
    public async Task UidMismatchIsConflict()
    {
        _w.AddPod("default", "web", "demo-sa");
        var e = await Throws(() => Create(Request(boundRef: Ref("Pod", "web", "1234"))));
        Assert.Equal(409, e.Code);
        Assert.Equal("Conflict", e.Reason);
        Assert.Equal("Operation cannot be fulfilled on Pod \"web\": the UID in the bound object reference (1234) does not match the UID in record. The object might have been deleted and then recreated", e.Message);
        _w.Add("Secret", "default", "s");
        var s = await Throws(() => Create(Request(boundRef: Ref("Secret", "s", "abcd"))));
        Assert.StartsWith("Operation cannot be fulfilled on Secret \"s\"", s.Message);
    }

    [Fact]
    public async Task UnsupportedKindIsRefused()
    {
        var e = await Throws(() => Create(Request(boundRef: Ref("ConfigMap", "c"))));
        Assert.Equal("cannot bind token to object of type /v1, Kind=ConfigMap", e.Message);
        var d = await Throws(() => Create(Request(boundRef: Ref("Deployment", "d", apiVersion: "apps/v1"))));
        Assert.Equal("cannot bind token to object of type apps/v1, Kind=Deployment", d.Message);
        Assert.Equal(400, d.Code);
    }

    [Fact]
    public async Task MissingBoundObjectIsNotFound()
    {
        var e = await Throws(() => Create(Request(boundRef: Ref("Pod", "ghost"))));
        Assert.Equal(404, e.Code);
        Assert.Equal("pods \"ghost\" not found", e.Message);
        Assert.Equal("secrets \"ghost\" not found", (await Throws(() => Create(Request(boundRef: Ref("Secret", "ghost"))))).Message);
        Assert.Equal("nodes \"ghost\" not found", (await Throws(() => Create(Request(boundRef: Ref("Node", "ghost"))))).Message);
    }

    [Fact]
    public async Task SecretAndNodeBindings()
    {
        var secret = _w.Add("Secret", "default", "s");
        var k8s = SaWorld.PayloadOf((await Create(Request(boundRef: Ref("Secret", "s")))).TokenRequest["status"]!["token"]!.GetValue<string>())["kubernetes.io"]!.AsObject();
        Assert.Equal(secret["metadata"]!["uid"]!.GetValue<string>(), k8s["secret"]!["uid"]!.GetValue<string>());
        Assert.False(k8s.ContainsKey("pod"));
        _w.Add("Node", "", "n1");
        var nk = SaWorld.PayloadOf((await Create(Request(boundRef: Ref("Node", "n1")))).TokenRequest["status"]!["token"]!.GetValue<string>())["kubernetes.io"]!.AsObject();
        Assert.Equal("n1", nk["node"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task KubeletsPodTokenIsExtendedToAYearWithWarnAfter()
    {
        _w.AddPod("default", "web", "demo-sa");
        var outcome = await Create(Request(3607, Ref("Pod", "web")));
        var claims = SaWorld.PayloadOf(outcome.TokenRequest["status"]!["token"]!.GetValue<string>());
        var iat = claims["iat"]!.GetValue<long>();
        Assert.Equal(365L * 24 * 3600, claims["exp"]!.GetValue<long>() - iat);
        Assert.Equal(iat + 3607, claims["kubernetes.io"]!["warnafter"]!.GetValue<long>());
        // The status reports the requested lifetime, as upstream.
        Assert.Equal("2025-02-08T23:28:15Z", outcome.TokenRequest["status"]!["expirationTimestamp"]!.GetValue<string>());
        Assert.Equal(3607, outcome.TokenRequest["spec"]!["expirationSeconds"]!.GetValue<long>());
    }

    [Fact]
    public async Task NoExtensionWithoutPodOrWithForeignAudienceOrWhenDisabled()
    {
        _w.AddPod("default", "web", "demo-sa");
        static long Lifetime(TokenRequestOutcome o)
        {
            var c = SaWorld.PayloadOf(o.TokenRequest["status"]!["token"]!.GetValue<string>());
            return c["exp"]!.GetValue<long>() - c["iat"]!.GetValue<long>();
        }
        Assert.Equal(3607, Lifetime(await Create(Request(3607))));
        Assert.Equal(3607, Lifetime(await Create(Request(3607, Ref("Pod", "web"), ["vault"]))));
        Assert.Equal(3607, Lifetime(await Create(Request(3607, Ref("Pod", "web")), new TokenRequestSettings(SaWorld.ApiAudiences, ExtendExpiration: false))));
    }

    [Fact]
    public async Task PureOverloadTakesObjectsDirectly()
    {
        var pod = _w.AddPod("default", "web", "demo-sa");
        var outcome = await _w.TokenRequests().CreateAsync("default", "demo-sa", Request(boundRef: Ref("Pod", "web")), _sa, pod);
        Assert.Equal("web", SaWorld.PayloadOf(outcome.TokenRequest["status"]!["token"]!.GetValue<string>())["kubernetes.io"]!["pod"]!["name"]!.GetValue<string>());
        var e = await Assert.ThrowsAsync<ApiException>(() => _w.TokenRequests().CreateAsync("default", "demo-sa", Request(boundRef: Ref("Pod", "other")), _sa, pod));
        Assert.Equal(404, e.Code);
    }
}
