using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Bodies built to hurt, over HTTP: each gets upstream's status (a 4xx, or the answer kube-apiserver
/// gives), and the server keeps answering afterwards.
/// </summary>
public sealed class HostileBodyTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private static JsonObject Json(string body) => JsonNode.Parse(body)!.AsObject();

    private static void AssertStatus(string body, int code, string reason, string message)
    {
        var o = Json(body);
        Assert.Equal("Status", (string?)o["kind"]);
        Assert.Equal(code, (int?)o["code"]);
        Assert.Equal(reason, (string?)o["reason"] ?? "");
        Assert.Equal(message, (string?)o["message"]);
    }

    private static string AliasBomb(string header)
    {
        var sb = new StringBuilder(header);
        sb.Append("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var c = 'b'; c <= 'i'; c++)
            sb.Append(c).Append(": &").Append(c).Append(" [").Append(string.Join(",", Enumerable.Repeat("*" + (char)(c - 1), 9))).Append("]\n");
        return sb.ToString();
    }

    [Fact]
    public async Task YamlAliasBomb_ToSelfSubjectAccessReviews_Is400AndTheServerStaysUp()
    {
        var bomb = AliasBomb("apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\n");
        var (code, body) = await Tools.Curl(S, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", bomb, "application/yaml");
        Assert.Equal(400, code);
        var hex = Convert.ToHexStringLower(Encoding.UTF8.GetBytes(bomb), 0, 30);
        AssertStatus(body, 400, "BadRequest",
            $"the object provided is unrecognized (must be of type SelfSubjectAccessReview): yaml: document contains excessive aliasing ({hex} ...)");
        Assert.Equal(200, (await Tools.Curl(S, "GET", "/api/v1/namespaces/default")).Status);
    }

    [Fact]
    public async Task YamlNotUtf8_Is400()
    {
        var file = Path.Combine(S.DataDir, "bad-utf8.yaml");
        await File.WriteAllBytesAsync(file, [.. "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad-utf8\ndata:\n  a: \""u8, 0xFF, .. "\"\n"u8]);
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", null, "application/yaml", true,
            "-H", "Content-Type: application/yaml", "--data-binary", "@" + file);
        Assert.Equal(400, code);
        Assert.StartsWith("the object provided is unrecognized (must be of type ConfigMap): yaml: invalid leading UTF-8 octet (", (string?)Json(body)["message"]);
        Assert.Equal(404, (await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps/bad-utf8")).Status);
    }

    [Fact]
    public async Task JsonLoneSurrogate_IsStoredAsReplacementCharacter()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps",
            """{"metadata":{"name":"sur"},"data":{"a":"\ud800"}}""");
        Assert.Equal(201, code);
        Assert.Equal("\uFFFD", (string?)Json(body)["data"]!["a"]);
    }

    [Fact]
    public async Task JsonReplicasTooLarge_Is400()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/apis/apps/v1/namespaces/default/deployments",
            """{"metadata":{"name":"inf"},"spec":{"replicas":1e400,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}}}}}""");
        Assert.Equal(400, code);
        AssertStatus(body, 400, "BadRequest",
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 1e400 into Go struct field DeploymentSpec.spec.replicas of type int32");
    }

    [Fact]
    public async Task JsonNestedTooDeep_Is400()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", deep);
        Assert.Equal(400, code);
        Assert.Contains("json parse error: invalid character '[' exceeded max depth", (string?)Json(body)["message"]);
    }

    [Fact]
    public async Task JsonPatch_MalformedOperations_AreUpstreamsAnswers()
    {
        Assert.Equal(201, (await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"jp"},"data":{"k":"v"}}""")).Status);
        const string path = "/api/v1/namespaces/default/configmaps/jp";
        var (code, body) = await Tools.Curl(S, "PATCH", path, """[{"op":1,"path":"/data/x","value":"y"}]""", "application/json-patch+json");
        Assert.Equal(400, code);
        AssertStatus(body, 400, "BadRequest", "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.op of type string");

        (code, body) = await Tools.Curl(S, "PATCH", path, """[{"op":"add","path":5,"value":"y"}]""", "application/json-patch+json");
        Assert.Equal(400, code);
        AssertStatus(body, 400, "BadRequest", "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string");

        foreach (var patch in new[] { """[{"op":"add","path":"","value":{}}]""", """[{"op":"move","from":"","path":"/data/y"}]""" })
        {
            (code, body) = await Tools.Curl(S, "PATCH", path, patch, "application/json-patch+json");
            Assert.Equal(422, code);
            AssertStatus(body, 422, "Invalid", "the server rejected our request due to an error in our request");
        }
    }

    [Fact]
    public async Task StrategicMergePatch_UnknownDirective_Is400_WithUpstreamsText()
    {
        Assert.Equal(201, (await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"smp"}}""")).Status);
        var (code, body) = await Tools.Curl(S, "PATCH", "/api/v1/namespaces/default/configmaps/smp", """{"metadata":{"$patch":"merge"}}""",
            "application/strategic-merge-patch+json");
        // kube-apiserver passes this plain error on as a 500; a malformed patch is a 400 here.
        Assert.Equal(400, code);
        AssertStatus(body, 400, "BadRequest", "unknown patch type: merge in map: map[$patch:merge]");
    }
}
