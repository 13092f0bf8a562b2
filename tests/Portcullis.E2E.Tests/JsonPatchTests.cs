using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// RFC 6902 patches and bodies of the wrong kind through curl and kubectl, answered as
/// kube-apiserver 1.33 answers them (evanphx/json-patch v4.12.0 in the patch handler).
/// </summary>
public sealed class JsonPatchTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private const string Generic = "the server rejected our request due to an error in our request";

    private static JsonObject Json(string body) => JsonNode.Parse(body)!.AsObject();

    private Task<(int Status, string Body)> JsonPatch(string name, string patch, string type = "application/json-patch+json") =>
        Tools.Curl(S, "PATCH", "/api/v1/namespaces/default/configmaps/" + name, patch, type);

    private async Task Create(string name, string data)
    {
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", $$"""{"metadata":{"name":"{{name}}"},"data":{{data}}}""");
        Assert.True(code == 201, body);
    }

    private static void AssertGeneric422(int code, string body)
    {
        Assert.Equal(422, code);
        var o = Json(body);
        Assert.Equal("Invalid", (string?)o["reason"]);
        Assert.Equal(Generic, (string?)o["message"]);
        Assert.Equal("{}", o["details"]!.ToJsonString());
    }

    [Fact]
    public async Task ConfigMap_AddRemoveMoveCopyAndArrayAppend()
    {
        await Create("jp", """{"k":"v"}""");
        var (code, body) = await JsonPatch("jp", """[{"op":"add","path":"/binaryData","value":{"b":"aGk="}},{"op":"remove","path":"/data"}]""");
        Assert.True(code == 200, body);
        var o = Json(body);
        Assert.Null(o["data"]);
        Assert.Equal("aGk=", (string?)o["binaryData"]!["b"]);

        (code, body) = await JsonPatch("jp", """[{"op":"add","path":"/data","value":{"k":"v"}},{"op":"move","from":"/data/k","path":"/data/m"},{"op":"copy","from":"/data/m","path":"/data/c"}]""");
        Assert.True(code == 200, body);
        Assert.Equal("""{"c":"v","m":"v"}""", Json(body)["data"]!.ToJsonString());

        (code, body) = await JsonPatch("jp", """[{"op":"add","path":"/metadata/finalizers","value":["example.com/a"]},{"op":"add","path":"/metadata/finalizers/-","value":"example.com/b"}]""");
        Assert.True(code == 200, body);
        Assert.Equal("""["example.com/a","example.com/b"]""", Json(body)["metadata"]!["finalizers"]!.ToJsonString());

        (code, body) = await JsonPatch("jp", """[{"op":"remove","path":"/metadata/finalizers/-1"},{"op":"remove","path":"/metadata/finalizers/0"}]""");
        Assert.True(code == 200, body);
        Assert.Null(Json(body)["metadata"]!["finalizers"]);

        // Removing a key that is not there, moving into its own child, appending past the end.
        foreach (var bad in new[]
        {
            """[{"op":"remove","path":"/data/nope"}]""",
            """[{"op":"move","from":"/data","path":"/data/x"}]""",
            """[{"op":"add","path":"/metadata/finalizers/1","value":"example.com/x"}]""",
            """[{"op":"frob","path":"/data"}]""",
        })
        {
            (code, body) = await JsonPatch("jp", bad);
            AssertGeneric422(code, body);
        }
    }

    [Fact]
    public async Task Test_ComparesJsonTexts_AsJsonPatchDoes()
    {
        await Create("jptest", """{"k":"v","h":"a<b"}""");
        var (code, body) = await JsonPatch("jptest", """[{"op":"test","path":"/data/k","value":"other"},{"op":"remove","path":"/data"}]""");
        AssertGeneric422(code, body);

        // The stored object is marshalled by Go, which writes < as \u003c: the text sent must be that.
        (code, body) = await JsonPatch("jptest", """[{"op":"test","path":"/data/h","value":"a<b"}]""");
        AssertGeneric422(code, body);
        (code, body) = await JsonPatch("jptest", """[{"op":"test","path":"/data/h","value":"a\u003cb"},{"op":"test","path":"/data/nope","value":null},{"op":"add","path":"/data/t","value":"ok"}]""");
        Assert.True(code == 200, body);
        Assert.Equal("ok", (string?)Json(body)["data"]!["t"]);
    }

    [Fact]
    public async Task PatchedObject_OfAnotherNameOrShape_IsRefused()
    {
        await Create("jpname", """{"k":"v"}""");
        var (code, body) = await JsonPatch("jpname", """[{"op":"replace","path":"/metadata/name","value":"other"}]""");
        Assert.Equal(400, code);
        Assert.Equal("the name of the object (other) does not match the name on the URL (jpname)", (string?)Json(body)["message"]);

        (code, body) = await JsonPatch("jpname", """[{"op":"replace","path":"/metadata/namespace","value":"kube-system"}]""");
        Assert.Equal(400, code);
        Assert.Equal("the namespace of the provided object does not match the namespace sent on the request", (string?)Json(body)["message"]);

        (code, body) = await JsonPatch("jpname", """[{"op":"replace","path":"","value":[1]}]""");
        Assert.Equal(422, code);
        Assert.StartsWith(" \"\" is invalid: patch: Invalid value: \"[1]\": couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct {", (string?)Json(body)["message"]);
    }

    [Fact]
    public async Task TypeErrors_InEachPatchType_Are422OnPatch()
    {
        await Create("jptype", """{"k":"v"}""");
        var (code, body) = await JsonPatch("jptype", """{"metadata":{"labels":"invalid"}}""", "application/strategic-merge-patch+json");
        Assert.Equal(422, code);
        var o = Json(body);
        Assert.Equal("Invalid", (string?)o["reason"]);
        Assert.Equal(" \"\" is invalid: patch: Invalid value: \"map[metadata:map[labels:invalid]]\": cannot restore map from string", (string?)o["message"]);
        Assert.Equal("""[{"reason":"FieldValueInvalid","message":"Invalid value: \"map[metadata:map[labels:invalid]]\": cannot restore map from string","field":"patch"}]""",
            o["details"]!["causes"]!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));

        foreach (var (patch, type) in new[]
        {
            ("""{"metadata":{"labels":1}}""", "application/merge-patch+json"),
            ("""[{"op":"add","path":"/metadata/labels","value":1}]""", "application/json-patch+json"),
        })
        {
            (code, body) = await JsonPatch("jptype", patch, type);
            Assert.Equal(422, code);
            var m = (string)Json(body)["message"]!;
            Assert.StartsWith(" \"\" is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":\\\"v1\\\",\\\"data\\\":{\\\"k\\\":\\\"v\\\"},\\\"kind\\\":\\\"ConfigMap\\\",\\\"metadata\\\":{", m);
            Assert.EndsWith("\": json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type map[string]string", m);
        }

        var r = await Tools.Kubectl(S, Tools.Kubectl132, "patch", "configmap", "jptype", "-p", """{"metadata":{"labels":"invalid"}}""");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("patch: Invalid value: \"map[metadata:map[labels:invalid]]\": cannot restore map from string", r.Stderr);
    }

    [Fact]
    public async Task KubectlCreateRaw_PodYamlToNamespaces_IsUnrecognized()
    {
        var dir = Path.Combine(S.DataDir, "rawbodies");
        Directory.CreateDirectory(dir);
        var yaml = Path.Combine(dir, "pod.yaml");
        await File.WriteAllTextAsync(yaml, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n");
        var r = await Tools.Kubectl(S, Tools.Kubectl132, "create", "--raw", "/api/v1/namespaces", "-f", yaml);
        Assert.NotEqual(0, r.ExitCode);
        var expected = "the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: "
            + "invalid character 'a' looking for beginning of value (61706956657273696f6e3a2076310a6b696e643a20506f640a6d65746164 ...)";
        Assert.True(r.Stderr.Contains(expected), r.Stderr);

        var json = Path.Combine(dir, "pod.json");
        await File.WriteAllTextAsync(json, """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}""");
        r = await Tools.Kubectl(S, Tools.Kubectl132, "create", "--raw", "/api/v1/namespaces", "-f", json);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Pod in version \"v1\" cannot be handled as a Namespace", r.Stderr);

        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces", await File.ReadAllTextAsync(yaml));
        Assert.Equal(400, code);
        Assert.StartsWith("the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: invalid character 'a'", (string?)Json(body)["message"]);
    }
}
