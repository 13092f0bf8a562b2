using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Requests the generic store does not write reach webhooks as upstream admits them (CREATE and CONNECT subresources).</summary>
public sealed partial class WebhookTests
{
    /// <summary>
    /// pods/eviction, pods/binding and serviceaccounts/token (CREATE, with their own kinds) and pods/exec, pods/attach,
    /// pods/portforward (CONNECT, with the Pod*Options object) are sent to a matching webhook, whose denial is the answer.
    /// </summary>
    [Fact]
    public async Task Subresources_CreateAndConnect_ReachWebhooks()
    {
        var ns = await NamespaceAsync();
        var path = "/subresources-" + ns;
        _hooks.Handle(path, r => new JsonObject
        {
            ["allowed"] = false,
            ["status"] = new JsonObject { ["code"] = 403, ["reason"] = "Forbidden", ["message"] = $"no {r["operation"]} of {r["resource"]?["resource"]}/{r["subResource"]}" },
        });
        var hook = Hook("subresources.webhooks.example.com", ns, path, operations: ["CREATE", "CONNECT"],
            resources: ["configmaps", "pods/eviction", "pods/binding", "serviceaccounts/token", "pods/exec", "pods/attach", "pods/portforward"]);
        var config = await ConfigureAsync(false, "subresources-" + ns, hook);
        try
        {
            await CreateUntilCalledAsync(path, ns);
            Ok(await K("create", "serviceaccount", "robot", "-n", ns));
            var cases = new (string Method, string Url, string? Body, string Expect, string Kind)[]
            {
                ("POST", $"/api/v1/namespaces/{ns}/pods/p/eviction", "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"p\",\"namespace\":\"" + ns + "\"}}",
                    "no CREATE of pods/eviction", """{"group":"policy","version":"v1","kind":"Eviction"}"""),
                ("POST", $"/api/v1/namespaces/{ns}/pods/p/binding", """{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Node","name":"n"}}""",
                    "no CREATE of pods/binding", """{"group":"","version":"v1","kind":"Binding"}"""),
                ("POST", $"/api/v1/namespaces/{ns}/serviceaccounts/robot/token", """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}""",
                    "no CREATE of serviceaccounts/token", """{"group":"authentication.k8s.io","version":"v1","kind":"TokenRequest"}"""),
                ("POST", $"/api/v1/namespaces/{ns}/pods/p/exec?command=ls&stdout=true", null, "no CONNECT of pods/exec", """{"group":"","version":"v1","kind":"PodExecOptions"}"""),
                ("POST", $"/api/v1/namespaces/{ns}/pods/p/attach?stdout=true", null, "no CONNECT of pods/attach", """{"group":"","version":"v1","kind":"PodAttachOptions"}"""),
                ("POST", $"/api/v1/namespaces/{ns}/pods/p/portforward?ports=8080", null, "no CONNECT of pods/portforward", """{"group":"","version":"v1","kind":"PodPortForwardOptions"}"""),
            };
            foreach (var c in cases)
            {
                var (status, body) = await Tools.Curl(_s, c.Method, c.Url, c.Body);
                Assert.True(status == 403, $"{c.Url}: {status} {body}");
                Assert.Equal($"admission webhook \"subresources.webhooks.example.com\" denied the request: {c.Expect}", (string?)JsonNode.Parse(body)!["message"]);
                var req = _hooks.Requests(path).Last()["request"]!;
                Assert.Equal(c.Kind, req["kind"]!.ToJsonString());
            }
            var exec = _hooks.Requests(path).Single(r => (string?)r["request"]?["subResource"] == "exec")["request"]!;
            Assert.Equal("""{"kind":"PodExecOptions","apiVersion":"v1","stdout":true,"command":["ls"]}""", exec["object"]!.ToJsonString());
            Assert.Null(exec["options"]);
            var forward = _hooks.Requests(path).Single(r => (string?)r["request"]?["subResource"] == "portforward")["request"]!;
            Assert.Equal("[8080]", forward["object"]?["ports"]?.ToJsonString());
            var token = _hooks.Requests(path).Single(r => (string?)r["request"]?["subResource"] == "token")["request"]!;
            Assert.Equal("robot", (string?)token["name"]);
            Assert.Equal("CreateOptions", (string?)token["options"]?["kind"]);

            // kubectl prints the denial for `create token` as for any create.
            var kubectl = await K("create", "token", "robot", "-n", ns);
            Assert.Equal("error: failed to create token: admission webhook \"subresources.webhooks.example.com\" denied the request: no CREATE of serviceaccounts/token",
                kubectl.Stderr.Trim());
        }
        finally { await RemoveAsync(false, config); }
    }
}
