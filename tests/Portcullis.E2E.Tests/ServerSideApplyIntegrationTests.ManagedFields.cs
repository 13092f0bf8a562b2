using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Upstream's apply_test.go, part 2: managedFields shape, clearing them, errors that must not fail a write.</summary>
public sealed partial class ServerSideApplyIntegrationTests
{
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
}
