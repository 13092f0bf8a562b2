using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>NetworkPolicy and Ingress validation through the real server: 422 Status bodies as kube-apiserver 1.33 writes them.</summary>
public sealed class NetworkingValidationTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private static JsonObject Json(string body) => JsonNode.Parse(body)!.AsObject();

    [Fact]
    public async Task NetworkPolicyUpdate_ListsEachSpecErrorTwiceInCauses_ButOnceInTheMessage()
    {
        const string path = "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies";
        var (code, body) = await Tools.Curl(S, "POST", path,
            """{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np-twice"},"spec":{"podSelector":{}}}""");
        Assert.Equal(201, code);
        var rv = (string)Json(body)["metadata"]!["resourceVersion"]!;
        (code, body) = await Tools.Curl(S, "PUT", path + "/np-twice",
            "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"np-twice\",\"resourceVersion\":\"" + rv
            + "\"},\"spec\":{\"podSelector\":{},\"policyTypes\":[\"Both\"]}}");
        Assert.Equal(422, code);
        var o = Json(body);
        Assert.Equal("NetworkPolicy.networking.k8s.io \"np-twice\" is invalid: spec.policyTypes[0]: Unsupported value: \"Both\": supported values: \"Ingress\", \"Egress\"",
            (string?)o["message"]);
        var causes = o["details"]!["causes"]!.AsArray();
        Assert.Equal(2, causes.Count);
        Assert.All(causes, c =>
        {
            Assert.Equal("FieldValueNotSupported", (string?)c!["reason"]);
            Assert.Equal("spec.policyTypes[0]", (string?)c["field"]);
        });
    }

    [Fact]
    public async Task IngressWithoutRulesOrBackend_Is422()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses",
            """{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"ing-empty"},"spec":{}}""");
        Assert.Equal(422, code);
        Assert.Equal("Ingress.networking.k8s.io \"ing-empty\" is invalid: spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified",
            (string?)Json(body)["message"]);
    }
}
