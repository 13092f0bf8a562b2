using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Admission.Webhooks;
using Portcullis.Server.Api.Resources.Core;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Tests.Admission.Webhooks;

/// <summary>
/// Dry-run and sideEffects (validating/dispatcher.go callHook, mutating callAttrMutatingHook): checked before any
/// call, so no webhook server is needed. Some and Unknown can only come from objects stored before v1's validation.
/// </summary>
public class WebhookDryRunTests
{
    private static readonly UserInfo User = new("alice", "", [], UserInfo.NoExtra);

    private static readonly WebhookDispatcher Dispatcher = new(null!, null!,
        new WebhookClient(new ServiceEndpointResolver((_, _, _, _) => Task.FromResult<JsonObject?>(null),
            (_, _, _) => Task.FromResult<IReadOnlyList<JsonObject>>([])), new X509Certificate2Collection()));

    private static Webhook Hook(string? sideEffects)
    {
        var spec = new JsonObject
        {
            ["name"] = "x.example.com",
            ["clientConfig"] = new JsonObject { ["url"] = "https://127.0.0.1:1/never" },
            ["admissionReviewVersions"] = new JsonArray("v1"),
        };
        if (sideEffects is not null) spec["sideEffects"] = sideEffects;
        var config = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "c" }, ["webhooks"] = new JsonArray(spec) };
        return Webhook.FromConfiguration(config, mutating: false).Single();
    }

    private static AdmissionRequest DryRunCreate()
    {
        var pod = (JsonObject)JsonNode.Parse("""{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"ns"}}""")!;
        return new(Operation.Create, PodKind.V1, "", "ns", "p", pod, null, User, DryRun: true);
    }

    [Theory]
    [InlineData("Some")]
    [InlineData("Unknown")]
    public async Task SideEffectsWithoutDryRunSupport_RefuseTheDryRun(string sideEffects)
    {
        var r = DryRunCreate();
        var e = await Assert.ThrowsAsync<ApiException>(() => Dispatcher.CallAsync(Hook(sideEffects), r, MatchedResource.Of(r), r.Object, null, default));
        Assert.Equal((400, "BadRequest", "admission webhook \"x.example.com\" does not support dry run"), (e.Code, e.Reason, e.Message));
    }

    [Fact]
    public async Task NoSideEffects_IsAFailureToCall()
    {
        var r = DryRunCreate();
        var e = await Assert.ThrowsAsync<WebhookCallException>(() => Dispatcher.CallAsync(Hook(null), r, MatchedResource.Of(r), r.Object, null, default));
        Assert.Equal("failed calling webhook \"x.example.com\": Webhook SideEffects is nil", e.Message);
    }
}
