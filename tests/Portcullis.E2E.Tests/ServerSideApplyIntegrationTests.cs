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
public sealed partial class ServerSideApplyIntegrationTests(SsaServerFixture f) : IClassFixture<SsaServerFixture>
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
}

/// <summary>
/// The server as upstream's apply integration tests start it (framework.DefaultTestServerFlags): without
/// the ServiceAccount admission plugin, there being no service account controller, and without the controllers
/// that would write to the StatefulSets, DaemonSets and PersistentVolumes the tests create (kube-apiserver runs alone there).
/// </summary>
public sealed class SsaServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; } = new();
    public Task InitializeAsync() => Server.StartAsync("--disable-admission-plugins", "ServiceAccount",
        "--controllers", "*,-statefulset,-daemonset,-persistentvolume-binder");
    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}
