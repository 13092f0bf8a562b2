using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>The Webhook conversion strategy's review and the checks on the answer (cases after apiextensions-apiserver's webhook_converter_test.go).</summary>
public class CrdWebhookConverterTests
{
    private sealed class FakeClient(Func<JsonObject, JsonObject> answer) : ICrdConversionClient
    {
        public List<JsonObject> Reviews { get; } = [];
        public List<string> Names { get; } = [];
        public Task<JsonObject> PostAsync(string name, JsonObject clientConfig, JsonObject review, TimeSpan timeout, CancellationToken ct)
        {
            Names.Add(name);
            Reviews.Add(review);
            return Task.FromResult(answer(review));
        }
    }

    private static readonly CrdSpec Crd = CrdSpec.Read((JsonObject)JsonNode.Parse("""
        {"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced",
         "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
         "versions":[{"name":"v1","served":true,"storage":true},{"name":"v2","served":true,"storage":false}],
         "conversion":{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v2","v1"],"clientConfig":{"url":"https://hook.example/convert"}}}}}
        """)!);

    private static JsonObject Widget() => (JsonObject)JsonNode.Parse("""
        {"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"ns","uid":"u1","resourceVersion":"5","labels":{"a":"b"}},"spec":{"size":3}}
        """)!;

    /// <summary>A webhook that moves spec.size to spec.dimensions.size, sets a label, and tries to change the resourceVersion.</summary>
    private static JsonObject GoodAnswer(JsonObject review)
    {
        var request = review["request"]!;
        var converted = new JsonArray();
        foreach (var o in request["objects"]!.AsArray())
        {
            var c = (JsonObject)o!.DeepClone();
            c["apiVersion"] = (string)request["desiredAPIVersion"]!;
            c["spec"] = new JsonObject { ["dimensions"] = new JsonObject { ["size"] = c["spec"]!["size"]!.DeepClone() } };
            c["metadata"]!["labels"] = new JsonObject { ["converted"] = "yes" };
            c["metadata"]!["resourceVersion"] = "999";
            converted.Add(c);
        }
        return new JsonObject
        {
            ["apiVersion"] = "apiextensions.k8s.io/v1", ["kind"] = "ConversionReview",
            ["response"] = new JsonObject { ["uid"] = request["uid"]!.DeepClone(), ["result"] = new JsonObject { ["status"] = "Success" }, ["convertedObjects"] = converted },
        };
    }

    [Fact]
    public void ConvertsThroughTheWebhookKeepingOnlyLabelsAndAnnotationsOfItsMetadata()
    {
        var client = new FakeClient(GoodAnswer);
        var result = new CrdWebhookConverter(client).Convert(Crd, Widget(), "example.com/v2");
        Assert.Equal("conversion_webhook_for_widgets.example.com", client.Names.Single());
        var review = client.Reviews.Single();
        Assert.Equal("apiextensions.k8s.io/v1", (string)review["apiVersion"]!);
        Assert.Equal("example.com/v2", (string)review["request"]!["desiredAPIVersion"]!);
        Assert.Equal("example.com/v2", (string)result["apiVersion"]!);
        Assert.Equal(3, (int)result["spec"]!["dimensions"]!["size"]!);
        Assert.Equal("5", (string)result["metadata"]!["resourceVersion"]!);
        Assert.Equal("""{"converted":"yes"}""", result["metadata"]!["labels"]!.ToJsonString());
    }

    [Fact]
    public void NoCallWhenAlreadyInTheVersionOrEmpty()
    {
        var client = new FakeClient(GoodAnswer);
        var converter = new CrdWebhookConverter(client);
        var w = Widget();
        Assert.Same(w, converter.Convert(Crd, w, "example.com/v1"));
        var empty = (JsonObject)JsonNode.Parse("""{"apiVersion":"example.com/v1","kind":"Widget"}""")!;
        Assert.Equal("example.com/v2", (string)converter.Convert(Crd, empty, "example.com/v2")["apiVersion"]!);
        Assert.Empty(client.Reviews);
    }

    [Theory]
    [InlineData("uid", "conversion webhook for example.com/v1, Kind=Widget failed: expected response.uid=")]
    [InlineData("failure", "conversion webhook for example.com/v1, Kind=Widget failed: the widget is too wide")]
    [InlineData("failure-no-message", "conversion webhook for example.com/v1, Kind=Widget failed: response.result.status was 'Failure', not 'Success'")]
    [InlineData("version", "conversion webhook for example.com/v1, Kind=Widget returned invalid object at index 0: invalid groupVersion (expected example.com/v2, received example.com/v1)")]
    [InlineData("kind", "conversion webhook for example.com/v1, Kind=Widget returned invalid object at index 0: invalid kind (expected Widget, received Gadget)")]
    [InlineData("name", "conversion webhook for example.com/v1, Kind=Widget returned invalid object: must have the same name: w != other")]
    [InlineData("none", "conversion webhook for example.com/v1, Kind=Widget failed, no objects returned")]
    [InlineData("label", "conversion webhook for example.com/v1, Kind=Widget returned invalid metadata: metadata.labels: Invalid value: \"bad value!\"")]
    [InlineData("reviewkind", "conversion webhook for example.com/v1, Kind=Widget failed: expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got /v1, Kind=Status")]
    public void BadAnswersAreUpstreamsInternalErrors(string fault, string message)
    {
        var client = new FakeClient(review =>
        {
            var a = GoodAnswer(review);
            var response = a["response"]!;
            var obj = response["convertedObjects"]![0]!;
            switch (fault)
            {
                case "uid": response["uid"] = "wrong"; break;
                case "failure": response["result"] = new JsonObject { ["status"] = "Failure", ["message"] = "the widget is too wide" }; break;
                case "failure-no-message": response["result"] = new JsonObject { ["status"] = "Failure" }; break;
                case "version": obj["apiVersion"] = "example.com/v1"; break;
                case "kind": obj["kind"] = "Gadget"; break;
                case "name": obj["metadata"]!["name"] = "other"; break;
                case "none": response["convertedObjects"] = new JsonArray(); break;
                case "label": obj["metadata"]!["labels"] = new JsonObject { ["x"] = "bad value!" }; break;
                case "reviewkind": a["kind"] = "Status"; a["apiVersion"] = "v1"; break;
            }
            return a;
        });
        var e = Assert.Throws<ApiException>(() => new CrdWebhookConverter(client).Convert(Crd, Widget(), "example.com/v2"));
        Assert.Equal(500, e.Code);
        Assert.Equal("InternalError", e.Reason);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TransportErrorsAreWrapped()
    {
        var client = new FakeClient(_ => throw new InvalidOperationException("failed calling webhook \"conversion_webhook_for_widgets.example.com\": connection refused"));
        var e = Assert.Throws<ApiException>(() => new CrdWebhookConverter(client).Convert(Crd, Widget(), "example.com/v2"));
        Assert.Equal("Internal error occurred: conversion webhook for example.com/v1, Kind=Widget failed: failed calling webhook \"conversion_webhook_for_widgets.example.com\": connection refused", e.Message);
    }
}
