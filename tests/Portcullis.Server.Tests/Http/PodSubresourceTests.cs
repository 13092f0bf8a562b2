using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Http.Handlers;
using Portcullis.Server.Http.Streaming;

namespace Portcullis.Server.Tests.Http;

public sealed class PodSubresourceTests
{
    private static JsonObject Pod(params string[] containers) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = "web" },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(containers.Select(c => (JsonNode)new JsonObject { ["name"] = c }).ToArray()) },
    };

    [Fact]
    public void Container_DefaultsToTheOnlyOne_ElseNamesTheChoices()
    {
        Assert.Equal("a", PodSubresources.Container(Pod("a"), null));
        var e = Assert.Throws<ApiException>(() => PodSubresources.Container(Pod("a", "b"), null));
        Assert.Equal(400, e.Code);
        Assert.Equal("a container name must be specified for pod web, choose one of: [a b]", e.Message);
        e = Assert.Throws<ApiException>(() => PodSubresources.Container(Pod("a"), "z"));
        Assert.Equal("container z is not valid for pod web", e.Message);
    }

    [Fact]
    public void Int_NotANumber_QuotesAsStrconvNumError()
    {
        // strconv.NumError quotes the input with strconv.Quote.
        var e = Assert.Throws<ApiException>(() => PodSubresources.Int("a\"b\n", "tailLines"));
        Assert.Equal("strconv.ParseInt: parsing \"a\\\"b\\n\": invalid syntax", e.Message);
    }

    [Fact]
    public void Simulated_NamesTheFlag()
    {
        var e = PodSubresources.Simulated("exec");
        Assert.Equal(400, e.Code);
        Assert.Contains("--pod-runtime=process", e.Message);
    }

    [Theory]
    [InlineData("tailLines", "-1", "tailLines: Invalid value: -1: must be greater than or equal to 0")]
    [InlineData("limitBytes", "0", "limitBytes: Invalid value: 0: must be greater than 0")]
    [InlineData("sinceSeconds", "0", "sinceSeconds: Invalid value: 0: must be greater than 0")]
    public void LogOptions_InvalidValues_Are422(string key, string value, string detail)
    {
        var e = Assert.Throws<ApiException>(() => PodLogHandler.ParseOptions(k => k == key ? value : null, "web", DateTimeOffset.UnixEpoch));
        Assert.Equal(422, e.Code);
        Assert.Equal($"PodLogOptions \"web\" is invalid: {detail}", e.Message);
    }

    [Fact]
    public void LogOptions_SinceSecondsAndSinceTimeTogether_AreRefused()
    {
        var e = Assert.Throws<ApiException>(() => PodLogHandler.ParseOptions(
            k => k switch { "sinceSeconds" => "5", "sinceTime" => "2025-01-01T00:00:00Z", _ => null }, "web", DateTimeOffset.UnixEpoch));
        Assert.Contains("at most one of `sinceTime` or `sinceSeconds` may be specified", e.Message);
    }

    [Fact]
    public void LogOptions_SinceSecondsCountsBackFromNow()
    {
        var now = new DateTimeOffset(2025, 2, 8, 22, 40, 9, TimeSpan.Zero);
        var o = PodLogHandler.ParseOptions(k => k switch { "sinceSeconds" => "60", "follow" => "true", "timestamps" => "1", _ => null }, "web", now);
        Assert.Equal(now.AddSeconds(-60), o.Since);
        Assert.True(o.Follow);
        Assert.True(o.Timestamps);
    }

    [Fact]
    public void Negotiate_PrefersTheClientsFirstSupportedProtocol()
    {
        Assert.Equal("v5.channel.k8s.io", ChannelWebSocket.Negotiate(["v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io"]));
        Assert.Equal("v4.channel.k8s.io", ChannelWebSocket.Negotiate(["v3.channel.k8s.io", "v4.channel.k8s.io"]));
        Assert.Null(ChannelWebSocket.Negotiate(["base64.channel.k8s.io"]));
    }

    [Fact]
    public void ExitStatus_CarriesTheExitCodeAsKubectlReadsIt()
    {
        Assert.Equal("""{"metadata":{},"status":"Success"}""", ChannelWebSocket.ExitStatus(0, ["true"]).ToJsonString());
        var s = ChannelWebSocket.ExitStatus(3, ["sh", "-c", "exit 3"]);
        Assert.Equal("Failure", s["status"]!.GetValue<string>());
        Assert.Equal("NonZeroExitCode", s["reason"]!.GetValue<string>());
        Assert.Equal("""[{"reason":"ExitCode","message":"3"}]""", s["details"]!["causes"]!.ToJsonString());
    }

    [Fact]
    public void ParseResize_ReadsWidthAndHeight()
    {
        Assert.Equal(((ushort)120, (ushort)40), ChannelWebSocket.ParseResize("""{"Width":120,"Height":40}"""u8.ToArray()));
        Assert.Null(ChannelWebSocket.ParseResize("nope"u8.ToArray()));
        // Keys match case-insensitively, as Go's encoding/json decodes them: @kubernetes/client-node sends lower case.
        Assert.Equal(((ushort)100, (ushort)40), ChannelWebSocket.ParseResize("""{"height":40,"width":100}"""u8.ToArray()));
        Assert.Equal(((ushort)7, (ushort)5), ChannelWebSocket.ParseResize("""{"WIDTH":1,"width":7,"hEiGhT":5}"""u8.ToArray()));
    }
}
