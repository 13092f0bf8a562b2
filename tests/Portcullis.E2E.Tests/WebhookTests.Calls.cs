using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>What webhooks receive and what their answers do: denials as kubectl prints them, patches, warnings, DELETE.</summary>
public sealed partial class WebhookTests
{
    /// <summary>
    /// A validating webhook by URL refuses with its own code and message: the API status passes them through
    /// (upstream's ToStatusErr) and kubectl 1.30 and 1.33 print "admission webhook ... denied the request: ...".
    /// </summary>
    [Fact]
    public async Task ValidatingWebhook_Denies_WithItsCodeAndMessage_AsKubectlPrintsIt()
    {
        var ns = await NamespaceAsync();
        var path = "/deny-" + ns;
        _hooks.Handle(path, r => (string?)r["object"]?["metadata"]?["labels"]?["allowed"] == "yes"
            ? new JsonObject { ["allowed"] = true }
            : new JsonObject
            {
                ["allowed"] = false,
                ["status"] = new JsonObject { ["code"] = 403, ["reason"] = "Forbidden", ["message"] = "configmaps need the label allowed=yes" },
            });
        var config = await ConfigureAsync(false, "deny-" + ns, Hook("deny.webhooks.example.com", ns, path));
        try
        {
            var refused = await CreateUntilCalledAsync(path, ns);
            Assert.NotEqual(0, refused.ExitCode);
            foreach (var kubectl in new[] { Kubectl130, Kubectl133 })
            {
                var r = await Tools.KubectlIn(_s, kubectl, ConfigMap(ns, "refused"), "create", "-f", "-");
                Assert.NotEqual(0, r.ExitCode);
                Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": admission webhook \"deny.webhooks.example.com\" denied the request: configmaps need the label allowed=yes",
                    r.Stderr.Trim());
                var r2 = await Tools.Kubectl(_s, kubectl, "create", "configmap", "refused2", "-n", ns);
                Assert.Equal("error: failed to create configmap: admission webhook \"deny.webhooks.example.com\" denied the request: configmaps need the label allowed=yes",
                    r2.Stderr.Trim());
            }
            var (status, body) = await Tools.Curl(_s, "POST", $"/api/v1/namespaces/{ns}/configmaps", ConfigMap(ns, "refused3"));
            Assert.Equal(403, status);
            var st = JsonNode.Parse(body)!;
            Assert.Equal("Forbidden", (string?)st["reason"]);
            Assert.Equal("admission webhook \"deny.webhooks.example.com\" denied the request: configmaps need the label allowed=yes", (string?)st["message"]);
            Ok(await KIn(ConfigMap(ns, "welcome", """{"allowed":"yes"}"""), "create", "-f", "-"));

            // A denial without a status: 400 and "without explanation".
            _hooks.Handle(path, _ => new JsonObject { ["allowed"] = false });
            var bare = await Tools.KubectlIn(_s, Kubectl133, ConfigMap(ns, "bare"), "create", "-f", "-");
            Assert.Equal("Error from server: error when creating \"STDIN\": admission webhook \"deny.webhooks.example.com\" denied the request without explanation",
                bare.Stderr.Trim());
        }
        finally { await RemoveAsync(false, config); }
    }

    /// <summary>The AdmissionReview a webhook receives: every field upstream fills, for CREATE, UPDATE (with the old object) and DELETE.</summary>
    [Fact]
    public async Task Review_CarriesEveryField_ForCreateUpdateAndDelete()
    {
        var ns = await NamespaceAsync();
        var path = "/review-" + ns;
        _hooks.Handle(path, _ => new JsonObject { ["allowed"] = true });
        var config = await ConfigureAsync(false, "review-" + ns, Hook("review.webhooks.example.com", ns, path, timeout: 7));
        try
        {
            await CreateUntilCalledAsync(path, ns);
            var before = _hooks.Requests(path).Count;
            Ok(await KIn(ConfigMap(ns, "subject"), "create", "-f", "-", "--field-manager", "tester"));
            Ok(await K("label", "configmap", "subject", "-n", ns, "color=blue"));
            Ok(await K("delete", "configmap", "subject", "-n", ns));
            var reviews = _hooks.Requests(path).Skip(before).ToList();
            Assert.Equal(3, reviews.Count);

            var create = reviews[0];
            Assert.Equal("admission.k8s.io/v1", (string?)create["apiVersion"]);
            Assert.Equal("AdmissionReview", (string?)create["kind"]);
            Assert.Equal("?timeout=7s", (string?)create["__query"]);
            var req = create["request"]!.AsObject();
            Assert.Matches("^[0-9a-f-]{36}$", (string?)req["uid"]);
            Assert.Equal("""{"group":"","version":"v1","kind":"ConfigMap"}""", req["kind"]!.ToJsonString());
            Assert.Equal("""{"group":"","version":"v1","resource":"configmaps"}""", req["resource"]!.ToJsonString());
            Assert.Equal(req["kind"]!.ToJsonString(), req["requestKind"]!.ToJsonString());
            Assert.Equal(req["resource"]!.ToJsonString(), req["requestResource"]!.ToJsonString());
            Assert.Equal("subject", (string?)req["name"]);
            Assert.Equal(ns, (string?)req["namespace"]);
            Assert.Equal("CREATE", (string?)req["operation"]);
            Assert.False(string.IsNullOrEmpty((string?)req["userInfo"]?["username"]));
            Assert.Contains("system:masters", req["userInfo"]!["groups"]!.AsArray().Select(g => (string?)g));
            Assert.Equal("v", (string?)req["object"]?["data"]?["k"]);
            Assert.Null(req["oldObject"]);
            Assert.False((bool)req["dryRun"]!);
            Assert.Equal("CreateOptions", (string?)req["options"]?["kind"]);
            Assert.Equal("meta.k8s.io/v1", (string?)req["options"]?["apiVersion"]);

            var update = reviews[1]["request"]!.AsObject();
            Assert.Equal("UPDATE", (string?)update["operation"]);
            Assert.Equal("blue", (string?)update["object"]?["metadata"]?["labels"]?["color"]);
            Assert.Null(update["oldObject"]?["metadata"]?["labels"]?["color"]);
            Assert.Equal("UpdateOptions", (string?)update["options"]?["kind"]);

            var delete = reviews[2]["request"]!.AsObject();
            Assert.Equal("DELETE", (string?)delete["operation"]);
            Assert.Null(delete["object"]);
            Assert.Equal("subject", (string?)delete["oldObject"]?["metadata"]?["name"]);
            Assert.Equal("DeleteOptions", (string?)delete["options"]?["kind"]);
        }
        finally { await RemoveAsync(false, config); }
    }

    /// <summary>
    /// A mutating webhook reached through a Service (hand-written Endpoints at this machine's address and the test server's port):
    /// its JSONPatch lands in the stored object, its warnings reach kubectl, its audit annotations do not fail anything.
    /// </summary>
    [Fact]
    public async Task MutatingWebhook_ByService_PatchesTheObject_AndWarns()
    {
        var ns = await NamespaceAsync();
        await ServiceAsync("webhook-svc", "hooks", "https", withSlice: false);
        var path = "/mutate-" + ns;
        _hooks.Handle(path, r => new JsonObject
        {
            ["allowed"] = true,
            ["patch"] = new JsonArray(
                new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels", ["value"] = new JsonObject { ["mutated-by"] = "webhook" } },
                new JsonObject { ["op"] = "add", ["path"] = "/data/added", ["value"] = "yes" }),
            ["warnings"] = new JsonArray("configmaps are being watched", ""),
            ["auditAnnotations"] = new JsonObject { ["seen"] = "true" },
        });
        var hook = Hook("mutate.webhooks.example.com", ns, path);
        hook["clientConfig"] = new JsonObject
        {
            ["service"] = new JsonObject { ["namespace"] = "webhook-svc", ["name"] = "hooks", ["path"] = path, ["port"] = 8443 },
            ["caBundle"] = _hooks.CaBundle,
        };
        var config = await ConfigureAsync(true, "mutate-" + ns, hook);
        try
        {
            await CreateUntilCalledAsync(path, ns);
            foreach (var kubectl in new[] { Kubectl130, Kubectl133 })
            {
                var name = NewName("patched");
                var r = await Tools.KubectlIn(_s, kubectl, ConfigMap(ns, name), "create", "-f", "-");
                Ok(r);
                Assert.Contains("Warning: configmaps are being watched", r.Stderr);
                var got = JsonNode.Parse((await K("get", "configmap", name, "-n", ns, "-o", "json")).Stdout)!;
                Assert.Equal("webhook", (string?)got["metadata"]?["labels"]?["mutated-by"]);
                Assert.Equal("yes", (string?)got["data"]?["added"]);
                Assert.Equal("v", (string?)got["data"]?["k"]);
            }
            var review = _hooks.Requests(path).Last();
            Assert.Equal("?timeout=10s", (string?)review["__query"]);
        }
        finally { await RemoveAsync(true, config); }
    }

    /// <summary>The same through an EndpointSlice (no Endpoints object), and a Service with no ready endpoint fails closed.</summary>
    [Fact]
    public async Task ServiceReference_ThroughEndpointSlice_AndWithoutEndpoints()
    {
        var ns = await NamespaceAsync();
        await ServiceAsync("webhook-svc", "sliced", "", withSlice: true);
        var path = "/sliced-" + ns;
        _hooks.Handle(path, _ => new JsonObject { ["allowed"] = false, ["status"] = new JsonObject { ["message"] = "through a slice" } });
        var hook = Hook("sliced.webhooks.example.com", ns, path);
        hook["clientConfig"] = new JsonObject
        {
            ["service"] = new JsonObject { ["namespace"] = "webhook-svc", ["name"] = "sliced", ["path"] = path, ["port"] = 8443 },
            ["caBundle"] = _hooks.CaBundle,
        };
        var config = await ConfigureAsync(false, "sliced-" + ns, hook);
        try
        {
            var r = await CreateUntilCalledAsync(path, ns);
            Assert.Contains("admission webhook \"sliced.webhooks.example.com\" denied the request: through a slice", r.Stderr);

            // The Service without any endpoint: an internal error naming the webhook.
            hook["clientConfig"]!["service"]!["name"] = "nowhere";
            Ok(await KIn($$$"""{"apiVersion":"v1","kind":"Service","metadata":{"name":"nowhere","namespace":"webhook-svc"},"spec":{"ports":[{"port":8443}]}}""", "apply", "-f", "-"));
            await ConfigureAsync(false, config, hook);
            var failed = await EventuallyAsync(() => Tools.KubectlIn(_s, Kubectl133, ConfigMap(ns, NewName("cm")), "create", "-f", "-"),
                x => x.Stderr.Contains("no endpoints available"), "no endpoints");
            Assert.Contains("Error from server (InternalError): error when creating \"STDIN\": Internal error occurred: failed calling webhook \"sliced.webhooks.example.com\": failed to call webhook: Post \"https://nowhere.webhook-svc.svc:8443" + path + "?timeout=10s\": no endpoints available for service \"nowhere\"",
                failed.Stderr);
        }
        finally { await RemoveAsync(false, config); }
    }

    /// <summary>
    /// A Service in namespace webhook-svc whose EndpointSlice points at the test server on 127.0.0.1, or whose Endpoints
    /// point at it on the machine's own address (upstream's Endpoints validation refuses loopback addresses).
    /// </summary>
    private async Task ServiceAsync(string ns, string name, string portName, bool withSlice)
    {
        await K("create", "namespace", ns);
        var port = new JsonObject { ["port"] = 8443, ["targetPort"] = _hooks.Port };
        if (portName.Length > 0) port["name"] = portName;
        var items = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Service",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject { ["ports"] = new JsonArray(port) },
        });
        var epPort = new JsonObject { ["port"] = _hooks.Port };
        if (portName.Length > 0) epPort["name"] = portName;
        if (withSlice)
        {
            epPort["protocol"] = "TCP";
            items.Add(new JsonObject
            {
                ["apiVersion"] = "discovery.k8s.io/v1", ["kind"] = "EndpointSlice",
                ["metadata"] = new JsonObject { ["name"] = name + "-manual", ["namespace"] = ns, ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = name } },
                ["addressType"] = "IPv4",
                ["endpoints"] = JsonNode.Parse("""[{"addresses":["127.0.0.1"],"conditions":{"ready":true}}]"""),
                ["ports"] = new JsonArray(epPort),
            });
        }
        else
        {
            items.Add(new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "Endpoints",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
                ["subsets"] = new JsonArray(new JsonObject
                {
                    ["addresses"] = new JsonArray(new JsonObject { ["ip"] = WebhookTestServer.HostAddress() ?? "127.0.0.1" }),
                    ["ports"] = new JsonArray(epPort),
                }),
            });
        }
        var sb = new StringBuilder(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = items }.ToJsonString());
        Ok(await KIn(sb.ToString(), "apply", "-f", "-"));
    }
}
