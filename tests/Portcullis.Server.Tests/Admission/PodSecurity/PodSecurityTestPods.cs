using System.Text.Json.Nodes;
using Portcullis.Server.Admission.PodSecurity;

namespace Portcullis.Server.Tests.Admission.PodSecurity;

/// <summary>Pods for the PodSecurity tests and a one-line evaluation helper.</summary>
internal static class PodSecurityTestPods
{
    public static readonly PodSecurityEvaluator Evaluator = new();

    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private static JsonObject Named(string name, string json) => Parse(json.Replace("NAME", name));

    /// <summary>A pod that passes restricted: pod-level runAsNonRoot and seccomp, hardened container "c".</summary>
    public static JsonObject RestrictedPod(string name = "p") => Named(name, """
        {
          "apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": "NAME", "namespace": "ns"},
          "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "image": "nginx",
              "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
          }
        }
        """);

    /// <summary>A pod with one plain container "c" (passes baseline, fails restricted).</summary>
    public static JsonObject PlainPod(string name = "p") => Named(name, """
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "NAME", "namespace": "ns"},
         "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        """);

    /// <summary>Host namespaces, a privileged container and a hostPath volume.</summary>
    public static JsonObject PrivilegedPod(string name = "x") => Named(name, """
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "NAME", "namespace": "ns"},
         "spec": {"hostNetwork": true, "hostPID": true,
           "containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}}],
           "volumes": [{"name": "host", "hostPath": {"path": "/"}}]}}
        """);

    /// <summary>Applies a JSON edit to a copy of <paramref name="pod"/>'s spec (or the whole pod).</summary>
    public static JsonObject With(JsonObject pod, Action<JsonObject> edit)
    {
        var copy = pod.DeepClone().AsObject();
        edit(copy);
        return copy;
    }

    public static JsonObject Spec(JsonObject pod) => pod["spec"]!.AsObject();

    public static JsonObject Container(JsonObject pod, int i = 0) => pod["spec"]!["containers"]![i]!.AsObject();

    public static JsonObject ContainerSc(JsonObject pod, int i = 0)
    {
        var c = Container(pod, i);
        if (c["securityContext"] is not JsonObject sc) c["securityContext"] = sc = new JsonObject();
        return sc;
    }

    public static JsonObject PodSc(JsonObject pod)
    {
        var spec = Spec(pod);
        if (spec["securityContext"] is not JsonObject sc) spec["securityContext"] = sc = new JsonObject();
        return sc;
    }

    public static LevelVersion Lv(string level, string version = "latest") =>
        new(PodSecurityLabels.ParseLevel(level, out _), PodSecurityLabels.ParseVersion(version, out _));

    public static AggregateCheckResult Eval(JsonObject pod, string level, string version = "latest") =>
        Evaluator.Evaluate(Lv(level, version), pod["metadata"] as JsonObject, pod["spec"] as JsonObject);

    /// <summary>The aggregated detail ("" when allowed).</summary>
    public static string Detail(JsonObject pod, string level, string version = "latest") => Eval(pod, level, version).ForbiddenDetail();
}
