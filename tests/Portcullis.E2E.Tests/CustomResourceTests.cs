using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// CustomResourceDefinitions with real kubectl 1.27, 1.30 and 1.33: a CRD with two versions (one
/// deprecated), status and scale subresources, printer columns, int-or-string, list-map keys and an
/// embedded resource is applied and established; its objects are created, read through both versions,
/// listed as tables, patched, scaled, explained, selected by field, and deleted with the CRD.
/// </summary>
public sealed class CustomResourceTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private string WriteFile(string name, string text)
    {
        var dir = Path.Combine(S.DataDir, "manifests");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<CommandResult> Ok(string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(S, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    /// <summary>Writes a CRD from a file (create or apply) and waits until it is established.</summary>
    private async Task Install(string kubectl, string verb, string file, string crdName)
    {
        await Ok(kubectl, verb, "-f", file);
        await Ok(kubectl, "wait", "--for=condition=Established", "crd/" + crdName, "--timeout=30s");
    }

    /// <summary>Polls until the condition holds; false if it never does within the allowance (a wait, not a speed check).</summary>
    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 150; i++)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }

    private static string Crd(string group, string scope = "Namespaced") => $$"""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.{{group}}
        spec:
          group: {{group}}
          names:
            plural: widgets
            singular: widget
            kind: Widget
            shortNames: [wdg]
            categories: [all]
          scope: {{scope}}
          versions:
          - name: v1beta1
            served: true
            storage: false
            deprecated: true
            deprecationWarning: "{{group}}/v1beta1 Widget is going away; use v1"
            schema:
              openAPIV3Schema:
                type: object
                x-kubernetes-preserve-unknown-fields: true
          - name: v1
            served: true
            storage: true
            subresources:
              status: {}
              scale:
                specReplicasPath: .spec.replicas
                statusReplicasPath: .status.replicas
                labelSelectorPath: .status.selector
            selectableFields:
            - jsonPath: .spec.color
            additionalPrinterColumns:
            - name: Replicas
              type: integer
              jsonPath: .spec.replicas
            - name: Color
              type: string
              jsonPath: .spec.color
            - name: Ready
              type: string
              jsonPath: .status.conditions[?(@.type=="Ready")].status
            - name: Size
              type: string
              priority: 1
              jsonPath: .spec.size
            - name: Age
              type: date
              jsonPath: .metadata.creationTimestamp
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    description: What the widget should be.
                    properties:
                      replicas: {type: integer, minimum: 0}
                      color: {type: string, description: The widget's colour.}
                      size: {x-kubernetes-int-or-string: true}
                      ports:
                        type: array
                        x-kubernetes-list-type: map
                        x-kubernetes-list-map-keys: [name]
                        items:
                          type: object
                          required: [name]
                          properties:
                            name: {type: string}
                            port: {type: integer}
                      template:
                        type: object
                        x-kubernetes-embedded-resource: true
                        x-kubernetes-preserve-unknown-fields: true
                  status:
                    type: object
                    properties:
                      replicas: {type: integer}
                      selector: {type: string}
                      conditions:
                        type: array
                        items:
                          type: object
                          properties:
                            type: {type: string}
                            status: {type: string}
        """;

    private static string Widget(string group, string name, string color, int replicas) => $$"""
        apiVersion: {{group}}/v1
        kind: Widget
        metadata:
          name: {{name}}
          namespace: default
        spec:
          replicas: {{replicas}}
          color: {{color}}
          size: 10Gi
          ports:
          - {name: http, port: 80}
          - {name: https, port: 443}
          template:
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: inner}
            data: {a: b}
        """;

    [Theory]
    [InlineData("1.27")]
    [InlineData("1.30")]
    [InlineData("1.33")]
    public async Task Crd_Lifecycle_WithKubectl(string version)
    {
        var k = Tools.KubectlVersion(version);
        var group = "v" + version.Replace(".", "") + ".example.com";
        var crd = "widgets." + group;
        await Install(k, "apply", WriteFile(group + "-crd.yaml", Crd(group)), crd);
        var status = JsonNode.Parse((await Ok(k, "get", "crd", crd, "-o", "json")).Stdout)!["status"]!;
        Assert.Equal("v1", (string?)status["storedVersions"]![0]);
        Assert.Equal("Widget", (string?)status["acceptedNames"]!["kind"]);
        var names = status["conditions"]!.AsArray().Select(c => $"{c!["type"]}={c["status"]}/{c["reason"]}").ToList();
        Assert.Equal(["NamesAccepted=True/NoConflicts", "Established=True/InitialNamesAccepted"], names);

        // Objects: created with apply, listed as a table with the CRD's columns.
        await Ok(k, "apply", "-f", WriteFile(group + "-w1.yaml", Widget(group, "w1", "red", 2)));
        await Ok(k, "apply", "-f", WriteFile(group + "-w2.yaml", Widget(group, "w2", "blue", 1)));
        var table = await Ok(k, "get", "widgets." + group, "-n", "default");
        var lines = table.Stdout.TrimEnd().Split('\n');
        Assert.Matches(@"^NAME\s+REPLICAS\s+COLOR\s+READY\s+AGE$", lines[0]);
        Assert.Matches(@"^w1\s+2\s+red\s+\s+\d+s$", lines[1]);
        var wide = await Ok(k, "get", "wdg." + group, "w1", "-n", "default", "-o", "wide");
        Assert.Matches(@"(?m)^NAME\s+REPLICAS\s+COLOR\s+READY\s+SIZE\s+AGE$", wide.Stdout);
        Assert.Matches(@"(?m)^w1\s+2\s+red\s+10Gi\s+\d+s$", wide.Stdout);

        // The stored object: keys sorted as upstream's unstructured JSON, generation 1.
        var (st, body) = await Tools.Curl(S, "GET", $"/apis/{group}/v1/namespaces/default/widgets/w1");
        Assert.Equal(200, st);
        var w1 = JsonNode.Parse(body)!;
        Assert.Equal(["apiVersion", "kind", "metadata", "spec"], w1.AsObject().Select(p => p.Key));
        Assert.Equal(1, (long)w1["metadata"]!["generation"]!);
        Assert.Equal(["color", "ports", "replicas", "size", "template"], w1["spec"]!.AsObject().Select(p => p.Key));

        // The deprecated version: the same object, its own apiVersion, and the warning.
        var old = await Ok(k, "get", "widgets.v1beta1." + group, "w1", "-n", "default", "-o", "json");
        Assert.Equal(group + "/v1beta1", (string?)JsonNode.Parse(old.Stdout)!["apiVersion"]);
        Assert.Contains($"Warning: {group}/v1beta1 Widget is going away; use v1", old.Stderr);

        // Applying again patches: kubectl reads from OpenAPI that the kind takes no strategic merge patch.
        await Ok(k, "apply", "-f", WriteFile(group + "-w2b.yaml", Widget(group, "w2", "blue", 4)));
        Assert.Equal("4", (await Ok(k, "get", "widgets." + group, "w2", "-n", "default", "-o", "jsonpath={.spec.replicas}")).Stdout);

        // Patches: merge and JSON patch; strategic merge patch is refused as upstream refuses it.
        await Ok(k, "patch", "widgets." + group, "w1", "-n", "default", "--type=merge", "-p", """{"spec":{"color":"green"}}""");
        await Ok(k, "patch", "widgets." + group, "w1", "-n", "default", "--type=json", "-p", """[{"op":"replace","path":"/spec/replicas","value":3}]""");
        var smp = await Tools.Kubectl(S, k, "patch", "widgets." + group, "w1", "-n", "default", "-p", """{"spec":{"color":"red"}}""");
        Assert.NotEqual(0, smp.ExitCode);
        Assert.Contains("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml", smp.Stderr);
        w1 = JsonNode.Parse((await Ok(k, "get", "widgets." + group, "w1", "-n", "default", "-o", "json")).Stdout)!;
        Assert.Equal(("green", 3L, 3L), ((string?)w1["spec"]!["color"], (long)w1["spec"]!["replicas"]!, (long)w1["metadata"]!["generation"]!));

        // Status is a subresource: the main resource ignores it, /status writes it without a new generation.
        var (pst, _) = await Tools.Curl(S, "PATCH", $"/apis/{group}/v1/namespaces/default/widgets/w1/status",
            """{"status":{"replicas":3,"selector":"app=w1","conditions":[{"type":"Ready","status":"True"}]}}""", "application/merge-patch+json");
        Assert.Equal(200, pst);
        await Ok(k, "patch", "widgets." + group, "w1", "-n", "default", "--type=merge", "-p", """{"status":{"replicas":99}}""");
        w1 = JsonNode.Parse((await Ok(k, "get", "widgets." + group, "w1", "-n", "default", "-o", "json")).Stdout)!;
        Assert.Equal((3L, 3L), ((long)w1["status"]!["replicas"]!, (long)w1["metadata"]!["generation"]!));
        Assert.Matches(@"(?m)^w1\s+3\s+green\s+True\s+\d+s$", (await Ok(k, "get", "widgets." + group, "-n", "default")).Stdout);

        // Scale: kubectl scale writes spec.replicas through the scale subresource.
        await Ok(k, "scale", "widgets." + group, "w1", "-n", "default", "--replicas=5");
        var (sst, sbody) = await Tools.Curl(S, "GET", $"/apis/{group}/v1/namespaces/default/widgets/w1/scale");
        Assert.Equal(200, sst);
        var scale = JsonNode.Parse(sbody)!;
        Assert.Equal(("Scale", "autoscaling/v1", 5L, 3L, "app=w1"), ((string?)scale["kind"], (string?)scale["apiVersion"],
            (long)scale["spec"]!["replicas"]!, (long)scale["status"]!["replicas"]!, (string?)scale["status"]!["selector"]));

        // Field selectors on the CRD's selectable field; category "all".
        var selected = await Ok(k, "get", "widgets." + group, "-n", "default", "--field-selector", "spec.color=blue", "-o", "name");
        Assert.Equal($"widget.{group}/w2", selected.Stdout.Trim());
        var all = await Ok(k, "get", "all", "-n", "default");
        Assert.Contains($"widget.{group}/w1", all.Stdout);

        // explain reads the CRD's schema from OpenAPI.
        var explain = await Ok(k, "explain", "widgets." + group + ".spec");
        Assert.Contains("KIND:", explain.Stdout);
        Assert.Contains("Widget", explain.Stdout);
        Assert.Contains("What the widget should be.", explain.Stdout);
        Assert.Contains("color", explain.Stdout);

        // A version no longer served goes from the API; the others stay.
        await Ok(k, "patch", "crd", crd, "--type=json", "-p", """[{"op":"replace","path":"/spec/versions/0/served","value":false}]""");
        Assert.True(await Eventually(async () =>
            (await Tools.Curl(S, "GET", $"/apis/{group}/v1beta1/namespaces/default/widgets/w1")).Status == 404), "v1beta1 is still served");
        Assert.Equal(200, (await Tools.Curl(S, "GET", $"/apis/{group}/v1/namespaces/default/widgets/w1")).Status);

        // Deleting the CRD deletes its objects first, then the kind is no longer served.
        await Ok(k, "delete", "crd", crd, "--timeout=60s");
        Assert.True(await Eventually(async () =>
            (await Tools.Curl(S, "GET", $"/apis/{group}/v1/namespaces/default/widgets")).Status == 404), "the kind is still served");
        var gone = await Tools.Kubectl(S, k, "get", "crd", crd);
        Assert.Contains($"customresourcedefinitions.apiextensions.k8s.io \"{crd}\" not found", gone.Stderr);
        // The objects went with it: the same CRD again serves none of them.
        await Install(k, "apply", WriteFile(group + "-crd.yaml", Crd(group)), crd);
        var none = await Ok(k, "get", "widgets." + group, "-A");
        Assert.Equal("No resources found\n", none.Stderr);
        await Ok(k, "delete", "crd", crd, "--timeout=60s");
    }

    [Fact]
    public async Task NameConflict_IsReported_AndTheSecondCrdIsNotServed()
    {
        var k = Tools.KubectlVersion("1.33");
        await Install(k, "apply", WriteFile("conflict-a.yaml", Crd("conflict.example.com")), "widgets.conflict.example.com");
        var second = Crd("conflict.example.com").Replace("name: widgets.conflict.example.com", "name: gadgets.conflict.example.com")
            .Replace("plural: widgets", "plural: gadgets").Replace("singular: widget", "singular: gadget").Replace("shortNames: [wdg]", "shortNames: [gdg]");
        await Ok(k, "apply", "-f", WriteFile("conflict-b.yaml", second));
        Assert.True(await Eventually(async () =>
            (await Tools.Kubectl(S, k, "get", "crd", "gadgets.conflict.example.com", "-o", "jsonpath={.status.conditions[0].reason}")).Stdout == "ListKindConflict"));
        var conditions = JsonNode.Parse((await Ok(k, "get", "crd", "gadgets.conflict.example.com", "-o", "jsonpath={.status.conditions}")).Stdout)!.AsArray();
        Assert.Equal("\"WidgetList\" is already in use", (string?)conditions[0]!["message"]);
        Assert.Equal(("Established", "False", "NotAccepted", "not all names are accepted"),
            ((string?)conditions[1]!["type"], (string?)conditions[1]!["status"], (string?)conditions[1]!["reason"], (string?)conditions[1]!["message"]));
        var (st, _) = await Tools.Curl(S, "GET", "/apis/conflict.example.com/v1/gadgets");
        Assert.Equal(404, st);
    }

    [Fact]
    public async Task ObjectFinalizers_HoldTheCrd_WhichRefusesCreatesWhileTerminating()
    {
        var k = Tools.KubectlVersion("1.33");
        const string group = "fin.example.com";
        await Install(k, "apply", WriteFile("fin-crd.yaml", Crd(group)), "widgets." + group);
        var held = Widget(group, "held", "red", 1).Replace("  namespace: default\n", "  namespace: default\n  finalizers: [example.com/hold]\n");
        await Ok(k, "apply", "-f", WriteFile("fin-w.yaml", held));
        await Ok(k, "delete", "crd", "widgets." + group, "--wait=false");
        Assert.True(await Eventually(async () =>
            (await Tools.Kubectl(S, k, "get", "crd", "widgets." + group, "-o", "jsonpath={.status.conditions[?(@.type==\"Terminating\")].reason}")).Stdout
                == "InstanceDeletionCheck"));
        var (cst, cbody) = await Tools.Curl(S, "POST", $"/apis/{group}/v1/namespaces/default/widgets",
            $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"late"}}""");
        Assert.Equal(405, cst);
        Assert.Equal("create not allowed while custom resource definition is terminating", (string?)JsonNode.Parse(cbody)!["message"]);
        await Ok(k, "patch", "widgets." + group, "held", "-n", "default", "--type=merge", "-p", """{"metadata":{"finalizers":null}}""");
        Assert.True(await Eventually(async () => (await Tools.Kubectl(S, k, "get", "crd", "widgets." + group)).ExitCode != 0), "the CRD stays");
    }

    [Fact]
    public async Task Rbac_AppliesToCustomResources()
    {
        var k = Tools.KubectlVersion("1.33");
        const string group = "rbac.example.com";
        await Install(k, "apply", WriteFile("rbac-crd.yaml", Crd(group)), "widgets." + group);
        await Ok(k, "create", "serviceaccount", "widget-reader", "-n", "default");
        await Ok(k, "create", "role", "widget-reader", "-n", "default", "--verb=get,list", "--resource=widgets." + group);
        await Ok(k, "create", "rolebinding", "widget-reader", "-n", "default", "--role=widget-reader", "--serviceaccount=default:widget-reader");
        var who = "--as=system:serviceaccount:default:widget-reader";
        Assert.Equal("yes", (await Tools.Kubectl(S, k, "auth", "can-i", "list", "widgets." + group, "-n", "default", who)).Stdout.Trim());
        Assert.Equal("no", (await Tools.Kubectl(S, k, "auth", "can-i", "create", "widgets." + group, "-n", "default", who)).Stdout.Trim());
        var denied = await Tools.KubectlIn(S, k, Widget(group, "nope", "red", 1), "create", "-f", "-", who);
        Assert.Contains($"widgets.{group} is forbidden: User \"system:serviceaccount:default:widget-reader\" cannot create resource \"widgets\" in API group \"{group}\" in the namespace \"default\"", denied.Stderr);
    }

    [Fact]
    public async Task RealCrds_FromPrometheusOperator_ApplyAndServeTheirObjects()
    {
        var k = Tools.KubectlVersion("1.33");
        var dir = Path.Combine(AppContext.BaseDirectory, "TestData", "thirdparty", "prometheus-operator");
        // The CRDs are too large for the last-applied annotation (as on a cluster): created, not applied.
        foreach (var crd in new[] { "servicemonitors", "prometheusrules", "prometheuses" })
        {
            await Install(k, "create", Path.Combine(dir, $"monitoring.coreos.com_{crd}.yaml"), $"{crd}.monitoring.coreos.com");
        }
        foreach (var example in new[] { "example-service-monitor.yaml", "example-prometheus-rule.yaml", "example-prometheus.yaml" })
            await Ok(k, "apply", "-f", Path.Combine(dir, example));
        var prometheus = await Ok(k, "get", "prometheus", "prometheus", "-n", "default");
        Assert.Matches(@"^NAME\s+VERSION\s+DESIRED\s+READY\s+RECONCILED\s+AVAILABLE\s+AGE\n", prometheus.Stdout);
        Assert.Matches(@"(?m)^prometheus\s+2\s+\d+s$", prometheus.Stdout);
        var monitor = JsonNode.Parse((await Ok(k, "get", "servicemonitor", "example-app", "-n", "default", "-o", "json")).Stdout)!;
        Assert.Equal("web", (string?)monitor["spec"]!["endpoints"]![0]!["port"]);
        var rule = await Ok(k, "get", "prometheusrules", "-n", "default", "-o", "name");
        Assert.Equal("prometheusrule.monitoring.coreos.com/prometheus-example-alerts", rule.Stdout.Trim());
        var explain = await Ok(k, "explain", "servicemonitor.spec.endpoints.port");
        Assert.Contains("FIELD: port <string>", explain.Stdout);
        // Their schemas hold: an unknown field is refused when strict, a wrong type always.
        var bad = await Tools.KubectlIn(S, k, """
            apiVersion: monitoring.coreos.com/v1
            kind: ServiceMonitor
            metadata: {name: bad, namespace: default}
            spec: {endpoints: "web", selector: {}}
            """, "create", "-f", "-");
        Assert.Contains("The ServiceMonitor \"bad\" is invalid: spec.endpoints: Invalid value: \"string\": spec.endpoints in body must be of type array: \"string\"", bad.Stderr);
    }

    [Fact]
    public async Task RealCrds_FromGatewayApi_EnforceTheirCelRules()
    {
        var k = Tools.KubectlVersion("1.33");
        var dir = Path.Combine(AppContext.BaseDirectory, "TestData", "thirdparty", "gateway-api");
        // HTTPRoute alone carries 178 CEL rules; every one must compile for the CRD to be accepted.
        foreach (var crd in new[] { "gatewayclasses", "gateways", "httproutes" })
        {
            await Install(k, "create", Path.Combine(dir, $"gateway.networking.k8s.io_{crd}.yaml"), $"{crd}.gateway.networking.k8s.io");
        }
        await Ok(k, "apply", "-n", "default", "-f", Path.Combine(dir, "example-basic-http.yaml"));
        var routes = await Ok(k, "get", "httproutes", "-n", "default");
        Assert.Matches(@"(?m)^NAME\s+HOSTNAMES\s+AGE$", routes.Stdout);
        Assert.Matches(@"(?m)^http-app-1\s+\[""foo.com""\]\s+\d+s$", routes.Stdout);
        var bad = await Tools.KubectlIn(S, k, """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: bad-route, namespace: default}
            spec:
              parentRefs: [{name: my-gateway}]
              rules:
              - matches:
                - path: {type: PathPrefix, value: bar}
            """, "create", "-f", "-");
        Assert.Contains("The HTTPRoute \"bad-route\" is invalid: spec.rules[0].matches[0].path: Invalid value: \"object\": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']", bad.Stderr);
    }

    [Fact]
    public async Task ObjectCountQuota_CountsCustomObjects()
    {
        var k = Tools.KubectlVersion("1.33");
        const string group = "quota.example.com";
        await Install(k, "apply", WriteFile("quota-crd.yaml", Crd(group)), "widgets." + group);
        await Ok(k, "create", "namespace", "cr-quota");
        await Ok(k, "create", "quota", "widgets", "-n", "cr-quota", "--hard=count/widgets." + group + "=1");
        await Ok(k, "apply", "-f", WriteFile("quota-w1.yaml", Widget(group, "one", "red", 1).Replace("namespace: default", "namespace: cr-quota")));
        var second = await Tools.Kubectl(S, k, "apply", "-f", WriteFile("quota-w2.yaml", Widget(group, "two", "red", 1).Replace("namespace: default", "namespace: cr-quota")));
        Assert.Contains($"widgets.{group} \"two\" is forbidden: exceeded quota: widgets, requested: count/widgets.{group}=1, used: count/widgets.{group}=1, limited: count/widgets.{group}=1", second.Stderr);
        Assert.True(await Eventually(async () =>
            (await Tools.Kubectl(S, k, "get", "quota", "widgets", "-n", "cr-quota", "-o", "jsonpath={.status.used}")).Stdout == $$"""{"count/widgets.{{group}}":"1"}"""));
    }

    [Fact]
    public async Task InvalidCrds_AreRefused_WithUpstreamsMessages()
    {
        var k = Tools.KubectlVersion("1.33");
        var twoStorage = Crd("bad.example.com").Replace("storage: false", "storage: true");
        var r = await Tools.Kubectl(S, k, "create", "-f", WriteFile("bad-storage.yaml", twoStorage));
        Assert.NotEqual(0, r.ExitCode);
        // Two errors: the count, and the stored version (create records the first storage version only).
        Assert.StartsWith("The CustomResourceDefinition \"widgets.bad.example.com\" is invalid: \n* spec.versions: Invalid value: ", r.Stderr);
        Assert.Contains(": must have exactly one version marked as storage version\n* status.storedVersions: Invalid value: []string{\"v1beta1\"}: must have the storage version v1", r.Stderr);

        var badName = Crd("bad.example.com").Replace("name: widgets.bad.example.com", "name: things.bad.example.com");
        r = await Tools.Kubectl(S, k, "create", "-f", WriteFile("bad-name.yaml", badName));
        Assert.Contains("The CustomResourceDefinition \"things.bad.example.com\" is invalid: metadata.name: Invalid value: \"things.bad.example.com\": must be spec.names.plural+\".\"+spec.group", r.Stderr);

        var protectedGroup = Crd("widgets.k8s.io");
        r = await Tools.Kubectl(S, k, "create", "-f", WriteFile("bad-approval.yaml", protectedGroup));
        Assert.Contains("metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation \"api-approved.kubernetes.io\", see https://github.com/kubernetes/enhancements/pull/1111", r.Stderr);
    }

    private const string LimitsCrd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: limits.cel.example.com}
        spec:
          group: cel.example.com
          names: {plural: limits, kind: Limit}
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    x-kubernetes-validations:
                    - rule: "self.min <= self.max"
                      message: "min must not exceed max"
                    - rule: "self.max <= 100"
                      messageExpression: "'max of ' + self.name + ' is more than 100'"
                    - rule: "self.name == oldSelf.name"
                      message: "name is immutable"
                      reason: FieldValueForbidden
                      fieldPath: .name
                    properties:
                      min: {type: integer, default: 0}
                      max: {type: integer}
                      name: {type: string, maxLength: 8}
                      mode: {type: string, enum: [fast, slow], default: slow}
                      tags:
                        type: array
                        items: {type: string}
                        x-kubernetes-list-type: set
                        x-kubernetes-validations:
                        - rule: "self.all(t, t.startsWith('t-'))"
        """;

    private static string Limit(string spec) => "apiVersion: cel.example.com/v1\nkind: Limit\nmetadata: {name: l1, namespace: default}\nspec: " + spec + "\n";

    [Theory]
    [InlineData("1.27")]
    [InlineData("1.33")]
    public async Task SchemaAndCelRules_ValidatePruneAndDefault(string version)
    {
        var k = Tools.KubectlVersion(version);
        var apply = await Tools.KubectlIn(S, k, LimitsCrd, "apply", "-f", "-");
        Assert.True(apply.ExitCode == 0 || apply.Stderr.Contains("unchanged"), apply.ToString());
        await Ok(k, "wait", "--for=condition=Established", "crd/limits.cel.example.com", "--timeout=30s");
        await Tools.Kubectl(S, k, "delete", "limits.cel.example.com", "l1", "-n", "default", "--ignore-not-found");

        // Schema errors first; the rules run only over an object the schema accepts.
        var bad = await Tools.KubectlIn(S, k, Limit("{max: 5, name: toolongname, mode: turbo, tags: [t-a, t-a]}"), "create", "-f", "-");
        Assert.Contains("The Limit \"l1\" is invalid: \n* spec.mode: Unsupported value: \"turbo\": supported values: \"fast\", \"slow\"", bad.Stderr);
        Assert.Contains("* spec.name: Too long: may not be more than 8 bytes", bad.Stderr);
        Assert.Contains("* spec.tags[1]: Duplicate value: \"t-a\"", bad.Stderr);
        Assert.DoesNotContain("min must not exceed max", bad.Stderr);

        // Rules: a message, a messageExpression, the default message.
        var rules = await Tools.KubectlIn(S, k, Limit("{min: 700, max: 500, name: a, tags: [x]}"), "create", "-f", "-");
        Assert.Contains("* spec: Invalid value: \"object\": min must not exceed max", rules.Stderr);
        Assert.Contains("* spec: Invalid value: \"object\": max of a is more than 100", rules.Stderr);
        Assert.Contains("* spec.tags: Invalid value: \"array\": failed rule: self.all(t, t.startsWith('t-'))", rules.Stderr);

        // Defaults are applied and unknown fields pruned (a warning by default, an error when strict).
        var warned = await Tools.KubectlIn(S, k, Limit("{max: 5, name: a, bogus: 1}"), "create", "--validate=false", "-f", "-");
        Assert.True(warned.ExitCode == 0, warned.ToString());
        var spec = JsonNode.Parse((await Ok(k, "get", "limits.cel.example.com", "l1", "-n", "default", "-o", "jsonpath={.spec}")).Stdout)!;
        Assert.Equal("""{"max":5,"min":0,"mode":"slow","name":"a"}""", spec.ToJsonString());
        var strict = await Tools.KubectlIn(S, k, Limit("{max: 5, name: a, bogus: 1}").Replace("name: l1", "name: l2"), "create", "--validate=strict", "-f", "-");
        Assert.Contains("Limit in version \"v1\" cannot be handled as a Limit: strict decoding error: unknown field \"spec.bogus\"", strict.Stderr);

        // A transition rule: oldSelf is the stored value; the error goes to the rule's fieldPath with its reason.
        var renamed = await Tools.KubectlIn(S, k, Limit("{max: 5, name: b}"), "apply", "-f", "-");
        Assert.Contains("The Limit \"l1\" is invalid: spec.name: Forbidden: name is immutable", renamed.Stderr);
        await Ok(k, "delete", "limits.cel.example.com", "l1", "-n", "default");
    }

    [Fact]
    public async Task CrdWithARuleThatDoesNotCompile_IsRefused()
    {
        var k = Tools.KubectlVersion("1.33");
        var broken = LimitsCrd.Replace("limits.cel.example.com", "brokens.cel.example.com").Replace("plural: limits", "plural: brokens")
            .Replace("kind: Limit}", "kind: Broken}").Replace("self.min <= self.max", "self.mni <= self.max");
        var r = await Tools.KubectlIn(S, k, broken, "create", "-f", "-");
        Assert.Contains("spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:\"self.mni <= self.max\", Message:\"min must not exceed max\", MessageExpression:\"\", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:5: undefined field 'mni'", r.Stderr);
    }

    [Fact]
    public async Task CrdWithARuleOverTheEstimatedCostLimits_IsRefused()
    {
        // kubernetes/kubernetes#124234: string() of an integer has no bounded size, so concatenating it is estimated
        // past every limit.
        var k = Tools.KubectlVersion("1.33");
        var costly = LimitsCrd.Replace("limits.cel.example.com", "costlies.cel.example.com").Replace("plural: limits", "plural: costlies")
            .Replace("kind: Limit}", "kind: Costly}").Replace("'max of ' + self.name + ' is more than 100'", "'max is ' + string(self.max)");
        var r = await Tools.KubectlIn(S, k, costly, "create", "-f", "-");
        const string at = "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].messageExpression";
        const string advice = "(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)";
        Assert.Contains($"* {at}: Forbidden: estimated messageExpression cost exceeds budget by factor of more than 100x {advice}", r.Stderr);
        Assert.Contains($"* {at}: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema", r.Stderr);
        Assert.Contains($"* spec.validation.openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x {advice}", r.Stderr);

        // A nested loop over an unbounded list is refused; with maxItems it is accepted.
        var loop = costly.Replace("'max is ' + string(self.max)", "'too big'").Replace("self.all(t, t.startsWith('t-'))", "self.all(a, self.all(b, a != b || a.startsWith('t-')))");
        r = await Tools.KubectlIn(S, k, loop, "create", "--dry-run=server", "-f", "-");
        Assert.Contains("* spec.validation.openAPIV3Schema.properties[spec].properties[tags].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x", r.Stderr);
        var bounded = loop.Replace("items: {type: string}", "items: {type: string, maxLength: 10}")
            .Replace("x-kubernetes-list-type: set", "x-kubernetes-list-type: set\n                maxItems: 20");
        r = await Tools.KubectlIn(S, k, bounded, "create", "--dry-run=server", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
