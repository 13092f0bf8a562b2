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
    /// Dry-run: a webhook with sideEffects None is called with dryRun true (and nothing is stored); one with Some or
    /// Unknown refuses the dry run with upstream's 400, whatever its failure policy.
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

            foreach (var (effects, policy) in new[] { ("Some", "Ignore"), ("Unknown", "Fail") })
            {
                await RemoveAsync(false, config);
                var probe = Hook("probe.webhooks.example.com", ns, path, failurePolicy: "Ignore");
                await ConfigureAsync(false, config, probe, Hook("effects.webhooks.example.com", ns, path, failurePolicy: policy, sideEffects: effects));
                var r = await EventuallyAsync(() => Tools.KubectlIn(_s, Kubectl133, ConfigMap(ns, "dry2"), "create", "-f", "-", "--dry-run=server"),
                    x => x.ExitCode != 0, "dry run refused");
                Assert.Equal("Error from server (BadRequest): error when creating \"STDIN\": admission webhook \"effects.webhooks.example.com\" does not support dry run",
                    r.Stderr.Trim());
            }
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
}
