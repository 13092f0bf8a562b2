using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>CRD conversion webhooks over the admission webhooks' client (the same TLS, caBundle and test server).</summary>
public sealed partial class WebhookTests
{
    /// <summary>
    /// A CRD with <c>conversion.strategy: Webhook</c>: an object stored as v1 is read as v2 through the webhook's
    /// ConversionReview (its labels kept, spec converted); a webhook that cannot be reached is upstream's 500, and the CRD
    /// can still be deleted with its objects.
    /// </summary>
    [Fact]
    public async Task CrdConversionWebhook_ConvertsBetweenVersions()
    {
        var ns = await NamespaceAsync();
        var path = "/convert-" + ns;
        _hooks.Handle(path, r =>
        {
            var desired = (string)r["desiredAPIVersion"]!;
            var converted = new JsonArray();
            foreach (var o in r["objects"]!.AsArray())
            {
                var c = o!.DeepClone().AsObject();
                c["apiVersion"] = desired;
                var spec = c["spec"] as JsonObject ?? [];
                if (desired.EndsWith("/v2", StringComparison.Ordinal) && spec["size"] is { } size) { spec.Remove("size"); spec["replicas"] = size.DeepClone(); }
                if (desired.EndsWith("/v1", StringComparison.Ordinal) && spec["replicas"] is { } replicas) { spec.Remove("replicas"); spec["size"] = replicas.DeepClone(); }
                var labels = c["metadata"]!["labels"] as JsonObject ?? [];
                labels["converted-to"] = desired.Split('/')[1];
                c["metadata"]!["labels"] = labels;
                converted.Add(c);
            }
            var review = new JsonObject
            {
                ["apiVersion"] = "apiextensions.k8s.io/v1",
                ["kind"] = "ConversionReview",
                ["response"] = new JsonObject
                {
                    ["uid"] = (string)r["uid"]!,
                    ["convertedObjects"] = converted,
                    ["result"] = new JsonObject { ["status"] = "Success" },
                },
            };
            return new WebhookTestServer.Raw(200, review.ToJsonString());
        });
        var group = ns + ".hooks.example.com";
        var schema = """{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}""";
        var crd = """
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.GROUP"},
             "spec":{"group":"GROUP","scope":"Namespaced","preserveUnknownFields":false,"names":{"plural":"widgets","singular":"widget","kind":"Widget"},
              "versions":[{"name":"v1","served":true,"storage":true,"schema":SCHEMA},{"name":"v2","served":true,"storage":false,"schema":SCHEMA}],
              "conversion":{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],
                "clientConfig":{"url":"URL","caBundle":"CABUNDLE"}}}}}
            """.Replace("GROUP", group).Replace("SCHEMA", schema).Replace("URL", _hooks.Url(path)).Replace("CABUNDLE", _hooks.CaBundle);
        Ok(await KIn(crd, "apply", "-f", "-"));
        try
        {
            Ok(await K("wait", "--for", "condition=established", "--timeout=60s", "crd/widgets." + group));
            var widget = $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"w","namespace":"{{{ns}}}"},"spec":{"size":3}}""";
            await EventuallyAsync(() => KIn(widget, "apply", "-f", "-"), r => r.ExitCode == 0, "widget created");
            var v2 = await EventuallyAsync(() => K("get", $"widgets.v2.{group}", "w", "-n", ns, "-o", "json"), r => r.ExitCode == 0, "widget as v2");
            var got = JsonNode.Parse(v2.Stdout)!;
            Assert.Equal($"{group}/v2", (string?)got["apiVersion"]);
            Assert.Equal(3, (int?)got["spec"]?["replicas"]);
            Assert.Null(got["spec"]?["size"]);
            Assert.Equal("v2", (string?)got["metadata"]?["labels"]?["converted-to"]);
            var review = _hooks.Requests(path).Last();
            Assert.Equal("ConversionReview", (string?)review["kind"]);
            Assert.Equal($"{group}/v2", (string?)review["request"]?["desiredAPIVersion"]);

            // The webhook gone: reading as v2 is upstream's 500.
            var broken = crd.Replace(_hooks.Url(path), $"https://127.0.0.1:{ClosedPort()}/convert");
            Ok(await KIn(broken, "apply", "-f", "-"));
            var failed = await EventuallyAsync(() => K("get", $"widgets.v2.{group}", "w", "-n", ns, "-o", "json"), r => r.ExitCode != 0, "conversion fails");
            Assert.Contains($"conversion webhook for {group}/v1, Kind=Widget failed: Post \"https://127.0.0.1:", failed.Stderr);

            // Deleting the CRD needs no conversion (its objects are removed in the storage version), webhook down or not.
            Ok(await K("delete", "crd", "widgets." + group, "--timeout=60s"));
            Assert.Equal(1, (await K("get", "crd", "widgets." + group)).ExitCode);
        }
        finally
        {
            await K("delete", "crd", "widgets." + group, "--ignore-not-found", "--wait=false");
        }
    }
}
