using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Webhooks;

namespace Portcullis.Server.Tests.Admission.Webhooks;

/// <summary>The checks on a webhook's answer and the denial's status (request/admissionreview.go, errors/statuserror.go).</summary>
public class WebhookReviewTests
{
    private static JsonObject Review(string json) => (JsonObject)JsonNode.Parse(json)!;

    private static string Rejected(string uid, bool mutating, string json, string version = "v1")
    {
        var e = Assert.Throws<FormatException>(() => WebhookReview.Verify(uid, version, mutating, Review(json)));
        return e.Message;
    }

    [Fact]
    public void Verify_ChecksUidKindAndPatchFields()
    {
        Assert.Equal("webhook response was absent", Rejected("u", false, """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"""));
        Assert.Equal("expected response.uid=\"u\", got \"x\"",
            Rejected("u", false, """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"x","allowed":true}}"""));
        Assert.Equal("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got admission.k8s.io/v1beta1, Kind=AdmissionReview",
            Rejected("u", false, """{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"u","allowed":true}}"""));
        Assert.Equal("validating webhook may not return response.patch",
            Rejected("u", false, """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patch":"W10="}}"""));
        Assert.Equal("validating webhook may not return response.patchType",
            Rejected("u", false, """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patchType":"JSONPatch"}}"""));
        Assert.Equal("webhook returned response.patch but not response.patchType",
            Rejected("u", true, """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patch":"W10="}}"""));
        Assert.Equal("webhook returned response.patchType but not response.patch",
            Rejected("u", true, """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patchType":"JSONPatch"}}"""));
    }

    [Fact]
    public void Verify_ReadsTheAnswer_AndV1beta1IsLoose()
    {
        var ok = WebhookReview.Verify("u", "v1", true, Review("""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patch":"W10=","patchType":"JSONPatch",
             "warnings":["w1"],"auditAnnotations":{"k":"v"}}}
            """));
        Assert.True(ok.Allowed);
        Assert.Equal("W10=", (string?)ok.Patch);
        Assert.Equal(["w1"], ok.Warnings);
        Assert.Equal("v", ok.AuditAnnotations.Single(a => a.Key == "k").Value);
        var beta = WebhookReview.Verify("u", "v1beta1", false, Review("""{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"other","allowed":false}}"""));
        Assert.False(beta.Allowed);
        Assert.Throws<WebhookReview.UnsupportedPatchType>(() => WebhookReview.Verify("u", "v1", true, Review("""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patch":"W10=","patchType":"MergePatch"}}
            """)));
    }

    [Fact]
    public void Denied_KeepsCodeAndReason_AtLeast400()
    {
        var e = WebhookReview.Denied("x.example.com", (JsonObject)JsonNode.Parse("""{"code":403,"reason":"Forbidden","message":"no"}""")!);
        Assert.Equal((403, "Forbidden", "admission webhook \"x.example.com\" denied the request: no"), (e.Code, e.Reason, e.Message));
        var low = WebhookReview.Denied("x.example.com", (JsonObject)JsonNode.Parse("""{"code":200,"reason":"Conflict"}""")!);
        Assert.Equal((400, "admission webhook \"x.example.com\" denied the request: Conflict"), (low.Code, low.Message));
        var bare = WebhookReview.Denied("x.example.com", null);
        Assert.Equal((400, "", "admission webhook \"x.example.com\" denied the request without explanation"), (bare.Code, bare.Reason, bare.Message));
        Assert.Equal("admission webhook \"x.example.com\" does not support dry run", WebhookReview.DryRunUnsupported("x.example.com").Message);
    }
}
