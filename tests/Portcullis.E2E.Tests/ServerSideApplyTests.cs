using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Server-side apply with real kubectl 1.27, 1.30 and 1.33, curl and KubernetesClient: create-by-apply, managedFields
/// as upstream encodes them, shared ownership and removal, conflicts and --force-conflicts, the client-side to
/// server-side migration and back, subresources, custom objects, and the errors upstream answers.
/// </summary>
public sealed class ServerSideApplyTests(NoWorkloadControllersFixture f) : IClassFixture<NoWorkloadControllersFixture>
{
    private ServerProcess S => f.Server;

    private async Task<CommandResult> Ok(string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(S, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task<CommandResult> OkIn(string kubectl, string stdin, params string[] args)
    {
        var r = await Tools.KubectlIn(S, kubectl, stdin, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Compact JSON with every object's keys sorted (kubectl -o json sorts them; the API does not).</summary>
    private static string Canonical(JsonNode? n) => Sorted(n)?.ToJsonString(Relaxed) ?? "null";

    private static JsonNode? Sorted(JsonNode? n) => n switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Sorted)]),
        _ => n?.DeepClone(),
    };

    /// <summary>Each manager's entry without its time, canonical, in the order upstream sorts the entries.</summary>
    private static List<string> Entries(JsonNode obj) =>
        [.. obj["metadata"]!["managedFields"]!.AsArray().Select(e =>
        {
            var copy = e!.AsObject().DeepClone().AsObject();
            copy.Remove("time");
            return Canonical(copy);
        })];

    /// <summary>An expected entry, canonical.</summary>
    private static string E(string json) => Canonical(JsonNode.Parse(json));

    private async Task<JsonNode> Get(string kubectl, params string[] what) =>
        JsonNode.Parse((await Ok(kubectl, ["get", .. what, "-o", "json", "--show-managed-fields"])).Stdout)!;

    private static string Deployment(string ns, int replicas, string image = "nginx:1.25", bool ports = true) => $"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: {ns}
          labels: {"{app: web}"}
        spec:
          replicas: {replicas}
          selector: {"{matchLabels: {app: web}}"}
          template:
            metadata: {"{labels: {app: web}}"}
            spec:
              containers:
              - name: nginx
                image: {image}
        """ + (ports ? "\n        ports: [{containerPort: 80}]" : "");

    [Theory]
    [InlineData("1.27")]
    [InlineData("1.30")]
    [InlineData("1.33")]
    public async Task Kubectl_ServerSide_CreatesOwnsConflictsAndForces(string version)
    {
        var k = Tools.KubectlVersion(version);
        var ns = "ssa-" + version.Replace(".", "");
        await Tools.Kubectl(S, k, "create", "namespace", ns);

        // create-by-apply: a PATCH answered 201
        var created = await OkIn(k, Deployment(ns, 2), "apply", "--server-side", "-f", "-", "-v=6");
        Assert.Contains("deployment.apps/web serverside-applied", created.Stdout);
        Assert.Contains("201 Created", created.Stderr);
        Assert.Contains("/apis/apps/v1/namespaces/" + ns + "/deployments/web?fieldManager=kubectl", created.Stderr);

        // What the configuration holds, as structured-merge-diff's ToFieldSet encodes it: leaves and map keys as
        // members, list items by key with ".", the list-map key's default (protocol TCP) in the key, no metadata.name.
        var obj = await Get(k, "deployment", "web", "-n", ns);
        Assert.Equal(
        [
            E("""{"manager":"kubectl","operation":"Apply","apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}}"""),
        ], Entries(obj));

        // Another manager takes replicas (through the scale subresource); applying a new value conflicts.
        await Ok(k, "scale", "deployment", "web", "-n", ns, "--replicas=5");
        var conflict = await Tools.KubectlIn(S, k, Deployment(ns, 3), "apply", "--server-side", "-f", "-");
        Assert.NotEqual(0, conflict.ExitCode);
        Assert.Matches("Apply failed with 1 conflict: conflict with \"[^\"]+\" with subresource \"scale\" using apps/v1: \\.spec\\.replicas", conflict.Stderr);
        Assert.Equal("5", (await Ok(k, "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}")).Stdout);

        // Applying the value the other manager set shares the field: no conflict.
        await OkIn(k, Deployment(ns, 5), "apply", "--server-side", "-f", "-");
        // --force-conflicts takes it.
        await OkIn(k, Deployment(ns, 3, "nginx:1.26"), "apply", "--server-side", "--force-conflicts", "-f", "-");
        obj = await Get(k, "deployment", "web", "-n", ns);
        Assert.Equal(3, (int)obj["spec"]!["replicas"]!);
        Assert.Equal("nginx:1.26", (string)obj["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!);
        var managers = obj["metadata"]!["managedFields"]!.AsArray().Select(e => (string)e!["manager"]!).ToList();
        Assert.Equal(["kubectl"], managers);

        // A manager that stops applying a field it alone owned removes it: the container port goes.
        await OkIn(k, Deployment(ns, 3, "nginx:1.26", ports: false), "apply", "--server-side", "-f", "-");
        obj = await Get(k, "deployment", "web", "-n", ns);
        Assert.Null(obj["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]);
    }

    [Fact]
    public async Task SharedOwnership_KeepsWhatAnotherManagerStillApplies()
    {
        var k = Tools.KubectlVersion("1.33");
        static string Cm(string data) => $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: shared, namespace: default}}\ndata: {data}\n";
        await OkIn(k, Cm("{a: \"1\", b: \"2\"}"), "apply", "--server-side", "--field-manager=m1", "-f", "-");
        await OkIn(k, Cm("{a: \"1\", c: \"3\"}"), "apply", "--server-side", "--field-manager=m2", "-f", "-");
        await OkIn(k, Cm("{d: \"4\"}"), "apply", "--server-side", "--field-manager=m1", "-f", "-");
        var obj = await Get(k, "configmap", "shared", "-n", "default");
        // b was m1's alone and goes; a is still m2's and stays.
        Assert.Equal("""{"a":"1","c":"3","d":"4"}""", obj["data"]!.ToJsonString());
        // Entries sort by time before manager; the two applies may fall in different seconds.
        Assert.Equal(new[]
        {
            E("""{"manager":"m1","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:d":{}}}}"""),
            E("""{"manager":"m2","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:a":{},"f:c":{}}}}"""),
        }.Order(StringComparer.Ordinal), Entries(obj).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("1.27")]
    [InlineData("1.33")]
    public async Task ClientSideApply_MigratesToServerSideAndBack(string version)
    {
        var k = Tools.KubectlVersion(version);
        var ns = "ssa-mig-" + version.Replace(".", "");
        await Tools.Kubectl(S, k, "create", "namespace", ns);
        await OkIn(k, Deployment(ns, 2), "apply", "-f", "-");
        // kubectl takes over what client-side apply last applied: the replicas change is no conflict.
        await OkIn(k, Deployment(ns, 4), "apply", "--server-side", "-f", "-");
        var obj = await Get(k, "deployment", "web", "-n", ns);
        Assert.Equal(4, (int)obj["spec"]!["replicas"]!);
        // The annotation follows the applied configuration, so client-side apply can take over again.
        var lastApplied = JsonNode.Parse((string)obj["metadata"]!["annotations"]!["kubectl.kubernetes.io/last-applied-configuration"]!)!;
        Assert.Equal(4, (int)lastApplied["spec"]!["replicas"]!);
        Assert.Contains(Entries(obj), e => e.Contains("\"manager\":\"kubectl\",\"operation\":\"Apply\""));
        await OkIn(k, Deployment(ns, 6), "apply", "-f", "-");
        Assert.Equal("6", (await Ok(k, "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}")).Stdout);
    }

    [Fact]
    public async Task KubernetesClient_ApplyPatch_CreatesConflictsAndForces()
    {
        using var c = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(S.Kubeconfig));
        var cm = new V1ConfigMap
        {
            ApiVersion = "v1", Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = "client-apply", NamespaceProperty = "default" },
            Data = new Dictionary<string, string> { ["k"] = "one" },
        };
        var created = await c.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(cm, V1Patch.PatchType.ApplyPatch), "client-apply", "default", fieldManager: "first");
        Assert.Equal("one", created.Data["k"]);
        Assert.Equal("first", Assert.Single(created.Metadata.ManagedFields).Manager);

        cm.Data["k"] = "two";
        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            c.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(cm, V1Patch.PatchType.ApplyPatch), "client-apply", "default", fieldManager: "second"));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, e.Response.StatusCode);
        var status = JsonNode.Parse(e.Response.Content)!;
        Assert.Equal("Apply failed with 1 conflict: conflict with \"first\": .data.k", (string)status["message"]!);
        Assert.Equal("""[{"reason":"FieldManagerConflict","message":"conflict with \"first\"","field":".data.k"}]""", status["details"]!["causes"]!.ToJsonString(Relaxed));

        var forced = await c.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(cm, V1Patch.PatchType.ApplyPatch), "client-apply", "default", fieldManager: "second", force: true);
        Assert.Equal("two", forced.Data["k"]);
        Assert.Equal("second", Assert.Single(forced.Metadata.ManagedFields).Manager);
    }

    [Fact]
    public async Task Errors_AreUpstreams()
    {
        const string cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: errs, namespace: default}\ndata: {a: \"1\"}\n";
        const string path = "/api/v1/namespaces/default/configmaps/errs";
        var (code, body) = await Tools.Curl(S, "PATCH", path, cm, "application/apply-patch+yaml");
        Assert.Equal(422, code);
        Assert.Equal("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch", (string)JsonNode.Parse(body)!["message"]!);

        (code, body) = await Tools.Curl(S, "PATCH", path + "?force=true&fieldManager=x", "{}", "application/merge-patch+json");
        Assert.Equal(422, code);
        Assert.Equal("PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch", (string)JsonNode.Parse(body)!["message"]!);

        (code, body) = await Tools.Curl(S, "PATCH", path + "?fieldManager=x", cm + "bogus: 1\n", "application/apply-patch+yaml");
        Assert.Equal(500, code);
        Assert.Equal("failed to create typed patch object (default/errs; /v1, Kind=ConfigMap): .bogus: field not declared in schema", (string)JsonNode.Parse(body)!["message"]!);

        (code, body) = await Tools.Curl(S, "PATCH", path + "?fieldManager=x", cm.Replace("apiVersion: v1", "apiVersion: apps/v1"), "application/apply-patch+yaml");
        Assert.Equal(400, code);
        Assert.Equal("invalid object type: apps/v1, Kind=ConfigMap", (string)JsonNode.Parse(body)!["message"]!);

        (code, body) = await Tools.Curl(S, "PATCH", path + "?fieldManager=x", cm.Replace("metadata: {", "metadata: {managedFields: [{manager: m}], "), "application/apply-patch+yaml");
        Assert.Equal(400, code);
        Assert.Equal("metadata.managedFields must be nil", (string)JsonNode.Parse(body)!["message"]!);

        // dryRun=All answers what would be created and stores nothing
        (code, _) = await Tools.Curl(S, "PATCH", path + "?fieldManager=x&dryRun=All", cm, "application/apply-patch+yaml");
        Assert.Equal(201, code);
        (code, _) = await Tools.Curl(S, "GET", path);
        Assert.Equal(404, code);
    }

    /// <summary>
    /// isResetManagedFields (apimachinery 1.33 internal/fieldmanager.go): a list holding one empty entry, and also an
    /// explicit empty list, drop all tracking (upstream's TestResetManagedFieldsEmptyList and
    /// TestClearManagedFieldsWithUpdateEmptyList; the API documentation's "an empty list does not reset" is not what
    /// the code does); an absent or null list keeps it.
    /// </summary>
    [Theory]
    [InlineData("[{}]")]
    [InlineData("[]")]
    public async Task ManagedFields_ResetWithOneEmptyEntryOrAnEmptyList(string reset)
    {
        var name = "reset" + reset.Length;
        var cm = $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: default}}\ndata: {{a: \"1\"}}\n";
        var path = "/api/v1/namespaces/default/configmaps/" + name;
        var (code, _) = await Tools.Curl(S, "PATCH", path + "?fieldManager=x", cm, "application/apply-patch+yaml");
        Assert.Equal(201, code);
        (code, var body) = await Tools.Curl(S, "PATCH", path, """{"metadata":{"managedFields":null,"labels":{"l":"v"}}}""", "application/merge-patch+json");
        Assert.Equal(200, code);
        Assert.NotNull(JsonNode.Parse(body)!["metadata"]!["managedFields"]);
        (code, body) = await Tools.Curl(S, "PATCH", path, """{"metadata":{"managedFields":RESET}}""".Replace("RESET", reset), "application/merge-patch+json");
        Assert.Equal(200, code);
        Assert.Null(JsonNode.Parse(body)!["metadata"]!["managedFields"]);
    }

    private const string WidgetCrd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: gadgets.ssa.example.com}
        spec:
          group: ssa.example.com
          names: {plural: gadgets, kind: Gadget}
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      size: {type: integer}
                      tags: {type: array, items: {type: string}, x-kubernetes-list-type: set}
                      args: {type: array, items: {type: string}}
                      ports:
                        type: array
                        x-kubernetes-list-type: map
                        x-kubernetes-list-map-keys: [name]
                        items: {type: object, required: [name], properties: {name: {type: string}, port: {type: integer}}}
                      raw: {type: object, x-kubernetes-preserve-unknown-fields: true}
                  status:
                    type: object
                    properties:
                      ready: {type: boolean}
        """;

    [Fact]
    public async Task CustomObjects_MergeByTheirSchemasListTypes()
    {
        var k = Tools.KubectlVersion("1.33");
        await OkIn(k, WidgetCrd, "apply", "--server-side", "-f", "-");
        await Ok(k, "wait", "--for=condition=Established", "crd/gadgets.ssa.example.com", "--timeout=30s");
        const string one = """
            apiVersion: ssa.example.com/v1
            kind: Gadget
            metadata: {name: g, namespace: default}
            spec: {size: 1, tags: [a, b], args: ["x", "z"], ports: [{name: http, port: 80}], raw: {free: {form: 1}}}
            """;
        const string two = """
            apiVersion: ssa.example.com/v1
            kind: Gadget
            metadata: {name: g, namespace: default}
            spec: {tags: [c], args: ["w"], ports: [{name: https, port: 443}]}
            """;
        await OkIn(k, one, "apply", "--server-side", "--field-manager=one", "-f", "-");
        // args is atomic (no list type): another manager replacing it conflicts; the set and the map list merge.
        var conflict = await Tools.KubectlIn(S, k, two, "apply", "--server-side", "--field-manager=two", "-f", "-");
        Assert.Contains("Apply failed with 1 conflict: conflict with \"one\": .spec.args", conflict.Stderr);
        await OkIn(k, two.Replace("args: [\"w\"], ", ""), "apply", "--server-side", "--field-manager=two", "-f", "-");
        var obj = await Get(k, "gadget", "g", "-n", "default");
        Assert.Equal("""{"args":["x","z"],"ports":[{"name":"http","port":80},{"name":"https","port":443}],"raw":{"free":{"form":1}},"size":1,"tags":["a","b","c"]}""",
            Canonical(obj["spec"]));
        Assert.Equal(new[]
        {
            E("""{"manager":"one","operation":"Apply","apiVersion":"ssa.example.com/v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:args":{},"f:ports":{"k:{\"name\":\"http\"}":{".":{},"f:name":{},"f:port":{}}},"f:raw":{"f:free":{".":{},"f:form":{}}},"f:size":{},"f:tags":{"v:\"a\"":{},"v:\"b\"":{}}}}}"""),
            E("""{"manager":"two","operation":"Apply","apiVersion":"ssa.example.com/v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:ports":{"k:{\"name\":\"https\"}":{".":{},"f:name":{},"f:port":{}}},"f:tags":{"v:\"c\"":{}}}}}"""),
        }.Order(StringComparer.Ordinal), Entries(obj).Order(StringComparer.Ordinal));

        // A field the schema does not declare does not type.
        var bogus = await Tools.KubectlIn(S, k, one.Replace("size: 1", "bogus: 1"), "apply", "--server-side", "--field-manager=three", "-f", "-");
        Assert.Contains("failed to create typed patch object (default/g; ssa.example.com/v1, Kind=Gadget): .spec.bogus: field not declared in schema", bogus.Stderr);

        // The status subresource: its own entry; status through the main resource is not applied.
        const string status = "apiVersion: ssa.example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: default}\nstatus: {ready: true}\n";
        await OkIn(k, status, "apply", "--server-side", "--field-manager=ctrl", "--subresource=status", "-f", "-");
        await OkIn(k, status.Replace("ready: true", "ready: false"), "apply", "--server-side", "--field-manager=other", "-f", "-");
        obj = await Get(k, "gadget", "g", "-n", "default");
        Assert.True((bool)obj["status"]!["ready"]!);
        Assert.Contains(E("""{"manager":"ctrl","operation":"Apply","apiVersion":"ssa.example.com/v1","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:ready":{}}},"subresource":"status"}"""), Entries(obj));
        Assert.DoesNotContain(Entries(obj), e => e.Contains("\"manager\":\"other\""));
    }

    [Fact]
    public async Task ScaleSubresource_Apply_OwnsReplicasInTheParent()
    {
        var k = Tools.KubectlVersion("1.33");
        await Tools.Kubectl(S, k, "create", "namespace", "ssa-scale");
        await OkIn(k, Deployment("ssa-scale", 2), "apply", "--server-side", "-f", "-");
        const string scale = "apiVersion: autoscaling/v1\nkind: Scale\nmetadata: {name: web, namespace: ssa-scale}\nspec: {replicas: 7}\n";
        const string path = "/apis/apps/v1/namespaces/ssa-scale/deployments/web/scale";
        var (code, body) = await Tools.Curl(S, "PATCH", path + "?fieldManager=hpa", scale, "application/apply-patch+yaml");
        Assert.Equal(409, code);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas", (string)JsonNode.Parse(body)!["message"]!);
        (code, body) = await Tools.Curl(S, "PATCH", path + "?fieldManager=hpa&force=true", scale, "application/apply-patch+yaml");
        Assert.Equal(200, code);
        Assert.Equal(7, (int)JsonNode.Parse(body)!["spec"]!["replicas"]!);
        var obj = await Get(k, "deployment", "web", "-n", "ssa-scale");
        // ToParent: the scale manager owns the parent's replicas path; the parent has no time for a new manager.
        Assert.Contains(E("""{"manager":"hpa","operation":"Apply","apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:replicas":{}}},"subresource":"scale"}"""), Entries(obj));
        Assert.Null(obj["metadata"]!["managedFields"]!.AsArray().Single(e => (string)e!["manager"]! == "hpa")!["time"]);
        Assert.DoesNotContain("f:replicas", Entries(obj).Single(e => e.Contains("\"manager\":\"kubectl\"")));
    }
}
