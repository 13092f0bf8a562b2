using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Which requests reach a webhook (selectors, rules), dry-run and sideEffects, and reinvocation.</summary>
public sealed partial class WebhookTests
{
    /// <summary>namespaceSelector and objectSelector: only matching namespaces and labelled objects reach the webhook.</summary>
    [Fact]
    public async Task Selectors_NamespaceAndObject()
    {
        var ns = await NamespaceAsync();
        var other = await NamespaceAsync();
        Ok(await K("label", "namespace", ns, "webhooks=on"));
        var path = "/selectors-" + ns;
        _hooks.Handle(path, r => new JsonObject { ["allowed"] = false, ["status"] = new JsonObject { ["message"] = "selected" } });
        var hook = Hook("selectors.webhooks.example.com", ns, path);
        hook["namespaceSelector"] = JsonNode.Parse("""{"matchExpressions":[{"key":"webhooks","operator":"In","values":["on"]}]}""");
        hook["objectSelector"] = JsonNode.Parse("""{"matchLabels":{"checked":"true"}}""");
        var config = await ConfigureAsync(false, "selectors-" + ns, hook);
        try
        {
            var r = await CreateUntilCalledAsync(path, ns, labels: """{"checked":"true"}""");
            Assert.Contains("denied the request: selected", r.Stderr);
            var before = _hooks.Requests(path).Count;
            Ok(await KIn(ConfigMap(ns, "unlabelled"), "create", "-f", "-"));
            Ok(await KIn(ConfigMap(other, "elsewhere", """{"checked":"true"}"""), "create", "-f", "-"));
            Assert.Equal(before, _hooks.Requests(path).Count);
            // An update that removes the label still matches through the old object.
            _hooks.Handle(path, _ => new JsonObject { ["allowed"] = true });
            Ok(await KIn(ConfigMap(ns, "was-checked", """{"checked":"true"}"""), "create", "-f", "-"));
            Ok(await K("label", "configmap", "was-checked", "-n", ns, "checked-"));
            var last = _hooks.Requests(path).Last()["request"]!;
            Assert.Equal("UPDATE", (string?)last["operation"]);
        }
        finally { await RemoveAsync(false, config); }
    }

    /// <summary>
    /// Dry-run: a webhook with sideEffects None is called with dryRun true (and nothing is stored); Some cannot be
    /// registered.
    /// </summary>
    [Fact]
    public async Task DryRun_SideEffects()
    {
        var ns = await NamespaceAsync();
        var path = "/dry-" + ns;
        _hooks.Handle(path, _ => new JsonObject { ["allowed"] = true });
        var config = await ConfigureAsync(false, "dry-" + ns, Hook("dry.webhooks.example.com", ns, path, sideEffects: "None"));
        try
        {
            await CreateUntilCalledAsync(path, ns);
            Ok(await KIn(ConfigMap(ns, "dry"), "create", "-f", "-", "--dry-run=server"));
            var last = _hooks.Requests(path).Last()["request"]!;
            Assert.True((bool)last["dryRun"]!);
            Assert.Equal("""["All"]""", last["options"]?["dryRun"]?.ToJsonString());
            Assert.NotEqual(0, (await K("get", "configmap", "dry", "-n", ns)).ExitCode);

            // sideEffects Some or Unknown cannot be registered through v1 (upstream's validation); the dry-run
            // refusal of such webhooks (kept from older objects) is covered by the unit tests.
            var some = Hook("effects.webhooks.example.com", ns, path, sideEffects: "Some");
            var refused = await KIn(new JsonObject
            {
                ["apiVersion"] = "admissionregistration.k8s.io/v1", ["kind"] = "ValidatingWebhookConfiguration",
                ["metadata"] = new JsonObject { ["name"] = "effects-" + ns }, ["webhooks"] = new JsonArray(some),
            }.ToJsonString(), "create", "-f", "-");
            Assert.Equal($"The ValidatingWebhookConfiguration \"effects-{ns}\" is invalid: webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\"",
                refused.Stderr.Trim());
        }
        finally { await RemoveAsync(false, config); }
    }

    /// <summary>
    /// reinvocationPolicy IfNeeded: a webhook called before another one changed the object is called again (once);
    /// with Never it is not.
    /// </summary>
    [Fact]
    public async Task Reinvocation_IfNeeded_CallsEarlierWebhookAgain()
    {
        var ns = await NamespaceAsync();
        var first = "/first-" + ns;
        var second = "/second-" + ns;
        // The first webhook copies label "b" (once set) into label "seen-b"; the second sets label "b".
        _hooks.Handle(first, r =>
        {
            var labels = r["object"]?["metadata"]?["labels"] as JsonObject;
            var patch = new JsonArray();
            if (labels is null) patch.Add(new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels", ["value"] = new JsonObject() });
            if ((string?)labels?["b"] is { } b) patch.Add(new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels/seen-b", ["value"] = b });
            return patch.Count == 0 ? new JsonObject { ["allowed"] = true } : new JsonObject { ["allowed"] = true, ["patch"] = patch };
        });
        _hooks.Handle(second, _ => new JsonObject
        {
            ["allowed"] = true,
            ["patch"] = new JsonArray(new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels/b", ["value"] = "set" }),
        });
        var a = Hook("a.webhooks.example.com", ns, first);
        a["reinvocationPolicy"] = "IfNeeded";
        var config = await ConfigureAsync(true, "reinvoke-" + ns, a, Hook("b.webhooks.example.com", ns, second));
        try
        {
            await CreateUntilCalledAsync(second, ns);
            var before = _hooks.Requests(first).Count;
            Ok(await KIn(ConfigMap(ns, "again"), "create", "-f", "-"));
            Assert.Equal(2, _hooks.Requests(first).Count - before);
            var got = JsonNode.Parse((await K("get", "configmap", "again", "-n", ns, "-o", "json")).Stdout)!;
            Assert.Equal("set", (string?)got["metadata"]?["labels"]?["seen-b"]);

            a["reinvocationPolicy"] = "Never";
            await ConfigureAsync(true, config, a, Hook("b.webhooks.example.com", ns, second));
            var once = await EventuallyAsync(async () =>
            {
                var n = _hooks.Requests(first).Count;
                var name = NewName("cm");
                Ok(await KIn(ConfigMap(ns, name), "create", "-f", "-"));
                return (Calls: _hooks.Requests(first).Count - n, Name: name);
            }, x => x.Calls == 1, "reinvocation off");
            var plain = JsonNode.Parse((await K("get", "configmap", once.Name, "-n", ns, "-o", "json")).Stdout)!;
            Assert.Null(plain["metadata"]?["labels"]?["seen-b"]);
        }
        finally { await RemoveAsync(true, config); }
    }

    /// <summary>
    /// matchConditions: a false condition skips the webhook; an expression that fails at run time refuses the request
    /// (upstream's Forbidden) under Fail and skips the webhook under Ignore; <c>authorizer</c> checks work.
    /// </summary>
    [Fact]
    public async Task MatchConditions_SkipFailAndAuthorizer()
    {
        var ns = await NamespaceAsync();
        var path = "/conditions-" + ns;
        _hooks.Handle(path, _ => new JsonObject { ["allowed"] = false, ["status"] = new JsonObject { ["message"] = "conditions matched" } });
        var hook = Hook("conditions.webhooks.example.com", ns, path);
        hook["matchConditions"] = JsonNode.Parse("""
            [{"name":"labelled","expression":"has(object.metadata.labels) && 'check' in object.metadata.labels"},
             {"name":"may-list-secrets","expression":"authorizer.group('').resource('secrets').namespace(request.namespace).check('list').allowed()"}]
            """);
        var config = await ConfigureAsync(false, "conditions-" + ns, hook);
        try
        {
            var r = await CreateUntilCalledAsync(path, ns, labels: """{"check":"yes"}""");
            Assert.Contains("admission webhook \"conditions.webhooks.example.com\" denied the request: conditions matched", r.Stderr);
            var before = _hooks.Requests(path).Count;
            Ok(await KIn(ConfigMap(ns, "unchecked"), "create", "-f", "-"));
            Assert.Equal(before, _hooks.Requests(path).Count);

            // An expression that errors at run time: Fail refuses the request, Ignore skips the webhook.
            hook["matchConditions"] = JsonNode.Parse("""[{"name":"broken","expression":"object.data.missing == 'x'"}]""");
            await ConfigureAsync(false, config, hook);
            var failed = await EventuallyAsync(() => Tools.KubectlIn(_s, Kubectl133, ConfigMap(ns, NewName("cm")), "create", "-f", "-"),
                x => x.Stderr.Contains("is forbidden"), "broken condition");
            Assert.Contains("Error from server (Forbidden): error when creating \"STDIN\": configmaps \"", failed.Stderr);
            Assert.Contains("no such key: missing", failed.Stderr);
            hook["failurePolicy"] = "Ignore";
            await ConfigureAsync(false, config, hook);
            await EventuallyAsync(() => Tools.KubectlIn(_s, Kubectl133, ConfigMap(ns, NewName("cm")), "create", "-f", "-"),
                x => x.ExitCode == 0, "broken condition ignored");
        }
        finally { await RemoveAsync(false, config); }
    }

    /// <summary>
    /// matchPolicy Equivalent: a webhook for autoscaling/v2 HorizontalPodAutoscalers is called for one created through
    /// autoscaling/v1, with the object converted to v2 (kind/resource v2, requestKind/requestResource v1); Exact is not.
    /// </summary>
    [Fact]
    public async Task MatchPolicy_Equivalent_ConvertsToTheMatchedVersion()
    {
        var ns = await NamespaceAsync();
        var path = "/equivalent-" + ns;
        _hooks.Handle(path, _ => new JsonObject { ["allowed"] = true });
        var hook = Hook("equivalent.webhooks.example.com", ns, path, resources: ["horizontalpodautoscalers"]);
        hook["rules"]![0]!["apiGroups"] = new JsonArray("autoscaling");
        hook["rules"]![0]!["apiVersions"] = new JsonArray("v2");
        var config = await ConfigureAsync(false, "equivalent-" + ns, hook);
        var hpa = (string name) => $$$"""{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"{{{name}}}","namespace":"{{{ns}}}"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1,"maxReplicas":3,"targetCPUUtilizationPercentage":70}}""";
        try
        {
            await EventuallyAsync(async () =>
            {
                Ok(await KIn(hpa(NewName("hpa")), "create", "-f", "-"));
                return _hooks.Requests(path).Count;
            }, n => n > 0, "equivalent webhook called");
            var req = _hooks.Requests(path).Last()["request"]!;
            Assert.Equal("""{"group":"autoscaling","version":"v2","kind":"HorizontalPodAutoscaler"}""", req["kind"]!.ToJsonString());
            Assert.Equal("""{"group":"autoscaling","version":"v2","resource":"horizontalpodautoscalers"}""", req["resource"]!.ToJsonString());
            Assert.Equal("""{"group":"autoscaling","version":"v1","kind":"HorizontalPodAutoscaler"}""", req["requestKind"]!.ToJsonString());
            Assert.Equal("autoscaling/v2", (string?)req["object"]?["apiVersion"]);
            Assert.Equal(70, (int?)req["object"]?["spec"]?["metrics"]?[0]?["resource"]?["target"]?["averageUtilization"]);

            hook["matchPolicy"] = "Exact";
            await ConfigureAsync(false, config, hook);
            await EventuallyAsync(async () =>
            {
                var n = _hooks.Requests(path).Count;
                Ok(await KIn(hpa(NewName("hpa")), "create", "-f", "-"));
                return _hooks.Requests(path).Count - n;
            }, d => d == 0, "exact webhook not called for v1");
        }
        finally { await RemoveAsync(false, config); }
    }
}
