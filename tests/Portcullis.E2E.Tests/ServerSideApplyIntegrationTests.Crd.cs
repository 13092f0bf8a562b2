using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Upstream's apply_crd_test.go.</summary>
public sealed partial class ServerSideApplyIntegrationTests
{
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
}
