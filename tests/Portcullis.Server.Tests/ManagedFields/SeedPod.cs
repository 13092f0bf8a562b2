using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Registry.ManagedFields;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.ManagedFields;

/// <summary>The seed walkthrough's pod (kubectl apply of a ServiceAccount demo) and helpers.</summary>
internal static class SeedPod
{
    public static StructSchema PodSchema => SchemaRegistry.Default.Get("core/v1.Pod");

    public static readonly DateTimeOffset Created = DateTimeOffset.Parse("2025-02-08T22:40:04Z");
    public static readonly DateTimeOffset Started = DateTimeOffset.Parse("2025-02-08T22:40:09Z");

    private const string LastApplied =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"annotations\":{},\"name\":\"test-pod\",\"namespace\":\"default\"},\"spec\":{\"containers\":[{\"command\":[\"sleep\",\"3600\"],\"image\":\"curlimages/curl\",\"name\":\"test-container\"}],\"serviceAccountName\":\"demo-sa\"}}\n";

    /// <summary>What kubectl apply (client side) sends to create the pod.</summary>
    public static JsonObject Request() => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject
        {
            ["annotations"] = new JsonObject { ["kubectl.kubernetes.io/last-applied-configuration"] = LastApplied },
            ["name"] = "test-pod",
            ["namespace"] = "default",
        },
        ["spec"] = new JsonObject
        {
            ["containers"] = new JsonArray(new JsonObject
            {
                ["command"] = new JsonArray("sleep", "3600"),
                ["image"] = "curlimages/curl",
                ["name"] = "test-container",
            }),
            ["serviceAccountName"] = "demo-sa",
        },
    };

    /// <summary>A request body decoded, defaulted and shaped as the server stores it.</summary>
    public static JsonObject Defaulted(JsonObject request)
    {
        Kinds.Of("", "Pod").Default(request);
        return ObjectShaper.Shape(request, PodSchema);
    }

    public static JsonObject Create(JsonObject request, string manager, DateTimeOffset now)
    {
        var pod = Defaulted(request);
        ManagedFieldsUpdater.Update(pod, null, manager, "v1", "", now, PodSchema, true);
        return pod;
    }

    /// <summary>The created pod as stored: uid and status set by the server after tracking.</summary>
    public static JsonObject Stored()
    {
        var pod = Create(Request(), "kubectl-client-side-apply", Created);
        var meta = pod["metadata"]!.AsObject();
        meta["uid"] = "35da751c-1fb0-4d7c-a7ad-c8c85e6c6e46";
        meta["resourceVersion"] = "210540";
        meta["creationTimestamp"] = "2025-02-08T22:40:04Z";
        pod["status"] = JsonNode.Parse("""
            {"phase":"Pending","conditions":[{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"2025-02-08T22:40:04Z"}],"qosClass":"BestEffort"}
            """);
        return ObjectShaper.Shape(pod, PodSchema);
    }

    public static JsonArray Entries(JsonObject obj) => obj["metadata"]!["managedFields"]!.AsArray();

    public static JsonObject Entry(JsonObject obj, string manager) =>
        Entries(obj).Single(e => (string?)e!["manager"] == manager)!.AsObject();

    public static string Json(JsonNode? n) => GoJsonWriter.ToString(n);

    public static void AssertJson(string expected, JsonNode? actual) =>
        Assert.Equal(Json(JsonNode.Parse(expected)), Json(actual));

    public const string ClientSideApplyEntry = """
        {
          "manager": "kubectl-client-side-apply",
          "operation": "Update",
          "apiVersion": "v1",
          "time": "2025-02-08T22:40:04Z",
          "fieldsType": "FieldsV1",
          "fieldsV1": {
            "f:metadata": {
              "f:annotations": {
                ".": {},
                "f:kubectl.kubernetes.io/last-applied-configuration": {}
              }
            },
            "f:spec": {
              "f:containers": {
                "k:{\"name\":\"test-container\"}": {
                  ".": {},
                  "f:command": {},
                  "f:image": {},
                  "f:imagePullPolicy": {},
                  "f:name": {},
                  "f:resources": {},
                  "f:terminationMessagePath": {},
                  "f:terminationMessagePolicy": {}
                }
              },
              "f:dnsPolicy": {},
              "f:enableServiceLinks": {},
              "f:restartPolicy": {},
              "f:schedulerName": {},
              "f:securityContext": {},
              "f:serviceAccount": {},
              "f:serviceAccountName": {},
              "f:terminationGracePeriodSeconds": {}
            }
          }
        }
        """;

    public const string KubeletEntry = """
        {
          "manager": "kubelet",
          "operation": "Update",
          "apiVersion": "v1",
          "time": "2025-02-08T22:40:09Z",
          "fieldsType": "FieldsV1",
          "fieldsV1": {
            "f:status": {
              "f:conditions": {
                "k:{\"type\":\"ContainersReady\"}": {
                  ".": {},
                  "f:lastProbeTime": {},
                  "f:lastTransitionTime": {},
                  "f:status": {},
                  "f:type": {}
                },
                "k:{\"type\":\"Initialized\"}": {
                  ".": {},
                  "f:lastProbeTime": {},
                  "f:lastTransitionTime": {},
                  "f:status": {},
                  "f:type": {}
                },
                "k:{\"type\":\"PodReadyToStartContainers\"}": {
                  ".": {},
                  "f:lastProbeTime": {},
                  "f:lastTransitionTime": {},
                  "f:status": {},
                  "f:type": {}
                },
                "k:{\"type\":\"Ready\"}": {
                  ".": {},
                  "f:lastProbeTime": {},
                  "f:lastTransitionTime": {},
                  "f:status": {},
                  "f:type": {}
                }
              },
              "f:containerStatuses": {},
              "f:hostIP": {},
              "f:hostIPs": {},
              "f:phase": {},
              "f:podIP": {},
              "f:podIPs": {
                ".": {},
                "k:{\"ip\":\"10.244.1.61\"}": {
                  ".": {},
                  "f:ip": {}
                }
              },
              "f:startTime": {}
            }
          },
          "subresource": "status"
        }
        """;

    /// <summary>The status kubelet writes once the container runs (the seed's status).</summary>
    public static JsonObject RunningStatus() => JsonNode.Parse("""
        {
          "phase": "Running",
          "conditions": [
            {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-02-08T22:40:09Z"},
            {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-02-08T22:40:04Z"},
            {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-02-08T22:40:09Z"},
            {"type": "ContainersReady", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-02-08T22:40:09Z"},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-02-08T22:40:04Z"}
          ],
          "hostIP": "172.21.0.4",
          "hostIPs": [{"ip": "172.21.0.4"}],
          "podIP": "10.244.1.61",
          "podIPs": [{"ip": "10.244.1.61"}],
          "startTime": "2025-02-08T22:40:04Z",
          "containerStatuses": [
            {
              "name": "test-container",
              "state": {"running": {"startedAt": "2025-02-08T22:40:09Z"}},
              "lastState": {},
              "ready": true,
              "restartCount": 0,
              "image": "docker.io/curlimages/curl:latest",
              "imageID": "docker.io/curlimages/curl@sha256:3dfa70a646c5d03ddf0e7c0ff518a5661e95b8bcbc82079f0fb7453a96eaae35",
              "containerID": "containerd://2599a892e6c01b69be16d90b946a5f8fc56a66591fe1dc2b45f95991aab423d1",
              "started": true
            }
          ],
          "qosClass": "BestEffort"
        }
        """)!.AsObject();
}
