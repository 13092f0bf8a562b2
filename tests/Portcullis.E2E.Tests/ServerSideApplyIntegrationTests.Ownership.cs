using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Upstream's apply_test.go, part 3: subresources, unsetting and transferring fields, client-side upgrade, renamed managers, forbidden creates.</summary>
public sealed partial class ServerSideApplyIntegrationTests
{
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
    [Fact]
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
}
