using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Status codes and Status bodies as curl sees them, and upstream's JSON layout.</summary>
public sealed class CurlTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private static JsonObject Json(string body) => JsonNode.Parse(body)!.AsObject();

    private static void AssertStatus(string body, int code, string reason, string message)
    {
        var o = Json(body);
        Assert.Equal("Status", (string?)o["kind"]);
        Assert.Equal("v1", (string?)o["apiVersion"]);
        Assert.Equal("Failure", (string?)o["status"]);
        Assert.Equal(code, (int?)o["code"]);
        Assert.Equal(reason, (string?)o["reason"]);
        Assert.Equal(message, (string?)o["message"]);
        Assert.Equal(["kind", "apiVersion", "metadata", "status", "message", "reason"], o.Select(kv => kv.Key).Take(6));
    }

    [Fact]
    public async Task LegacyDiscovery_ListsStorageVersionHashes()
    {
        var (code, body) = await Tools.Curl(S, "GET", "/api/v1");
        Assert.Equal(200, code);
        var hashes = Json(body)["resources"]!.AsArray()
            .ToDictionary(r => (string)r!["name"]!, r => (string?)r!["storageVersionHash"]);
        Assert.Equal("xPOwRZ+Yhw8=", hashes["pods"]);
        Assert.Equal("qFsyl6wFWjQ=", hashes["configmaps"]);
        Assert.Equal("Q3oi5N2YM8M=", hashes["namespaces"]);
        Assert.Equal("S6u1pOWzb84=", hashes["secrets"]);
        Assert.Equal("pbx9ZvyFpBE=", hashes["serviceaccounts"]);
        Assert.Null(hashes["pods/status"]);

        (code, body) = await Tools.Curl(S, "GET", "/apis/apps/v1");
        Assert.Equal(200, code);
        var deployments = Json(body)["resources"]!.AsArray().Single(r => (string?)r!["name"] == "deployments")!;
        Assert.Equal("8aSe+NMegvE=", (string?)deployments["storageVersionHash"]);
    }

    [Fact]
    public async Task Get_Missing_Returns404NotFound()
    {
        var (code, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/pods/x");
        Assert.Equal(404, code);
        AssertStatus(body, 404, "NotFound", "pods \"x\" not found");
        Assert.Equal("x", (string?)Json(body)["details"]!["name"]);
        Assert.Equal("pods", (string?)Json(body)["details"]!["kind"]);
    }

    [Theory]
    [InlineData("PUT", "application/json")]
    [InlineData("PATCH", "application/merge-patch+json")]
    public async Task Put_or_patch_on_a_collection_is_405(string method, string contentType)
    {
        // Found by the HTTP fuzz test: a collection has no PUT or PATCH route upstream.
        const string cm = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"coll"}}""";
        var (code, body) = await Tools.Curl(S, method, "/api/v1/namespaces/default/configmaps", cm, contentType);
        Assert.Equal(405, code);
        AssertStatus(body, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    }

    [Theory]
    [InlineData("/api/v1/namespaces/default/configmaps")]
    [InlineData("/api/v1/namespaces/default/configmaps?watch=x")]
    [InlineData("/api/v1/namespaces/default/configmaps?watch=1")]
    [InlineData("/api/v1/namespaces/default/configmaps/missing")]
    public async Task Head_on_a_resource_is_405_and_never_a_stream(string path)
    {
        // Found by the HTTP fuzz test: HEAD with watch=x opened a watch that held the connection.
        // `--max-time` keeps a regression from hanging the test; curl then exits 28 and the code is 000.
        var (code, _) = await Tools.Curl(S, "HEAD", path, extra: ["--head", "--max-time", "20"]);
        Assert.Equal(405, code);
    }

    [Fact]
    public async Task Put_of_a_pdb_without_resourceVersion_is_422_but_a_configmap_is_updated()
    {
        // PodDisruptionBudget's strategy refuses unconditional updates (store.go: "must be specified for an update");
        // ConfigMap's allows them.
        const string pdbs = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";
        const string pdb = """{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"norv"},"spec":{"minAvailable":1}}""";
        var (code, body) = await Tools.Curl(S, "POST", pdbs, pdb);
        Assert.Equal(201, code);
        (code, body) = await Tools.Curl(S, "PUT", pdbs + "/norv", pdb.Replace("\"minAvailable\":1", "\"minAvailable\":2"));
        Assert.Equal(422, code);
        AssertStatus(body, 422, "Invalid",
            "poddisruptionbudgets.policy \"norv\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
        var details = Json(body)["details"]!;
        Assert.Equal("poddisruptionbudgets", (string?)details["kind"]);
        Assert.Equal("policy", (string?)details["group"]);
        Assert.Equal("FieldValueInvalid", (string?)details["causes"]![0]!["reason"]);
        Assert.Equal("metadata.resourceVersion", (string?)details["causes"]![0]!["field"]);

        const string cms = "/api/v1/namespaces/default/configmaps";
        const string cm = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"norv"},"data":{"a":"1"}}""";
        (code, _) = await Tools.Curl(S, "POST", cms, cm);
        Assert.Equal(201, code);
        (code, body) = await Tools.Curl(S, "PUT", cms + "/norv", cm.Replace("\"1\"", "\"2\""));
        Assert.Equal(200, code);
        Assert.Equal("2", (string?)Json(body)["data"]!["a"]);
    }

    [Fact]
    public async Task Put_of_a_missing_lease_creates_it_but_a_missing_configmap_is_404()
    {
        // Lease's strategy allows create on update (AllowCreateOnUpdate); ConfigMap's does not.
        const string lease = """{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"put-made"},"spec":{"holderIdentity":"a"}}""";
        var (code, body) = await Tools.Curl(S, "PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/put-made", lease);
        Assert.Equal(201, code);
        Assert.Equal("a", (string?)Json(body)["spec"]!["holderIdentity"]);
        (code, _) = await Tools.Curl(S, "GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases/put-made");
        Assert.Equal(200, code);

        const string cm = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"put-missing"}}""";
        (code, body) = await Tools.Curl(S, "PUT", "/api/v1/namespaces/default/configmaps/put-missing", cm);
        Assert.Equal(404, code);
        AssertStatus(body, 404, "NotFound", "configmaps \"put-missing\" not found");
    }

    [Fact]
    public async Task Create_Twice_Returns409AlreadyExists()
    {
        const string cm = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"twice"}}""";
        Assert.Equal(201, (await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", cm)).Status);
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", cm);
        Assert.Equal(409, code);
        AssertStatus(body, 409, "AlreadyExists", "configmaps \"twice\" already exists");
    }

    [Fact]
    public async Task Update_StaleResourceVersion_Returns409Conflict()
    {
        var (_, created) = await Tools.Curl(S, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
            """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"stale"},"rules":[]}""");
        var rv = (string)Json(created)["metadata"]!["resourceVersion"]!;
        var update = "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"Role\",\"metadata\":{\"name\":\"stale\",\"resourceVersion\":\"" + rv + "\",\"labels\":{\"a\":\"b\"}}}";
        Assert.Equal(200, (await Tools.Curl(S, "PUT", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/stale", update)).Status);
        var (code, body) = await Tools.Curl(S, "PUT", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/stale", update);
        Assert.Equal(409, code);
        AssertStatus(body, 409, "Conflict",
            "Operation cannot be fulfilled on roles.rbac.authorization.k8s.io \"stale\": the object has been modified; please apply your changes to the latest version and try again");
        Assert.Equal("rbac.authorization.k8s.io", (string?)Json(body)["details"]!["group"]);
    }

    [Fact]
    public async Task Create_BadName_Returns422WithCauses()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}""");
        Assert.Equal(422, code);
        var o = Json(body);
        Assert.StartsWith("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain", (string)o["message"]!);
        var cause = o["details"]!["causes"]![0]!;
        Assert.Equal("FieldValueInvalid", (string?)cause["reason"]);
        Assert.Equal("metadata.name", (string?)cause["field"]);
        Assert.Equal("ConfigMap", (string?)o["details"]!["kind"]);
    }

    [Fact]
    public async Task Create_MalformedJson_Returns400()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", "{\"metadata\":");
        Assert.Equal(400, code);
        Assert.Equal("BadRequest", (string?)Json(body)["reason"]);
    }

    [Fact]
    public async Task Create_WrongApiVersion_Returns400()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}""");
        Assert.Equal(400, code);
        Assert.Equal("the API version in the data (apps/v1) does not match the expected API version (v1)", (string?)Json(body)["message"]);
    }

    [Fact]
    public async Task Create_BodyOver3MiB_Returns413()
    {
        var big = "{\"metadata\":{\"name\":\"big\"},\"data\":{\"k\":\"" + new string('x', 3 * 1024 * 1024 + 10) + "\"}}";
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", big);
        Assert.Equal(413, code);
        Assert.Equal("RequestEntityTooLarge", (string?)Json(body)["reason"]);
    }

    [Fact]
    public async Task UnknownResource_Returns404Status()
    {
        var (code, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/widgets");
        Assert.Equal(404, code);
        AssertStatus(body, 404, "NotFound", "the server could not find the requested resource");
    }

    [Fact]
    public async Task Anonymous_CreatePod_Returns403InUpstreamWords()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/pods", "{}", admin: false);
        Assert.Equal(403, code);
        AssertStatus(body, 403, "Forbidden",
            "pods is forbidden: User \"system:anonymous\" cannot create resource \"pods\" in API group \"\" in the namespace \"default\"");
        Assert.Equal("""{"kind":"pods"}""", Json(body)["details"]!.ToJsonString());
    }

    [Fact]
    public async Task Anonymous_Root_Returns403ForPath()
    {
        var (code, body) = await Tools.Curl(S, "GET", "/", admin: false);
        Assert.Equal(403, code);
        AssertStatus(body, 403, "Forbidden", "forbidden: User \"system:anonymous\" cannot get path \"/\"");
    }

    [Fact]
    public async Task Anonymous_HealthAndVersion_AreAllowed()
    {
        Assert.Equal((200, "ok"), await Tools.Curl(S, "GET", "/healthz", admin: false));
        Assert.Equal((200, "ok"), await Tools.Curl(S, "GET", "/livez", admin: false));
        var (code, body) = await Tools.Curl(S, "GET", "/version", admin: false);
        Assert.Equal(200, code);
        Assert.Equal("33", (string?)Json(body)["minor"]);
        Assert.EndsWith("+portcullis", (string)Json(body)["gitVersion"]!);
    }

    [Fact]
    public async Task Readyz_Verbose_ListsChecks()
    {
        var (code, body) = await Tools.Curl(S, "GET", "/readyz?verbose", admin: false);
        Assert.Equal(200, code);
        Assert.StartsWith("[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]etcd-readiness ok\n[+]informer-sync ok\n", body);
        Assert.Contains("[+]poststarthook/rbac/bootstrap-roles ok\n", body);
        Assert.Contains("[+]poststarthook/start-apiextensions-controllers ok\n", body);
        Assert.EndsWith("[+]shutdown ok\nreadyz check passed\n", body);

        // /livez has the hooks but neither informer-sync nor shutdown; an unknown exclusion is a warning, as upstream.
        (code, body) = await Tools.Curl(S, "GET", "/livez?verbose&exclude=etcd&exclude=nope", admin: false);
        Assert.Equal(200, code);
        Assert.StartsWith("[+]ping ok\n[+]log ok\n[+]etcd excluded: ok\n[+]poststarthook/", body);
        Assert.DoesNotContain("[+]informer-sync", body);
        Assert.DoesNotContain("[+]shutdown", body);
        Assert.EndsWith("warn: some health checks cannot be excluded: no matches for \"nope\"\nlivez check passed\n", body);

        // One check by its path (system:public-info-viewer grants the roots only, as upstream).
        Assert.Equal(403, (await Tools.Curl(S, "GET", "/readyz/poststarthook/rbac/bootstrap-roles", admin: false)).Status);
        Assert.Equal((200, "ok"), await Tools.Curl(S, "GET", "/readyz/poststarthook/rbac/bootstrap-roles"));
        Assert.Equal(404, (await Tools.Curl(S, "GET", "/readyz/no-such-check")).Status);
    }

    [Fact]
    public async Task Curl_GetsPrettyJsonInGoFieldOrder()
    {
        await Tools.Curl(S, "POST", "/api/v1/namespaces/default/serviceaccounts", """{"metadata":{"name":"demo-sa"}}""");
        await Tools.Curl(S, "POST", "/api/v1/namespaces/default/pods",
            """{"spec":{"containers":[{"image":"curlimages/curl","name":"c","command":["sleep","3600"]}],"serviceAccountName":"demo-sa"},"metadata":{"name":"ordered"},"kind":"Pod","apiVersion":"v1"}""");
        var (code, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/pods/ordered");
        Assert.Equal(200, code);
        Assert.StartsWith("{\n  \"kind\": \"Pod\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {\n    \"name\": \"ordered\",\n    \"namespace\": \"default\",\n    \"uid\": ", body);
        Assert.Contains("\"containers\": [\n      {\n        \"name\": \"c\",\n        \"image\": \"curlimages/curl\",\n        \"command\": [\n          \"sleep\",\n          \"3600\"\n        ],\n        \"resources\": {},\n        \"volumeMounts\": [", body);
    }

    [Fact]
    public async Task GoEscaping_AngleBracketsAndAmpersand()
    {
        await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps",
            """{"metadata":{"name":"escapes"},"data":{"k":"<a&b>"}}""");
        var (_, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps/escapes?pretty=false");
        Assert.Contains("\"k\":\"\\u003ca\\u0026b\\u003e\"", body);
    }

    [Fact]
    public async Task UnknownField_Strict_Returns400StrictDecodingError()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
            """{"metadata":{"name":"strict"},"spec":{"foo":1}}""");
        Assert.Equal(400, code);
        // handlers' transformDecodeError names the kind and version, as real clusters answer.
        Assert.Equal("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"spec\"", (string?)Json(body)["message"]);
    }

    [Fact]
    public async Task Yaml_BodyIsAccepted()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  n: \"1\"\n", "application/yaml");
        Assert.Equal(201, code);
        Assert.Equal("1", (string?)Json(body)["data"]!["n"]);
    }
}
