using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Portcullis.Testing.Tests;

/// <summary>
/// A validating webhook served by the test itself: an HTTPS endpoint with a certificate from the cluster CA
/// (<see cref="PortcullisCluster.IssueServingCertificate"/>), registered with caBundle = <see cref="PortcullisCluster.CaCertificatePem"/>.
/// </summary>
public sealed class WebhookTests
{
    [Fact]
    public async Task ValidatingWebhookOnATestServer_RefusesWhatItRejects()
    {
        await using var cluster = await PortcullisCluster.StartAsync();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        using var certificate = cluster.IssueServingCertificate();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        await using var webhook = builder.Build();
        var calls = 0;
        webhook.MapPost("/validate", async (HttpContext ctx) =>
        {
            Interlocked.Increment(ref calls);
            var review = (await JsonNode.ParseAsync(ctx.Request.Body))!.AsObject();
            var request = review["request"]!;
            var labels = request["object"]?["metadata"]?["labels"] as JsonObject;
            var deny = labels?["deny"]?.GetValue<string>() == "true";
            var response = new JsonObject
            {
                ["apiVersion"] = "admission.k8s.io/v1",
                ["kind"] = "AdmissionReview",
                ["response"] = new JsonObject
                {
                    ["uid"] = request["uid"]!.GetValue<string>(),
                    ["allowed"] = !deny,
                    ["status"] = deny ? new JsonObject { ["code"] = 403, ["message"] = "labelled deny=true" } : null,
                },
            };
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(response.ToJsonString());
        });
        await webhook.StartAsync();
        var url = webhook.Urls.Single().TrimEnd('/') + "/validate";

        var ca = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(cluster.CaCertificatePem));
        await cluster.ApplyAsync($$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: deny-labelled}
            webhooks:
            - name: deny-labelled.example.com
              admissionReviewVersions: [v1]
              sideEffects: None
              failurePolicy: Fail
              clientConfig:
                url: {{url}}
                caBundle: {{ca}}
              rules:
              - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
            """);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => cluster.AdminClient.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "refused", Labels = new Dictionary<string, string> { ["deny"] = "true" } } }, "default"));
        Assert.Equal(HttpStatusCode.Forbidden, e.Response.StatusCode);
        Assert.Contains("admission webhook \\\"deny-labelled.example.com\\\" denied the request: labelled deny=true", e.Response.Content);
        await cluster.AdminClient.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "accepted" } }, "default");
        Assert.True(calls >= 2);
        await webhook.StopAsync();
    }
}
