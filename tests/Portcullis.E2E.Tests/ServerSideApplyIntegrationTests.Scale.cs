using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Upstream's scale_test.go.</summary>
public sealed partial class ServerSideApplyIntegrationTests
{
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
}
