using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// kube-apiserver's own server-side apply integration tests (kubernetes/kubernetes
/// test/integration/apiserver/apply/: apply_test.go, apply_crd_test.go, scale_test.go, status_test.go;
/// 1.3x), driven against the real server over HTTPS with the same requests and asserting what upstream
/// asserts. Upstream starts one server per test; here the tests share one, so each uses its own object
/// names. Upstream's test server runs no controllers, scheduler or kubelet: the pods here name a
/// scheduler that does not exist (<see cref="Unscheduled"/>) so that the built-in node never runs
/// them and writes no status of its own, as there.
/// </summary>
public sealed class ServerSideApplyIntegrationTests(SsaServerFixture f) : IClassFixture<SsaServerFixture>
{
    private ServerProcess S => f.Server;

    /// <summary>A pod JSON with <c>spec.schedulerName</c> set to one no scheduler serves: it stays pending, nothing writes its status.</summary>
    private static string Unscheduled(string pod)
    {
        var o = Json(pod);
        o["spec"]!["schedulerName"] = "none";
        return o.ToJsonString();
    }

    private const string ApplyType = "application/apply-patch+yaml";
    private const string MergeType = "application/merge-patch+json";
    private const string StrategicType = "application/strategic-merge-patch+json";
    private const string JsonPatchType = "application/json-patch+json";

    private static readonly JsonSerializerOptions Plain = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Core(string resource, string? name = null, string ns = "default") =>
        $"/api/v1/namespaces/{ns}/{resource}" + (name is null ? "" : "/" + name);

    private static string Apps(string resource, string? name = null, string ns = "default") =>
        $"/apis/apps/v1/namespaces/{ns}/{resource}" + (name is null ? "" : "/" + name);

    private static string Query(string path, string? manager, bool force = false)
    {
        var q = new List<string>();
        if (manager is not null) q.Add("fieldManager=" + Uri.EscapeDataString(manager));
        if (force) q.Add("force=true");
        return q.Count == 0 ? path : path + "?" + string.Join('&', q);
    }

    private Task<(int Status, string Body)> Patch(string path, string type, string body, string? manager = null, bool force = false) =>
        Tools.Curl(S, "PATCH", Query(path, manager, force), body, type);

    private Task<(int Status, string Body)> Apply(string path, string body, string? manager = "apply_test", bool force = false) =>
        Patch(path, ApplyType, body, manager, force);

    private Task<(int Status, string Body)> Put(string path, string body, string? manager = null) =>
        Tools.Curl(S, "PUT", Query(path, manager), body);

    private Task<(int Status, string Body)> Post(string path, string body, string? manager = null) =>
        Tools.Curl(S, "POST", Query(path, manager), body);

    private Task<(int Status, string Body)> Get(string path) => Tools.Curl(S, "GET", path);

    /// <summary>Fills a JSON template's ⟨0⟩, ⟨1⟩... with the values (JSON is all braces, so no interpolation).</summary>
    private static string Fill(string template, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++) template = template.Replace($"\u27e8{i}\u27e9", values[i]?.ToString());
        return template;
    }

    private static JsonObject Json(string body) => JsonNode.Parse(body)!.AsObject();

    private static JsonObject Ok((int Status, string Body) r, params int[] codes)
    {
        int[] want = codes.Length == 0 ? [200, 201] : codes;
        Assert.True(want.Contains(r.Status), $"{r.Status}: {r.Body}");
        return Json(r.Body);
    }

    private async Task<JsonObject> GetOk(string path) => Ok(await Get(path), 200);

    private static string Rv(JsonObject o) => (string)o["metadata"]!["resourceVersion"]!;

    private static JsonArray ManagedFields(JsonObject o) => o["metadata"]?["managedFields"]?.AsArray() ?? [];

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString(Plain);

    /// <summary>upstream's expectManagedFields: every entry's time set to null, then compared as text (key order included).</summary>
    private static void ExpectManagedFields(JsonObject o, string expected)
    {
        var got = ManagedFields(o).DeepClone().AsArray();
        foreach (var e in got) e!["time"] = null;
        Assert.Equal(Compact(expected), got.ToJsonString(Plain));
    }

    private static string Fields(JsonNode entry) => entry["fieldsV1"]!.ToJsonString(Plain);

    private static string Deployment(string name, string extraSpec = "\"replicas\": 3,", string containers = """{"name": "nginx", "image": "nginx:latest"}""",
        string podSpecExtra = "") => Fill("""
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "⟨0⟩", "labels": {"app": "nginx"}},
            "spec": {
                ⟨1⟩
                "selector": {"matchLabels": {"app": "nginx"}},
                "template": {
                    "metadata": {"labels": {"app": "nginx"}},
                    "spec": {
                        ⟨2⟩
                        "containers": [⟨3⟩]
                    }
                }
            }
        }
        """, name, extraSpec, podSpecExtra, containers);

    private static string ConfigMapWithLabel(string name) => Fill("""
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "⟨0⟩", "namespace": "default", "labels": {"test-label": "test"}},
            "data": {"key": "value"}
        }
        """, name);

    // TestApplyAlsoCreates
    [Theory]
    [InlineData("pods", "test-pod", """{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "test-pod"}, "spec": {"containers": [{"name": "test-container", "image": "test-image"}]}}""")]
    [InlineData("services", "test-svc", """{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "test-svc"}, "spec": {"ports": [{"port": 8080, "protocol": "UDP"}]}}""")]
    public async Task ApplyAlsoCreates(string resource, string name, string body)
    {
        Ok(await Apply(Core(resource, name), body));
        await GetOk(Core(resource, name));
        // Re-applying with a different field manager gives no conflicts.
        Ok(await Apply(Core(resource, name), body, "apply_test_2"), 200);
    }

    // TestNoOpUpdateSameResourceVersion
    [Fact]
    public async Task NoOpUpdateSameResourceVersion()
    {
        var pod = """
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "no-op", "labels": {"a": "one", "c": "two", "b": "three"}},
             "spec": {"containers": [
                {"name": "test-container-a", "image": "test-image-one"},
                {"name": "test-container-c", "image": "test-image-two"},
                {"name": "test-container-b", "image": "test-image-three"}]}}
            """;
        pod = Unscheduled(pod);
        Ok(await Apply(Core("pods", "no-op"), pod));
        // Upstream sleeps so that a write would carry a different managedFields time.
        await Task.Delay(1000);
        var created = await GetOk(Core("pods", "no-op"));
        Ok(await Put(Core("pods", "no-op"), created.ToJsonString()), 200);
        var updated = await GetOk(Core("pods", "no-op"));
        Assert.Equal(Rv(created), Rv(updated));
    }

    // TestNoOpApplyWithEmptyMap
    [Fact]
    public async Task NoOpApplyWithEmptyMap()
    {
        var deployment = """
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "no-op", "labels": {"app": "nginx"}},
             "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "nginx"}},
                "template": {"metadata": {"annotations": {}, "labels": {"app": "nginx"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}]}}}}
            """;
        Ok(await Apply(Apps("deployments", "no-op"), deployment));
        await Task.Delay(1000);
        var created = await GetOk(Apps("deployments", "no-op"));
        Ok(await Apply(Apps("deployments", "no-op"), deployment), 200);
        var updated = await GetOk(Apps("deployments", "no-op"));
        Assert.Equal(Rv(created), Rv(updated));
    }

    // TestApplyEmptyMarkerStructDifferentFromNil
    [Fact]
    public async Task ApplyEmptyMarkerStructDifferentFromNil()
    {
        const string name = "pod-with-empty-dir";
        string Pod(string volume) => Fill("""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "⟨0⟩"},
             "spec": {"containers": [{"name": "test-container-a", "image": "test-image-one",
                "volumeMounts": [{"mountPath": "/cache", "name": "cache-volume"}]}],
                "volumes": [⟨1⟩]}}
            """, name, volume);
        Ok(await Apply(Core("pods", name), Pod("""{"name": "cache-volume", "emptyDir": {}}""")));
        var created = await GetOk(Core("pods", name));
        // An apply with no emptyDir is distinct from the empty marker struct emptyDir.
        Ok(await Apply(Core("pods", name), Pod("""{"name": "cache-volume"}""")), 200);
        var updated = await GetOk(Core("pods", name));
        Assert.NotEqual(Rv(created), Rv(updated));
    }

    // TestNoopChangeCreationTime
    [Fact]
    public async Task NoopChangeCreationTime()
    {
        var cm = """
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "myconfig", "creationTimestamp": null, "resourceVersion": null},
             "data": {"key": "value"}}
            """;
        var (_, first) = await Apply(Core("configmaps", "myconfig"), cm);
        Ok((201, first), 201);
        // Upstream sleeps so that a write would carry a different time.
        await Task.Delay(1200);
        var (code, second) = await Apply(Core("configmaps", "myconfig"), cm);
        Assert.Equal(200, code);
        Assert.Equal(Compact(first), Compact(second));
    }

    private const string StatefulSet = """
        {"apiVersion": "apps/v1", "kind": "StatefulSet",
         "metadata": {"name": "NAME", "labels": {"app": "nginx"}},
         "spec": {"serviceName": "nginx", "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {"limits": {"memory": "2048Mi"}}}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "nginx"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
        """;

    // TestNoSemanticUpdateApplySameResourceVersion
    [Fact]
    public async Task NoSemanticUpdateApplySameResourceVersion()
    {
        var ss = StatefulSet.Replace("NAME", "nginx-apply");
        var created = Ok(await Apply(Apps("statefulsets", "nginx-apply"), ss));
        await Task.Delay(1200);
        var applied = Ok(await Apply(Apps("statefulsets", "nginx-apply"), ss), 200);
        Assert.Equal(Rv(created), Rv(applied));
    }

    // TestNoSemanticUpdatePutSameResourceVersion
    [Fact]
    public async Task NoSemanticUpdatePutSameResourceVersion()
    {
        var ss = StatefulSet.Replace("NAME", "nginx-put");
        var created = Ok(await Post(Apps("statefulsets"), ss, "apply_test"), 201);
        await Task.Delay(1200);
        var put = Ok(await Put(Apps("statefulsets", "nginx-put"), ss, "apply_test"), 200);
        Assert.Equal(Rv(created), Rv(put));
    }

    // TestCreateOnApplyFailsWithUID
    [Fact]
    public async Task CreateOnApplyFailsWithUID()
    {
        var (code, body) = await Apply(Core("pods", "test-pod-uid"), """
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "test-pod-uid", "uid": "88e00824-7f0e-11e8-94a1-c8d3ffb15800"},
             "spec": {"containers": [{"name": "test-container", "image": "test-image"}]}}
            """);
        Assert.True(code == 409, body);
        Assert.Equal("Conflict", (string?)Json(body)["reason"]);
    }

    // TestApplyUpdateApplyConflictForced
    [Fact]
    public async Task ApplyUpdateApplyConflictForced()
    {
        var obj = Deployment("deployment-forced");
        Ok(await Apply(Apps("deployments", "deployment-forced"), obj));
        Ok(await Patch(Apps("deployments", "deployment-forced"), MergeType, """{"spec":{"replicas": 5}}"""), 200);
        var (code, body) = await Apply(Apps("deployments", "deployment-forced"), obj);
        Assert.True(code == 409, body);
        Assert.True(Json(body)["details"]!["causes"]!.AsArray().Count >= 1, body);
        Ok(await Apply(Apps("deployments", "deployment-forced"), obj, force: true), 200);
    }

    // TestApplyGroupsManySeparateUpdates
    [Fact]
    public async Task ApplyGroupsManySeparateUpdates()
    {
        // Upstream uses a ValidatingWebhookConfiguration, which is not served here; a ClusterRole is another
        // cluster-scoped kind valid with metadata alone, and the grouping does not depend on the kind.
        const string path = "/apis/rbac.authorization.k8s.io/v1/clusterroles/webhook";
        Ok(await Apply(path, """
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "webhook", "labels": {"applier":"true"},},}
            """));
        JsonObject obj = [];
        for (var i = 0; i < 20; i++)
        {
            var unique = $"updater{i}";
            obj = Ok(await Patch(path, MergeType, Fill("""{"metadata":{"labels":{"⟨0⟩":"new"}}}""", unique), unique), 200);
        }
        var managed = ManagedFields(obj);
        // 11 entries: the cap for update entries is 10, and 1 apply entry.
        Assert.True(managed.Count == 11, obj.ToJsonString());
        Assert.Equal("apply_test", (string?)managed[0]!["manager"]);
        Assert.Equal("ancient-changes", (string?)managed[1]!["manager"]);
    }

    private static string LargeData(string first = "")
    {
        var sb = new System.Text.StringBuilder("{" + first);
        for (var i = 0; i < 9999; i++)
        {
            if (i > 0 || first.Length > 0) sb.Append(',');
            sb.Append($"\"this-key-is-very-long-so-as-to-create-a-very-large-serialized-fieldset-{i}\":\"A\"");
        }
        return sb.Append('}').ToString();
    }

    private static string EmptyConfigMap(string name) => Fill("""
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "⟨0⟩", "namespace": "default",}}
        """, name);

    // TestCreateVeryLargeObject
    [Fact(Skip = "STORAGE: no object size limit: upstream etcd refuses writes over 1.5 MiB (create/update/merge patch then retry without managedFields, apply does not), so this apply fails there; here it succeeds")]
    public async Task CreateVeryLargeObject()
    {
        Ok(await Post(Core("configmaps"), Fill("""{"metadata":{"name":"large-create-test-cm","namespace":"default"},"data":⟨0⟩}""", LargeData())), 201);
        // Applying to the same object takes managedFields over the object size limit, and fails.
        var (code, body) = await Apply(Core("configmaps", "large-create-test-cm"), EmptyConfigMap("large-create-test-cm"));
        Assert.True(code >= 400, $"{code}: {body[..Math.Min(body.Length, 500)]}");
    }

    // TestUpdateVeryLargeObject
    [Fact(Skip = "STORAGE: no object size limit: upstream etcd refuses writes over 1.5 MiB (create/update/merge patch then retry without managedFields, apply does not), so this apply fails there; here it succeeds")]
    public async Task UpdateVeryLargeObject()
    {
        var cm = Ok(await Post(Core("configmaps"), """{"metadata":{"name":"large-update-test-cm","namespace":"default"},"data":{"k":"v"}}"""), 201);
        cm["data"] = JsonNode.Parse(LargeData("\"k\":\"v\""));
        var (code, body) = await Put(Core("configmaps", "large-update-test-cm"), cm.ToJsonString());
        Assert.True(code == 200, $"{code}: {body[..Math.Min(body.Length, 500)]}");
        (code, body) = await Apply(Core("configmaps", "large-update-test-cm"), EmptyConfigMap("large-update-test-cm"));
        Assert.True(code >= 400, $"{code}: {body[..Math.Min(body.Length, 500)]}");
    }

    // TestPatchVeryLargeObject
    [Fact(Skip = "STORAGE: no object size limit: upstream etcd refuses writes over 1.5 MiB (create/update/merge patch then retry without managedFields, apply does not), so this apply fails there; here it succeeds")]
    public async Task PatchVeryLargeObject()
    {
        Ok(await Post(Core("configmaps"), """{"metadata":{"name":"large-patch-test-cm","namespace":"default"},"data":{"k":"v"}}"""), 201);
        var (code, body) = await Patch(Core("configmaps", "large-patch-test-cm"), MergeType, Fill("""{"data":⟨0⟩}""", LargeData("\"k\":\"v\"")));
        Assert.True(code == 200, $"{code}: {body[..Math.Min(body.Length, 500)]}");
        (code, body) = await Apply(Core("configmaps", "large-patch-test-cm"), EmptyConfigMap("large-patch-test-cm"));
        Assert.True(code >= 400, $"{code}: {body[..Math.Min(body.Length, 500)]}");
    }

    // TestApplyManagedFields
    [Fact]
    public async Task ApplyManagedFields()
    {
        const string name = "test-cm-managed";
        Ok(await Apply(Core("configmaps", name), ConfigMapWithLabel(name)));
        Ok(await Patch(Core("configmaps", name), MergeType, """{"data":{"new-key": "value"}}""", "updater"), 200);
        // Upstream sleeps so that the grouped update entry shows the later of its two times.
        await Task.Delay(1000);
        Ok(await Patch(Core("configmaps", name), MergeType, """{"data":{"key": "new value"}}""", "updater"), 200);
        var o = await GetOk(Core("configmaps", name));
        var m = o["metadata"]!;
        var mf = ManagedFields(o);
        var expected = Fill("""
            {
                "metadata": {
                    "name": "⟨0⟩",
                    "namespace": "default",
                    "uid": "⟨1⟩",
                    "resourceVersion": "⟨2⟩",
                    "creationTimestamp": "⟨3⟩",
                    "labels": {"test-label": "test"},
                    "managedFields": [
                        {
                            "manager": "apply_test",
                            "operation": "Apply",
                            "apiVersion": "v1",
                            "time": "⟨4⟩",
                            "fieldsType": "FieldsV1",
                            "fieldsV1": {"f:metadata": {"f:labels": {"f:test-label": {}}}}
                        },
                        {
                            "manager": "updater",
                            "operation": "Update",
                            "apiVersion": "v1",
                            "time": "⟨5⟩",
                            "fieldsType": "FieldsV1",
                            "fieldsV1": {"f:data": {"f:key": {}, "f:new-key": {}}}
                        }
                    ]
                },
                "data": {"key": "new value", "new-key": "value"}
            }
            """, name, m["uid"], m["resourceVersion"], m["creationTimestamp"], mf[0]!["time"], mf[1]!["time"]);
        // Upstream decodes into a typed ConfigMap (kind and apiVersion are dropped) and re-encodes.
        o.Remove("kind");
        o.Remove("apiVersion");
        Assert.Equal(Compact(expected), o.ToJsonString(Plain));
        Assert.NotEqual((string?)mf[0]!["time"], (string?)mf[1]!["time"]);
    }

    // TestApplyRemovesEmptyManagedFields
    [Fact]
    public async Task ApplyRemovesEmptyManagedFields()
    {
        const string name = "test-cm-empty-managed";
        var obj = Fill("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "⟨0⟩", "namespace": "default"}}""", name);
        Ok(await Apply(Core("configmaps", name), obj));
        Ok(await Apply(Core("configmaps", name), obj), 200);
        var o = await GetOk(Core("configmaps", name));
        Assert.Null(o["metadata"]!["managedFields"]);
    }

    // TestApplyRequiresFieldManager
    [Fact]
    public async Task ApplyRequiresFieldManager()
    {
        const string name = "test-cm-requires-manager";
        var obj = Fill("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "⟨0⟩", "namespace": "default"}}""", name);
        var (code, body) = await Apply(Core("configmaps", name), obj, manager: null);
        Assert.True(code >= 400, body);
        Ok(await Apply(Core("configmaps", name), obj), 201);
    }

    // TestApplyRemoveContainerPort
    [Fact]
    public async Task ApplyRemoveContainerPort()
    {
        const string name = "deployment-remove-port";
        Ok(await Apply(Apps("deployments", name), Deployment(name,
            containers: """{"name": "nginx", "image": "nginx:latest", "ports": [{"containerPort": 80, "protocol": "TCP"}]}""")));
        Ok(await Apply(Apps("deployments", name), Deployment(name)), 200);
        var d = await GetOk(Apps("deployments", name));
        Assert.Null(d["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]);
    }

    // TestApplyFailsWithVersionMismatch
    [Fact]
    public async Task ApplyFailsWithVersionMismatch()
    {
        const string name = "deployment-version-mismatch";
        Ok(await Apply(Apps("deployments", name), Deployment(name)));
        var wrong = Deployment(name, extraSpec: "\"replicas\": 100,").Replace("\"apps/v1\"", "\"extensions/v1beta\"");
        var (code, body) = await Apply(Apps("deployments", name), wrong);
        Assert.True(code == 400, body);
        Assert.Equal(400, (int?)Json(body)["code"]);
    }

    // TestApplyConvertsManagedFieldsVersion
    [Fact]
    public async Task ApplyConvertsManagedFieldsVersion()
    {
        const string name = "deployment-converts";
        Ok(await Post(Apps("deployments"), Fill("""
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": "⟨0⟩",
                    "labels": {"app": "nginx"},
                    "managedFields": [{
                        "manager": "sidecar_controller",
                        "operation": "Apply",
                        "apiVersion": "extensions/v1beta1",
                        "fieldsV1": {
                            "f:metadata": {"f:labels": {"f:sidecar_version": {}}},
                            "f:spec": {"f:template": {"f: spec": {"f:containers": {"k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}}}}}}
                        }
                    }]
                },
                "spec": {
                    "selector": {"matchLabels": {"app": "nginx"}},
                    "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}}
                }
            }
            """, name)), 201);
        Ok(await Apply(Apps("deployments", name), Fill("""
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "⟨0⟩", "labels": {"sidecar_version": "release"}},
             "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "sidecar:latest"}]}}}}
            """, name), "sidecar_controller"), 200);
        var o = await GetOk(Apps("deployments", name));
        var managed = ManagedFields(o);
        Assert.True(managed.Count == 2, managed.ToJsonString());
        var actual = managed.FirstOrDefault(e => (string?)e!["manager"] == "sidecar_controller" && (string?)e!["apiVersion"] == "apps/v1");
        Assert.True(actual is not null, managed.ToJsonString());
        Assert.Equal("Apply", (string?)actual!["operation"]);
        Assert.Equal("FieldsV1", (string?)actual["fieldsType"]);
        Assert.Null(actual["subresource"]);
        Assert.Equal("""{"f:metadata":{"f:labels":{"f:sidecar_version":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"sidecar\"}":{".":{},"f:image":{},"f:name":{}}}}}}}""",
            Fields(actual));
    }

    private async Task CreateLabelledConfigMap(string name) => Ok(await Apply(Core("configmaps", name), ConfigMapWithLabel(name)), 201);

    // TestClearManagedFieldsWithMergePatch
    [Fact]
    public async Task ClearManagedFieldsWithMergePatch()
    {
        const string name = "test-cm-clear-merge";
        await CreateLabelledConfigMap(name);
        Ok(await Patch(Core("configmaps", name), MergeType, """{"metadata":{"managedFields": [{}]}}"""), 200);
        var o = await GetOk(Core("configmaps", name));
        Assert.Empty(ManagedFields(o));
    }

    // TestClearManagedFieldsWithStrategicMergePatch
    [Fact]
    public async Task ClearManagedFieldsWithStrategicMergePatch()
    {
        const string name = "test-cm-clear-smp";
        await CreateLabelledConfigMap(name);
        Ok(await Patch(Core("configmaps", name), StrategicType, """{"metadata":{"managedFields": [{}]}}"""), 200);
        var o = await GetOk(Core("configmaps", name));
        Assert.Empty(ManagedFields(o));
        Assert.NotEmpty(o["metadata"]!["labels"]!.AsObject());
    }

    // TestClearManagedFieldsWithJSONPatch
    [Fact]
    public async Task ClearManagedFieldsWithJSONPatch()
    {
        const string name = "test-cm-clear-json";
        await CreateLabelledConfigMap(name);
        Ok(await Patch(Core("configmaps", name), JsonPatchType, """[{"op": "replace", "path": "/metadata/managedFields", "value": [{}]}]"""), 200);
        var o = await GetOk(Core("configmaps", name));
        Assert.Empty(ManagedFields(o));
    }

    // TestClearManagedFieldsWithUpdate
    [Fact]
    public async Task ClearManagedFieldsWithUpdate()
    {
        const string name = "test-cm-clear-update";
        await CreateLabelledConfigMap(name);
        Ok(await Put(Core("configmaps", name), Fill("""
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "⟨0⟩", "namespace": "default", "managedFields": [{}], "labels": {"test-label": "test"}},
             "data": {"key": "value"}}
            """, name)), 200);
        var o = await GetOk(Core("configmaps", name));
        Assert.Empty(ManagedFields(o));
        Assert.NotEmpty(o["metadata"]!["labels"]!.AsObject());
    }

    // TestClearManagedFieldsWithUpdateEmptyList
    [Fact]
    public async Task ClearManagedFieldsWithUpdateEmptyList()
    {
        const string name = "test-cm-clear-empty-list";
        await CreateLabelledConfigMap(name);
        Ok(await Put(Core("configmaps", name), Fill("""
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "⟨0⟩", "namespace": "default", "managedFields": [], "labels": {"test-label": "test"}},
             "data": {"key": "value"}}
            """, name)), 200);
        Ok(await Patch(Core("configmaps", name), MergeType, """{"metadata":{"labels": { "test-label": "v1" }}}"""), 200);
        var o = await GetOk(Core("configmaps", name));
        // Once cleared, managedFields stay untracked.
        Assert.Empty(ManagedFields(o));
        Assert.NotEmpty(o["metadata"]!["labels"]!.AsObject());
    }

    private const string EmptyFieldsTypeEntry = """
        {"manager": "apply_test", "operation": "Apply", "apiVersion": "v1", "time": "2019-07-08T09:31:18Z", "fieldsType": "", "fieldsV1": {}}
        """;

    // TestErrorsDontFail
    [Fact]
    public async Task ErrorsDontFail()
    {
        const string name = "test-cm-errors-create";
        Ok(await Post(Core("configmaps"), Fill("""
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "⟨0⟩", "namespace": "default", "managedFields": [⟨1⟩], "labels": {"test-label": "test"}},
             "data": {"key": "value"}}
            """, name, EmptyFieldsTypeEntry), "apply_test"), 201);
    }

    // TestErrorsDontFailUpdate
    [Fact]
    public async Task ErrorsDontFailUpdate()
    {
        const string name = "test-cm-errors-update";
        Ok(await Post(Core("configmaps"), ConfigMapWithLabel(name), "apply_test"), 201);
        Ok(await Put(Core("configmaps", name), Fill("""
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "⟨0⟩", "namespace": "default", "managedFields": [⟨1⟩], "labels": {"test-label": "test"}},
             "data": {"key": "value"}}
            """, name, EmptyFieldsTypeEntry), "apply_test"), 200);
    }

    // TestErrorsDontFailPatch
    [Fact]
    public async Task ErrorsDontFailPatch()
    {
        const string name = "test-cm-errors-patch";
        Ok(await Post(Core("configmaps"), ConfigMapWithLabel(name), "apply_test"), 201);
        Ok(await Patch(Core("configmaps", name), JsonPatchType,
            Fill("""[{"op": "replace", "path": "/metadata/managedFields", "value": [⟨0⟩]}]""", EmptyFieldsTypeEntry), "apply_test"), 200);
    }

    private static string SimplePod(string name) => Unscheduled(Fill("""
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "⟨0⟩"},
         "spec": {"containers": [{"name": "test-container-a", "image": "test-image-one"}]}}
        """, name));

    // TestApplyDoesNotChangeManagedFieldsViaSubresources
    [Fact]
    public async Task ApplyDoesNotChangeManagedFieldsViaSubresources()
    {
        const string name = "just-a-pod-subresources";
        var live = Ok(await Apply(Core("pods", name), SimplePod(name)), 201);
        var updated = Ok(await Patch(Core("pods", name) + "/status", MergeType, """
            {
                "metadata": {
                    "managedFields": [{
                        "manager":"testing",
                        "operation":"Update",
                        "apiVersion":"v1",
                        "fieldsType":"FieldsV1",
                        "fieldsV1":{"f:spec":{"f:containers":{"k:{\"name\":\"testing\"}":{".":{},"f:image":{},"f:name":{}}}}}
                    }]
                },
                "status": {"conditions": [{"type": "MyStatus", "status":"true"}]}
            }
            """, "update_managedfields_test"), 200);
        var liveManaged = ManagedFields(live);
        var newManaged = ManagedFields(updated);
        Assert.True(liveManaged.Count == 1, liveManaged.ToJsonString());
        Assert.True(newManaged.Count == 2, newManaged.ToJsonString());
        Assert.Equal(liveManaged[0]!.ToJsonString(), newManaged[0]!.ToJsonString());
        Assert.Equal("update_managedfields_test", (string?)newManaged[1]!["manager"]);
    }

    // TestApplyUnsetExclusivelyOwnedFields
    [Fact]
    public async Task ApplyUnsetExclusivelyOwnedFields()
    {
        const string name = "deployment-exclusive-unset";
        Ok(await Apply(Apps("deployments", name), Deployment(name, podSpecExtra: "\"hostname\": \"test-hostname\",")));
        // Unset spec.replicas (defaulted) and spec.template.spec.hostname (not defaulted).
        var d = Ok(await Apply(Apps("deployments", name), Deployment(name, extraSpec: "")), 200);
        Assert.Equal(1, (int?)d["spec"]!["replicas"]);
        Assert.Null(d["spec"]!["template"]!["spec"]!["hostname"]);
    }

    // TestApplyUnsetSharedFields
    [Fact]
    public async Task ApplyUnsetSharedFields()
    {
        const string name = "deployment-shared-unset";
        foreach (var manager in new[] { "shared_owner_1", "shared_owner_2" })
            Ok(await Apply(Apps("deployments", name), Deployment(name, podSpecExtra: "\"hostname\": \"test-hostname\","), manager));
        var d = Ok(await Apply(Apps("deployments", name), Deployment(name, extraSpec: ""), "shared_owner_1"), 200);
        Assert.Equal(3, (int?)d["spec"]!["replicas"]);
        Assert.Equal("test-hostname", (string?)d["spec"]!["template"]!["spec"]!["hostname"]);
    }

    // TestApplyCanTransferFieldOwnershipToController
    [Fact]
    public async Task ApplyCanTransferFieldOwnershipToController()
    {
        const string name = "deployment-transfer-ownership";
        var applied = Ok(await Apply(Apps("deployments", name), Deployment(name), "test_applier"));
        // A controller takes over the replicas field.
        applied["spec"]!["replicas"] = 4;
        Ok(await Put(Apps("deployments", name), applied.ToJsonString(), "test_updater"), 200);
        // The applier omits replicas.
        var d = Ok(await Apply(Apps("deployments", name), Deployment(name, extraSpec: ""), "test_applier"), 200);
        Assert.Equal(4, (int?)d["spec"]!["replicas"]);
    }

    // TestApplyCanRemoveMapItemsContributedToByControllers
    [Fact]
    public async Task ApplyCanRemoveMapItemsContributedToByControllers()
    {
        const string name = "deployment-shared-map-item-removal";
        var applied = Ok(await Apply(Apps("deployments", name), Deployment(name, extraSpec: ""), "test_applier"));
        // A controller sets workingDir of the name=nginx container through an update.
        applied["spec"]!["template"]!["spec"]!["containers"]![0]!["workingDir"] = "/home/replacement";
        Ok(await Put(Apps("deployments", name), applied.ToJsonString(), "test_updater"), 200);
        // The applier removes the name=nginx container.
        var d = Ok(await Apply(Apps("deployments", name), Deployment(name,
            containers: """{"name": "other-container", "image": "nginx:latest"}""", podSpecExtra: "\"hostname\": \"test-hostname\","), "test_applier"), 200);
        var containers = d["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Single(containers);
        Assert.Equal("other-container", (string?)containers[0]!["name"]);
    }

    // TestDefaultMissingKeys
    [Fact]
    public async Task DefaultMissingKeys()
    {
        const string name = "deployment-default-missing-keys";
        Ok(await Apply(Apps("deployments", name), Deployment(name, extraSpec: "",
            containers: """{"name": "nginx", "image": "nginx:latest", "ports": [{"name": "foo", "containerPort": 80}]}"""), "test_applier"));
        // Another applier changes the name and states the protocol: the defaulted key matches the item, one conflict.
        var (code, body) = await Apply(Apps("deployments", name), Deployment(name, extraSpec: "",
            containers: """{"name": "nginx", "image": "nginx:latest", "ports": [{"name": "bar", "containerPort": 80, "protocol": "TCP"}]}"""),
            "test_applier_conflict");
        Assert.True(code == 409, body);
        Assert.True(Json(body)["details"]!["causes"]!.AsArray().Count == 1, body);
    }

    // TestUpgradeClientSideToServerSideApply
    [Fact]
    public async Task UpgradeClientSideToServerSideApply()
    {
        const string name = "my-deployment";
        var created = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: my-deployment
              annotations:
                "kubectl.kubernetes.io/last-applied-configuration": |
                  {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"my-deployment","labels":{"app":"my-app"}},"spec":{"replicas": 3,"template":{"metadata":{"labels":{"app":"my-app"}},"spec":{"containers":[{"name":"my-c","image":"my-image"}]}}}}
              labels:
                app: my-app
            spec:
              replicas: 100000
              selector:
                matchLabels:
                  app: my-app
              template:
                metadata:
                  labels:
                    app: my-app
                spec:
                  containers:
                  - name: my-c
                    image: my-image
            """;
        Ok(await Tools.Curl(S, "POST", Apps("deployments"), created, "application/yaml"), 201);
        var (code, body) = await Apply(Apps("deployments", name), """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: my-deployment
              labels:
                app: my-new-label
            spec:
              replicas: 3 # expect conflict
              template:
                metadata:
                  labels:
                    app: my-app
                spec:
                  containers:
                  - name: my-c
                    image: my-image
            """, "kubectl");
        Assert.True(code == 409, body);
        Ok(await Apply(Apps("deployments", name), """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: my-deployment
              labels:
                app: my-new-label
            spec:
              template:
                metadata:
                  labels:
                    app: my-app
                spec:
                  containers:
                  - name: my-c
                    image: my-image-new
            """, "kubectl"), 200);
        var d = await GetOk(Apps("deployments", name));
        Assert.Equal(100000, (int?)d["spec"]!["replicas"]);
        Assert.Equal("my-image-new", (string?)d["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
    }

    // TestRenamingAppliedFieldManagers
    [Fact]
    public async Task RenamingAppliedFieldManagers()
    {
        const string name = "just-a-pod-renaming-applied";
        Ok(await Apply(Core("pods", name), Unscheduled(Fill("""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "⟨0⟩", "labels": {"a": "one"}},
             "spec": {"containers": [{"name": "test-container-a", "image": "test-image-one"}]}}
            """, name)), "multi_manager_one"));
        Ok(await Apply(Core("pods", name), """{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"b":"two"}}}""", "multi_manager_two"), 200);
        var pod = await GetOk(Core("pods", name));
        Assert.Equal("""{"a":"one","b":"two"}""", pod["metadata"]!["labels"]!.ToJsonString());
        foreach (var e in ManagedFields(pod)) e!["manager"] = "multi_manager";
        var obj = Ok(await Put(Core("pods", name), pod.ToJsonString()), 200);
        var managed = ManagedFields(obj);
        Assert.True(managed.Count == 1, managed.ToJsonString());
        Assert.Equal("multi_manager", (string?)managed[0]!["manager"]);
        Assert.Equal("Apply", (string?)managed[0]!["operation"]);
        Assert.Equal("""{"f:metadata":{"f:labels":{"f:b":{}}}}""", Fields(managed[0]!));
    }

    // TestRenamingUpdatedFieldManagers
    [Fact]
    public async Task RenamingUpdatedFieldManagers()
    {
        const string name = "just-a-pod-renaming-updated";
        Ok(await Apply(Core("pods", name), SimplePod(name), "first"));
        Ok(await Patch(Core("pods", name), MergeType, """{"metadata":{"labels":{"a":"one"}}}""", "multi_manager_one"), 200);
        Ok(await Patch(Core("pods", name), MergeType, """{"metadata":{"labels":{"b":"two"}}}""", "multi_manager_two"), 200);
        var pod = await GetOk(Core("pods", name));
        Assert.Equal("""{"a":"one","b":"two"}""", pod["metadata"]!["labels"]!.ToJsonString());
        foreach (var e in ManagedFields(pod)) e!["manager"] = "multi_manager";
        var obj = Ok(await Put(Core("pods", name), pod.ToJsonString()), 200);
        var managed = ManagedFields(obj);
        Assert.True(managed.Count == 2, managed.ToJsonString());
        Assert.Equal("multi_manager", (string?)managed[1]!["manager"]);
        Assert.Equal("Update", (string?)managed[1]!["operation"]);
        Assert.Equal("""{"f:metadata":{"f:labels":{"f:b":{}}}}""", Fields(managed[1]!));
    }

    // TestDroppingSubresourceField
    [Fact]
    public async Task DroppingSubresourceField()
    {
        const string name = "just-a-pod-dropping-subresource";
        Ok(await Apply(Core("pods", name), SimplePod(name), "first"));
        Ok(await Apply(Core("pods", name), """{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"a":"one"}}}""", "label_manager"), 200);
        Ok(await Apply(Core("pods", name) + "/status", """{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"b":"two"}}}""", "label_manager"), 200);
        var pod = await GetOk(Core("pods", name));
        Assert.Equal("""{"a":"one","b":"two"}""", pod["metadata"]!["labels"]!.ToJsonString());
        var managed = ManagedFields(pod);
        Assert.True(managed.Count == 3, managed.ToJsonString());
        Assert.True((string?)managed[1]!["manager"] == "label_manager" && (string?)managed[1]!["operation"] == "Apply" && managed[1]!["subresource"] is null,
            managed[1]!.ToJsonString());
        Assert.True((string?)managed[2]!["manager"] == "label_manager" && (string?)managed[2]!["operation"] == "Apply" && (string?)managed[2]!["subresource"] == "status",
            managed[2]!.ToJsonString());
        foreach (var e in managed) e!.AsObject().Remove("subresource");
        var obj = Ok(await Put(Core("pods", name), pod.ToJsonString()), 200);
        managed = ManagedFields(obj);
        Assert.True(managed.Count == 2, managed.ToJsonString());
        Assert.Equal("label_manager", (string?)managed[1]!["manager"]);
        Assert.Equal("Apply", (string?)managed[1]!["operation"]);
        Assert.Equal("""{"f:metadata":{"f:labels":{"f:b":{}}}}""", Fields(managed[1]!));
    }

    // TestDroppingSubresourceFromSpecField
    [Fact]
    public async Task DroppingSubresourceFromSpecField()
    {
        const string name = "just-a-pod-dropping-from-spec";
        Ok(await Apply(Core("pods", name), SimplePod(name), "first"));
        Ok(await Patch(Core("pods", name), MergeType, """{"metadata":{"labels":{"a":"two"}}}""", "manager"), 200);
        Ok(await Patch(Core("pods", name) + "/status", MergeType, """{"status":{"phase":"Running"}}""", "manager"), 200);
        var pod = await GetOk(Core("pods", name));
        Assert.Equal("""{"a":"two"}""", pod["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal("Running", (string?)pod["status"]!["phase"]);
        var managed = ManagedFields(pod);
        Assert.True(managed.Count == 3, managed.ToJsonString());
        Assert.True((string?)managed[1]!["manager"] == "manager" && (string?)managed[1]!["operation"] == "Update" && managed[1]!["subresource"] is null,
            managed[1]!.ToJsonString());
        Assert.True((string?)managed[2]!["manager"] == "manager" && (string?)managed[2]!["operation"] == "Update" && (string?)managed[2]!["subresource"] == "status",
            managed[2]!.ToJsonString());
        foreach (var e in managed) e!.AsObject().Remove("subresource");
        var obj = Ok(await Put(Core("pods", name), pod.ToJsonString()), 200);
        managed = ManagedFields(obj);
        Assert.True(managed.Count == 2, managed.ToJsonString());
        Assert.Equal("manager", (string?)managed[1]!["manager"]);
        Assert.Equal("Update", (string?)managed[1]!["operation"]);
        Assert.Equal("""{"f:status":{"f:phase":{}}}""", Fields(managed[1]!));
    }

    // TestSubresourceField
    [Fact]
    public async Task SubresourceField()
    {
        const string name = "deployment-subresource-field";
        Ok(await Apply(Apps("deployments", name), Deployment(name), "manager"));
        Ok(await Patch(Apps("deployments", name) + "/scale", MergeType, """{"spec":{"replicas":32}}""", "manager"), 200);
        var d = await GetOk(Apps("deployments", name));
        var managed = ManagedFields(d);
        Assert.True(managed.Count == 2, managed.ToJsonString());
        Assert.True((string?)managed[0]!["manager"] == "manager" && (string?)managed[0]!["operation"] == "Apply" && managed[0]!["subresource"] is null,
            managed[0]!.ToJsonString());
        Assert.True((string?)managed[1]!["manager"] == "manager" && (string?)managed[1]!["operation"] == "Update" && (string?)managed[1]!["subresource"] == "scale"
            && Fields(managed[1]!) == """{"f:spec":{"f:replicas":{}}}""", managed[1]!.ToJsonString());
    }

    // TestApplyFormerlyAtomicFields
    [Fact(Skip = "Not served: Portcullis has no persistentvolumes resource (the test needs a PersistentVolume's claimRef)")]
    public async Task ApplyFormerlyAtomicFields()
    {
        const string path = "/api/v1/persistentvolumes";
        var original = Ok(await Post(path, """
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {
                    "creationTimestamp": "2022-06-08T23:46:32Z",
                    "finalizers": ["kubernetes.io/pv-protection"],
                    "labels": {"type": "local"},
                    "name": "pv-storage",
                    "uid": "112b18f7-fde6-4e48-aa61-f5168bd576b8"
                },
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "capacity": {"storage": "16Mi"},
                    "claimRef": {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "name": "pvc-storage",
                        "namespace": "default",
                        "resourceVersion": "15499",
                        "uid": "2018e302-7b12-406c-9fa2-e52535d29e48"
                    },
                    "hostPath": {"path": "“/tmp/mydata", "type": ""},
                    "persistentVolumeReclaimPolicy": "Retain",
                    "volumeMode": "Filesystem"
                },
                "status": {"phase": "Bound"}
            }
            """, "apply_test"), 201);
        // Set managedFields as a 1.22-1.24 server left them: claimRef owned atomically by the controller manager.
        Ok(await Patch(path + "/pv-storage", StrategicType, """
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {
                    "name": "pv-storage",
                    "managedFields": [
                        {
                            "apiVersion": "v1",
                            "fieldsType": "FieldsV1",
                            "fieldsV1": {
                                "f:metadata": {"f:labels": {"f:type": {}}},
                                "f:spec": {"f:accessModes": {}, "f:capacity": {"f:storage": {}}, "f:hostPath": {"f:path": {}}, "f:storageClassName": {}}
                            },
                            "manager": "apply_test",
                            "operation": "Apply",
                            "time": "2022-06-08T23:46:32Z"
                        },
                        {
                            "apiVersion": "v1",
                            "fieldsType": "FieldsV1",
                            "fieldsV1": {"f:status": {"f:phase": {}}},
                            "manager": "kube-controller-manager",
                            "operation": "Update",
                            "subresource": "status",
                            "time": "2022-06-08T23:46:32Z"
                        },
                        {
                            "apiVersion": "v1",
                            "fieldsType": "FieldsV1",
                            "fieldsV1": {"f:spec": {"f:claimRef": {}}},
                            "manager": "kube-controller-manager",
                            "operation": "Update",
                            "time": "2022-06-08T23:46:37Z"
                        }
                    ]
                }
            }
            """, "apply_test"), 200);
        // Re-applying writes under claimRef: no error, and the uid is kept.
        var applied = Ok(await Apply(path + "/pv-storage", """
            {
                "kind": "PersistentVolume",
                "apiVersion": "v1",
                "metadata": {"labels": {"type": "local"}, "name": "pv-storage",},
                "spec": {
                    "storageClassName": "",
                    "capacity": {"storage": "16Mi"},
                    "accessModes": ["ReadWriteOnce"],
                    "hostPath": {"path": "“/tmp/mydata"},
                    "claimRef": {"name": "pvc-storage", "namespace": "default"}
                }
            }
            """), 200);
        Assert.Equal(original["spec"]!["claimRef"]!.ToJsonString(), applied["spec"]!["claimRef"]!.ToJsonString());
        // Upstream compares typed entries with times wiped (field order of ManagedFieldsEntry).
        ExpectManagedFields(applied, """
            [
                {
                    "manager": "apply_test",
                    "operation": "Apply",
                    "apiVersion": "v1",
                    "time": null,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata":{"f:labels":{"f:type":{}}},"f:spec":{"f:accessModes":{},"f:capacity":{"f:storage":{}},"f:claimRef":{"f:name":{},"f:namespace":{}},"f:hostPath":{"f:path":{}},"f:storageClassName":{}}}
                },
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": null,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status":{"f:phase":{}}},
                    "subresource": "status"
                },
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": null,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec":{"f:claimRef":{}}}
                }
            ]
            """);
    }

    private const string DaemonSetCreateEntry = """
        {
            "manager": "create",
            "operation": "Update",
            "apiVersion": "apps/v1",
            "time": null,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:annotations": ANNOTATIONS,
                    "f:labels": {".": {}, "f:app": {}}
                },
                "f:spec": {
                    "f:revisionHistoryLimit": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                "k:{\"name\":\"nginx\"}": {
                                    ".": {},
                                    "f:env": {
                                        ".": {},
                                        "k:{\"name\":\"ENV0\"}": {".": {}, "f:name": {}, "f:value": {}}PATHENV
                                    },
                                    "f:image": {},
                                    "f:imagePullPolicy": {},
                                    "f:name": {},
                                    "f:ports": {
                                        ".": {},
                                        "k:{\"containerPort\":1,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}PORT80
                                    },
                                    "f:resources": {},
                                    "f:terminationMessagePath": {},
                                    "f:terminationMessagePolicy": {}
                                }
                            },
                            "f:dnsPolicy": {},
                            "f:restartPolicy": {},
                            "f:schedulerName": {},
                            "f:securityContext": {},
                            "f:terminationGracePeriodSeconds": {}
                        }
                    },
                    "f:updateStrategy": {
                        "f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                        "f:type": {}
                    }
                }
            }
        }
        """;

    private static string CreateEntry(bool full) => DaemonSetCreateEntry
        .Replace("ANNOTATIONS", full ? """{".": {}, "f:deprecated.daemonset.template.generation": {}}""" : "{}")
        .Replace("PATHENV", full ? """, "k:{\"name\":\"PATH\"}": {}""" : "")
        .Replace("PORT80", full ? """, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {}""" : "");

    private static string ApplyEntry(string env, string port) => Fill("""
        {
            "manager": "apply",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": null,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:selector": {},
                    "f:template": {
                        "f:spec": {
                            "f:containers": {
                                "k:{\"name\":\"nginx\"}": {
                                    ".": {},
                                    "f:env": {"k:{\"name\":\"⟨0⟩\"}": {".": {}, "f:name": {}, "f:value": {}}},
                                    "f:image": {},
                                    "f:name": {},
                                    "f:ports": {"k:{\"containerPort\":⟨1⟩,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}}}
                                }
                            }
                        }
                    }
                }
            }
        }
        """, env, port);

    // TestDuplicatesInAssociativeLists
    [Fact]
    public async Task DuplicatesInAssociativeLists()
    {
        const string name = "example-daemonset";
        string Ds(string ports, string env) => Fill("""
            {
              "apiVersion": "apps/v1",
              "kind": "DaemonSet",
              "metadata": {"name": "⟨0⟩", "labels": {"app": "example"}},
              "spec": {
                "selector": {"matchLabels": {"app": "example"}},
                "template": {
                  "metadata": {"labels": {"app": "example"}},
                  "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [⟨1⟩], "env": [⟨2⟩]}]}
                }
              }
            }
            """, name, ports, env);
        var created = Ok(await Post(Apps("daemonsets"), Ds(
            """{"name": "port0", "containerPort": 1}, {"name": "port1", "containerPort": 80}, {"name": "port2", "containerPort": 80}""",
            """{"name": "ENV0", "value": "/env0value"}, {"name": "PATH", "value": "/bin"}, {"name": "PATH", "value": "$PATH:/usr/bin"}"""), "create"), 201);
        JsonArray Env(JsonObject d) => d["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray();
        JsonArray Ports(JsonObject d) => d["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]!.AsArray();
        Assert.Equal(3, Env(created).Count);
        Assert.Equal(3, Ports(created).Count);
        ExpectManagedFields(created, "[" + CreateEntry(true) + "]");

        // Applying unrelated fields: the field manager is strictly additive.
        var applied = Ok(await Apply(Apps("daemonsets", name), """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: example-daemonset
              labels:
                app: example
            spec:
              selector:
                matchLabels:
                  app: example
              template:
                spec:
                  containers:
                    - name: nginx
                      image: nginx
                      ports:
                        - name: port3
                          containerPort: 443
                      env:
                        - name: HOME
                          value: "/usr/home"
            """, "apply"), 200);
        Assert.Equal(4, Env(applied).Count);
        Assert.Equal(4, Ports(applied).Count);
        ExpectManagedFields(applied, "[" + ApplyEntry("HOME", "443") + "," + CreateEntry(true) + "]");

        // Renaming some ports with an update.
        var updated = Ok(await Put(Apps("daemonsets", name), Ds(
            """{"name": "port0", "containerPort": 1}, {"name": "port3", "containerPort": 443}, {"name": "port4", "containerPort": 80}, {"name": "port5", "containerPort": 80}""",
            """{"name": "ENV0", "value": "/env0value"}, {"name": "PATH", "value": "/bin"}, {"name": "PATH", "value": "$PATH:/usr/bin:/usr/local/bin"}, {"name": "HOME", "value": "/usr/home"}"""),
            "update"), 200);
        Assert.Equal(4, Env(updated).Count);
        Assert.Equal(4, Ports(updated).Count);
        ExpectManagedFields(updated, "[" + ApplyEntry("HOME", "443") + "," + CreateEntry(false) + "," + """
            {
                "manager": "update",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": null,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:annotations": {"f:deprecated.daemonset.template.generation": {}}},
                    "f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                        "f:env": {"k:{\"name\":\"PATH\"}": {}},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {}}
                    }}}}}
                }
            }]
            """);

        // Replacing env vars and ports with a forced apply.
        var forced = Ok(await Apply(Apps("daemonsets", name), """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: example-daemonset
              labels:
                app: example
            spec:
              selector:
                matchLabels:
                  app: example
              template:
                spec:
                  containers:
                    - name: nginx
                      image: nginx
                      ports:
                        - name: port80
                          containerPort: 80
                      env:
                        - name: PATH
                          value: "/bin:/usr/bin:/usr/local/bin"
            """, "apply", force: true), 200);
        // HOME is removed, PATH is replaced with one.
        Assert.Equal(2, Env(forced).Count);
        Assert.Equal(2, Ports(forced).Count);
        ExpectManagedFields(forced, "[" + ApplyEntry("PATH", "80") + "," + CreateEntry(false) + "," + """
            {
                "manager": "update",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": null,
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:annotations": {"f:deprecated.daemonset.template.generation": {}}}}
            }]
            """);
    }

    // TestCreateOnApplyFailsWithForbidden
    [Fact]
    public async Task CreateOnApplyFailsWithForbidden()
    {
        const string pod = """
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "test-pod-forbidden"},
             "spec": {"containers": [{"name": "test-container", "image": "test-image"}]}}
            """;
        Task<(int Status, string Body)> AsPanda() => Tools.Curl(S, "PATCH", Query(Core("pods", "test-pod-forbidden"), "apply_test"), pod, ApplyType,
            extra: ["-H", "Impersonate-User: panda"]);
        void RequireForbidden((int Status, string Body) r, string verb)
        {
            Assert.True(r.Status == 403, r.Body);
            Assert.Equal(Compact(Fill("""
                {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                 "message":"pods \"test-pod-forbidden\" is forbidden: User \"panda\" cannot ⟨0⟩ resource \"pods\" in API group \"\" in the namespace \"default\"",
                 "reason":"Forbidden","details":{"name":"test-pod-forbidden","kind":"pods"},"code":403}
                """, verb)), Compact(r.Body));
        }
        RequireForbidden(await AsPanda(), "patch");
        await GrantPanda("patch");
        RequireForbidden(await AsPanda(), "create");
        await GrantPanda("create");
        Ok(await AsPanda(), 201);
    }

    private async Task GrantPanda(string verb)
    {
        Ok(await Post("/apis/rbac.authorization.k8s.io/v1/clusterroles", Fill("""
            {"metadata":{"name":"can-⟨0⟩-pods-ssa"},"rules":[{"verbs":["⟨1⟩"],"apiGroups":[""],"resources":["pods"]}]}
            """, verb, verb)), 201);
        Ok(await Post("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", Fill("""
            {"metadata":{"name":"can-⟨0⟩-pods-ssa"},"subjects":[{"kind":"User","name":"panda"}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"can-⟨1⟩-pods-ssa"}}
            """, verb, verb)), 201);
        // authutil.WaitForNamedAuthorizationUpdate: until a review says the verb is allowed.
        for (var i = 0; i < 100; i++)
        {
            var (_, body) = await Post("/apis/authorization.k8s.io/v1/subjectaccessreviews", Fill("""
                {"spec":{"user":"panda","resourceAttributes":{"namespace":"default","verb":"⟨0⟩","resource":"pods"}}}
                """, verb));
            if ((bool?)Json(body)["status"]?["allowed"] == true) return;
            await Task.Delay(100);
        }
        Assert.Fail($"panda never allowed to {verb} pods");
    }

    // scale_test.go

    private static string ValidAppsV1(string kind, string name) => Fill("""
        {"apiVersion": "apps/v1", "kind": "⟨0⟩", "metadata": {"name": "⟨1⟩"},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}}}}
        """, kind, name);

    private static string ValidV1ReplicationController(string name) => Fill("""
        {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "⟨0⟩"},
         "spec": {"replicas": 1, "selector": {"app": "nginx"},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}}}}
        """, name);

    private static void AssertReplicasValue(JsonObject o, int value) => Assert.Equal(value, (int?)o["spec"]!["replicas"]);

    /// <summary>upstream's assertReplicasOwnership: exactly these managers own spec.replicas.</summary>
    private static void AssertReplicasOwnership(JsonObject o, params string[] managers)
    {
        var owners = ManagedFields(o).Where(e => e!["fieldsV1"]?["f:spec"]?["f:replicas"] is not null).Select(e => (string)e!["manager"]!).ToList();
        foreach (var owner in owners) Assert.True(managers.Contains(owner), $"unexpected owner {owner} of spec.replicas: {ManagedFields(o).ToJsonString()}");
        foreach (var m in managers) Assert.True(owners.Contains(m), $"spec.replicas should be owned by {m}: {ManagedFields(o).ToJsonString()}");
    }

    // TestScaleAllResources
    [Theory]
    [InlineData("Deployment", "deployments")]
    [InlineData("StatefulSet", "statefulsets")]
    [InlineData("ReplicaSet", "replicasets")]
    [InlineData("ReplicationController", "replicationcontrollers")]
    public async Task ScaleAllResources(string kind, string resource)
    {
        var name = "scale-" + resource;
        var path = kind == "ReplicationController" ? Core(resource, name) : Apps(resource, name);
        var valid = kind == "ReplicationController" ? ValidV1ReplicationController(name) : ValidAppsV1(kind, name);
        string Scale(int replicas) =>
            Fill("""{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"⟨0⟩","namespace":"default"},"spec":{"replicas":⟨1⟩}}""", name, replicas);

        Ok(await Apply(path, valid), 201);
        var obj = await GetOk(path);
        AssertReplicasValue(obj, 1);
        AssertReplicasOwnership(obj, "apply_test");

        // The scale subresource updates replicas.
        Ok(await Patch(path + "/scale", MergeType, """{"spec":{"replicas": 5}}""", "scale_test"), 200);
        obj = await GetOk(path);
        AssertReplicasValue(obj, 5);
        AssertReplicasOwnership(obj, "scale_test");

        // Re-applying the original object conflicts: replicas have changed.
        var (code, body) = await Apply(path, valid);
        Assert.True(code == 409, body);

        // Forcing succeeds.
        Ok(await Apply(path, valid, force: true), 200);
        obj = await GetOk(path);
        AssertReplicasValue(obj, 1);
        AssertReplicasOwnership(obj, "apply_test");

        // Applying a Scale with other replicas conflicts with apply_test.
        (code, body) = await Apply(path + "/scale", Scale(17), "apply_scale");
        Assert.True(code == 409, body);
        Assert.Contains("apply_test", body);

        // Forced: only the new manager owns spec.replicas.
        Ok(await Apply(path + "/scale", Scale(17), "apply_scale", force: true), 200);
        obj = await GetOk(path);
        AssertReplicasValue(obj, 17);
        AssertReplicasOwnership(obj, "apply_scale");

        // Replacing the Scale.
        Ok(await Put(path + "/scale", Scale(7), "replace_test"), 200);
        obj = await GetOk(path);
        AssertReplicasValue(obj, 7);
        AssertReplicasOwnership(obj, "replace_test");

        // Applying the same replicas: both managers own the field.
        Ok(await Apply(path + "/scale", Scale(7), "co_owning_test"), 200);
        obj = await GetOk(path);
        AssertReplicasValue(obj, 7);
        AssertReplicasOwnership(obj, "replace_test", "co_owning_test");

        // Scaling again makes this manager the only owner.
        Ok(await Patch(path + "/scale", MergeType, """{"spec":{"replicas": 5}}""", "scale_test"), 200);
        obj = await GetOk(path);
        AssertReplicasValue(obj, 5);
        AssertReplicasOwnership(obj, "scale_test");
    }

    // TestScaleUpdateOnlyStatus
    [Fact]
    public async Task ScaleUpdateOnlyStatus()
    {
        const string name = "scale-only-status";
        var path = Apps("deployments", name);
        Ok(await Apply(path, ValidAppsV1("Deployment", name)), 201);
        var obj = await GetOk(path);
        AssertReplicasValue(obj, 1);
        AssertReplicasOwnership(obj, "apply_test");
        Ok(await Patch(path + "/scale", MergeType, """{"status":{"replicas": 42}}""", "scale_test"), 200);
        obj = await GetOk(path);
        AssertReplicasValue(obj, 1);
        AssertReplicasOwnership(obj, "apply_test");
    }

    // apply_crd_test.go

    private const string PortsSchema = """
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                    "properties": {
                        "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                        "ports": {
                            "type": "array",
                            "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                            "x-kubernetes-list-type": "map",
                            "items": {
                                "properties": {
                                    "containerPort": {"format": "int32", "type": "integer"},
                                    "hostIP": {"type": "string"},
                                    "hostPort": {"format": "int32", "type": "integer"},
                                    "name": {"type": "string"},
                                    "protocol": PROTOCOL
                                },
                                "required": REQUIRED,
                                "type": "object"
                            }
                        }
                    }
                }
            }
        }
        """;

    /// <summary>The apiextensions fixtures' noxu CRD (cluster scoped), in its own group, with the given versions' schema; waits until established.</summary>
    private async Task<string> InstallNoxu(string group, string schema, params string[] versions)
    {
        var list = string.Join(",", versions.Select((v, i) =>
            Fill("""{"name":"⟨0⟩","served":true,"storage":⟨1⟩,"schema":{"openAPIV3Schema":⟨2⟩}}""", v, (i == 0 ? "true" : "false"), schema)));
        Ok(await Post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Fill("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"noxus.⟨0⟩"},
             "spec":{"group":"⟨1⟩","scope":"Cluster",
                "names":{"plural":"noxus","singular":"nonenglishnoxu","kind":"WishIHadChosenNoxu","shortNames":["foo","bar","abc","def"],"listKind":"NoxuItemList","categories":["all"]},
                "versions":[⟨2⟩]}}
            """, group, group, list)), 201);
        for (var i = 0; i < 150; i++)
        {
            var crd = await GetOk("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/noxus." + group);
            if (crd["status"]?["conditions"]?.AsArray().Any(c => (string?)c!["type"] == "Established" && (string?)c["status"] == "True") == true)
            {
                // Served once discovery has it: a GET on the list answers.
                for (var j = 0; j < 150; j++)
                {
                    if ((await Get($"/apis/{group}/{versions[0]}/noxus")).Status == 200) return $"/apis/{group}/{versions[0]}/noxus";
                    await Task.Delay(200);
                }
            }
            await Task.Delay(200);
        }
        throw new Xunit.Sdk.XunitException($"noxus.{group} never established");
    }

    private static void VerifyFinalizers(JsonObject o, params string[] finalizers)
    {
        var got = o["metadata"]!["finalizers"]!.AsArray().Select(x => (string)x!).ToList();
        Assert.Equal(finalizers.Length, got.Count);
        foreach (var fz in finalizers) Assert.Contains(fz, got);
    }

    private static void VerifyReplicas(JsonObject o, long r)
    {
        var replicas = o["spec"]!["replicas"]!.AsValue();
        // Upstream requires an int64 in the decoded object: an integer in the JSON.
        Assert.True(replicas.TryGetValue<long>(out var n) && !replicas.ToJsonString().Contains('.'), replicas.ToJsonString());
        Assert.Equal(r, n);
    }

    private static void VerifyNumPorts(JsonObject o, int n) => Assert.Equal(n, o["spec"]!["ports"]!.AsArray().Count);

    // TestApplyCRDStructuralSchema
    [Fact]
    public async Task ApplyCRDStructuralSchema()
    {
        var schema = PortsSchema.Replace("PROTOCOL", """{"type": "string"}""").Replace("REQUIRED", """["containerPort", "protocol"]""");
        var path = await InstallNoxu("ssa-structural.example.com", schema, "v1beta1", "v1beta2", "v0");
        const string apiVersion = "ssa-structural.example.com/v1beta1";
        var yaml = $"""
            apiVersion: {apiVersion}
            kind: WishIHadChosenNoxu
            metadata:
              name: mytest
              finalizers:
              - test-finalizer
            spec:
              cronSpec: "* * * * */5"
              replicas: 1
              ports:
              - name: x
                containerPort: 80
                protocol: TCP
            """;
        var result = Ok(await Apply(path + "/mytest", yaml), 201);
        VerifyFinalizers(result, "test-finalizer");
        VerifyReplicas(result, 1);
        VerifyNumPorts(result, 1);

        // A merge patch adds another finalizer.
        result = Ok(await Patch(path + "/mytest", MergeType, """{"metadata":{"finalizers":["test-finalizer","another-one"]}}"""), 200);
        VerifyFinalizers(result, "test-finalizer", "another-one");

        // Re-applying the same config works: finalizers are a set.
        result = Ok(await Apply(path + "/mytest", yaml), 200);
        VerifyFinalizers(result, "test-finalizer", "another-one");

        result = Ok(await Patch(path + "/mytest", MergeType, """{"spec":{"replicas": 5}}"""), 200);
        VerifyReplicas(result, 5);

        // Re-applying conflicts on replicas.
        var (code, body) = await Apply(path + "/mytest", yaml);
        Assert.True(code == 409, body);
        Assert.True(Json(body)["details"]!["causes"]!.AsArray().Count == 1, body);

        result = Ok(await Apply(path + "/mytest", yaml, force: true), 200);
        VerifyReplicas(result, 1);

        // A new applier editing an existing list item conflicts.
        (code, body) = await Apply(path + "/mytest", $"""
            apiVersion: {apiVersion}
            kind: WishIHadChosenNoxu
            metadata:
              name: mytest
            spec:
              ports:
              - name: "y"
                containerPort: 80
                protocol: TCP
            """, "apply_test_2");
        Assert.True(code == 409, body);
        Assert.True(Json(body)["details"]!["causes"]!.AsArray().Count == 1, body);

        // A new applier adding a list item works.
        result = Ok(await Apply(path + "/mytest", $"""
            apiVersion: {apiVersion}
            kind: WishIHadChosenNoxu
            metadata:
              name: mytest
            spec:
              ports:
              - name: "y"
                containerPort: 8080
                protocol: TCP
            """, "apply_test_2"), 200);
        VerifyNumPorts(result, 2);

        // An update does not create.
        (code, body) = await Put(path + "/should-not-exist", Fill("""
            {"apiVersion": "⟨0⟩", "kind": "WishIHadChosenNoxu",
             "metadata": {"name": "should-not-exist", "finalizers": ["test-finalizer"]},
             "spec": {"cronSpec": "* * * * */5", "replicas": 1, "ports": [{"name": "x", "containerPort": 80}]},
             "protocol": "TCP"}
            """, apiVersion), "apply_test");
        Assert.True(code == 404, body);
    }

    // TestDefaultMissingKeyCRD
    [Fact]
    public async Task DefaultMissingKeyCRD()
    {
        var schema = PortsSchema.Replace("PROTOCOL", """{"default": "TCP", "type": "string"}""").Replace("REQUIRED", """["containerPort"]""");
        var path = await InstallNoxu("ssa-default-key.example.com", schema, "v1beta1");
        const string apiVersion = "ssa-default-key.example.com/v1beta1";
        Ok(await Apply(path + "/mytest", $"""
            apiVersion: {apiVersion}
            kind: WishIHadChosenNoxu
            metadata:
              name: mytest
              finalizers:
              - test-finalizer
            spec:
              cronSpec: "* * * * */5"
              replicas: 1
              ports:
              - name: x
                containerPort: 80
            """), 201);
        // The defaulted protocol is part of the key: another applier editing the item conflicts.
        var (code, body) = await Apply(path + "/mytest", $"""
            apiVersion: {apiVersion}
            kind: WishIHadChosenNoxu
            metadata:
              name: mytest
            spec:
              ports:
              - name: "y"
                containerPort: 80
                protocol: TCP
            """, "apply_test_2");
        Assert.True(code == 409, body);
        Assert.True(Json(body)["details"]!["causes"]!.AsArray().Count == 1, body);
    }

    // TestNoOpApplyWithDefaultsSameResourceVersionCRD
    [Fact]
    public async Task NoOpApplyWithDefaultsSameResourceVersionCRD()
    {
        var path = await InstallNoxu("ssa-noop-defaults.example.com", """
            {"type": "object", "properties": {"spec": {"type": "object", "properties": {
                "infrastructureRef": {"type": "object", "properties": {
                    "name": {"type": "string"},
                    "namespace": {"type": "string", "default": "default-namespace"}},
                    "x-kubernetes-map-type": "atomic"}}}}}
            """, "v1beta1");
        var config = """
            {"apiVersion": "ssa-noop-defaults.example.com/v1beta1", "kind": "WishIHadChosenNoxu",
             "metadata": {"name": "mytest"}, "spec": {"infrastructureRef": {"name": "infrastructure-machine-1\n"}}}
            """;
        var created = Ok(await Apply(path + "/mytest", config), 201);
        // Upstream sleeps so that a write would carry a different managedFields time.
        await Task.Delay(1000);
        var updated = Ok(await Apply(path + "/mytest", config), 200);
        Assert.Equal(Rv(created), Rv(updated));
    }

    // status_test.go: TestApplyStatus, for the kinds served here with a status subresource; stubs from
    // test/integration/etcd/data.go (the e2e busybox image named plainly), status bodies from statusData.

    private const string StatusDefault = """{"status": {"conditions": [{"type": "MyStatus", "status":"True"}]}}""";
    private const string LoadBalancerStatus = """{"status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}}""";

    public static TheoryData<string, string, string, bool, string, string> StatusCases() => new()
    {
        { "v1", "pods", "Pod", true, """{"metadata": {"name": "pod1"}, "spec": {"containers": [{"image": "busybox", "name": "container7", "resources": {"limits": {"cpu": "1M"}, "requests": {"cpu": "1M"}}}]}}""", StatusDefault },
        { "v1", "services", "Service", true, """{"metadata": {"name": "service1"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 10000, "targetPort": 11000}], "selector": {"test": "data"}}}""", LoadBalancerStatus },
        { "v1", "resourcequotas", "ResourceQuota", true, """{"metadata": {"name": "rq1name"}, "spec": {"hard": {"cpu": "5M"}}}""", """{"status": {"used": {"cpu": "5M"}}}""" },
        { "v1", "namespaces", "Namespace", false, """{"metadata": {"name": "namespace1"}, "spec": {"finalizers": ["kubernetes"]}}""", StatusDefault },
        { "v1", "nodes", "Node", false, """{"metadata": {"name": "node1"}, "spec": {"unschedulable": true}}""", StatusDefault },
        { "v1", "replicationcontrollers", "ReplicationController", true, """{"metadata": {"name": "rc1"}, "spec": {"selector": {"new": "stuff"}, "template": {"metadata": {"labels": {"new": "stuff"}}, "spec": {"containers": [{"image": "busybox", "name": "container8"}]}}}}""", StatusDefault },
        { "apps/v1", "daemonsets", "DaemonSet", true, """{"metadata": {"name": "ds6"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"image": "busybox", "name": "container6"}]}}}}""", StatusDefault },
        { "apps/v1", "deployments", "Deployment", true, """{"metadata": {"name": "deployment4"}, "spec": {"selector": {"matchLabels": {"f": "z"}}, "template": {"metadata": {"labels": {"f": "z"}}, "spec": {"containers": [{"image": "busybox", "name": "container6"}]}}}}""", StatusDefault },
        { "apps/v1", "statefulsets", "StatefulSet", true, """{"metadata": {"name": "ss3"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}}}}""", StatusDefault },
        { "apps/v1", "replicasets", "ReplicaSet", true, """{"metadata": {"name": "rs3"}, "spec": {"selector": {"matchLabels": {"g": "h"}}, "template": {"metadata": {"labels": {"g": "h"}}, "spec": {"containers": [{"image": "busybox", "name": "container4"}]}}}}""", StatusDefault },
        { "autoscaling/v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, """{"metadata": {"name": "hpa2"}, "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "something", "name": "cross"}}}""", """{"status": {"currentReplicas": 5}}""" },
        { "autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, """{"metadata": {"name": "hpa4"}, "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "something", "name": "cross"}}}""", """{"status": {"currentReplicas": 5}}""" },
        { "batch/v1", "jobs", "Job", true, """{"metadata": {"name": "job1"}, "spec": {"manualSelector": true, "selector": {"matchLabels": {"controller-uid": "uid1"}}, "template": {"metadata": {"labels": {"controller-uid": "uid1"}}, "spec": {"containers": [{"image": "busybox", "name": "container1"}], "dnsPolicy": "ClusterFirst", "restartPolicy": "Never"}}}}""", StatusDefault },
        { "batch/v1", "cronjobs", "CronJob", true, """{"metadata": {"name": "cjv1"}, "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"controller-uid": "uid0"}}, "spec": {"containers": [{"image": "busybox", "name": "container0"}], "dnsPolicy": "ClusterFirst", "restartPolicy": "Never"}}}}, "schedule": "* * * * *"}}""", """{"status": {"lastScheduleTime": null}}""" },
        { "networking.k8s.io/v1", "ingresses", "Ingress", true, """{"metadata": {"name": "ingress3"}, "spec": {"defaultBackend": {"service":{"name":"service", "port":{"number": 5000}}}}}""", LoadBalancerStatus },
        { "policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", true, """{"metadata": {"name": "pdbv1"}, "spec": {"selector": {"matchLabels": {"anokkey": "anokvalue"}}}}""", """{"status": {"currentHealthy": 5}}""" },
    };

    private async Task EnsureNamespace(string name)
    {
        var (code, body) = await Post("/api/v1/namespaces", Fill("""{"metadata":{"name":"⟨0⟩"}}""", name));
        Assert.True(code is 201 or 409, body);
    }

    // TestApplyStatus
    [Theory]
    [MemberData(nameof(StatusCases))]
    public async Task ApplyStatus(string groupVersion, string resource, string kind, bool namespaced, string stub, string status)
    {
        const string testNamespace = "statusnamespace";
        if (namespaced) await EnsureNamespace(testNamespace);
        var prefix = groupVersion == "v1" ? "/api/v1" : "/apis/" + groupVersion;
        var collection = namespaced ? $"{prefix}/namespaces/{testNamespace}/{resource}" : $"{prefix}/{resource}";
        var obj = Json(stub);
        var name = (string)obj["metadata"]!["name"]!;
        // The stubs carry no apiVersion or kind; apply needs them.
        obj["apiVersion"] = groupVersion;
        obj["kind"] = kind;
        Ok(await Apply($"{collection}/{name}", obj.ToJsonString(), "create_test"), 201);

        var statusObj = Json(status);
        statusObj["apiVersion"] = groupVersion;
        statusObj["kind"] = kind;
        statusObj["metadata"] = new JsonObject { ["name"] = name };
        var applied = Ok(await Apply($"{collection}/{name}/status", statusObj.ToJsonString(), "apply_status_test", force: true), 200);
        var managers = ManagedFields(applied).Select(e => (string?)e!["manager"]).ToList();
        Assert.True(managers.Contains("apply_status_test"), ManagedFields(applied).ToJsonString());
        Assert.True(managers.Contains("create_test"), ManagedFields(applied).ToJsonString());

        var (code, body) = await Tools.Curl(S, "DELETE", $"{collection}/{name}", """{"gracePeriodSeconds":0}""");
        Assert.True(code is 200 or 202, body);
    }
}

/// <summary>
/// The server as upstream's apply integration tests start it (framework.DefaultTestServerFlags): without
/// the ServiceAccount admission plugin, there being no service account controller.
/// </summary>
public sealed class SsaServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; } = new();
    public Task InitializeAsync() => Server.StartAsync("--disable-admission-plugins", "ServiceAccount");
    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}
