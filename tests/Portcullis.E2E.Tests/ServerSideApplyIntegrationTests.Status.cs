using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Upstream's status_test.go.</summary>
public sealed partial class ServerSideApplyIntegrationTests
{
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
